package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/netverify/netverify/policy"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpfake "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/fake"
)

// Namespaces a (team=a) and b, each with a pod web and no NetworkPolicy.
func twoOpenNamespaces() []runtime.Object {
	web := map[string]string{"app": "web"}
	// pods have their IPs, as on a cluster: an unknown IP may lie in any
	// range a ClusterNetworkPolicy's networks name (100.100.100.200 is in
	// 100.64.0.0/10, which some clusters give pods)
	ks := kubeSystem()
	for _, o := range ks {
		if p, ok := o.(*corev1.Pod); ok {
			podIP("10.244.0.2")(p)
		}
	}
	return with(ks, list(
		makeNamespace("a", labelled(map[string]string{"team": "a"})), makePod("web", "a", web, podIP("10.244.0.10")),
		makeNamespace("b"), makePod("web", "b", web, podIP("10.244.0.11")),
	))
}

func podIP(ip string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.PodIP = ip
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
}

var teamA = map[string]string{"team": "a"}

// denyMetadata is an Admin Deny of both metadata addresses for the
// namespaces matching subject.
func denyMetadata(priority int32, subject map[string]string) *cnpv1.ClusterNetworkPolicy {
	return makeCNP("deny-metadata", adminTier, priority, subjectNamespaces(subject),
		cnpEgress(outRule("imds", cnpDeny, metadataNets())))
}

// baselineDenyAll denies all ingress from pods and all egress to pods and
// outside addresses, in every namespace.
func baselineDenyAll(ingress, egress bool) *cnpv1.ClusterNetworkPolicy {
	p := makeCNP("deny-all", baselineTier, 100)
	if ingress {
		p.Spec.Ingress = []cnpv1.ClusterNetworkPolicyIngressRule{inRule("all-in", cnpDeny, fromNamespaces(nil))}
	}
	if egress {
		p.Spec.Egress = []cnpv1.ClusterNetworkPolicyEgressRule{
			outRule("all-out", cnpDeny, toNamespaces(nil), toNetworks("0.0.0.0/0", "::/0"))}
	}
	return p
}

