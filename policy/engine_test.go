package policy

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	TCP  = corev1.ProtocolTCP
	UDP  = corev1.ProtocolUDP
	SCTP = corev1.ProtocolSCTP
)

type lbl = map[string]string

// conn is one connection and the verdict expected for it.
type conn struct {
	src, dst Peer
	port     int32
	proto    corev1.Protocol
	want     Verdict
	reason   string // a substring the Reason must contain, if set
}

// policyCase is a set of policies and connections decided under them.
type policyCase struct {
	name     string
	policies []networkingv1.NetworkPolicy
	conns    []conn
}

func runPolicyCases(t *testing.T, cases []policyCase) {
	t.Helper()
	w := newWorld()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := NewEngine(w.namespaces, w.pods, tc.policies)
			if err != nil {
				t.Fatalf("NewEngine: %v", err)
			}
			for _, c := range tc.conns {
				d, err := e.Decide(c.src, c.dst, c.port, c.proto)
				name := describe(c)
				if err != nil {
					t.Errorf("%s: Decide: %v", name, err)
					continue
				}
				if d.Verdict != c.want {
					t.Errorf("%s: got %s, want %s\n  reason: %s", name, d.Verdict, c.want, d.Reason)
					continue
				}
				if c.reason != "" && !strings.Contains(d.Reason, c.reason) {
					t.Errorf("%s: reason %q does not contain %q", name, d.Reason, c.reason)
				}
			}
		})
	}
}

func describe(c conn) string {
	peer := func(p Peer) string {
		switch {
		case p.Pod != nil:
			return p.Pod.String()
		case p.Node:
			return "node " + p.IP
		default:
			return p.IP
		}
	}
	proto := c.proto
	if proto == "" {
		proto = TCP
	}
	return fmt.Sprintf("%s → %s %s/%d", peer(c.src), peer(c.dst), proto, c.port)
}

func TestDefaultDeny(t *testing.T) {
	t.Parallel()
	x := newWorld().pod
	runPolicyCases(t, []policyCase{
		{
			name: "no policies allow everything",
			conns: []conn{
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Allowed, reason: "not isolated"},
				{src: ipPeer("203.0.113.9"), dst: x("x/a"), port: 80, want: Allowed},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 443, want: Allowed},
			},
		},
		{
			// e2e: should support a 'default-deny-ingress' policy
			name:     "default-deny ingress",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-ingress", "x", types(Ingress))},
			conns: []conn{
				{src: x("y/a"), dst: x("x/b"), port: 80, want: Blocked, reason: "ingress to x/b: isolated by x/deny-ingress"},
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Blocked},
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Allowed},
				{src: x("y/a"), dst: x("y/b"), port: 80, want: Allowed},
				{src: ipPeer("203.0.113.9"), dst: x("x/a"), port: 80, want: Blocked},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 443, want: Allowed, reason: "ingress to 8.8.8.8: not governed"},
			},
		},
		{
			name:     "default-deny egress",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-egress", "x", types(Egress))},
			conns: []conn{
				{src: x("x/a"), dst: x("y/b"), port: 80, want: Blocked, reason: "egress from x/a: isolated by x/deny-egress"},
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Blocked},
				{src: x("y/a"), dst: x("x/b"), port: 80, want: Allowed},
				{src: x("x/a"), dst: ipPeer("8.8.8.8"), port: 53, proto: UDP, want: Blocked},
			},
		},
		{
			// e2e: should support a 'default-deny-all' policy
			name:     "default-deny ingress and egress",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-all", "x", types(Ingress, Egress))},
			conns: []conn{
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Blocked},
				{src: x("y/a"), dst: x("x/a"), port: 80, want: Blocked, reason: "ingress to x/a: isolated by x/deny-all"},
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked, reason: "egress from x/a: isolated by x/deny-all"},
				{src: x("y/a"), dst: x("y/b"), port: 80, want: Allowed},
			},
		},
		{
			name:     "a policy isolates only the pods it selects",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-a", "x", selecting(lbl{"pod": "a"}), types(Ingress))},
			conns: []conn{
				{src: x("x/b"), dst: x("x/a"), port: 80, want: Blocked},
				{src: x("x/a"), dst: x("x/b"), port: 80, want: Allowed},
				{src: x("x/a"), dst: x("x/c"), port: 80, want: Allowed},
			},
		},
		{
			name:     "a policy isolates only pods of its own namespace",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-all", "y", types(Ingress, Egress))},
			conns: []conn{
				{src: x("z/a"), dst: x("x/a"), port: 80, want: Allowed},
				{src: x("x/a"), dst: x("z/a"), port: 80, want: Allowed},
				{src: x("x/a"), dst: x("y/a"), port: 80, want: Blocked},
			},
		},
	})
}

