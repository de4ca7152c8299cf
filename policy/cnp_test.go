package policy

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

var (
	all     = lbl{}
	nsX     = lbl{namespaceNameLabel: "x"}
	nsY     = lbl{namespaceNameLabel: "y"}
	teamBet = lbl{"team": "beta"}
)

func TestTieredDefaults(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	runTieredCases(t, []tieredCase{
		{
			name: "no policies: every tier passes, the default allows",
			conns: []tconn{
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Allowed, egress: Allowed, ingress: Allowed, reasons: []string{
					"egress from x/a: admin tier: no rule matches; NetworkPolicies: not isolated (no policy selects it for Egress); baseline tier: no rule matches; default: allowed",
					"ingress to y/b: admin tier: no rule matches",
				}},
				{src: ipPeer("203.0.113.9"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{
					"egress from 203.0.113.9: not governed by NetworkPolicy or ClusterNetworkPolicy (not a pod)",
				}},
			},
		},
		{
			name: "a policy with rules in one direction does not affect the other",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-in", admin, 1, cnpIngress(inRule("", deny, nil, fromNamespaces(all))))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Blocked, egress: Allowed, ingress: Blocked, reasons: []string{
					`ingress to y/b: admin policy "deny-in" (priority 1) ingress[0]: Deny`,
					"egress from x/a: admin tier: no rule matches",
				}},
			},
		},
	})
}

func TestTieredAdmin(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	denyIngressX := makePolicy("deny-ingress", "x", types(networkingv1.PolicyTypeIngress))
	allowAllX := makePolicy("allow-all", "x", ingressRules(from(nil)))
	runTieredCases(t, []tieredCase{
		{
			name: "Deny names the policy, tier, priority, rule index and name",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-metadata", admin, 10,
				cnpEgress(outRule("block-imds", deny, nil, toNetworks("169.254.169.254/32"))))},
			conns: []tconn{
				{src: x("x/a"), dst: ipPeer("169.254.169.254"), port: 80, want: Blocked, egress: Blocked, reasons: []string{
					`egress from x/a: admin policy "deny-metadata" (priority 10) egress[0] "block-imds": Deny`,
				}},
				{src: x("y/c"), dst: ipPeer("169.254.169.254"), port: 443, want: Blocked},
				{src: x("x/a"), dst: ipPeer("169.254.169.253"), port: 80, want: Allowed, reasons: []string{"default: allowed"}},
			},
		},
		{
			name:     "Accept overrides an isolating NetworkPolicy",
			policies: []networkingv1.NetworkPolicy{denyIngressX},
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("allow-beta", admin, 5,
				cnpIngress(inRule("", accept, nil, fromNamespaces(teamBet))))},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/b"), port: 80, want: Allowed,
					reasonEnd: `ingress to x/b: admin policy "allow-beta" (priority 5) ingress[0]: Accept`},
				{src: x("z/a"), dst: x("x/b"), port: 80, want: Allowed},
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Blocked, reasons: []string{
					"ingress to x/b: admin tier: no rule matches; NetworkPolicies: isolated by x/deny-ingress",
				}},
			},
		},
		{
			name:     "Deny overrides a NetworkPolicy that allows",
			policies: []networkingv1.NetworkPolicy{allowAllX},
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-y", admin, 5,
				cnpIngress(inRule("no-y", deny, nil, fromNamespaces(nsY))))},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Blocked, reasons: []string{`admin policy "deny-y" (priority 5) ingress[0] "no-y": Deny`}},
				{src: x("z/a"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{"NetworkPolicies: allowed by x/allow-all ingress[0]"}},
			},
		},
		{
			name: "lower priority number first, whatever the names",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("a-deny-all", admin, 20, cnpIngress(inRule("", deny, nil, fromNamespaces(all)))),
				makeCNP("z-accept-y", admin, 3, cnpIngress(inRule("", accept, nil, fromNamespaces(nsY)))),
			},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{`admin policy "z-accept-y" (priority 3) ingress[0]: Accept`}},
				{src: x("z/a"), dst: x("x/a"), port: 80, want: Blocked, reasons: []string{`admin policy "a-deny-all" (priority 20) ingress[0]: Deny`}},
			},
		},
		{
			name: "within a policy the first matching rule decides",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("ordered", admin, 1, subjectNamespaces(nsY), cnpIngress(
				inRule("x-a", accept, nil, fromPods(nsX, lbl{"pod": "a"})),
				inRule("rest", deny, nil, fromNamespaces(all)),
				inRule("never", accept, nil, fromNamespaces(all)),
			))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Allowed, reasons: []string{`ingress[0] "x-a": Accept`}},
				{src: x("x/b"), dst: x("y/b"), port: 80, want: Blocked, reasons: []string{`ingress[1] "rest": Deny`}},
				{src: x("x/b"), dst: x("z/b"), port: 80, want: Allowed, reasons: []string{"admin tier: no rule matches"}},
			},
		},
		{
			name: "egress Accept does not override the destination's ingress",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("accept-out", admin, 1, cnpEgress(outRule("", accept, nil, toNamespaces(all)))),
				makeCNP("deny-into-z", baseline, 1, subjectNamespaces(lbl{namespaceNameLabel: "z"}),
					cnpIngress(inRule("", deny, nil, fromNamespaces(all)))),
			},
			conns: []tconn{
				{src: x("x/a"), dst: x("z/a"), port: 80, want: Blocked, egress: Allowed, ingress: Blocked, reasons: []string{
					`egress from x/a: admin policy "accept-out" (priority 1) egress[0]: Accept`,
					`ingress to z/a: admin tier: no rule matches; NetworkPolicies: not isolated (no policy selects it for Ingress); baseline policy "deny-into-z" (priority 1) ingress[0]: Deny`,
				}},
			},
		},
		{
			name: "a pod connecting to itself is left to the CNI even when an admin rule denies it",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-all", admin, 1, cnpIngress(inRule("", deny, nil, fromNamespaces(all))))},
			conns: []tconn{
				{src: x("x/a"), dst: x("x/a"), port: 80, want: ImplementationDefined, ingress: Blocked, reasons: []string{
					"x/a connecting to itself", `the policies alone say blocked`, `admin policy "deny-all"`,
				}},
			},
		},
	})
}