func TestClusterNetworkPolicies(t *testing.T) {
	t.Parallel()
	egressT := networkingv1.PolicyTypeEgress
	web := map[string]string{"app": "web"}
	allOut := makePolicy("all-out", "a", selecting(web), types(egressT), egress(networkingv1.NetworkPolicyEgressRule{}))
	cases := []struct {
		name string
		f    fixture
		want []want
	}{
		{
			name: "an Admin Deny of the metadata addresses satisfies the metadata rule where its subject reaches",
			f:    fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, teamA))},
			want: []want{
				{rule: RuleMetadataReachable, ns: "a", absent: true},
				{rule: RuleMetadataReachable, ns: "b", contains: "pod web is selected by no egress NetworkPolicy, so it can reach the cloud metadata service (169.254.169.254, 100.100.100.200)"},
				// It denies no other traffic: a still has no default deny at all.
				{rule: RuleNoNetworkPolicy, ns: "a", contains: "no NetworkPolicy, and no ClusterNetworkPolicy denies traffic by default: every pod accepts and sends what no rule names"},
				{rule: RuleUnmodeledPolicyKind, absent: true},
			},
		},
		{
			name: "an Admin Deny of one metadata address leaves the other reachable and is named",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(makeCNP("deny-imds", adminTier, 10, subjectNamespaces(teamA),
				cnpEgress(outRule("aws", cnpDeny, toNetworks("169.254.169.254/32")))))},
			want: []want{{rule: RuleMetadataReachable, ns: "a", contains: `so it can reach the cloud metadata service (100.100.100.200); ` +
				`a ClusterNetworkPolicy denies 169.254.169.254 (egress from a/web: admin policy "deny-imds" (priority 10) egress[0] "aws": Deny)`}},
		},
		{
			name: "an Admin Deny for some pods only",
			f: fixture{
				objs: with(twoOpenNamespaces(), list(makePod("api", "a", map[string]string{"app": "api"}))),
				cnps: list(makeCNP("deny-metadata", adminTier, 10, subjectPods(teamA, web), cnpEgress(outRule("", cnpDeny, metadataNets())))),
			},
			want: []want{{rule: RuleMetadataReachable, ns: "a", contains: "pod api is selected by no egress NetworkPolicy"}},
		},
		{
			name: "an Admin Accept at a lower priority number overrides the Deny",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, teamA),
				makeCNP("accept-imds", adminTier, 5, subjectNamespaces(teamA), cnpEgress(outRule("", cnpAccept, toNetworks("169.254.169.254/32")))))},
			want: []want{
				{rule: RuleMetadataReachable, ns: "a", contains: `pod web can reach the cloud metadata service (169.254.169.254): an Admin ClusterNetworkPolicy accepts it whatever NetworkPolicies say (egress from a/web: admin policy "accept-imds" (priority 5) egress[0]: Accept)`},
				{rule: RuleMetadataReachable, ns: "a", contains: "100.100.100.200", absent: true},
			},
		},
		{
			name: "an Admin Accept at a higher priority number comes too late",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, teamA),
				makeCNP("accept-imds", adminTier, 20, subjectNamespaces(teamA), cnpEgress(outRule("", cnpAccept, toNetworks("169.254.169.254/32")))))},
			want: []want{{rule: RuleMetadataReachable, ns: "a", absent: true}},
		},
		{
			name: "an Admin Accept opens the metadata service to pods NetworkPolicies isolate",
			f: fixture{objs: with(kubeSystem(), bookNamespace("good", nil)), cnps: list(
				makeCNP("accept-imds", adminTier, 5, cnpEgress(outRule("", cnpAccept, metadataNets()))))},
			want: []want{{rule: RuleMetadataReachable, ns: "good",
				contains: "2 pods (e.g. web-5d4f7c9b8-q8r7t, web-5d4f7c9b8-x2x9k) can reach the cloud metadata service (169.254.169.254, 100.100.100.200): an Admin ClusterNetworkPolicy accepts it"}},
		},
		{
			name: "Pass skips the rest of the Admin tier: the NetworkPolicies and the Baseline decide",
			f: fixture{objs: with(twoOpenNamespaces(), bookNamespace("good", nil)), cnps: list(denyMetadata(10, nil),
				makeCNP("pass-imds", adminTier, 1, cnpEgress(outRule("", cnpPass, metadataNets()))))},
			want: []want{
				{rule: RuleMetadataReachable, ns: "a", contains: "pod web is selected by no egress NetworkPolicy"},
				{rule: RuleMetadataReachable, ns: "good", absent: true},
			},
		},
		{
			name: "Pass then a Baseline Deny",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, nil),
				makeCNP("pass-imds", adminTier, 1, cnpEgress(outRule("", cnpPass, metadataNets()))),
				makeCNP("baseline-imds", baselineTier, 1, cnpEgress(outRule("", cnpDeny, metadataNets()))))},
			want: []want{{rule: RuleMetadataReachable, absent: true, ns: "a"}, {rule: RuleMetadataReachable, absent: true, ns: "b"}},
		},
		{
			name: "policies of equal priority that could both match are left to the implementation",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, nil),
				makeCNP("accept-imds", adminTier, 10, cnpEgress(outRule("", cnpAccept, metadataNets()))))},
			want: []want{{rule: RuleMetadataReachable, ns: "a", contains: "whether pod web can reach the cloud metadata service (169.254.169.254, 100.100.100.200) depends on the implementation: "}},
		},
		{
			name: "a Baseline Deny-all is a default deny both ways",
			f:    fixture{objs: twoOpenNamespaces(), cnps: list(baselineDenyAll(true, true))},
			want: []want{
				{rule: RuleNoNetworkPolicy, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyIngress, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyEgress, ns: "a", absent: true},
				{rule: RuleMetadataReachable, ns: "a", absent: true},
				// It cuts DNS too, and the message says which rule.
				{rule: RuleEgressBlocksDNS, ns: "a", contains: `egress of pod web is restricted but DNS to kube-system/kube-dns (coredns-7db6d8ff4d-abcde) port 53 is not allowed over UDP and TCP: name lookups fail (egress from a/web: admin tier: no rule matches; NetworkPolicies: not isolated (no policy selects it for Egress); baseline policy "deny-all" (priority 100) egress[0] "all-out": Deny)`},
			},
		},
		{
			name: "a Baseline Deny of ingress only",
			f:    fixture{objs: twoOpenNamespaces(), cnps: list(baselineDenyAll(true, false))},
			want: []want{
				{rule: RuleNoNetworkPolicy, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyIngress, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyEgress, ns: "a", contains: "no NetworkPolicy, and no ClusterNetworkPolicy denies all egress by default: every pod sends traffic no rule names, e.g. egress to a pod of another namespace on TCP port 1 (egress from a/web: admin tier: no rule matches; NetworkPolicies: not isolated (no policy selects it for Egress); baseline tier: no rule matches; default: allowed)"},
				{rule: RuleMetadataReachable, ns: "a"},
			},
		},
		{
			name: "a Baseline Deny of egress to pods only is no default deny of egress",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(makeCNP("pods-only", baselineTier, 1,
				cnpEgress(outRule("", cnpDeny, toNamespaces(nil)))))},
			want: []want{
				{rule: RuleNoDefaultDenyEgress, ns: "a", contains: "every pod sends traffic no rule names, e.g. egress to an outside address (192.0.2.1) on TCP port 1"},
				// Egress to pods is denied: not every pod sends anything.
				{rule: RuleNoNetworkPolicy, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyIngress, ns: "a", contains: "no NetworkPolicy, and no ClusterNetworkPolicy denies all ingress by default: every pod accepts traffic no rule names, e.g. ingress from a pod of another namespace on TCP port 1"},
			},
		},
		{
			name: "a Baseline Deny-all makes up for a missing default-deny NetworkPolicy",
			f: fixture{
				objs: with(kubeSystem(), bookNamespace("a", []string{"default-deny", "allow-dns", "allow-internet"})),
				cnps: list(baselineDenyAll(true, true)),
			},
			want: []want{
				{rule: RuleNoDefaultDenyIngress, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyEgress, ns: "a", absent: true},
			},
		},
		{
			name: "a NetworkPolicy that allows overrides the Baseline",
			f: fixture{
				objs: with(kubeSystem(), list(makeNamespace("b"), makePod("web", "b", web)),
					bookNamespace("good", nil), bookNamespace("a", nil, allOut)),
				cnps: list(baselineDenyAll(true, true), makeCNP("baseline-imds", baselineTier, 1, cnpEgress(outRule("", cnpDeny, metadataNets())))),
			},
			want: []want{
				// The pods' NetworkPolicies allow DNS: the Baseline Deny does not apply to them.
				{rule: RuleEgressBlocksDNS, ns: "good", absent: true},
				// all-out allows web every destination, the metadata service included.
				{rule: RulePolicyAllowsMetadata, ns: "a", object: "networkpolicy/all-out", contains: "egress[0] has no `to`: it allows every destination, the metadata service 169.254.169.254, 100.100.100.200 included"},
				// b has no NetworkPolicy: the Baseline decides.
				{rule: RuleEgressBlocksDNS, ns: "b", contains: `baseline policy "deny-all"`},
			},
		},
		{
			name: "an Admin Deny above a NetworkPolicy that allows the metadata service",
			f:    fixture{objs: with(kubeSystem(), bookNamespace("a", nil, allOut)), cnps: list(denyMetadata(10, nil))},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", absent: true}},
		},
		{
			name: "an Admin Deny above a NetworkPolicy that allows the metadata service, for one address",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil, allOut)), cnps: list(makeCNP("deny-imds", adminTier, 10,
				cnpEgress(outRule("", cnpDeny, toNetworks("169.254.169.254/32")))))},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", object: "networkpolicy/all-out",
				contains: `the metadata service 100.100.100.200 included; a ClusterNetworkPolicy denies 169.254.169.254 for every pod the policy selects (egress from a/web-5d4f7c9b8-q8r7t: admin policy "deny-imds" (priority 10) egress[0]: Deny)`}},
		},
		{
			name: "an Admin Deny-all ingress is a default deny of ingress",
			f: fixture{
				objs: with(kubeSystem(), bookNamespace("a", []string{"default-deny"}, makePolicy("deny-egress", "a", types(egressT)))),
				cnps: list(makeCNP("deny-in", adminTier, 50, cnpIngress(inRule("", cnpDeny, fromNamespaces(nil))))),
			},
			want: []want{{rule: RuleNoDefaultDenyIngress, ns: "a", absent: true}},
		},
		{
			name: "an Admin Accept voids a default-deny NetworkPolicy",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil)), cnps: list(
				makeCNP("accept-all", adminTier, 5, cnpIngress(inRule("everyone", cnpAccept, fromNamespaces(nil)))))},
			want: []want{
				{rule: RuleNoDefaultDenyIngress, ns: "a", contains: `no default deny ingress for every pod: an Admin ClusterNetworkPolicy accepts ingress from a pod of another namespace on TCP port 1 whatever NetworkPolicies say (ingress to a/`},
				{rule: RuleNoDefaultDenyIngress, ns: "a", contains: `admin policy "accept-all" (priority 5) ingress[0] "everyone": Accept`},
				{rule: RuleNoDefaultDenyEgress, ns: "a", absent: true},
			},
		},
		{
			name: "an Admin Accept of one application's ingress names its pods",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil, makePod("db", "a", map[string]string{"app": "db"}))), cnps: list(
				makeCNP("accept-web", adminTier, 5, subjectPods(nil, web), cnpIngress(inRule("", cnpAccept, fromNamespaces(nil)))))},
			want: []want{{rule: RuleNoDefaultDenyIngress, ns: "a", contains: "no default deny ingress for 2 pods (e.g. web-5d4f7c9b8-q8r7t, web-5d4f7c9b8-x2x9k):"}},
		},
		{
			name: "a ClusterNetworkPolicy the engine rejects is reported and left out",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, teamA),
				makeCNP("bad", "Middle", 10, cnpEgress(outRule("", cnpDeny, metadataNets()))))},
			want: []want{
				{rule: RuleAuditIncomplete, object: "clusternetworkpolicy.policy.networking.k8s.io/bad", contains: `spec.tier: unknown tier "Middle"`},
				{rule: RuleMetadataReachable, ns: "a", absent: true},
			},
		},
		{
			name: "listing ClusterNetworkPolicies is forbidden",
			f: fixture{objs: twoOpenNamespaces(), cnps: list(denyMetadata(10, teamA)), cnpReactor: func(c *cnpfake.Clientset) {
				c.PrependReactor("list", "clusternetworkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(gvrClusterNP.GroupResource(), "", nil)
				})
			}},
			want: []want{
				{rule: RuleAuditIncomplete, object: "clusternetworkpolicies.policy.networking.k8s.io",
					contains: "listing ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2) is forbidden: the default-deny, DNS and metadata findings are computed without them"},
				{rule: RuleMetadataReachable, ns: "a"},
			},
		},
		{
			name: "listing ClusterNetworkPolicies fails",
			f: fixture{objs: twoOpenNamespaces(), cnpReactor: func(c *cnpfake.Clientset) {
				c.PrependReactor("list", "clusternetworkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewServiceUnavailable("etcd is sulking")
				})
			}},
			want: []want{{rule: RuleAuditIncomplete, object: "clusternetworkpolicies.policy.networking.k8s.io",
				contains: "ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2) could not be listed: etcd is sulking"}},
		},
		{
			name: "ClusterNetworkPolicies served only at another version",
			f: fixture{
				objs: twoOpenNamespaces(),
				apis: apiResources(gvrClusterNPNext),
				cnpReactor: func(c *cnpfake.Clientset) {
					c.PrependReactor("list", "clusternetworkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
						return true, nil, crdAbsent()
					})
				},
			},
			want: []want{{rule: RuleAuditIncomplete, object: "clusternetworkpolicies.policy.networking.k8s.io",
				contains: "ClusterNetworkPolicies are served as policy.networking.k8s.io/v1beta1, not policy.networking.k8s.io/v1alpha2"}},
		},
		{
			name: "a served ClusterNetworkPolicy kind is modelled, not unmodelled; AdminNetworkPolicy still is",
			f: fixture{
				objs:   twoOpenNamespaces(),
				apis:   apiResources(gvrClusterNP, gvrANP),
				custom: list(makeCustom(gvrClusterNP, "", "deny-metadata"), makeCustom(gvrANP, "", "old")),
				cnps:   list(denyMetadata(10, teamA)),
			},
			want: []want{
				{rule: RuleUnmodeledPolicyKind, object: "clusternetworkpolicy.policy.networking.k8s.io/deny-metadata", absent: true},
				{rule: RuleUnmodeledPolicyKind, object: "adminnetworkpolicy.policy.networking.k8s.io/old",
					contains: "models only networking.k8s.io/v1 NetworkPolicies and policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicies"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := tc.f.run(t)
			for _, w := range tc.want {
				found := false
				for _, f := range fs {
					if w.matches(f) {
						found = true
					}
				}
				switch {
				case !found && !w.absent:
					t.Errorf("no %s finding on %q %s with %q; got:%s", w.rule, w.ns, w.object, w.contains, dump(fs))
				case found && w.absent:
					t.Errorf("unexpected %s finding on %q %s; got:%s", w.rule, w.ns, w.object, dump(fs))
				}
			}
		})
	}
}

