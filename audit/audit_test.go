package audit

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/netverify/netverify/orchestrator"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func with(objs ...[]runtime.Object) []runtime.Object {
	var out []runtime.Object
	for _, o := range objs {
		out = append(out, o...)
	}
	return out
}

func list(objs ...runtime.Object) []runtime.Object { return objs }

// want is a finding expected (or, with absent, not expected) in the output.
type want struct {
	rule, ns, object string
	contains         string // in the message
	absent           bool
}

func (w want) matches(f Finding) bool {
	return f.Rule == w.rule && f.Namespace == w.ns && (w.object == "" || f.Object == w.object) &&
		strings.Contains(f.Message, w.contains)
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + f.Severity.String() + " " + f.Rule + " " + f.Namespace + " " + f.Object + ": " + f.Message)
	}
	return b.String()
}

func TestNamespaceByTheBookHasNoFindings(t *testing.T) {
	t.Parallel()
	fs := fixture{
		objs: with(kubeSystem(), bookNamespace("good", nil)),
		// Cilium is installed but no Cilium policy exists.
		apis: apiResources(gvrCNP, gvrCCNP),
	}.run(t)
	if len(fs) != 0 {
		t.Errorf("a namespace configured by the book gave findings:%s", dump(fs))
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	egressT, ingressT := networkingv1.PolicyTypeEgress, networkingv1.PolicyTypeIngress
	app := func(a string) map[string]string { return map[string]string{"app": a} }
	cases := []struct {
		name string
		f    fixture
		want []want
	}{
		{
			name: "no policy at all",
			f:    fixture{objs: with(kubeSystem(), list(makeNamespace("open"), makePod("web", "open", app("web"))))},
			want: []want{
				{rule: RuleNoNetworkPolicy, ns: "open", object: "namespace/open"},
				{rule: RuleMetadataReachable, ns: "open", object: "namespace/open", contains: "pod web is selected by no egress NetworkPolicy"},
				{rule: RuleNoDefaultDenyIngress, ns: "open", absent: true},
				{rule: RuleNoDefaultDenyEgress, ns: "open", absent: true},
			},
		},
		{
			name: "no default-deny ingress",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"default-deny"},
				makePolicy("deny-egress", "a", types(egressT))))},
			want: []want{
				{rule: RuleNoDefaultDenyIngress, ns: "a", object: "namespace/a", contains: "no default-deny ingress policy"},
				{rule: RuleNoDefaultDenyEgress, ns: "a", absent: true},
				{rule: RuleNoNetworkPolicy, ns: "a", absent: true},
			},
		},
		{
			name: "no default-deny egress",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"default-deny", "allow-dns", "allow-internet"},
				makePolicy("deny-ingress", "a", types(ingressT))))},
			want: []want{
				{rule: RuleNoDefaultDenyEgress, ns: "a", object: "namespace/a", contains: "no default-deny egress policy"},
				{rule: RuleNoDefaultDenyIngress, ns: "a", absent: true},
			},
		},
		{
			// allow-dns selects every pod for egress: it isolates them all, so
			// it is a default deny with an exception.
			name: "a namespace-wide allow policy is a default deny",
			f:    fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"default-deny"}, makePolicy("deny-ingress", "a", types(ingressT))))},
			want: []want{{rule: RuleNoDefaultDenyEgress, ns: "a", absent: true}},
		},
		{
			name: "default deny voided by an allow-everything policy",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePolicy("allow-all-in", "a", types(ingressT), ingress(networkingv1.NetworkPolicyIngressRule{}))))},
			want: []want{
				{rule: RuleNoDefaultDenyIngress, ns: "a", contains: "default-deny is voided by allow-all-in ingress[0]"},
			},
		},
		{
			name: "a default deny with policyTypes left out is an ingress deny",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"default-deny"},
				makePolicy("deny-in", "a"), makePolicy("deny-out", "a", types(egressT))))},
			want: []want{
				{rule: RuleNoDefaultDenyIngress, ns: "a", absent: true},
				{rule: RuleNoDefaultDenyEgress, ns: "a", absent: true},
			},
		},
		{
			name: "egress restricted without DNS",
			f:    fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"allow-dns"}))},
			want: []want{
				{rule: RuleEgressBlocksDNS, ns: "a", object: "namespace/a", contains: "2 pods (e.g. web-5d4f7c9b8-q8r7t, web-5d4f7c9b8-x2x9k)"},
				{rule: RuleEgressBlocksDNS, ns: "a", contains: "kube-system/kube-dns (coredns-7db6d8ff4d-abcde) port 53 is not allowed over UDP and TCP"},
			},
		},
		{
			name: "DNS over UDP only",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"allow-dns"},
				makePolicy("dns-udp", "a", types(egressT), egress(dnsRule(udp)))))},
			want: []want{{rule: RuleEgressBlocksDNS, ns: "a", contains: "not allowed over TCP: answers too large"}},
		},
		{
			name: "DNS to every namespace, any port, counts",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"allow-dns"},
				makePolicy("dns-any", "a", types(egressT), egress(networkingv1.NetworkPolicyEgressRule{
					To: []networkingv1.NetworkPolicyPeer{nsPeer(nil)}}))))},
			want: []want{{rule: RuleEgressBlocksDNS, ns: "a", absent: true}},
		},
		{
			name: "DNS found through a kube-dns Service with another selector",
			f: fixture{objs: with(
				list(makeNamespace("kube-system"),
					makeService("kube-dns", "kube-system", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"dns": "core"} }),
					makePod("dns-1", "kube-system", map[string]string{"dns": "core"})),
				bookNamespace("a", nil))},
			want: []want{{rule: RuleEgressBlocksDNS, ns: "a", contains: "kube-system/kube-dns (dns-1)"}},
		},
		{
			name: "empty namespace with egress denied and no DNS",
			f:    fixture{objs: with(kubeSystem(), list(makeNamespace("empty"), makePolicy("deny", "empty", types(ingressT, egressT))))},
			want: []want{
				{rule: RuleEgressBlocksDNS, ns: "empty", contains: "egress of every pod (the namespace has none yet)"},
				{rule: RuleMetadataReachable, ns: "empty", absent: true},
			},
		},
		{
			name: "ipBlock without except for the metadata service",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"allow-internet"},
				makePolicy("internet", "a", types(egressT), egress(networkingv1.NetworkPolicyEgressRule{
					To: []networkingv1.NetworkPolicyPeer{nsPeer(nil), ipPeer("0.0.0.0/0", "100.100.100.200/32")}}))))},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", object: "networkpolicy/internet",
				contains: "egress[0].to[1]: ipBlock 0.0.0.0/0 allows the metadata service 169.254.169.254 (add 169.254.169.254/32 to except)"}},
		},
		{
			name: "egress rule without to",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePolicy("all-out", "a", selecting(app("web")), types(egressT), egress(networkingv1.NetworkPolicyEgressRule{}))))},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", object: "networkpolicy/all-out", contains: "egress[0] has no `to`"}},
		},
		{
			name: "ipBlock to 0.0.0.0/0 on 443 only does not reach metadata",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", []string{"allow-internet"},
				makePolicy("https", "a", types(egressT), egress(networkingv1.NetworkPolicyEgressRule{
					To: []networkingv1.NetworkPolicyPeer{ipPeer("0.0.0.0/0")}, Ports: []networkingv1.NetworkPolicyPort{port(443, tcp)}}))))},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", absent: true}},
		},
		{
			name: "an egress policy in another Ingress-only policy's place is ignored",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePolicy("in-only", "a", types(ingressT), egress(networkingv1.NetworkPolicyEgressRule{}))))},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", absent: true}},
		},
		{
			name: "pods selected by no egress policy reach metadata",
			f: fixture{objs: with(kubeSystem(), list(makeNamespace("a"),
				makePolicy("deny-in", "a", types(ingressT)),
				makePolicy("db-out", "a", selecting(app("db")), types(egressT), egress(dnsRule(udp, tcp))),
				makePod("db", "a", app("db")), makePod("web", "a", app("web")), makePod("api", "a", app("api")),
				makePod("agent", "a", app("agent"), hostNetwork, dnsPolicy(corev1.DNSClusterFirstWithHostNet))))},
			want: []want{
				{rule: RuleMetadataReachable, ns: "a", contains: "2 pods (e.g. api, web) are selected by no egress NetworkPolicy, so they can reach the cloud metadata service (169.254.169.254, 100.100.100.200)"},
				{rule: RuleNoDefaultDenyEgress, ns: "a"},
				{rule: RuleEgressBlocksDNS, ns: "a", absent: true},
			},
		},
		{
			name: "policy selecting no pod",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePolicy("typo", "a", selecting(app("wbe")), types(ingressT))))},
			want: []want{{rule: RulePolicySelectsNoPods, ns: "a", object: "networkpolicy/typo", contains: "podSelector app=wbe matches no pod in namespace a"}},
		},
		{
			name: "namespace selector matching no namespace",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePolicy("from-team", "a", selecting(app("web")), types(ingressT, egressT),
					ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{
						nsPeer(map[string]string{corev1.LabelMetadataName: "kube-system"}), nsPeer(map[string]string{"team": "nobody"})}}),
					egress(networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{nsPeer(map[string]string{"env": "prdo"})}}))))},
			want: []want{
				{rule: RulePolicyNamespaceSelector, ns: "a", object: "networkpolicy/from-team", contains: "ingress[0].from[1]: namespaceSelector team=nobody matches no namespace"},
				{rule: RulePolicyNamespaceSelector, ns: "a", object: "networkpolicy/from-team", contains: "egress[0].to[0]: namespaceSelector env=prdo"},
				{rule: RulePolicyNamespaceSelector, ns: "a", contains: "ingress[0].from[0]", absent: true},
			},
		},
		{
			name: "egress deny for some pods only",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePolicy("web-no-egress", "a", selecting(app("web")), types(egressT))))},
			want: []want{{rule: RulePolicyPartialEgressDeny, ns: "a", object: "networkpolicy/web-no-egress", contains: "of the pods matching app=web only"}},
		},
		{
			name: "hostNetwork pods, once per deployment",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePod("agent-6b7c8d9f5-aaaaa", "a", app("agent"), hostNetwork, dnsPolicy(corev1.DNSClusterFirstWithHostNet), ownedByReplicaSet("agent", "6b7c8d9f5")),
				makePod("agent-6b7c8d9f5-bbbbb", "a", app("agent"), hostNetwork, dnsPolicy(corev1.DNSClusterFirstWithHostNet), ownedByReplicaSet("agent", "6b7c8d9f5"))))},
			want: []want{
				{rule: RuleHostNetwork, ns: "a", object: "deployment/agent", contains: "uses hostNetwork: it shares its node's network, and NetworkPolicies do not apply to its traffic on most CNIs (2 pods: agent-6b7c8d9f5-aaaaa, agent-6b7c8d9f5-bbbbb)"},
				{rule: RuleCustomDNS, ns: "a", absent: true},
			},
		},
		{
			name: "hostPorts inside and outside the NodePort range",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePod("np", "a", app("np"), hostPort(31000)), makePod("low", "a", app("low"), hostPort(8080))))},
			want: []want{
				{rule: RuleHostPort, ns: "a", object: "pod/np", contains: "container app publishes hostPort 31000/TCP (container port 8080)"},
				{rule: RuleHostPortOutsideNodePorts, ns: "a", object: "pod/np", absent: true},
				{rule: RuleHostPortOutsideNodePorts, ns: "a", object: "pod/low", contains: "hostPort 8080/TCP (container port 8080) on its node's addresses, outside the NodePort range 30000-32767"},
				{rule: RuleHostPort, ns: "a", object: "pod/low", absent: true},
			},
		},
		{
			name: "custom DNS",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePod("default", "a", app("x"), dnsPolicy(corev1.DNSDefault)),
				makePod("config", "a", app("x"), func(p *corev1.Pod) {
					two := "2"
					p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}}}
				}),
				makePod("hostnet", "a", app("x"), hostNetwork),
				makePod("finished", "a", app("x"), dnsPolicy(corev1.DNSDefault), phase(corev1.PodSucceeded))))},
			want: []want{
				{rule: RuleCustomDNS, ns: "a", object: "pod/default", contains: "dnsPolicy Default resolves with the node's resolver"},
				{rule: RuleCustomDNS, ns: "a", object: "pod/config", contains: "sets dnsConfig (nameservers 1.1.1.1; option ndots:2)"},
				{rule: RuleCustomDNS, ns: "a", object: "pod/hostnet", contains: "use ClusterFirstWithHostNet"},
				{rule: RuleCustomDNS, ns: "a", object: "pod/finished", absent: true},
			},
		},
		{
			name: "pods without an app label",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makePod("bare", "a", map[string]string{"tier": "x"}),
				makePod("named", "a", map[string]string{"app.kubernetes.io/name": "named"}),
				makePod("db-0", "a", nil, func(p *corev1.Pod) {
					yes := true
					p.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", Controller: &yes}}
				})))},
			want: []want{
				{rule: RuleMissingAppLabel, ns: "a", object: "pod/bare"},
				{rule: RuleMissingAppLabel, ns: "a", object: "statefulset/db", contains: "(pod db-0)"},
				{rule: RuleMissingAppLabel, ns: "a", object: "pod/named", absent: true},
				{rule: RuleMissingAppLabel, ns: "a", object: "deployment/web", absent: true},
			},
		},
		{
			name: "NodePort and externalIPs Services",
			f: fixture{objs: with(kubeSystem(), bookNamespace("a", nil,
				makeService("np", "a", func(s *corev1.Service) {
					s.Spec.Type = corev1.ServiceTypeNodePort
					s.Spec.Ports[0].NodePort = 30080
				}),
				makeService("ext", "a", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"203.0.113.50"} })))},
			want: []want{
				{rule: RuleServiceNodePort, ns: "a", object: "service/np", contains: "type NodePort publishes 80/TCP as node port 30080 on every node's addresses"},
				{rule: RuleServiceExternalIPs, ns: "a", object: "service/ext", contains: "externalIPs 203.0.113.50"},
				{rule: RuleServiceNodePort, ns: "a", object: "service/web", absent: true},
			},
		},
		{
			name: "LoadBalancer in development namespaces",
			f: fixture{objs: with(kubeSystem(),
				bookNamespace("team-dev", nil, makeService("lb", "team-dev", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })),
				bookNamespace("sandbox", nil, makeService("lb", "sandbox", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })),
				bookNamespace("devops", nil, makeService("lb", "devops", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })),
				bookNamespace("prod", nil, makeService("lb", "prod", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })))},
			want: []want{
				{rule: RuleLoadBalancerInDev, ns: "team-dev", object: "service/lb", contains: "development namespace team-dev"},
				{rule: RuleLoadBalancerInDev, ns: "sandbox", object: "service/lb"},
				{rule: RuleLoadBalancerInDev, ns: "devops", absent: true},
				{rule: RuleLoadBalancerInDev, ns: "prod", absent: true},
			},
		},
		{
			name: "custom dev pattern",
			f: fixture{
				objs: with(kubeSystem(), bookNamespace("prod", nil, makeService("lb", "prod", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer }))),
				opts: Options{DevNamespacePattern: regexp.MustCompile("^prod$")},
			},
			want: []want{{rule: RuleLoadBalancerInDev, ns: "prod", object: "service/lb"}},
		},
		{
			name: "policy kinds the engine does not model",
			f: fixture{
				objs: with(kubeSystem(), bookNamespace("a", nil)),
				apis: apiResources(gvrCNP, gvrCCNP, gvrANP, gvrBANP, gvrCalV3NP, gvrCalCRDNP, gvrCalCRDGNP),
				custom: []runtime.Object{
					makeCustom(gvrCNP, "a", "l7-visibility"),
					makeCustom(gvrCNP, "kube-system", "cilium-internal"),
					makeCustom(gvrCCNP, "", "host-firewall"),
					makeCustom(gvrANP, "", "deny-metadata"),
					makeCustom(gvrCalV3NP, "a", "default.allow-db"),
					makeCustom(gvrCalCRDNP, "a", "default.allow-db"), // the same object, under Calico's CRD
					makeCustom(gvrCalCRDGNP, "", "global-deny"),
				},
			},
			want: []want{
				{rule: RuleUnmodeledPolicyKind, ns: "a", object: "ciliumnetworkpolicy.cilium.io/l7-visibility", contains: "CiliumNetworkPolicy (cilium.io/v2) applies in this namespace"},
				{rule: RuleUnmodeledPolicyKind, ns: "a", object: "ciliumnetworkpolicy.cilium.io/l7-visibility", contains: "prove them with `netverify run`"},
				{rule: RuleUnmodeledPolicyKind, ns: "", object: "ciliumclusterwidenetworkpolicy.cilium.io/host-firewall", contains: "applies cluster-wide"},
				{rule: RuleUnmodeledPolicyKind, ns: "", object: "adminnetworkpolicy.policy.networking.k8s.io/deny-metadata"},
				{rule: RuleUnmodeledPolicyKind, ns: "a", object: "networkpolicy.projectcalico.org/default.allow-db"},
				{rule: RuleUnmodeledPolicyKind, ns: "", object: "globalnetworkpolicy.crd.projectcalico.org/global-deny"},
				{rule: RuleUnmodeledPolicyKind, ns: "a", object: "networkpolicy.crd.projectcalico.org/default.allow-db", absent: true},
				{rule: RuleUnmodeledPolicyKind, ns: "kube-system", absent: true},
			},
		},
		{
			name: "advice names netverify as the user runs it",
			f: fixture{
				objs:   with(kubeSystem(), bookNamespace("a", nil)),
				apis:   apiResources(gvrCNP),
				custom: []runtime.Object{makeCustom(gvrCNP, "a", "l7")},
				opts:   Options{Command: "kubectl netverify"},
			},
			want: []want{{rule: RuleUnmodeledPolicyKind, ns: "a", contains: "prove them with `kubectl netverify run`"}},
		},
		{
			name: "a policy kind that cannot be listed",
			f: fixture{
				objs: with(kubeSystem(), bookNamespace("a", nil)),
				apis: apiResources(gvrCNP),
				reactor: func(d *dynamicfake.FakeDynamicClient) {
					d.PrependReactor("list", "ciliumnetworkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
						return true, nil, apierrors.NewForbidden(gvrCNP.GroupResource(), "", nil)
					})
				},
			},
			want: []want{{rule: RuleAuditIncomplete, ns: "", object: "ciliumnetworkpolicies.cilium.io", contains: "could not be listed"}},
		},
		{
			name: "excluded namespaces and netverify run namespaces are skipped",
			f: fixture{
				objs: with(kubeSystem(), list(
					makeNamespace("nv-k3x9qa-1-app", func(n *corev1.Namespace) { n.Labels[orchestrator.LabelRunID] = "k3x9qa" }),
					makeNamespace("legacy"),
					makeNamespace("going", func(n *corev1.Namespace) { n.Status.Phase = corev1.NamespaceTerminating }),
				)),
				opts: Options{ExcludeNamespaces: []string{"legacy"}},
			},
			want: []want{
				{rule: RuleNoNetworkPolicy, ns: "kube-system"}, // no longer excluded
				{rule: RuleNoNetworkPolicy, ns: "nv-k3x9qa-1-app", absent: true},
				{rule: RuleNoNetworkPolicy, ns: "legacy", absent: true},
				{rule: RuleNoNetworkPolicy, ns: "going", absent: true},
			},
		},
		{
			name: "other metadata addresses",
			f: fixture{
				objs: with(kubeSystem(), bookNamespace("a", nil)),
				opts: Options{MetadataIPs: []string{"169.254.169.254", "fd00:ec2::254"}},
			},
			want: []want{{rule: RulePolicyAllowsMetadata, ns: "a", absent: true}},
		},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		for _, w := range tc.want {
			if !w.absent {
				covered[w.rule] = true
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := tc.f.run(t)
			for _, w := range tc.want {
				found := false
				for _, f := range fs {
					if w.matches(f) {
						found = true
						if f.Severity != severityOf(w.rule) {
							t.Errorf("%s: severity %s, want the rule's %s", w.rule, f.Severity, severityOf(w.rule))
						}
					}
				}
				switch {
				case !found && !w.absent:
					t.Errorf("no %s finding on %s %s with %q; got:%s", w.rule, w.ns, w.object, w.contains, dump(fs))
				case found && w.absent:
					t.Errorf("unexpected %s finding on %s %s; got:%s", w.rule, w.ns, w.object, dump(fs))
				}
			}
		})
	}
	for _, r := range Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s has no positive test case", r.ID)
		}
	}
}