func TestTieredPassAndBaseline(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	allowYIntoX := makePolicy("allow-y", "x", ingressRules(from(nil, nsPeer(teamBet))))
	cnps := []cnpv1.ClusterNetworkPolicy{
		makeCNP("pass-all", admin, 1, cnpIngress(inRule("to-developers", pass, nil, fromNamespaces(all)))),
		makeCNP("deny-all", admin, 50, cnpIngress(inRule("", deny, nil, fromNamespaces(all)))),
		makeCNP("same-namespace", baseline, 1, cnpIngress(inRule("", accept, nil, fromNamespaces(lbl{"team": "alpha"})))),
		makeCNP("default-deny", baseline, 10, cnpIngress(inRule("deny", deny, nil, fromNamespaces(all)))),
	}
	runTieredCases(t, []tieredCase{
		{
			name:     "Pass skips the rest of the admin tier; an isolating NetworkPolicy then decides",
			cnps:     cnps,
			policies: []networkingv1.NetworkPolicy{allowYIntoX},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Allowed,
					reasonEnd: `ingress to x/a: admin policy "pass-all" (priority 1) ingress[0] "to-developers": Pass; NetworkPolicies: allowed by x/allow-y ingress[0]`},
				{src: x("z/a"), dst: x("x/a"), port: 80, want: Allowed},
				// NetworkPolicies isolate x/a: the baseline Accept of team alpha never applies.
				{src: x("x/b"), dst: x("x/a"), port: 80, want: Blocked, reasons: []string{
					"NetworkPolicies: isolated by x/allow-y and no ingress rule allows x/b",
				}, notReasons: []string{"same-namespace"}},
			},
		},
		{
			name: "Pass falls through NetworkPolicies that do not isolate to the baseline tier",
			cnps: cnps,
			conns: []tconn{
				{src: x("y/a"), dst: x("z/a"), port: 80, want: Blocked, reasons: []string{
					`ingress to z/a: admin policy "pass-all" (priority 1) ingress[0] "to-developers": Pass; NetworkPolicies: not isolated (no policy selects it for Ingress); baseline policy "default-deny" (priority 10) ingress[0] "deny": Deny`,
				}},
				{src: x("x/b"), dst: x("z/a"), port: 80, want: Allowed,
					reasonEnd: `NetworkPolicies: not isolated (no policy selects it for Ingress); baseline policy "same-namespace" (priority 1) ingress[0]: Accept`},
			},
		},
		{
			name: "a baseline Pass goes on to the default",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("pass-y", baseline, 1, cnpIngress(inRule("", pass, nil, fromNamespaces(nsY)))),
				makeCNP("deny-all", baseline, 2, cnpIngress(inRule("", deny, nil, fromNamespaces(all)))),
			},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{
					`baseline policy "pass-y" (priority 1) ingress[0]: Pass; default: allowed`,
				}, notReasons: []string{`"deny-all"`}},
				{src: x("z/a"), dst: x("x/a"), port: 80, want: Blocked, reasons: []string{`baseline policy "deny-all" (priority 2) ingress[0]: Deny`}},
			},
		},
		{
			name:     "an admin Deny stands against NetworkPolicy and baseline Accepts",
			cnps:     []cnpv1.ClusterNetworkPolicy{makeCNP("deny-y", admin, 100, cnpEgress(outRule("", deny, nil, toNamespaces(nsY)))), makeCNP("accept", baseline, 0, cnpEgress(outRule("", accept, nil, toNamespaces(all))))},
			policies: []networkingv1.NetworkPolicy{makePolicy("allow-out", "x", types(networkingv1.PolicyTypeEgress), egressRules(to(nil)))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked, egress: Blocked, reasons: []string{`egress from x/a: admin policy "deny-y" (priority 100) egress[0]: Deny`}},
			},
		},
	})
}