// crdAbsent is the API server's answer for a resource it does not serve.
func crdAbsent() error {
	return apierrors.NewGenericServerResponse(404, "list", schema.GroupResource{Group: "policy.networking.k8s.io", Resource: "clusternetworkpolicies"},
		"", "the server could not find the requested resource", 0, true)
}

// broadCluster gives findings of most namespace and policy rules: no
// policy, missing default denies, a voided deny, DNS cut, metadata
// reachable and allowed by a policy, an empty namespace.
func broadCluster() []runtime.Object {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	egressT, ingressT := networkingv1.PolicyTypeEgress, networkingv1.PolicyTypeIngress
	app := func(a string) map[string]string { return map[string]string{"app": a} }
	return with(kubeSystem(),
		bookNamespace("good", nil),
		bookNamespace("no-deny-in", []string{"default-deny"}, makePolicy("deny-egress", "no-deny-in", types(egressT))),
		bookNamespace("no-deny-out", []string{"default-deny", "allow-dns", "allow-internet"}, makePolicy("deny-ingress", "no-deny-out", types(ingressT))),
		bookNamespace("voided", nil, makePolicy("allow-all-in", "voided", types(ingressT), ingress(networkingv1.NetworkPolicyIngressRule{}))),
		bookNamespace("no-dns", []string{"allow-dns"}),
		bookNamespace("udp-dns", []string{"allow-dns"}, makePolicy("dns-udp", "udp-dns", types(egressT), egress(dnsRule(udp)))),
		bookNamespace("imds", []string{"allow-internet"},
			makePolicy("internet", "imds", types(egressT), egress(networkingv1.NetworkPolicyEgressRule{
				To: []networkingv1.NetworkPolicyPeer{nsPeer(nil), ipPeer("0.0.0.0/0", "100.100.100.200/32")}})),
			makePolicy("all-out", "imds", selecting(app("web")), types(egressT), egress(networkingv1.NetworkPolicyEgressRule{}))),
		list(
			makeNamespace("open"), makePod("web", "open", app("web")), makePod("api", "open", app("api")),
			makeNamespace("empty"), makePolicy("deny", "empty", types(ingressT, egressT)),
			makeNamespace("partial"),
			makePolicy("deny-in", "partial", types(ingressT)),
			makePolicy("db-out", "partial", selecting(app("db")), types(egressT), egress(dnsRule(udp, tcp))),
			makePod("db", "partial", app("db")), makePod("web", "partial", app("web")),
			makePod("agent", "partial", app("agent"), hostNetwork, dnsPolicy(corev1.DNSClusterFirstWithHostNet)),
		))
}