func TestPolicyTypesDefaulting(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	runPolicyCases(t, []policyCase{
		{
			// No policyTypes but egress rules: Ingress and Egress both apply,
			// and Ingress, having no rules, denies all ingress to x/a.
			name: "egress rules without policyTypes also isolate ingress",
			policies: []networkingv1.NetworkPolicy{makePolicy("a-to-b", "x", selecting(lbl{"pod": "a"}),
				egressRules(to(nil, podsPeer(lbl{"pod": "b"}))))},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Allowed, reason: "egress from x/a: allowed by x/a-to-b egress[0]"},
				{src: p("x/a"), dst: p("x/c"), port: 80, want: Blocked, reason: "egress from x/a: isolated by x/a-to-b"},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Blocked, reason: "ingress to x/a: isolated by x/a-to-b"},
			},
		},
		{
			name: "ingress rules without policyTypes leave egress open",
			policies: []networkingv1.NetworkPolicy{makePolicy("from-b", "x", selecting(lbl{"pod": "a"}),
				ingressRules(from(nil, podsPeer(lbl{"pod": "b"}))))},
			conns: []conn{
				{src: p("x/a"), dst: p("z/c"), port: 80, want: Allowed, reason: "egress from x/a: not isolated"},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("x/c"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "egress: [] without policyTypes does not make an Egress policy",
			policies: []networkingv1.NetworkPolicy{makePolicy("empty-egress", "x", egressRules())},
			conns: []conn{
				{src: p("x/a"), dst: p("y/a"), port: 80, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "egress: [] with policyTypes [Egress] denies all egress",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-egress", "x", types(Egress), egressRules())},
			conns: []conn{
				{src: p("x/a"), dst: p("y/a"), port: 80, want: Blocked},
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			// e2e: should enforce policies to check ingress and egress
			// policies can be controlled independently based on PodSelector
			name: "ingress and egress are independent",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("allow-egress-for-target", "x", selecting(lbl{"pod": "a"}), types(Egress), egressRules(to(nil))),
				makePolicy("deny-ingress-via-label-selector", "x", selecting(lbl{"pod": "a"}), types(Ingress)),
			},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Allowed},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
	})
}

func TestPeers(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	toA := func(name string, peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{makePolicy(name, "x", selecting(lbl{"pod": "a"}), ingressRules(from(nil, peers...)))}
	}
	runPolicyCases(t, []policyCase{
		{
			// e2e: should enforce policy based on PodSelector and NamespaceSelector
			name:     "namespaceSelector AND podSelector in one peer",
			policies: toA("ns-and-pod", nsAndPodsPeer(lbl{"team": "beta"}, lbl{"pod": "b"})),
			conns: []conn{
				{src: p("y/b"), dst: p("x/a"), port: 80, want: Allowed, reason: "allowed by x/ns-and-pod ingress[0]"},
				{src: p("z/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Blocked}, // namespace matches, pod does not
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Blocked}, // pod matches, namespace does not
			},
		},
		{
			// e2e: should enforce policy based on PodSelector or NamespaceSelector
			name:     "namespaceSelector OR podSelector as two peers",
			policies: toA("ns-or-pod", nsPeer(lbl{"team": "beta"}), podsPeer(lbl{"pod": "b"})),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("z/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("x/c"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "podSelector alone selects the policy's namespace only",
			policies: toA("pod-b", podsPeer(lbl{"pod": "b"})),
			conns: []conn{
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/b"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			// e2e: should enforce policy to allow traffic only from a
			// different namespace, based on NamespaceSelector
			name:     "namespaceSelector alone, by the implicit kubernetes.io/metadata.name label",
			policies: toA("from-y", nsPeer(lbl{"kubernetes.io/metadata.name": "y"})),
			conns: []conn{
				{src: p("y/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("z/c"), dst: p("x/a"), port: 80, want: Blocked},
				{src: p("x/c"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			// e2e: should enforce policy to allow ingress traffic from pods in all namespaces
			name:     "namespaceSelector {} is every namespace but no outside address",
			policies: toA("from-all-ns", nsPeer(lbl{})),
			conns: []conn{
				{src: p("z/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: ipPeer("203.0.113.9"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "namespaceSelector {} with a podSelector",
			policies: toA("c-anywhere", nsAndPodsPeer(lbl{}, lbl{"pod": "c"})),
			conns: []conn{
				{src: p("z/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("x/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("z/b"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "podSelector {} alone is every pod of the policy's namespace",
			policies: toA("same-ns", podsPeer(lbl{})),
			conns: []conn{
				{src: p("x/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/c"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			// e2e: should enforce policy based on Multiple PodSelectors and NamespaceSelectors
			name: "matchExpressions",
			policies: toA("allow-ns-y-z-pod-b-c", networkingv1.NetworkPolicyPeer{
				NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"x"}},
				}},
				PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "pod", Operator: metav1.LabelSelectorOpIn, Values: []string{"b", "c"}},
				}},
			}),
			conns: []conn{
				{src: p("y/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("z/c"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Blocked},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name: "egress peers work the same way",
			policies: []networkingv1.NetworkPolicy{makePolicy("a-out", "x", selecting(lbl{"pod": "a"}), types(Egress),
				egressRules(to(nil, nsAndPodsPeer(lbl{"team": "beta"}, lbl{"pod": "b"}), podsPeer(lbl{"pod": "c"}))))},
			conns: []conn{
				{src: p("x/a"), dst: p("y/b"), port: 80, want: Allowed},
				{src: p("x/a"), dst: p("x/c"), port: 80, want: Allowed},
				{src: p("x/a"), dst: p("y/c"), port: 80, want: Blocked},
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Blocked},
			},
		},
	})
}

func TestRuleShapes(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	runPolicyCases(t, []policyCase{
		{
			// e2e: should support allow-all policy
			name:     "absent from allows every source on every port",
			policies: []networkingv1.NetworkPolicy{makePolicy("allow-all", "x", ingressRules(from(nil)))},
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 81, want: Allowed, reason: "allowed by x/allow-all ingress[0]"},
				{src: p("y/a"), dst: p("x/a"), port: 80, proto: UDP, want: Allowed},
				{src: ipPeer("203.0.113.9"), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "empty from list is the same as absent",
			policies: []networkingv1.NetworkPolicy{makePolicy("allow-all", "x",
				ingressRules(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{}}))},
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Allowed},
				{src: ipPeer("203.0.113.9"), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name:     "ingress: [] denies all ingress",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny", "x", types(Ingress), ingressRules())},
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Blocked},
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "absent from with ports allows every source on those ports",
			policies: []networkingv1.NetworkPolicy{makePolicy("port-80", "x", ingressRules(from(ports(tcp(80)))))},
			conns: []conn{
				{src: ipPeer("203.0.113.9"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 81, want: Blocked},
			},
		},
		{
			// e2e: should enforce multiple, stacked policies with overlapping podSelectors
			name: "rules are ORed across policies",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("deny-ingress", "x", types(Ingress)),
				makePolicy("from-y-81", "x", selecting(lbl{"pod": "a"}), ingressRules(from(ports(tcp(81)), nsPeer(lbl{"kubernetes.io/metadata.name": "y"})))),
				makePolicy("from-y-80", "x", selecting(lbl{"pod": "a"}), ingressRules(from(ports(tcp(80)), nsPeer(lbl{"kubernetes.io/metadata.name": "y"})))),
			},
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 81, want: Allowed, reason: "x/from-y-81 ingress[0]"},
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Allowed, reason: "x/from-y-80 ingress[0]"},
				{src: p("z/a"), dst: p("x/a"), port: 80, want: Blocked, reason: "isolated by x/deny-ingress, x/from-y-81, x/from-y-80"},
				{src: p("y/a"), dst: p("x/b"), port: 80, want: Blocked},
			},
		},
		{
			name: "rules are ORed within a policy",
			policies: []networkingv1.NetworkPolicy{makePolicy("two-rules", "x", selecting(lbl{"pod": "a"}),
				ingressRules(from(ports(tcp(80)), podsPeer(lbl{"pod": "b"})), from(ports(tcp(81)), podsPeer(lbl{"pod": "c"}))))},
			conns: []conn{
				{src: p("x/b"), dst: p("x/a"), port: 80, want: Allowed, reason: "ingress[0]"},
				{src: p("x/c"), dst: p("x/a"), port: 81, want: Allowed, reason: "ingress[1]"},
				{src: p("x/b"), dst: p("x/a"), port: 81, want: Blocked}, // a rule's ports and peers are ANDed
				{src: p("x/c"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name: "both the source's egress and the destination's ingress must allow",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("a-to-b", "x", selecting(lbl{"pod": "a"}), types(Egress), egressRules(to(nil, podsPeer(lbl{"pod": "b"})))),
				makePolicy("deny-b", "x", selecting(lbl{"pod": "b"}), types(Ingress)),
			},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Blocked, reason: "ingress to x/b: isolated by x/deny-b"},
			},
		},
	})
}

func TestIPBlocks(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	runPolicyCases(t, []policyCase{
		{
			name: "egress to the internet except the metadata service",
			policies: []networkingv1.NetworkPolicy{makePolicy("egress-internet", "x", types(Egress),
				egressRules(to(nil, cidrPeer("0.0.0.0/0", "169.254.169.254/32"))))},
			conns: []conn{
				{src: p("x/a"), dst: ipPeer("8.8.8.8"), port: 443, want: Allowed, reason: "allowed by x/egress-internet egress[0]"},
				{src: p("x/a"), dst: ipPeer("169.254.169.254"), port: 80, want: Blocked, reason: "isolated by x/egress-internet"},
				{src: p("x/a"), dst: ipPeer("169.254.169.253"), port: 80, want: Allowed},
				// 0.0.0.0/0 covers pod IPs too: whether it applies to them depends on the CNI.
				{src: p("x/a"), dst: p("y/a"), port: 80, want: ImplementationDefined, reason: "matches the pod IP of y/a"},
			},
		},
		{
			name: "ingress from a CIDR with an except",
			policies: []networkingv1.NetworkPolicy{makePolicy("from-net", "x",
				ingressRules(from(nil, cidrPeer("203.0.113.0/24", "203.0.113.128/25"))))},
			conns: []conn{
				{src: ipPeer("203.0.113.7"), dst: p("x/a"), port: 80, want: Allowed},
				{src: ipPeer("203.0.113.200"), dst: p("x/a"), port: 80, want: Blocked},
				{src: ipPeer("198.51.100.1"), dst: p("x/a"), port: 80, want: Blocked},
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Blocked}, // pod IP outside the CIDR: definite
			},
		},
		{
			name:     "IPv6",
			policies: []networkingv1.NetworkPolicy{makePolicy("from-v6", "x", ingressRules(from(nil, cidrPeer("2001:db8::/32"))))},
			conns: []conn{
				{src: ipPeer("2001:db8::1"), dst: p("x/a"), port: 80, want: Allowed},
				{src: ipPeer("2001:db9::1"), dst: p("x/a"), port: 80, want: Blocked},
				{src: ipPeer("203.0.113.7"), dst: p("x/a"), port: 80, want: Blocked},
			},
		},
		{
			name:     "ipBlock matching a pod IP is implementation-defined",
			policies: []networkingv1.NetworkPolicy{makePolicy("from-pod-net", "x", selecting(lbl{"pod": "a"}), ingressRules(from(nil, cidrPeer("10.0.0.0/16"))))},
			conns: []conn{
				{src: p("y/b"), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "ipBlock 10.0.0.0/16 (x/from-pod-net ingress[0]) matches the pod IP of y/b"},
				// A peer given only by a pod's IP is that pod.
				{src: ipPeer("10.0.2.2"), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "pod IP of y/b"},
				{src: ipPeer("10.0.99.1"), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "a selector rule that allows anyway makes it definite",
			policies: []networkingv1.NetworkPolicy{makePolicy("either", "x", selecting(lbl{"pod": "a"}),
				ingressRules(from(nil, cidrPeer("10.0.0.0/16"), nsAndPodsPeer(lbl{}, lbl{"pod": "b"}))))},
			conns: []conn{
				{src: p("y/b"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/c"), dst: p("x/a"), port: 80, want: ImplementationDefined},
			},
		},
		{
			// e2e: should enforce except clause while egress access to server in CIDR block
			name: "an except excluding the pod IP makes it definite",
			policies: []networkingv1.NetworkPolicy{makePolicy("allow-client-a-via-cidr-egress-rule", "x", selecting(lbl{"pod": "a"}),
				egressRules(to(nil, cidrPeer("10.0.0.0/16", "10.0.1.2/32"))))},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Blocked},
				{src: p("x/a"), dst: p("x/c"), port: 80, want: ImplementationDefined},
			},
		},
		{
			// e2e: should ensure an IP overlapping both IPBlock.CIDR and
			// IPBlock.Except is allowed. Upstream expects allowed (the ipBlocks
			// are built from pod IPs); CNIs that ignore pod IPs in ipBlocks,
			// like Cilium by default, block it.
			name: "ipBlock on a pod IP, excepted in one policy and allowed in another",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("large-cidr", "x", selecting(lbl{"pod": "a"}), egressRules(to(nil, cidrPeer("10.0.0.0/16", "10.0.1.2/32")))),
				makePolicy("pod-b-cidr", "x", selecting(lbl{"pod": "a"}), egressRules(to(nil, cidrPeer("10.0.1.2/32")))),
			},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: ImplementationDefined, reason: "x/pod-b-cidr egress[0]"},
				{src: p("x/a"), dst: ipPeer("8.8.8.8"), port: 80, want: Blocked},
			},
		},
		{
			name: "a definite block on the other side wins over a CNI-dependent side",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("deny-egress", "y", types(Egress)),
				makePolicy("from-pod-net", "x", ingressRules(from(nil, cidrPeer("10.0.0.0/16")))),
			},
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 80, want: Blocked, reason: "egress from y/a: isolated by y/deny-egress"},
			},
		},
	})
}

// TestDecideUnknownPodIP covers Decide's rule for pods whose IP is unknown
// (as a scenario's pods are offline): an ipBlock that may cover the IP —
// anywhere in the cluster's pod ranges when the engine has them, nearly
// anywhere otherwise — makes the side implementation-defined; one that
// provably excludes the pod ranges does not match.
func TestDecideUnknownPodIP(t *testing.T) {
	t.Parallel()
	namespaces := []Namespace{{Name: "x"}}
	pods := []Pod{
		makePod("a", "x", lbl{"pod": "a"}, withPort("http", 80, TCP)),
		makePod("b", "x", lbl{"pod": "b"}, withPort("http", 80, TCP)),
		makePod("k", "x", lbl{"pod": "k"}, withIP("10.0.0.5"), withPort("http", 80, TCP)),
	}
	a, b, k := Peer{Pod: &pods[0]}, Peer{Pod: &pods[1]}, Peer{Pod: &pods[2]}
	onA, onB := selecting(lbl{"pod": "a"}), selecting(lbl{"pod": "b"})
	egressAnywhere := makePolicy("egress-anywhere", "x", onA, types(Egress),
		egressRules(to(nil, cidrPeer("0.0.0.0/0", "169.254.169.254/32"))))
	ingressFrom := func(cidr string, except ...string) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{makePolicy("from-block", "x", onB,
			ingressRules(from(ports(tcp(80)), cidrPeer(cidr, except...))))}
	}
	podRange := ClusterRanges{Pods: mustPrefixes("10.244.0.0/16")}
	otherRange := ClusterRanges{Pods: mustPrefixes("172.16.0.0/16")}
	dualStack := ClusterRanges{Pods: mustPrefixes("10.244.0.0/16", "fd00:10:244::/56")}
	blockedIngress := Decision{Verdict: Blocked, Egress: Allowed, Ingress: Blocked}
	openIngress := Decision{Verdict: ImplementationDefined, Egress: Allowed, Ingress: ImplementationDefined}
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		ranges   ClusterRanges
		src, dst Peer
		want     Decision // Verdict, Egress and Ingress are compared
		reason   []string // substrings of the Reason
		not      string   // a substring the Reason must not contain
	}{
		{
			name:     "egress to 0.0.0.0/0",
			policies: []networkingv1.NetworkPolicy{egressAnywhere},
			src:      a, dst: b,
			want: Decision{Verdict: ImplementationDefined, Egress: ImplementationDefined, Ingress: Allowed},
			reason: []string{
				"egress from x/a: isolated by x/egress-anywhere; depends on the CNI: ",
				"ipBlock 0.0.0.0/0 except 169.254.169.254/32 (x/egress-anywhere egress[0]) may cover the pod IP of x/b (neither it nor the cluster's pod ranges are known)",
				"CNIs differ on whether ipBlocks apply to pod IPs",
			},
		},
		{
			name:     "ingress from 0.0.0.0/0",
			policies: ingressFrom("0.0.0.0/0"),
			src:      a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock 0.0.0.0/0 (x/from-block ingress[0]) may cover the pod IP of x/a"},
		},
		{
			name:     "ingress from ::/0",
			policies: ingressFrom("::/0"),
			src:      a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock ::/0 (x/from-block ingress[0])"},
		},
		{
			name:     "0.0.0.0/0 covering the known pod range",
			policies: ingressFrom("0.0.0.0/0"), ranges: podRange,
			src: a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock 0.0.0.0/0 (x/from-block ingress[0]) covers the pod range 10.244.0.0/16, where the pod IP of x/a lies"},
		},
		{
			name:     "10.0.0.0/8 without the ranges may cover the pod",
			policies: ingressFrom("10.0.0.0/8"),
			src:      a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock 10.0.0.0/8 (x/from-block ingress[0]) may cover the pod IP of x/a (neither it nor the cluster's pod ranges are known)"},
		},
		{
			name:     "10.0.0.0/8 covering the pod range is still up to the CNI",
			policies: ingressFrom("10.0.0.0/8"), ranges: podRange,
			src: a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock 10.0.0.0/8 (x/from-block ingress[0]) covers the pod range 10.244.0.0/16, where the pod IP of x/a lies, and CNIs differ"},
		},
		{
			name:     "a block overlapping part of the pod range",
			policies: ingressFrom("10.244.1.0/24"), ranges: podRange,
			src: a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock 10.244.1.0/24 (x/from-block ingress[0]) overlaps the pod range 10.244.0.0/16"},
		},
		{
			name:     "10.0.0.0/8 outside the known pod range does not match",
			policies: ingressFrom("10.0.0.0/8"), ranges: otherRange,
			src: a, dst: b,
			want:   blockedIngress,
			reason: []string{"ingress to x/b: isolated by x/from-block and no ingress rule allows x/a on TCP/80"},
			not:    "10.0.0.0/8",
		},
		{
			name:     "an except covering the pod range makes it exact",
			policies: ingressFrom("10.0.0.0/8", "10.244.0.0/16"), ranges: podRange,
			src: a, dst: b,
			want: blockedIngress,
		},
		{
			name:     "0.0.0.0/0 except the pod range is exact",
			policies: ingressFrom("0.0.0.0/0", "10.244.0.0/16"), ranges: podRange,
			src: a, dst: b,
			want: blockedIngress,
		},
		{
			name:     "an except covering only part of the pod range is not",
			policies: ingressFrom("10.0.0.0/8", "10.244.0.0/17"), ranges: podRange,
			src: a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock 10.0.0.0/8 except 10.244.0.0/17 (x/from-block ingress[0]) overlaps the pod range 10.244.0.0/16"},
		},
		{
			name:     "dual-stack: the block names the range it overlaps",
			policies: ingressFrom("fd00::/8"), ranges: dualStack,
			src: a, dst: b,
			want:   openIngress,
			reason: []string{"ipBlock fd00::/8 (x/from-block ingress[0]) overlaps the pod range fd00:10:244::/56, where"},
		},
		{
			name:     "dual-stack: a block of the other family only",
			policies: ingressFrom("fd00::/8"), ranges: podRange,
			src: a, dst: b,
			want: blockedIngress,
		},
		{
			name:     "no pod has a link-local address, ranges or not",
			policies: ingressFrom("169.254.0.0/16"),
			src:      a, dst: b,
			want: blockedIngress,
		},
		{
			name: "the rule's ports do not match",
			policies: []networkingv1.NetworkPolicy{makePolicy("egress-anywhere-443", "x", onA, types(Egress),
				egressRules(to(ports(tcp(443)), cidrPeer("0.0.0.0/0"))))},
			src: a, dst: b,
			want: Decision{Verdict: Blocked, Egress: Blocked, Ingress: Allowed},
			not:  "pod IP",
		},
		{
			name: "a definite block on the other side wins",
			policies: []networkingv1.NetworkPolicy{egressAnywhere,
				makePolicy("deny-b", "x", onB, types(Ingress))},
			src: a, dst: b,
			want:   Decision{Verdict: Blocked, Egress: ImplementationDefined, Ingress: Blocked},
			reason: []string{"ingress to x/b: isolated by x/deny-b"},
		},
		{
			name: "another rule allows anyway",
			policies: []networkingv1.NetworkPolicy{makePolicy("egress-b-or-anywhere", "x", onA, types(Egress),
				egressRules(to(nil, podsPeer(lbl{"pod": "b"})), to(nil, cidrPeer("0.0.0.0/0"))))},
			src: a, dst: b,
			want:   Decision{Verdict: Allowed, Egress: Allowed, Ingress: Allowed},
			reason: []string{"allowed by x/egress-b-or-anywhere egress[0]"},
		},
		{
			name:     "a known pod IP is matched by the block itself",
			policies: []networkingv1.NetworkPolicy{egressAnywhere}, ranges: otherRange,
			src: a, dst: k,
			want:   Decision{Verdict: ImplementationDefined, Egress: ImplementationDefined, Ingress: Allowed},
			reason: []string{"ipBlock 0.0.0.0/0 except 169.254.169.254/32 (x/egress-anywhere egress[0]) matches the pod IP of x/k"},
			not:    "range",
		},
		{
			name:     "self traffic keeps the self rule's answer",
			policies: []networkingv1.NetworkPolicy{egressAnywhere, makePolicy("deny-in", "x", types(Ingress))},
			src:      a, dst: a,
			want:   Decision{Verdict: ImplementationDefined, Egress: ImplementationDefined, Ingress: Blocked},
			reason: []string{"x/a connecting to itself", "the policies alone say blocked"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := NewEngine(namespaces, pods, tt.policies, WithClusterRanges(tt.ranges))
			if err != nil {
				t.Fatalf("NewEngine: %v", err)
			}
			got, err := e.Decide(tt.src, tt.dst, 80, TCP)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			checkDecision(t, got, tt.want, tt.reason, tt.not)
		})
	}
}

// checkDecision compares got's Verdict, Egress and Ingress with want's, and
// checks that its Reason contains every one of reason and not notWant.
func checkDecision(t *testing.T, got, want Decision, reason []string, notWant string) {
	t.Helper()
	if got.Verdict != want.Verdict || got.Egress != want.Egress || got.Ingress != want.Ingress {
		t.Errorf("got %s/egress %s/ingress %s, want %s/egress %s/ingress %s\n  reason: %s",
			got.Verdict, got.Egress, got.Ingress, want.Verdict, want.Egress, want.Ingress, got.Reason)
	}
	for _, s := range reason {
		if !strings.Contains(got.Reason, s) {
			t.Errorf("reason %q\ndoes not contain %q", got.Reason, s)
		}
	}
	if notWant != "" && strings.Contains(got.Reason, notWant) {
		t.Errorf("reason %q\ncontains %q", got.Reason, notWant)
	}
}

// TestDecideViaService covers a destination addressed through a Service's
// ClusterIP: an egress ipBlock that may cover the ClusterIP (known, in the
// known Service ranges, or anywhere when they are unknown) makes the
// source's egress implementation-defined; one that provably excludes it
// leaves the answer to the backend's pod IP.
func TestDecideViaService(t *testing.T) {
	t.Parallel()
	namespaces := []Namespace{{Name: "x"}}
	pods := []Pod{
		makePod("a", "x", lbl{"pod": "a"}),
		makePod("b", "x", lbl{"pod": "b"}, withPort("http", 80, TCP)),
	}
	a := Peer{Pod: &pods[0]}
	web := func(clusterIP string) Peer {
		return Peer{Pod: &pods[1], Service: &Service{Namespace: "x", Name: "web", ClusterIP: clusterIP}}
	}
	egressTo := func(cidr string, except ...string) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{makePolicy("egress-block", "x", selecting(lbl{"pod": "a"}), types(Egress),
			egressRules(to(nil, cidrPeer(cidr, except...))))}
	}
	known := ClusterRanges{Pods: mustPrefixes("10.244.0.0/16"), Services: mustPrefixes("10.96.0.0/12")}
	open := Decision{Verdict: ImplementationDefined, Egress: ImplementationDefined, Ingress: Allowed}
	blocked := Decision{Verdict: Blocked, Egress: Blocked, Ingress: Allowed}
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		ranges   ClusterRanges
		dst      Peer
		want     Decision
		reason   []string
		not      string
	}{
		{
			name:     "a block covering the Service range, ranges unknown",
			policies: egressTo("10.96.0.0/12"),
			dst:      web(""),
			want:     open,
			reason: []string{
				"ipBlock 10.96.0.0/12 (x/egress-block egress[0]) may cover the ClusterIP of svc:x/web (neither it nor the cluster's Service ranges are known)",
				"implementations differ on whether egress policies see a Service's ClusterIP or, after load balancing, the backend's IP",
			},
		},
		{
			name:     "a block covering the known Service range but no pod",
			policies: egressTo("10.96.0.0/12"), ranges: known,
			dst:  web(""),
			want: open,
			reason: []string{
				"ipBlock 10.96.0.0/12 (x/egress-block egress[0]) covers the Service range 10.96.0.0/12, where the ClusterIP of svc:x/web lies",
			},
			not: "pod IP",
		},
		{
			name:     "a block outside both known ranges",
			policies: egressTo("192.168.0.0/16"), ranges: known,
			dst:  web(""),
			want: blocked,
		},
		{
			name:     "an except covering the Service range",
			policies: egressTo("10.96.0.0/11", "10.96.0.0/12"), ranges: known,
			dst:  web(""),
			want: blocked,
		},
		{
			name:     "a block covering the pod range only",
			policies: egressTo("10.244.0.0/16"), ranges: known,
			dst:    web(""),
			want:   open,
			reason: []string{"covers the pod range 10.244.0.0/16, where the pod IP of x/b lies"},
			not:    "ClusterIP",
		},
		{
			name:     "a known ClusterIP in the block",
			policies: egressTo("10.96.0.10/32"), ranges: known,
			dst:    web("10.96.0.10"),
			want:   open,
			reason: []string{"ipBlock 10.96.0.10/32 (x/egress-block egress[0]) matches the ClusterIP of svc:x/web"},
		},
		{
			name:     "a known ClusterIP outside the block",
			policies: egressTo("10.96.0.10/32"), ranges: known,
			dst:  web("10.96.0.11"),
			want: blocked,
		},
		{
			name:     "the ClusterIP does not count without the Service",
			policies: egressTo("10.96.0.0/12"), ranges: known,
			dst:  Peer{Pod: &pods[1]},
			want: blocked,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := NewEngine(namespaces, pods, tt.policies, WithClusterRanges(tt.ranges))
			if err != nil {
				t.Fatalf("NewEngine: %v", err)
			}
			got, err := e.Decide(a, tt.dst, 80, TCP)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			checkDecision(t, got, tt.want, tt.reason, tt.not)
		})
	}
}