func TestTieredSubjectsAndPeers(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	runTieredCases(t, []tieredCase{
		{
			name: "pods subject: namespaceSelector AND podSelector",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("alpha-a", admin, 1, subjectPods(lbl{"team": "alpha"}, lbl{"pod": "a"}),
				cnpEgress(outRule("", deny, nil, toNamespaces(all))))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked, reasons: []string{`admin policy "alpha-a"`}},
				{src: x("x/b"), dst: x("y/a"), port: 80, want: Allowed},
				{src: x("y/a"), dst: x("z/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "namespaces subject: every pod of the selected namespaces",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("beta", admin, 1, subjectNamespaces(teamBet),
				cnpEgress(outRule("", deny, nil, toNamespaces(nsX))))},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Blocked},
				{src: x("z/c"), dst: x("x/b"), port: 80, want: Blocked},
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Allowed},
				{src: x("y/a"), dst: x("z/b"), port: 80, want: Allowed},
			},
		},
		{
			name: "hostNetwork pods are never subjects nor matched by namespaces or pods peers",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-all", admin, 1,
				cnpEgress(outRule("", deny, nil, toNetworks("0.0.0.0/0"))),
				cnpIngress(inRule("", deny, nil, fromNamespaces(all))))},
			conns: []tconn{
				{src: x("x/h"), dst: ipPeer("8.8.8.8"), port: 443, want: Allowed, egress: Allowed, reasons: []string{
					"egress from x/h: no ClusterNetworkPolicy applies (hostNetwork pods are never subjects); NetworkPolicies: not isolated",
				}},
				// x/h's traffic to y/a: x/h is not a subject (egress allowed),
				// and the namespaces peer does not match it (ingress allowed).
				{src: x("x/h"), dst: x("y/a"), port: 80, want: Allowed, egress: Allowed, ingress: Allowed},
			},
		},
		{
			name: "namespaces peer by the kubernetes.io/metadata.name label the engine adds",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-from-y", admin, 1, cnpIngress(inRule("", deny, nil, fromNamespaces(nsY))))},
			conns: []tconn{
				{src: x("y/b"), dst: x("x/a"), port: 80, want: Blocked},
				{src: x("z/b"), dst: x("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "pods peer: namespaceSelector AND podSelector",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-beta-b", admin, 1, cnpIngress(inRule("", deny, nil, fromPods(teamBet, lbl{"pod": "b"}))))},
			conns: []tconn{
				{src: x("y/b"), dst: x("x/a"), port: 80, want: Blocked},
				{src: x("z/b"), dst: x("x/a"), port: 80, want: Blocked},
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Allowed},
				{src: x("x/b"), dst: x("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "ingress peers never match outside addresses or the node",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-all-in", admin, 1, cnpIngress(inRule("", deny, nil, fromNamespaces(all), fromPods(all, all))))},
			conns: []tconn{
				{src: ipPeer("203.0.113.9"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{"ingress to x/a: admin tier: no rule matches"}},
				{src: nodePeer(nodeIP), dst: x("x/a"), port: 80, want: Allowed},
			},
		},
	})
}