// Where the cluster does not serve ClusterNetworkPolicies, or netverify is
// given no client for them, the output is what it was before they were
// modelled (testdata/no_cnp_table.golden, written by that audit); a
// forbidden list adds one finding and changes nothing else.
func TestWithoutClusterPoliciesTheOutputIsUnchanged(t *testing.T) {
	t.Parallel()
	refuse := func(err error) func(*cnpfake.Clientset) {
		return func(c *cnpfake.Clientset) {
			c.PrependReactor("list", "clusternetworkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, err
			})
		}
	}
	cases := []struct {
		name    string
		nilCNP  bool
		reactor func(*cnpfake.Clientset)
		extra   string // the one finding added, if any
	}{
		{name: "no client", nilCNP: true},
		{name: "none exist"},
		{name: "resource not served", reactor: refuse(crdAbsent())},
		{name: "list forbidden", reactor: refuse(apierrors.NewForbidden(gvrClusterNP.GroupResource(), "", nil)), extra: "is forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clients := Clients{Kube: fake.NewClientset(broadCluster()...)}
			if !tc.nilCNP {
				cs := cnpfake.NewClientset()
				if tc.reactor != nil {
					tc.reactor(cs)
				}
				clients.ClusterPolicies = cs.PolicyV1alpha2()
			}
			fs, err := Run(context.Background(), clients, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.extra != "" {
				var rest []Finding
				for _, f := range fs {
					if f.Rule == RuleAuditIncomplete && strings.Contains(f.Message, tc.extra) {
						continue
					}
					rest = append(rest, f)
				}
				if len(rest) != len(fs)-1 {
					t.Errorf("want one audit-incomplete finding with %q, got:%s", tc.extra, dump(fs))
				}
				fs = rest
			}
			var buf bytes.Buffer
			if err := Write(&buf, FormatTable, fs, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "no_cnp_table", buf.Bytes())
		})
	}
}