func TestPorts(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	ingressOn := func(name string, ps ...networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{makePolicy(name, "x", ingressRules(from(ps)))}
	}
	runPolicyCases(t, []policyCase{
		{
			name:     "endPort range",
			policies: ingressOn("range", portRange(8000, 8100, TCP)),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 7999, want: Blocked},
				{src: p("y/a"), dst: p("x/a"), port: 8000, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 8050, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 8100, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 8101, want: Blocked},
				{src: p("y/a"), dst: p("x/a"), port: 8050, proto: UDP, want: Blocked},
			},
		},
		{
			// e2e: should enforce ingress policy allowing any port traffic to a server on a specific protocol
			name:     "UDP and TCP are distinct",
			policies: ingressOn("tcp-80", tcp(80)),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 80, proto: TCP, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 80, proto: UDP, want: Blocked},
				{src: p("y/a"), dst: p("x/a"), port: 81, want: Blocked},
			},
		},
		{
			name:     "protocol defaults to TCP",
			policies: ingressOn("port-53", noProto(53)),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 53, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 53, proto: UDP, want: Blocked},
			},
		},
		{
			name:     "UDP port",
			policies: ingressOn("udp-53", udp(53)),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 53, proto: UDP, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 53, proto: TCP, want: Blocked},
			},
		},
		{
			// e2e: should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'
			name: "SCTP is not TCP",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("deny-ingress", "x", types(Ingress)),
				makePolicy("allow-only-sctp-ingress-on-port-81", "x", selecting(lbl{"pod": "a"}), ingressRules(from(ports(sctp(81))))),
			},
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 81, proto: TCP, want: Blocked},
				{src: p("y/a"), dst: p("x/a"), port: 81, proto: SCTP, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 81, proto: UDP, want: Blocked},
			},
		},
		{
			name:     "a protocol without a port matches every port of it",
			policies: ingressOn("all-udp", allOf(UDP)),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 53, proto: UDP, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 5353, proto: UDP, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 53, proto: TCP, want: Blocked},
			},
		},
		{
			// x/a serves "http" on 8080, x/b on 9090.
			name:     "named ingress port resolves per destination pod",
			policies: ingressOn("http", named("http", TCP)),
			conns: []conn{
				{src: p("y/a"), dst: p("x/a"), port: 8080, want: Allowed},
				{src: p("y/a"), dst: p("x/a"), port: 9090, want: Blocked},
				{src: p("y/a"), dst: p("x/b"), port: 9090, want: Allowed},
				{src: p("y/a"), dst: p("x/b"), port: 8080, want: Blocked},
				{src: p("y/a"), dst: p("x/c"), port: 8080, want: Blocked}, // x/c has no "http"
			},
		},
		{
			name: "named egress port resolves against the destination pod",
			policies: []networkingv1.NetworkPolicy{makePolicy("http-out", "x", selecting(lbl{"pod": "c"}), types(Egress),
				egressRules(to(ports(named("http", "")))))},
			conns: []conn{
				{src: p("x/c"), dst: p("x/a"), port: 8080, want: Allowed},
				{src: p("x/c"), dst: p("x/a"), port: 9090, want: Blocked},
				{src: p("x/c"), dst: p("x/b"), port: 9090, want: Allowed},
				{src: p("x/c"), dst: p("x/b"), port: 8080, want: Blocked},
				// A named port never matches an outside address.
				{src: p("x/c"), dst: ipPeer("8.8.8.8"), port: 8080, want: Blocked},
			},
		},
		{
			name:     "named port protocol must match the container port's",
			policies: []networkingv1.NetworkPolicy{makePolicy("dns", "y", ingressRules(from(ports(named("dns", UDP)))))},
			conns: []conn{
				{src: p("x/a"), dst: p("y/c"), port: 53, proto: UDP, want: Allowed},
				{src: p("x/a"), dst: p("y/c"), port: 53, proto: TCP, want: Blocked},
			},
		},
		{
			name:     "named port without protocol means TCP",
			policies: []networkingv1.NetworkPolicy{makePolicy("dns-tcp", "y", ingressRules(from(ports(named("dns", "")))))},
			conns: []conn{
				{src: p("x/a"), dst: p("y/c"), port: 53, proto: UDP, want: Blocked},
			},
		},
		{
			// e2e: should allow egress access on one named port
			name:     "egress on one named port",
			policies: []networkingv1.NetworkPolicy{makePolicy("allow-egress", "x", egressRules(to(ports(named("serve-80-tcp", "")))))},
			conns: []conn{
				{src: p("x/a"), dst: p("y/a"), port: 80, want: Allowed},
				{src: p("x/a"), dst: p("y/a"), port: 81, want: Blocked},
				{src: p("y/a"), dst: p("z/a"), port: 81, want: Allowed},
			},
		},
	})
}