func TestTieredPorts(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	runTieredCases(t, []tieredCase{
		{
			name: "port numbers per protocol",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-80", admin, 1, cnpEgress(outRule("", deny, protos(cnpPortOf(TCP, 80, 0), cnpPortOf(SCTP, 80, 0)), toNamespaces(all))))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked},
				{src: x("x/a"), dst: x("y/a"), port: 80, proto: SCTP, want: Blocked},
				{src: x("x/a"), dst: x("y/a"), port: 81, want: Allowed},
				{src: x("x/a"), dst: x("y/a"), port: 80, proto: UDP, want: Allowed},
			},
		},
		{
			name: "port ranges are inclusive",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-range", admin, 1, cnpEgress(outRule("", deny, protos(cnpPortOf(UDP, 1000, 2000)), toNetworks("0.0.0.0/0"))))},
			conns: []tconn{
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 1000, proto: UDP, want: Blocked},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 1500, proto: UDP, want: Blocked},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 2000, proto: UDP, want: Blocked},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 999, proto: UDP, want: Allowed},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 2001, proto: UDP, want: Allowed},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 1500, want: Allowed},
			},
		},
		{
			name: "named ports resolve against the destination pod, with its protocol",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-http", admin, 1, cnpIngress(inRule("", deny, protos(namedPort("http")), fromNamespaces(all)))),
				makeCNP("deny-dns", admin, 2, cnpEgress(outRule("", deny, protos(namedPort("dns")), toPods(all, all)))),
			},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 8080, want: Blocked, reasons: []string{`admin policy "deny-http"`}},
				{src: x("y/a"), dst: x("x/b"), port: 8080, want: Allowed},
				{src: x("y/a"), dst: x("x/b"), port: 9090, want: Blocked},
				{src: x("y/a"), dst: x("x/b"), port: 9090, proto: UDP, want: Allowed},
				{src: x("x/a"), dst: x("y/c"), port: 53, proto: UDP, want: Blocked, egress: Blocked, reasons: []string{`admin policy "deny-dns"`}},
				{src: x("x/a"), dst: x("y/c"), port: 53, want: Allowed},
				{src: x("x/a"), dst: x("y/b"), port: 53, proto: UDP, want: Allowed},
			},
		},
	})
}