// The far ends of traffic no rule names follow the families of the
// cluster's pod IPs.
func TestStrangersFollowPodIPFamilies(t *testing.T) {
	t.Parallel()
	pod := func(ips ...string) corev1.Pod {
		p := corev1.Pod{}
		for _, ip := range ips {
			p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
		}
		return p
	}
	text := func(peers []policy.Peer) string {
		var s []string
		for _, p := range peers {
			if p.Pod != nil {
				s = append(s, "pod:"+p.Pod.IP)
			} else {
				s = append(s, p.IP)
			}
		}
		return strings.Join(s, " ")
	}
	cases := []struct {
		pods              []corev1.Pod
		strangers, beyond string
	}{
		{nil, "pod:", "192.0.2.1"},
		{[]corev1.Pod{pod("10.0.0.9"), pod("10.0.0.7", "fd00::5"), pod("garbage")}, "pod:10.0.0.7 pod:fd00::5", "192.0.2.1 2001:db8::1"},
		{[]corev1.Pod{pod("fd00::5")}, "pod:fd00::5", "2001:db8::1"},
	}
	for _, tc := range cases {
		s, o := strangersAndOutside(tc.pods)
		if text(s) != tc.strangers || text(o) != tc.beyond {
			t.Errorf("pods %v: strangers %q, outside %q; want %q, %q", tc.pods, text(s), text(o), tc.strangers, tc.beyond)
		}
	}
}