func TestRunLabelIsOrchestrators(t *testing.T) {
	if runIDLabel != orchestrator.LabelRunID {
		t.Errorf("runIDLabel %q != orchestrator.LabelRunID %q", runIDLabel, orchestrator.LabelRunID)
	}
}

func TestRunWithoutDynamicClientSkipsOtherKinds(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset(with(kubeSystem(), bookNamespace("good", nil))...)
	fs, err := Run(context.Background(), Clients{Kube: cs}, Options{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("Run(nil dyn) = %v, %v; want no findings, no error", dump(fs), err)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	t.Parallel()
	_, err := Run(context.Background(), Clients{Kube: fake.NewClientset()}, Options{MetadataIPs: []string{"metadata.google.internal"}})
	if err == nil || !strings.Contains(err.Error(), "metadata.google.internal") {
		t.Fatalf("Run with a bad metadata IP: err = %v", err)
	}
}

func TestRunFailsWhenAListFails(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", nil)
	})
	if _, err := Run(context.Background(), Clients{Kube: cs}, Options{}); err == nil || !strings.Contains(err.Error(), "listing pods") {
		t.Fatalf("err = %v, want listing pods: forbidden", err)
	}
}

func TestFindingsAreSorted(t *testing.T) {
	t.Parallel()
	fs := fixture{objs: with(kubeSystem(), list(makeNamespace("b"), makeNamespace("a"),
		makePod("p", "a", nil, hostNetwork)))}.run(t)
	for i := 1; i < len(fs); i++ {
		a, b := fs[i-1], fs[i]
		if a.Severity < b.Severity || a.Severity == b.Severity && a.Namespace > b.Namespace {
			t.Fatalf("findings not sorted:%s", dump(fs))
		}
	}
	if fs[0].Rule != RuleHostNetwork {
		t.Errorf("first finding %s, want the high-severity %s", fs[0].Rule, RuleHostNetwork)
	}
}