func TestTieredNetworksNodesDomains(t *testing.T) {
	t.Parallel()
	w := newWorld()
	x := w.pod
	// Pods of unknown IP, as a scenario's pods before they run.
	var unknownIP []Pod
	for _, p := range w.pods {
		if !p.HostNetwork {
			p.IP = ""
			unknownIP = append(unknownIP, p)
		}
	}
	ux := func(ref string) Peer {
		for i := range unknownIP {
			if unknownIP[i].String() == ref {
				return Peer{Pod: &unknownIP[i]}
			}
		}
		panic("no pod " + ref)
	}
	// viaWeb addresses a pod through the ClusterIP of a Service "web" of its
	// namespace.
	viaWeb := func(p Peer) Peer {
		p.Service = &Service{Namespace: p.Pod.Namespace, Name: "web"}
		return p
	}
	runTieredCases(t, []tieredCase{
		{
			name: "networks match pod IPs, unlike NetworkPolicy ipBlocks",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-y-cidr", admin, 1, cnpEgress(outRule("", deny, nil, toNetworks("10.0.2.0/24"))))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked, reasons: []string{`admin policy "deny-y-cidr" (priority 1) egress[0]: Deny`}},
				{src: x("x/a"), dst: ipPeer("10.0.2.3"), port: 80, want: Blocked},
				{src: x("x/a"), dst: x("z/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "Pass pod traffic before denying 0.0.0.0/0, as the API suggests",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("egress", admin, 1, cnpEgress(
				outRule("pods", pass, nil, toNamespaces(all)),
				outRule("world", deny, nil, toNetworks("0.0.0.0/0", "::/0")),
			))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Allowed, reasons: []string{`egress[0] "pods": Pass`}},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 53, proto: UDP, want: Blocked, reasons: []string{`egress[1] "world": Deny`}},
				{src: x("x/a"), dst: ipPeer("2001:db8::1"), port: 443, want: Blocked},
			},
		},
		{
			name: "denying 0.0.0.0/0 denies pod-to-pod traffic",
			cnps: []cnpv1.ClusterNetworkPolicy{makeCNP("deny-world", admin, 1, cnpEgress(outRule("", deny, nil, toNetworks("0.0.0.0/0"))))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Blocked},
				{src: x("x/a"), dst: ipPeer("2001:db8::1"), port: 443, want: Allowed},
			},
		},
		{
			name: "networks and pods of unknown IP, the cluster's ranges unknown",
			pods: unknownIP,
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-v4", admin, 1, subjectNamespaces(nsX), cnpEgress(outRule("", deny, nil, toNetworks("0.0.0.0/0")))),
				makeCNP("deny-both", admin, 1, subjectNamespaces(nsY), cnpEgress(outRule("", deny, nil, toNetworks("0.0.0.0/0", "::/0")))),
				makeCNP("deny-narrow", admin, 1, subjectNamespaces(lbl{namespaceNameLabel: "z"}), cnpEgress(
					outRule("", deny, nil, toNetworks("169.254.0.0/16")), // no pod has such an address
					outRule("", deny, nil, toNetworks("10.0.0.0/8")),
				)),
			},
			conns: []tconn{
				{src: ux("x/a"), dst: ux("y/a"), port: 80, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					"depends on the implementation",
					`networks 0.0.0.0/0 (admin policy "deny-v4" (priority 1) egress[0]) may cover the IP of y/a (neither it nor the cluster's pod ranges are known)`,
					`admin policy "deny-v4" (priority 1) egress[0]: Deny → blocked]`,
					"default: allowed → allowed]",
				}},
				{src: ux("y/a"), dst: ux("x/a"), port: 80, want: Blocked},
				{src: ux("z/a"), dst: ux("x/a"), port: 80, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					`networks 10.0.0.0/8 (admin policy "deny-narrow" (priority 1) egress[1]) may cover the IP of x/a`,
				}, notReasons: []string{"169.254.0.0/16"}},
			},
		},
		{
			name:   "networks covering the known pod range match every pod",
			pods:   unknownIP,
			ranges: ClusterRanges{Pods: mustPrefixes("10.244.0.0/16")},
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-8", admin, 1, subjectNamespaces(nsX), cnpEgress(outRule("", deny, nil, toNetworks("10.0.0.0/8")))),
				makeCNP("deny-other", admin, 1, subjectNamespaces(nsY), cnpEgress(outRule("", deny, nil, toNetworks("172.16.0.0/12")))),
				makeCNP("deny-part", admin, 1, subjectNamespaces(lbl{namespaceNameLabel: "z"}), cnpEgress(outRule("", deny, nil, toNetworks("10.244.0.0/17")))),
			},
			conns: []tconn{
				{src: ux("x/a"), dst: ux("y/a"), port: 80, want: Blocked, reasons: []string{`admin policy "deny-8" (priority 1) egress[0]: Deny`}},
				{src: ux("y/a"), dst: ux("x/a"), port: 80, want: Allowed},
				{src: ux("z/a"), dst: ux("x/a"), port: 80, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					`networks 10.244.0.0/17 (admin policy "deny-part" (priority 1) egress[0]) overlaps the pod range 10.244.0.0/16, where the IP of x/a lies: whether its address is among them is not known offline`,
				}},
			},
		},
		{
			name:   "networks and dual-stack pod ranges",
			pods:   unknownIP,
			ranges: ClusterRanges{Pods: mustPrefixes("10.244.0.0/16", "fd00:10:244::/56")},
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-v4", admin, 1, subjectNamespaces(nsX), cnpEgress(outRule("", deny, nil, toNetworks("10.0.0.0/8")))),
				makeCNP("deny-both", admin, 1, subjectNamespaces(nsY), cnpEgress(outRule("", deny, nil, toNetworks("10.0.0.0/8", "fd00::/8")))),
			},
			conns: []tconn{
				{src: ux("x/a"), dst: ux("y/a"), port: 80, want: ImplementationDefined, reasons: []string{
					"overlaps the pod range 10.244.0.0/16, where the IP of y/a lies",
				}, notReasons: []string{"fd00:10:244::/56"}},
				{src: ux("y/a"), dst: ux("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:   "networks and a Service's ClusterIP",
			pods:   unknownIP,
			ranges: ClusterRanges{Pods: mustPrefixes("10.244.0.0/16"), Services: mustPrefixes("10.96.0.0/12")},
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-services", admin, 1, subjectNamespaces(nsX), cnpEgress(outRule("", deny, nil, toNetworks("10.96.0.0/12")))),
				makeCNP("deny-pods", admin, 1, subjectNamespaces(nsY), cnpEgress(outRule("", deny, nil, toNetworks("10.244.0.0/16")))),
				makeCNP("deny-both", admin, 1, subjectNamespaces(lbl{namespaceNameLabel: "z"}), cnpEgress(outRule("", deny, nil, toNetworks("10.0.0.0/8")))),
			},
			conns: []tconn{
				{src: ux("x/a"), dst: viaWeb(ux("y/b")), port: 80, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					`networks 10.96.0.0/12 (admin policy "deny-services" (priority 1) egress[0]) covers the Service range 10.96.0.0/12, where the ClusterIP of svc:y/web lies`,
				}},
				{src: ux("x/a"), dst: ux("y/b"), port: 80, want: Allowed},
				{src: ux("y/a"), dst: viaWeb(ux("x/b")), port: 80, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					`networks 10.244.0.0/16 (admin policy "deny-pods" (priority 1) egress[0]) lies outside the Service range 10.96.0.0/12, where the ClusterIP of svc:x/web lies`,
				}},
				{src: ux("z/a"), dst: viaWeb(ux("x/b")), port: 80, want: Blocked},
			},
		},
		{
			name: "an admin Deny is not refined by the NetworkPolicy rule for unknown IPs; a Pass to NetworkPolicies is",
			pods: unknownIP,
			policies: []networkingv1.NetworkPolicy{makePolicy("world-only", "x", types(networkingv1.PolicyTypeEgress),
				egressRules(to(nil, cidrPeer("0.0.0.0/0"))))},
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-y", admin, 1, cnpEgress(outRule("", deny, nil, toNamespaces(nsY)))),
				makeCNP("pass-z", admin, 1, cnpEgress(outRule("", pass, nil, toNamespaces(lbl{namespaceNameLabel: "z"})))),
			},
			conns: []tconn{
				{src: ux("x/a"), dst: ux("y/a"), port: 80, want: Blocked, reasons: []string{`admin policy "deny-y"`}},
				{src: ux("x/a"), dst: ux("z/a"), port: 80, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					"ipBlock 0.0.0.0/0", "may cover the pod IP of z/a", `admin policy "pass-z" (priority 1) egress[0]: Pass`,
				}},
			},
		},
		{
			name: "nodes: an empty selector matches every node and hostNetwork pods; labels are unknown",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("deny-nodes", admin, 1, subjectNamespaces(nsX), cnpEgress(outRule("", deny, nil, toNodes(nil)))),
				makeCNP("infra-only", admin, 1, subjectNamespaces(nsY), cnpEgress(
					outRule("infra", accept, nil, toNodes(lbl{"role": "infra"})),
					outRule("rest", deny, nil, toNetworks("10.1.0.0/16")),
				)),
			},
			conns: []tconn{
				// Node traffic that is not allowed is left to the CNI, as for
				// NetworkPolicies; the egress side shows what the policies say.
				{src: x("x/a"), dst: nodePeer(nodeIP), port: 10250, want: ImplementationDefined, egress: Blocked, reasons: []string{
					"traffic between a pod and the node", `admin policy "deny-nodes" (priority 1) egress[0]: Deny`,
				}},
				{src: x("x/a"), dst: x("x/h"), port: 80, want: ImplementationDefined, egress: Blocked, reasons: []string{"hostNetwork pod"}},
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Allowed},
				{src: x("y/a"), dst: nodePeer(nodeIP), port: 10250, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					`nodes role=infra (admin policy "infra-only" (priority 1) egress[0] "infra") selects nodes by labels, which the engine does not know`,
				}},
			},
		},
		{
			name: "domainNames match by DNS, which the engine does not see",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("fqdn", admin, 1, subjectNamespaces(nsX), cnpEgress(
					outRule("allow-example", accept, nil, toDomains("example.com", "*.example.org")),
					outRule("deny-rest", deny, nil, toNetworks("0.0.0.0/0")),
				)),
				makeCNP("fqdn-cluster", admin, 1, subjectNamespaces(nsY), cnpEgress(
					outRule("allow-svc", accept, nil, toDomains("*.svc.cluster.local")),
					outRule("deny-rest", deny, nil, toNetworks("0.0.0.0/0")),
				)),
			},
			conns: []tconn{
				{src: x("x/a"), dst: ipPeer("93.184.216.34"), port: 443, want: ImplementationDefined, egress: ImplementationDefined, reasons: []string{
					"domainNames example.com, *.example.org", "DNS lookups", `egress[1] "deny-rest": Deny → blocked`, `egress[0] "allow-example": Accept → allowed`,
				}},
				// A domain outside the cluster domain does not name pods.
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked, reasons: []string{`egress[1] "deny-rest": Deny`}, notReasons: []string{"domainNames"}},
				{src: x("y/a"), dst: x("x/a"), port: 80, want: ImplementationDefined, reasons: []string{"domainNames *.svc.cluster.local"}},
			},
		},
	})
}

