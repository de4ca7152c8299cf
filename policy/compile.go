package policy

import (
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// namespaceNameLabel is the label the API server puts on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// compiledPolicy is a NetworkPolicy with its defaults applied and its
// selectors, CIDRs and ports parsed.
type compiledPolicy struct {
	namespace, name string
	selector        labels.Selector // spec.podSelector; empty selects every pod of the namespace
	ingress, egress bool            // effective policyTypes
	ingressRules    []compiledRule
	egressRules     []compiledRule
}

func (p *compiledPolicy) String() string { return p.namespace + "/" + p.name }

// appliesTo reports whether the policy selects pod for direction dir.
func (p *compiledPolicy) appliesTo(pod *Pod, dir Direction) bool {
	if dir == Ingress && !p.ingress || dir == Egress && !p.egress {
		return false
	}
	return pod.Namespace == p.namespace && p.selector.Matches(labels.Set(pod.Labels))
}

func (p *compiledPolicy) rules(dir Direction) []compiledRule {
	if dir == Ingress {
		return p.ingressRules
	}
	return p.egressRules
}

// compiledRule is one ingress or egress rule.
type compiledRule struct {
	where    string // e.g. "x/allow-web ingress[0]"
	allPeers bool   // from/to empty or absent: every source/destination
	peers    []compiledPeer
	ports    []compiledPort // empty: every port and protocol
}

// portsMatch reports whether the connection matches the rule's ports.
func (r compiledRule) portsMatch(c connection) bool {
	if len(r.ports) == 0 {
		return true
	}
	for _, p := range r.ports {
		if p.matches(c.port, c.protocol, c.dst.pod) {
			return true
		}
	}
	return false
}

// compiledPeer is one entry of from/to: either an ipBlock or selectors.
type compiledPeer struct {
	block      *ipBlock
	pods       labels.Selector // nil: not given (every pod of the selected namespaces)
	namespaces labels.Selector // nil: not given (the policy's own namespace)
}

type ipBlock struct {
	text   string // as written, for reasons
	cidr   netip.Prefix
	except []netip.Prefix
	addrBlock
}

// contains reports whether addr is in the block and in none of its excepts.
func (b *ipBlock) contains(addr netip.Addr) bool {
	if !addr.IsValid() || !b.cidr.Contains(addr) {
		return false
	}
	for _, ex := range b.except {
		if ex.Contains(addr) {
			return false
		}
	}
	return true
}

// compiledPort is one entry of ports.
type compiledPort struct {
	protocol corev1.Protocol
	any      bool   // port absent: every port of protocol
	name     string // a named port, resolved against the destination pod
	first    int32  // numeric port
	last     int32  // endPort, or first when there is none
}

// compilePolicy applies defaults and parses p. Every problem found is
// returned, joined.
func compilePolicy(p *networkingv1.NetworkPolicy) (*compiledPolicy, error) {
	cp := &compiledPolicy{namespace: p.Namespace, name: p.Name}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("policy %s/%s: "+format, append([]any{p.Namespace, p.Name}, args...)...))
	}
	if p.Namespace == "" {
		fail("metadata.namespace is empty")
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		fail("spec.podSelector: %v", err)
		sel = labels.Nothing()
	}
	cp.selector = sel

	if len(p.Spec.PolicyTypes) == 0 {
		// Defaulting: Ingress always, Egress only when there are egress rules.
		cp.ingress = true
		cp.egress = len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			cp.ingress = true
		case networkingv1.PolicyTypeEgress:
			cp.egress = true
		default:
			fail("spec.policyTypes: unknown type %q", t)
		}
	}

	for i, r := range p.Spec.Ingress {
		where := fmt.Sprintf("%s/%s ingress[%d]", p.Namespace, p.Name, i)
		rule, rerrs := compileRule(where, r.From, r.Ports)
		cp.ingressRules = append(cp.ingressRules, rule)
		errs = append(errs, rerrs...)
	}
	for i, r := range p.Spec.Egress {
		where := fmt.Sprintf("%s/%s egress[%d]", p.Namespace, p.Name, i)
		rule, rerrs := compileRule(where, r.To, r.Ports)
		cp.egressRules = append(cp.egressRules, rule)
		errs = append(errs, rerrs...)
	}
	return cp, errors.Join(errs...)
}

func compileRule(where string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (compiledRule, []error) {
	rule := compiledRule{where: where, allPeers: len(peers) == 0}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("policy "+where+": "+format, args...))
	}
	for i, peer := range peers {
		cpeer, err := compilePeer(peer)
		if err != nil {
			fail("peer %d: %v", i, err)
			continue
		}
		rule.peers = append(rule.peers, cpeer)
	}
	for i, port := range ports {
		cport, err := compilePort(port)
		if err != nil {
			fail("ports[%d]: %v", i, err)
			continue
		}
		rule.ports = append(rule.ports, cport)
	}
	return rule, errs
}

