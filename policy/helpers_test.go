package policy

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// This file holds small builders for tests: pods and policies are made with
// makeX(name, ns, tweaks...), as in kube-network-policies.

// makePod returns a pod; tweaks adjust it.
func makePod(name, ns string, labels map[string]string, tweaks ...func(*Pod)) Pod {
	p := Pod{Namespace: ns, Name: name, Labels: labels}
	for _, tweak := range tweaks {
		tweak(&p)
	}
	return p
}

func withIP(ip string) func(*Pod) { return func(p *Pod) { p.IP = ip } }

func withPort(name string, port int32, proto corev1.Protocol) func(*Pod) {
	return func(p *Pod) {
		p.Ports = append(p.Ports, corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: proto})
	}
}

func withHostNetwork(p *Pod) { p.HostNetwork = true }

// makePolicy returns a policy selecting every pod of ns (podSelector {}),
// with no policyTypes and no rules; tweaks adjust it.
func makePolicy(name, ns string, tweaks ...func(*networkingv1.NetworkPolicy)) networkingv1.NetworkPolicy {
	p := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for _, tweak := range tweaks {
		tweak(&p)
	}
	return p
}

func selecting(l map[string]string) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.PodSelector = metav1.LabelSelector{MatchLabels: l} }
}

func types(ts ...Direction) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.PolicyTypes = ts }
}

// ingressRules sets spec.ingress; with no rules it sets `ingress: []`
// (present but empty), unlike leaving the field absent.
func ingressRules(rules ...networkingv1.NetworkPolicyIngressRule) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) {
		p.Spec.Ingress = append([]networkingv1.NetworkPolicyIngressRule{}, rules...)
	}
}

// egressRules sets spec.egress, like ingressRules.
func egressRules(rules ...networkingv1.NetworkPolicyEgressRule) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) {
		p.Spec.Egress = append([]networkingv1.NetworkPolicyEgressRule{}, rules...)
	}
}

// from returns an ingress rule; no peers leaves `from` absent.
func from(ports []networkingv1.NetworkPolicyPort, peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicyIngressRule {
	return networkingv1.NetworkPolicyIngressRule{Ports: ports, From: peers}
}

// to returns an egress rule; no peers leaves `to` absent.
func to(ports []networkingv1.NetworkPolicyPort, peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicyEgressRule {
	return networkingv1.NetworkPolicyEgressRule{Ports: ports, To: peers}
}

func ports(ps ...networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyPort { return ps }

func port(n int32, proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &p, Protocol: &proto}
}

func tcp(n int32) networkingv1.NetworkPolicyPort  { return port(n, corev1.ProtocolTCP) }
func udp(n int32) networkingv1.NetworkPolicyPort  { return port(n, corev1.ProtocolUDP) }
func sctp(n int32) networkingv1.NetworkPolicyPort { return port(n, corev1.ProtocolSCTP) }

// noProto is a numeric port with the protocol left to its TCP default.
func noProto(n int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &p}
}

// named is a named port; proto "" leaves the protocol absent.
func named(name string, proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	p := intstr.FromString(name)
	np := networkingv1.NetworkPolicyPort{Port: &p}
	if proto != "" {
		np.Protocol = &proto
	}
	return np
}

func portRange(first, last int32, proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	np := port(first, proto)
	np.EndPort = &last
	return np
}

// allOf is a port entry with a protocol and no number.
func allOf(proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: &proto}
}

func podsPeer(l map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: l}}
}

func nsPeer(l map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: l}}
}

// nsAndPodsPeer is ONE peer with both selectors (AND).
func nsAndPodsPeer(ns, pods map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: ns},
		PodSelector:       &metav1.LabelSelector{MatchLabels: pods},
	}
}

func cidrPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

// world is the e2e netpol topology: namespaces x, y, z with pods a, b, c,
// each serving TCP 80/81, UDP 80 and SCTP 80 under e2e-style names, plus:
// x/a serves "http" on 8080 and x/b "http" on 9090 (same name, different
// numbers), y/c serves "dns" on UDP 53, and x/h is a hostNetwork pod on the
// node address 10.1.0.1. Pod IPs are 10.0.<ns>.<pod>. Namespaces x and y/z
// carry team labels alpha and beta; none spells kubernetes.io/metadata.name.
type world struct {
	namespaces []Namespace
	pods       []Pod
}

const nodeIP = "10.1.0.1"

func newWorld() world {
	w := world{namespaces: []Namespace{
		{Name: "x", Labels: map[string]string{"team": "alpha"}},
		{Name: "y", Labels: map[string]string{"team": "beta"}},
		{Name: "z", Labels: map[string]string{"team": "beta"}},
	}}
	extra := map[string][]func(*Pod){
		"x/a": {withPort("http", 8080, corev1.ProtocolTCP)},
		"x/b": {withPort("http", 9090, corev1.ProtocolTCP)},
		"y/c": {withPort("dns", 53, corev1.ProtocolUDP)},
	}
	for i, ns := range []string{"x", "y", "z"} {
		for j, name := range []string{"a", "b", "c"} {
			tweaks := []func(*Pod){
				withIP(fmt.Sprintf("10.0.%d.%d", i+1, j+1)),
				withPort("serve-80-tcp", 80, ""), // empty protocol: TCP
				withPort("serve-81-tcp", 81, corev1.ProtocolTCP),
				withPort("serve-80-udp", 80, corev1.ProtocolUDP),
				withPort("serve-80-sctp", 80, corev1.ProtocolSCTP),
			}
			tweaks = append(tweaks, extra[ns+"/"+name]...)
			w.pods = append(w.pods, makePod(name, ns, map[string]string{"pod": name}, tweaks...))
		}
	}
	w.pods = append(w.pods, makePod("h", "x", map[string]string{"pod": "h"}, withIP(nodeIP), withHostNetwork))
	return w
}

// pod returns the peer for "ns/name"; it panics on a typo in a test table.
func (w world) pod(ref string) Peer {
	for i := range w.pods {
		if w.pods[i].String() == ref {
			return Peer{Pod: &w.pods[i]}
		}
	}
	panic("no pod " + ref)
}

func ipPeer(ip string) Peer { return Peer{IP: ip} }

func nodePeer(ip string) Peer { return Peer{Node: true, IP: ip} }