func TestTieredTies(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	runTieredCases(t, []tieredCase{
		{
			name: "equal priorities with different actions are implementation-defined",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("t-accept", admin, 10, cnpIngress(inRule("", accept, nil, fromNamespaces(nsY)))),
				makeCNP("t-deny", admin, 10, cnpIngress(inRule("", deny, nil, fromNamespaces(all)))),
			},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: ImplementationDefined, ingress: ImplementationDefined, reasons: []string{
					`admin policies "t-accept", "t-deny" share priority 10 and could each match`,
					`admin policy "t-accept" (priority 10) ingress[0]: Accept → allowed`,
					`admin policy "t-deny" (priority 10) ingress[0]: Deny → blocked`,
				}},
				// Only one of them matches: no tie.
				{src: x("z/a"), dst: x("x/a"), port: 80, want: Blocked, notReasons: []string{"share priority"}},
			},
		},
		{
			name: "equal priorities that agree decide",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("d1", admin, 7, cnpIngress(inRule("", deny, nil, fromNamespaces(nsY)))),
				makeCNP("d2", admin, 7, cnpIngress(inRule("", deny, nil, fromPods(all, lbl{"pod": "a"})))),
				makeCNP("pass", baseline, 3, cnpIngress(inRule("", pass, nil, fromNamespaces(all)))),
				makeCNP("accept", baseline, 3, cnpIngress(inRule("", accept, nil, fromNamespaces(all)))),
			},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Blocked, reasons: []string{
					"every reading gives blocked", `admin policies "d1", "d2" share priority 7`,
				}},
				// Baseline Pass (then the default) and Accept both allow.
				{src: x("z/b"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{
					"every reading gives allowed", `baseline policies "accept", "pass" share priority 3`,
				}},
			},
		},
		{
			name: "a tie between Pass and Deny depends on what NetworkPolicies say",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("p", admin, 4, cnpEgress(outRule("", pass, nil, toNamespaces(all)))),
				makeCNP("d", admin, 4, cnpEgress(outRule("", deny, nil, toNamespaces(all)))),
			},
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-out", "x", types(networkingv1.PolicyTypeEgress))},
			conns: []tconn{
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked, reasons: []string{"every reading gives blocked", "isolated by x/deny-out"}},
				{src: x("y/a"), dst: x("x/a"), port: 80, want: ImplementationDefined, reasons: []string{`share priority 4`}},
			},
		},
		{
			name: "different priorities are no tie",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("first", admin, 10, cnpIngress(inRule("", accept, nil, fromNamespaces(all)))),
				makeCNP("second", admin, 11, cnpIngress(inRule("", deny, nil, fromNamespaces(all)))),
			},
			conns: []tconn{
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Allowed, reasons: []string{`admin policy "first" (priority 10) ingress[0]: Accept`}, notReasons: []string{"share priority"}},
			},
		},
	})
}