func compilePeer(peer networkingv1.NetworkPolicyPeer) (compiledPeer, error) {
	if peer.IPBlock != nil {
		if peer.PodSelector != nil || peer.NamespaceSelector != nil {
			return compiledPeer{}, errors.New("ipBlock cannot be combined with podSelector or namespaceSelector")
		}
		block, err := compileIPBlock(peer.IPBlock)
		return compiledPeer{block: block}, err
	}
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return compiledPeer{}, errors.New("one of podSelector, namespaceSelector or ipBlock is required")
	}
	var cp compiledPeer
	if peer.PodSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
		if err != nil {
			return cp, fmt.Errorf("podSelector: %w", err)
		}
		cp.pods = sel
	}
	if peer.NamespaceSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
		if err != nil {
			return cp, fmt.Errorf("namespaceSelector: %w", err)
		}
		cp.namespaces = sel
	}
	return cp, nil
}

func compileIPBlock(b *networkingv1.IPBlock) (*ipBlock, error) {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock.cidr: %w", err)
	}
	cidr = cidr.Masked()
	block := &ipBlock{text: b.CIDR, cidr: cidr}
	for _, e := range b.Except {
		ex, err := netip.ParsePrefix(e)
		if err != nil {
			return nil, fmt.Errorf("ipBlock.except: %w", err)
		}
		ex = ex.Masked()
		if ex.Addr().Is4() != cidr.Addr().Is4() || ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr()) {
			return nil, fmt.Errorf("ipBlock.except: %s is not a strict subset of %s", e, b.CIDR)
		}
		block.except = append(block.except, ex)
		block.text += " except " + e
	}
	block.addrs = subtract([]netip.Prefix{cidr}, block.except) // cidr minus except
	return block, nil
}

func compilePort(p networkingv1.NetworkPolicyPort) (compiledPort, error) {
	cp := compiledPort{protocol: corev1.ProtocolTCP}
	if p.Protocol != nil {
		cp.protocol = *p.Protocol
	}
	if !validProtocol(cp.protocol) {
		return cp, fmt.Errorf("unknown protocol %q", cp.protocol)
	}
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			return cp, errors.New("endPort requires port")
		}
		cp.any = true
	case p.Port.Type == intstr.String:
		if p.EndPort != nil {
			return cp, errors.New("endPort cannot be used with a named port")
		}
		if p.Port.StrVal == "" {
			return cp, errors.New("empty port name")
		}
		cp.name = p.Port.StrVal
	default:
		cp.first, cp.last = p.Port.IntVal, p.Port.IntVal
		if cp.first < 1 || cp.first > 65535 {
			return cp, fmt.Errorf("port %d out of range 1-65535", cp.first)
		}
		if p.EndPort != nil {
			cp.last = *p.EndPort
			if cp.last < cp.first || cp.last > 65535 {
				return cp, fmt.Errorf("endPort %d must be between port %d and 65535", cp.last, cp.first)
			}
		}
	}
	return cp, nil
}

func validProtocol(p corev1.Protocol) bool {
	return p == corev1.ProtocolTCP || p == corev1.ProtocolUDP || p == corev1.ProtocolSCTP
}

// matches reports whether a connection to port/protocol on dst (nil when the
// destination is not a pod) matches this policy port. A named port matches
// when dst has a container port of that name and protocol whose number is
// port; it never matches a destination that is not a pod.
func (p compiledPort) matches(port int32, protocol corev1.Protocol, dst *Pod) bool {
	if p.protocol != protocol {
		return false
	}
	switch {
	case p.any:
		return true
	case p.name != "":
		return namedPortIs(dst, p.name, protocol, port)
	default:
		return p.first <= port && port <= p.last
	}
}

func containerProtocol(p corev1.ContainerPort) corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}

// namespaceLabels returns each namespace's labels, with the
// kubernetes.io/metadata.name label added.
func namespaceLabels(namespaces []Namespace) map[string]labels.Set {
	out := make(map[string]labels.Set, len(namespaces))
	for _, ns := range namespaces {
		out[ns.Name] = withNameLabel(ns.Name, ns.Labels)
	}
	return out
}

func withNameLabel(name string, l map[string]string) labels.Set {
	set := make(labels.Set, len(l)+1)
	for k, v := range l {
		set[k] = v
	}
	if _, ok := set[namespaceNameLabel]; !ok {
		set[namespaceNameLabel] = name
	}
	return set
}

// namedPortIs reports whether dst has a container port called name with the
// given protocol and number (a named port resolves on the destination pod;
// without one it matches nothing).
func namedPortIs(dst *Pod, name string, protocol corev1.Protocol, port int32) bool {
	if dst == nil {
		return false
	}
	for _, cport := range dst.Ports {
		if cport.Name == name && containerProtocol(cport) == protocol && cport.ContainerPort == port {
			return true
		}
	}
	return false
}
