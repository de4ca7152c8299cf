package policy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// Builders for ClusterNetworkPolicy tests, in the makeX(name, ..., tweaks...)
// style of helpers_test.go.

const (
	admin    = cnpv1.AdminTier
	baseline = cnpv1.BaselineTier
	accept   = cnpv1.ClusterNetworkPolicyRuleActionAccept
	deny     = cnpv1.ClusterNetworkPolicyRuleActionDeny
	pass     = cnpv1.ClusterNetworkPolicyRuleActionPass
)

type cnpTweak = func(*cnpv1.ClusterNetworkPolicy)

// makeCNP returns a policy of tier and priority whose subject is every
// namespace (namespaces {}), with no rules; tweaks adjust it.
func makeCNP(name string, tier cnpv1.Tier, priority int32, tweaks ...cnpTweak) cnpv1.ClusterNetworkPolicy {
	p := cnpv1.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: cnpv1.ClusterNetworkPolicySpec{
			Tier:     tier,
			Priority: priority,
			Subject:  cnpv1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
		},
	}
	for _, tweak := range tweaks {
		tweak(&p)
	}
	return p
}

func subjectNamespaces(l lbl) cnpTweak {
	return func(p *cnpv1.ClusterNetworkPolicy) {
		p.Spec.Subject = cnpv1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{MatchLabels: l}}
	}
}

func subjectPods(ns, pods lbl) cnpTweak {
	return func(p *cnpv1.ClusterNetworkPolicy) {
		p.Spec.Subject = cnpv1.ClusterNetworkPolicySubject{Pods: namespacedPod(ns, pods)}
	}
}

func namespacedPod(ns, pods lbl) *cnpv1.NamespacedPod {
	return &cnpv1.NamespacedPod{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: ns},
		PodSelector:       metav1.LabelSelector{MatchLabels: pods},
	}
}

func cnpIngress(rules ...cnpv1.ClusterNetworkPolicyIngressRule) cnpTweak {
	return func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Ingress = rules }
}

func cnpEgress(rules ...cnpv1.ClusterNetworkPolicyEgressRule) cnpTweak {
	return func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Egress = rules }
}

// inRule is an ingress rule; name "" leaves it unnamed, protos nil matches
// every port.
func inRule(name string, action cnpv1.ClusterNetworkPolicyRuleAction, protos []cnpv1.ClusterNetworkPolicyProtocol, peers ...cnpv1.ClusterNetworkPolicyIngressPeer) cnpv1.ClusterNetworkPolicyIngressRule {
	return cnpv1.ClusterNetworkPolicyIngressRule{Name: name, Action: action, Protocols: protos, From: peers}
}

func outRule(name string, action cnpv1.ClusterNetworkPolicyRuleAction, protos []cnpv1.ClusterNetworkPolicyProtocol, peers ...cnpv1.ClusterNetworkPolicyEgressPeer) cnpv1.ClusterNetworkPolicyEgressRule {
	return cnpv1.ClusterNetworkPolicyEgressRule{Name: name, Action: action, Protocols: protos, To: peers}
}

func fromNamespaces(l lbl) cnpv1.ClusterNetworkPolicyIngressPeer {
	return cnpv1.ClusterNetworkPolicyIngressPeer{Namespaces: &metav1.LabelSelector{MatchLabels: l}}
}

func fromPods(ns, pods lbl) cnpv1.ClusterNetworkPolicyIngressPeer {
	return cnpv1.ClusterNetworkPolicyIngressPeer{Pods: namespacedPod(ns, pods)}
}

func toNamespaces(l lbl) cnpv1.ClusterNetworkPolicyEgressPeer {
	return cnpv1.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{MatchLabels: l}}
}

func toPods(ns, pods lbl) cnpv1.ClusterNetworkPolicyEgressPeer {
	return cnpv1.ClusterNetworkPolicyEgressPeer{Pods: namespacedPod(ns, pods)}
}

func toNetworks(cidrs ...string) cnpv1.ClusterNetworkPolicyEgressPeer {
	nets := make([]cnpv1.CIDR, len(cidrs))
	for i, c := range cidrs {
		nets[i] = cnpv1.CIDR(c)
	}
	return cnpv1.ClusterNetworkPolicyEgressPeer{Networks: nets}
}

func toNodes(l lbl) cnpv1.ClusterNetworkPolicyEgressPeer {
	return cnpv1.ClusterNetworkPolicyEgressPeer{Nodes: &metav1.LabelSelector{MatchLabels: l}}
}