func TestTieredFailClosed(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	empty := cnpv1.ClusterNetworkPolicyEgressPeer{}
	runTieredCases(t, []tieredCase{
		{
			name: "a peer with no field: Accept matches nothing, Deny and Pass deny all",
			cnps: []cnpv1.ClusterNetworkPolicy{
				makeCNP("accept-unknown", admin, 1, subjectNamespaces(nsX), cnpEgress(outRule("", accept, nil, empty, toNamespaces(all)))),
				makeCNP("pass-unknown", admin, 1, subjectNamespaces(nsY), cnpEgress(outRule("", pass, protos(cnpPortOf(TCP, 1, 0)), empty))),
				makeCNP("deny-unknown", admin, 1, subjectNamespaces(lbl{namespaceNameLabel: "z"}), cnpIngress(inRule("", deny, nil, cnpv1.ClusterNetworkPolicyIngressPeer{}))),
			},
			conns: []tconn{
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Allowed, reasons: []string{"egress from x/a: admin tier: no rule matches"}},
				// Its ports no longer narrow it: the rule denies all traffic.
				{src: x("y/a"), dst: ipPeer("8.8.8.8"), port: 443, want: Blocked, reasons: []string{
					`admin policy "pass-unknown" (priority 1) egress[0] (spec.egress[0].to[0] sets no field: a Pass rule fails closed, denying all traffic): Deny`,
				}},
				{src: x("x/a"), dst: x("z/c"), port: 80, want: Blocked, ingress: Blocked, reasons: []string{`"deny-unknown"`, "fails closed"}},
			},
		},
	})
}