func TestImplementationDefined(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	denyAll := makePolicy("deny-all", "x", types(Ingress, Egress))
	runPolicyCases(t, []policyCase{
		{
			name: "self traffic without policies is allowed",
			conns: []conn{
				{src: p("x/a"), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name:     "self traffic a policy would block",
			policies: []networkingv1.NetworkPolicy{denyAll},
			conns: []conn{
				{src: p("x/a"), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "x/a connecting to itself"},
				{src: p("x/a"), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "isolated by x/deny-all"},
			},
		},
		{
			name: "self traffic a policy allows",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("deny-ingress", "x", types(Ingress)),
				makePolicy("a-from-a", "x", selecting(lbl{"pod": "a"}), ingressRules(from(nil, podsPeer(lbl{"pod": "a"})))),
			},
			conns: []conn{
				{src: p("x/a"), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "node traffic without policies is allowed",
			conns: []conn{
				{src: nodePeer(nodeIP), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("x/a"), dst: nodePeer(nodeIP), port: 10250, want: Allowed},
			},
		},
		{
			name:     "node traffic a policy would block",
			policies: []networkingv1.NetworkPolicy{denyAll},
			conns: []conn{
				{src: nodePeer(nodeIP), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "between a pod and the node"},
				{src: nodePeer(""), dst: p("x/a"), port: 80, want: ImplementationDefined},
				{src: p("x/a"), dst: nodePeer(nodeIP), port: 10250, want: ImplementationDefined},
			},
		},
		{
			name: "node traffic allowed by a rule for every source",
			policies: []networkingv1.NetworkPolicy{
				makePolicy("allow-all-in", "x", ingressRules(from(nil))),
			},
			conns: []conn{
				{src: nodePeer(nodeIP), dst: p("x/a"), port: 80, want: Allowed},
			},
		},
		{
			name: "ipBlock covering the node address",
			policies: []networkingv1.NetworkPolicy{makePolicy("to-nodes", "x", types(Egress),
				egressRules(to(nil, cidrPeer("10.1.0.0/16"))))},
			conns: []conn{
				{src: p("x/a"), dst: nodePeer(nodeIP), port: 6443, want: ImplementationDefined, reason: "node address of the node (10.1.0.1)"},
				{src: p("x/a"), dst: ipPeer("10.1.0.9"), port: 6443, want: Allowed}, // not known as a node: an outside address
			},
		},
		{
			name:     "hostNetwork pod as source to an isolated pod",
			policies: []networkingv1.NetworkPolicy{makePolicy("deny-a", "x", selecting(lbl{"pod": "a"}), types(Ingress))},
			conns: []conn{
				{src: p("x/h"), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "hostNetwork"},
				{src: p("x/h"), dst: p("x/b"), port: 80, want: Allowed},
			},
		},
		{
			name:     "hostNetwork pod selected by a peer",
			policies: []networkingv1.NetworkPolicy{makePolicy("from-h", "x", selecting(lbl{"pod": "a"}), ingressRules(from(nil, podsPeer(lbl{"pod": "h"}))))},
			conns: []conn{
				{src: p("x/h"), dst: p("x/a"), port: 80, want: ImplementationDefined, reason: "selects hostNetwork pod x/h"},
			},
		},
		{
			name:     "hostNetwork pod isolated by its own policy",
			policies: []networkingv1.NetworkPolicy{denyAll},
			conns: []conn{
				{src: p("y/a"), dst: p("x/h"), port: 80, want: ImplementationDefined, reason: "x/h is a hostNetwork pod"},
			},
		},
		{
			name:     "hostNetwork pod allowed either way",
			policies: []networkingv1.NetworkPolicy{makePolicy("allow-all-in", "x", ingressRules(from(nil)))},
			conns: []conn{
				{src: p("x/h"), dst: p("x/a"), port: 80, want: Allowed},
				{src: p("y/a"), dst: p("x/h"), port: 80, want: Allowed},
			},
		},
	})
}

func TestDecisionBreakdown(t *testing.T) {
	t.Parallel()
	w := newWorld()
	e, err := NewEngine(w.namespaces, w.pods, []networkingv1.NetworkPolicy{makePolicy("deny-all", "x", types(Ingress, Egress))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		src, dst Peer
		want     Decision
	}{
		{name: "blocked by ingress only", src: w.pod("y/a"), dst: w.pod("x/a"),
			want: Decision{Verdict: Blocked, Egress: Allowed, Ingress: Blocked}},
		{name: "blocked by egress only", src: w.pod("x/a"), dst: w.pod("y/a"),
			want: Decision{Verdict: Blocked, Egress: Blocked, Ingress: Allowed}},
		{name: "self: sides blocked, overall implementation-defined", src: w.pod("x/a"), dst: w.pod("x/a"),
			want: Decision{Verdict: ImplementationDefined, Egress: Blocked, Ingress: Blocked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.Decide(tt.src, tt.dst, 80, TCP)
			if err != nil {
				t.Fatal(err)
			}
			if got.Verdict != tt.want.Verdict || got.Egress != tt.want.Egress || got.Ingress != tt.want.Ingress {
				t.Errorf("got %s/egress %s/ingress %s, want %s/egress %s/ingress %s (%s)",
					got.Verdict, got.Egress, got.Ingress, tt.want.Verdict, tt.want.Egress, tt.want.Ingress, got.Reason)
			}
		})
	}
}

func TestDecideReasonNamesBothSides(t *testing.T) {
	t.Parallel()
	w := newWorld()
	e, err := NewEngine(w.namespaces, w.pods, []networkingv1.NetworkPolicy{
		makePolicy("deny-ingress", "x", types(Ingress)),
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Decide(w.pod("y/a"), w.pod("x/b"), 80, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "egress from y/a: not isolated (no policy selects it for Egress); " +
		"ingress to x/b: isolated by x/deny-ingress and no ingress rule allows y/a on TCP/80"
	if d.Reason != want {
		t.Errorf("reason\n got: %s\nwant: %s", d.Reason, want)
	}
	if got, want := d.String(), "blocked: "+want; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestIsolated(t *testing.T) {
	t.Parallel()
	w := newWorld()
	e, err := NewEngine(w.namespaces, w.pods, []networkingv1.NetworkPolicy{
		makePolicy("deny-ingress-b", "x", selecting(lbl{"pod": "b"}), types(Ingress)),
		// No policyTypes, egress rules: Ingress and Egress.
		makePolicy("a-out", "x", selecting(lbl{"pod": "a"}), egressRules(to(nil))),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pod                  string
		wantIngress, wantOut bool
	}{
		{"x/a", true, true},
		{"x/b", true, false},
		{"x/c", false, false},
		{"y/a", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			t.Parallel()
			pod := w.pod(tt.pod).Pod
			if got := e.Isolated(pod, Ingress); got != tt.wantIngress {
				t.Errorf("Isolated(Ingress) = %v, want %v", got, tt.wantIngress)
			}
			if got := e.Isolated(pod, Egress); got != tt.wantOut {
				t.Errorf("Isolated(Egress) = %v, want %v", got, tt.wantOut)
			}
		})
	}
}

func TestNamedPort(t *testing.T) {
	t.Parallel()
	w := newWorld()
	tests := []struct {
		pod, name string
		proto     corev1.Protocol
		want      int32
		ok        bool
	}{
		{"x/a", "http", "", 8080, true},
		{"x/b", "http", TCP, 9090, true},
		{"x/a", "serve-80-tcp", TCP, 80, true}, // container port with empty protocol is TCP
		{"x/a", "serve-80-udp", UDP, 80, true},
		{"y/c", "dns", TCP, 0, false},
		{"x/c", "http", TCP, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.pod+"/"+tt.name+"/"+string(tt.proto), func(t *testing.T) {
			t.Parallel()
			got, ok := w.pod(tt.pod).Pod.NamedPort(tt.name, tt.proto)
			if got != tt.want || ok != tt.ok {
				t.Errorf("NamedPort = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNewEngineRejectsInvalidPolicies(t *testing.T) {
	t.Parallel()
	bogusSelector := func(p *networkingv1.NetworkPolicy) {
		p.Spec.PodSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}
	}
	tests := []struct {
		name   string
		policy networkingv1.NetworkPolicy
		want   string
	}{
		{"no namespace", makePolicy("p", ""), "metadata.namespace is empty"},
		{"bad podSelector", makePolicy("p", "x", bogusSelector), "spec.podSelector"},
		{"unknown policy type", makePolicy("p", "x", types("Sideways")), `unknown type "Sideways"`},
		{"bad CIDR", makePolicy("p", "x", ingressRules(from(nil, cidrPeer("not-a-cidr")))), "ipBlock.cidr"},
		{"except outside CIDR", makePolicy("p", "x", ingressRules(from(nil, cidrPeer("10.0.0.0/16", "192.168.0.0/24")))), "not a strict subset"},
		{"except equal to CIDR", makePolicy("p", "x", ingressRules(from(nil, cidrPeer("10.0.0.0/16", "10.0.0.0/16")))), "not a strict subset"},
		{"empty peer", makePolicy("p", "x", ingressRules(from(nil, networkingv1.NetworkPolicyPeer{}))), "one of podSelector, namespaceSelector or ipBlock is required"},
		{"ipBlock with selector", makePolicy("p", "x", ingressRules(from(nil, networkingv1.NetworkPolicyPeer{
			IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: &metav1.LabelSelector{},
		}))), "ipBlock cannot be combined"},
		{"unknown protocol", makePolicy("p", "x", ingressRules(from(ports(port(80, "ICMP"))))), `unknown protocol "ICMP"`},
		{"port out of range", makePolicy("p", "x", egressRules(to(ports(tcp(70000))))), "out of range"},
		{"endPort below port", makePolicy("p", "x", ingressRules(from(ports(portRange(90, 80, TCP))))), "endPort 80 must be between"},
		{"endPort with named port", makePolicy("p", "x", ingressRules(from(ports(func() networkingv1.NetworkPolicyPort {
			np := named("http", TCP)
			end := int32(90)
			np.EndPort = &end
			return np
		}())))), "endPort cannot be used with a named port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewEngine(nil, nil, []networkingv1.NetworkPolicy{tt.policy})
			if err == nil {
				t.Fatalf("NewEngine accepted the policy, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}

	t.Run("every problem is reported at once", func(t *testing.T) {
		t.Parallel()
		_, err := NewEngine(nil, nil, []networkingv1.NetworkPolicy{
			makePolicy("one", "x", ingressRules(from(nil, cidrPeer("bad")))),
			makePolicy("two", "y", egressRules(to(ports(tcp(0))))),
		})
		if err == nil {
			t.Fatal("want error")
		}
		for _, want := range []string{"policy x/one ingress[0]", "policy y/two egress[0]"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
}

func TestDecideRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	w := newWorld()
	e, err := NewEngine(w.namespaces, w.pods, nil)
	if err != nil {
		t.Fatal(err)
	}
	podA := w.pod("x/a")
	tests := []struct {
		name     string
		src, dst Peer
		port     int32
		proto    corev1.Protocol
		want     string
	}{
		{"empty source", Peer{}, podA, 80, TCP, "source: empty peer"},
		{"pod and node", podA, Peer{Pod: podA.Pod, Node: true}, 80, TCP, "destination: peer sets both Pod and Node"},
		{"bad IP", ipPeer("300.1.1.1"), podA, 80, TCP, `IP "300.1.1.1"`},
		{"pod IP mismatch", Peer{Pod: podA.Pod, IP: "10.9.9.9"}, w.pod("x/b"), 80, TCP, "differs from the pod's IP"},
		{"pod without namespace", Peer{Pod: &Pod{Name: "a"}}, podA, 80, TCP, "namespace and name are required"},
		{"port 0", podA, w.pod("x/b"), 0, TCP, "port 0 out of range"},
		{"port too high", podA, w.pod("x/b"), 65536, TCP, "out of range"},
		{"unknown protocol", podA, w.pod("x/b"), 80, "ICMP", `unknown protocol "ICMP"`},
		{"a Service as the source", Peer{Pod: podA.Pod, Service: &Service{Namespace: "x", Name: "web"}}, w.pod("x/b"), 80, TCP, "source: a Service is only a destination"},
		{"a Service without its backend", podA, Peer{IP: "10.96.0.1", Service: &Service{Namespace: "x", Name: "web"}}, 80, TCP, "a Service needs its backend as Pod"},
		{"a Service without a name", podA, Peer{Pod: w.pod("x/b").Pod, Service: &Service{Namespace: "x"}}, 80, TCP, "namespace and name are required"},
		{"a bad ClusterIP", podA, Peer{Pod: w.pod("x/b").Pod, Service: &Service{Namespace: "x", Name: "web", ClusterIP: "10.96.0"}}, 80, TCP, `ClusterIP "10.96.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Decide(tt.src, tt.dst, tt.port, tt.proto)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decide error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPeerByIP(t *testing.T) {
	t.Parallel()
	w := newWorld()
	// Two pods sharing an IP make the IP ambiguous: it stays an address.
	pods := append(append([]Pod{}, w.pods...), makePod("dup", "z", lbl{"pod": "b"}, withIP("10.0.1.3")))
	e, err := NewEngine(w.namespaces, pods, []networkingv1.NetworkPolicy{
		makePolicy("from-b", "x", selecting(lbl{"pod": "a"}), ingressRules(from(nil, podsPeer(lbl{"pod": "b"})))),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want Verdict
	}{
		{"10.0.1.2", Allowed},        // x/b
		{"10.0.1.3", Blocked},        // x/c and z/dup: ambiguous, an outside address
		{"10.1.0.1", Blocked},        // the hostNetwork pod's IP is the node's, not a pod's
		{"::ffff:10.0.1.2", Allowed}, // IPv4-mapped form of x/b
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			t.Parallel()
			d, err := e.Decide(ipPeer(tt.ip), w.pod("x/a"), 80, TCP)
			if err != nil {
				t.Fatal(err)
			}
			if d.Verdict != tt.want {
				t.Errorf("got %s, want %s (%s)", d.Verdict, tt.want, d.Reason)
			}
		})
	}
}

func TestCombine(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b, want Verdict }{
		{Allowed, Allowed, Allowed},
		{Allowed, Blocked, Blocked},
		{ImplementationDefined, Blocked, Blocked},
		{Blocked, ImplementationDefined, Blocked},
		{Allowed, ImplementationDefined, ImplementationDefined},
		{ImplementationDefined, ImplementationDefined, ImplementationDefined},
	}
	for _, tt := range tests {
		t.Run(string(tt.a)+"+"+string(tt.b), func(t *testing.T) {
			t.Parallel()
			if got := combine(tt.a, tt.b); got != tt.want {
				t.Errorf("combine = %s, want %s", got, tt.want)
			}
		})
	}
}