func toDomains(names ...string) cnpv1.ClusterNetworkPolicyEgressPeer {
	ds := make([]cnpv1.DomainName, len(names))
	for i, n := range names {
		ds[i] = cnpv1.DomainName(n)
	}
	return cnpv1.ClusterNetworkPolicyEgressPeer{DomainNames: ds}
}

func protos(ps ...cnpv1.ClusterNetworkPolicyProtocol) []cnpv1.ClusterNetworkPolicyProtocol { return ps }

// cnpPortOf is a destination port number (last 0) or range of proto.
func cnpPortOf(proto corev1.Protocol, first, last int32) cnpv1.ClusterNetworkPolicyProtocol {
	port := &cnpv1.Port{Number: first}
	if last != 0 {
		port = &cnpv1.Port{Range: &cnpv1.PortRange{Start: first, End: last}}
	}
	switch proto {
	case UDP:
		return cnpv1.ClusterNetworkPolicyProtocol{UDP: &cnpv1.ClusterNetworkPolicyProtocolUDP{DestinationPort: port}}
	case SCTP:
		return cnpv1.ClusterNetworkPolicyProtocol{SCTP: &cnpv1.ClusterNetworkPolicyProtocolSCTP{DestinationPort: port}}
	}
	return cnpv1.ClusterNetworkPolicyProtocol{TCP: &cnpv1.ClusterNetworkPolicyProtocolTCP{DestinationPort: port}}
}

func namedPort(name string) cnpv1.ClusterNetworkPolicyProtocol {
	return cnpv1.ClusterNetworkPolicyProtocol{DestinationNamedPort: name}
}

// tconn is one connection decided by a TieredEngine and what is expected:
// the verdict, optionally each side's, substrings of the Reason (and ones it
// must not contain) and how it ends (the ingress side comes last).
type tconn struct {
	src, dst        Peer
	port            int32
	proto           corev1.Protocol
	want            Verdict
	egress, ingress Verdict // checked when set
	reasons         []string
	notReasons      []string
	reasonEnd       string
}

// tieredCase is a set of policies and connections decided under them.
type tieredCase struct {
	name     string
	pods     []Pod         // instead of the world's pods, when set
	ranges   ClusterRanges // the cluster's ranges the engine knows
	cnps     []cnpv1.ClusterNetworkPolicy
	policies []networkingv1.NetworkPolicy
	conns    []tconn
}

func runTieredCases(t *testing.T, cases []tieredCase) {
	t.Helper()
	w := newWorld()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pods := w.pods
			if tc.pods != nil {
				pods = tc.pods
			}
			np, err := NewEngine(w.namespaces, pods, tc.policies, WithClusterRanges(tc.ranges))
			if err != nil {
				t.Fatalf("NewEngine: %v", err)
			}
			e, err := NewTieredEngine(np, tc.cnps)
			if err != nil {
				t.Fatalf("NewTieredEngine: %v", err)
			}
			for _, c := range tc.conns {
				name := describe(conn{src: c.src, dst: c.dst, port: c.port, proto: c.proto})
				d, err := e.Decide(c.src, c.dst, c.port, c.proto)
				if err != nil {
					t.Errorf("%s: Decide: %v", name, err)
					continue
				}
				if d.Verdict != c.want {
					t.Errorf("%s: got %s, want %s\n  reason: %s", name, d.Verdict, c.want, d.Reason)
					continue
				}
				if c.egress != "" && d.Egress != c.egress {
					t.Errorf("%s: egress side %s, want %s\n  reason: %s", name, d.Egress, c.egress, d.Reason)
				}
				if c.ingress != "" && d.Ingress != c.ingress {
					t.Errorf("%s: ingress side %s, want %s\n  reason: %s", name, d.Ingress, c.ingress, d.Reason)
				}
				for _, r := range c.reasons {
					if !strings.Contains(d.Reason, r) {
						t.Errorf("%s: reason %q does not contain %q", name, d.Reason, r)
					}
				}
				if !strings.HasSuffix(d.Reason, c.reasonEnd) {
					t.Errorf("%s: reason %q does not end with %q", name, d.Reason, c.reasonEnd)
				}
				for _, r := range c.notReasons {
					if strings.Contains(d.Reason, r) {
						t.Errorf("%s: reason %q contains %q", name, d.Reason, r)
					}
				}
			}
		})
	}
}