func TestNewTieredEngineValidation(t *testing.T) {
	t.Parallel()
	rule := func(r cnpv1.ClusterNetworkPolicyEgressRule) cnpTweak { return cnpEgress(r) }
	denyAll := outRule("", deny, nil, toNamespaces(all))
	tests := []struct {
		name string
		cnps []cnpv1.ClusterNetworkPolicy
		want []string // each must appear in the error
	}{
		{"unknown action", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", "Drop", nil, toNamespaces(all))))},
			[]string{`clusternetworkpolicy "p": spec.egress[0].action: unknown action "Drop"`}},
		{"missing action", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, cnpIngress(inRule("", "", nil, fromNamespaces(all))))},
			[]string{`clusternetworkpolicy "p": spec.ingress[0].action: missing`}},
		{"missing subject", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Subject = cnpv1.ClusterNetworkPolicySubject{} })},
			[]string{`clusternetworkpolicy "p": spec.subject: missing`}},
		{"two subjects", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Subject.Pods = namespacedPod(all, all) })},
			[]string{`spec.subject: set only one`}},
		{"invalid CIDR", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, nil, toNetworks("10.0.0.0/8", "10.0.0.0/33"))))},
			[]string{`clusternetworkpolicy "p": spec.egress[0].to[0].networks[1]: invalid CIDR "10.0.0.0/33"`}},
		{"CIDR with host bits", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, nil, toNetworks("10.1.2.3/8"))))},
			[]string{`spec.egress[0].to[0].networks[0]: invalid CIDR "10.1.2.3/8": host bits set (want 10.0.0.0/8)`}},
		{"priority above 1000", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1001, rule(denyAll))},
			[]string{`clusternetworkpolicy "p": spec.priority: 1001 out of range 0-1000`}},
		{"negative priority", []cnpv1.ClusterNetworkPolicy{makeCNP("p", baseline, -1, rule(denyAll))},
			[]string{`spec.priority: -1 out of range`}},
		{"unknown tier", []cnpv1.ClusterNetworkPolicy{makeCNP("p", "Developer", 1, rule(denyAll))},
			[]string{`clusternetworkpolicy "p": spec.tier: unknown tier "Developer"`}},
		{"no peers", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, nil)))},
			[]string{`spec.egress[0].to: missing`}},
		{"peer with two fields", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, nil,
			cnpv1.ClusterNetworkPolicyEgressPeer{Namespaces: toNamespaces(all).Namespaces, Networks: []cnpv1.CIDR{"10.0.0.0/8"}})))},
			[]string{`spec.egress[0].to[0]: set exactly one field, not 2`}},
		{"range start not below end", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, protos(cnpPortOf(TCP, 90, 80)), toNamespaces(all))))},
			[]string{`spec.egress[0].protocols[0]: tcp.destinationPort.range: start 90 must be less than end 80`}},
		{"port out of range", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, protos(cnpPortOf(UDP, 70000, 0)), toNamespaces(all))))},
			[]string{`udp.destinationPort.number: 70000 out of range 1-65535`}},
		{"protocol with no field", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, protos(cnpv1.ClusterNetworkPolicyProtocol{}), toNamespaces(all))))},
			[]string{`spec.egress[0].protocols[0]: set one of tcp, udp, sctp or destinationNamedPort`}},
		{"tcp without destinationPort", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny,
			protos(cnpv1.ClusterNetworkPolicyProtocol{TCP: &cnpv1.ClusterNetworkPolicyProtocolTCP{}}), toNamespaces(all))))},
			[]string{`tcp.destinationPort: missing`}},
		{"named port with networks", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, protos(namedPort("http")), toNamespaces(all), toNetworks("10.0.0.0/8"))))},
			[]string{`spec.egress[0].protocols[0].destinationNamedPort: cannot be used with networks, nodes or domainNames peers`}},
		{"domainNames in a Deny rule", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", deny, nil, toDomains("example.com"))))},
			[]string{`spec.egress[0].to[0].domainNames: only supported in Accept rules, not Deny`}},
		{"invalid domain name", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule("", accept, nil, toDomains("www.*.example.com"))))},
			[]string{`spec.egress[0].to[0].domainNames[0]: invalid domain name "www.*.example.com"`}},
		{"rule name too long", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(outRule(strings.Repeat("n", 101), deny, nil, toNamespaces(all))))},
			[]string{`spec.egress[0].name: 101 characters, at most 100 allowed`}},
		{"bad selector", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, subjectNamespaces(lbl{"bad key!": "v"}), rule(denyAll))},
			[]string{`spec.subject.namespaces:`}},
		{"duplicate names", []cnpv1.ClusterNetworkPolicy{makeCNP("p", admin, 1, rule(denyAll)), makeCNP("p", baseline, 2, rule(denyAll))},
			[]string{`clusternetworkpolicy "p": metadata.name: duplicate name`}},
		{"every problem at once", []cnpv1.ClusterNetworkPolicy{
			makeCNP("one", admin, 2000, rule(outRule("", "Allow", nil, toNamespaces(all)))),
			makeCNP("two", baseline, 1, func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Subject = cnpv1.ClusterNetworkPolicySubject{} }),
		}, []string{`"one": spec.priority`, `"one": spec.egress[0].action`, `"two": spec.subject`}},
	}
	np, err := NewEngine(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewTieredEngine(np, tc.cnps)
			if err == nil {
				t.Fatalf("NewTieredEngine succeeded, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestTieredDecideErrors(t *testing.T) {
	t.Parallel()
	np, err := NewEngine(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewTieredEngine(np, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decide(Peer{}, ipPeer("8.8.8.8"), 80, TCP); err == nil || !strings.Contains(err.Error(), "source: empty peer") {
		t.Errorf("empty source: got %v", err)
	}
	if _, err := e.Decide(ipPeer("1.1.1.1"), ipPeer("8.8.8.8"), 0, TCP); err == nil || !strings.Contains(err.Error(), "port 0 out of range") {
		t.Errorf("port 0: got %v", err)
	}
	if _, err := NewTieredEngine(nil, nil); err == nil {
		t.Error("NewTieredEngine(nil): no error")
	}
}
