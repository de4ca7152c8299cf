package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Engine decides connections from a fixed set of namespaces, pods and
// policies. It is immutable after NewEngine and safe for concurrent use.
type Engine struct {
	policies []*compiledPolicy
	nsLabels map[string]labels.Set
	podsByIP map[netip.Addr]*Pod // nil value: several pods share the IP
}

// NewEngine compiles policies (applying the API defaults) for deciding
// connections between pods, namespaces and outside addresses.
//
// It fails, listing every problem at once, when a policy is invalid in a
// way the API server would reject: no namespace, an unparsable selector,
// CIDR or except, an except outside its CIDR, a peer with none (or an
// ipBlock plus selectors) set, an unknown protocol or policy type, a port
// out of range, or endPort with a named or missing port.
//
// namespaces supplies the labels that namespaceSelectors match; a namespace
// not listed has only the kubernetes.io/metadata.name label. pods is used to
// recognise a Peer given only by IP as the pod with that IP. The slices are
// copied; later changes to them do not affect the engine.
func NewEngine(namespaces []Namespace, pods []Pod, policies []networkingv1.NetworkPolicy) (*Engine, error) {
	e := &Engine{
		nsLabels: namespaceLabels(namespaces),
		podsByIP: map[netip.Addr]*Pod{},
	}
	var errs []error
	for i := range policies {
		cp, err := compilePolicy(&policies[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.policies = append(e.policies, cp)
	}
	for i := range pods {
		pod := pods[i] // copy
		if pod.HostNetwork || pod.IP == "" {
			continue
		}
		addr, err := netip.ParseAddr(pod.IP)
		if err != nil {
			errs = append(errs, fmt.Errorf("pod %s: IP %q: %w", pod.String(), pod.IP, err))
			continue
		}
		addr = addr.Unmap()
		if _, seen := e.podsByIP[addr]; seen {
			e.podsByIP[addr] = nil
			continue
		}
		e.podsByIP[addr] = &pod
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

// Isolated reports whether at least one policy selects pod for dir. A pod
// that is not isolated in a direction accepts (Ingress) or sends (Egress)
// any traffic as far as policies go.
func (e *Engine) Isolated(pod *Pod, dir Direction) bool {
	for _, p := range e.policies {
		if p.appliesTo(pod, dir) {
			return true
		}
	}
	return false
}

// Decide says whether a connection from src to dst on port/protocol is
// allowed by the policies. protocol "" means TCP. port is the destination
// port number; a named port in a policy matches when the destination pod
// has a container port of that name and protocol with this number (resolve
// a named target port with (*Pod).NamedPort first).
//
// Both the source's egress and the destination's ingress must allow the
// connection; a side that is not a pod (an outside address, the node) is not
// governed by NetworkPolicy. The verdict is ImplementationDefined, never a
// guess, when the answer depends on the CNI: a pod connecting to itself,
// traffic of the node or of hostNetwork pods, and an ipBlock matching a pod's
// IP — each only when it changes the outcome.
//
// A pod whose IP is unknown (Pod.IP "", as for a scenario's pods offline)
// is matched by no ipBlock but one over every address (0.0.0.0/0 or ::/0,
// whatever its excepts), which covers its IP on a real cluster unless an
// except does; narrower blocks are taken to address the world outside the
// cluster. So when the connection would otherwise be Blocked, each Blocked
// side that such a block would allow (in a rule whose ports match) is
// ImplementationDefined instead, and so is the verdict when neither side is
// Blocked any more; the Reason then says why, then "the policies alone say
// blocked: …". A connection that self, node or hostNetwork traffic already
// made ImplementationDefined is left as it is.
//
// It fails only on invalid input: an empty or contradictory Peer, an
// unparsable IP, a port outside 1-65535 or an unknown protocol.
func (e *Engine) Decide(src, dst Peer, port int32, protocol corev1.Protocol) (Decision, error) {
	c, err := e.connection(src, dst, port, protocol)
	if err != nil {
		return Decision{}, err
	}
	egress := e.side(Egress, c.src, c.dst, c)
	ingress := e.side(Ingress, c.dst, c.src, c)
	return e.decision(c, egress, ingress, true, true), nil
}

// decision combines the two sides of connection c into the Decision, then
// applies what the API leaves to the CNI: self, node and hostNetwork
// traffic, and — on the sides NetworkPolicies decided (egressNP, ingressNP)
// — pods of unknown IP. Only a definite Allowed stands unchanged.
func (e *Engine) decision(c connection, egress, ingress sideResult, egressNP, ingressNP bool) Decision {
	s, d := c.src, c.dst
	dec := Decision{
		Verdict: combine(egress.verdict, ingress.verdict),
		Reason:  sideLabel(Egress, s) + ": " + egress.text + "; " + sideLabel(Ingress, d) + ": " + ingress.text,
		Egress:  egress.verdict,
		Ingress: ingress.verdict,
	}
	if dec.Verdict == Allowed {
		return dec
	}
	if why := cniDependent(s, d); why != "" {
		dec.Reason = fmt.Sprintf("%s; the policies alone say %s: %s", why, dec.Verdict, dec.Reason)
		dec.Verdict = ImplementationDefined
		return dec
	}
	if dec.Verdict == Blocked {
		e.unknownIPs(&dec, s, d, c, egressNP, ingressNP)
	}
	return dec
}

// connection validates and resolves the arguments of Decide.
func (e *Engine) connection(src, dst Peer, port int32, protocol corev1.Protocol) (connection, error) {
	if protocol == "" {
		protocol = corev1.ProtocolTCP
	}
	if !validProtocol(protocol) {
		return connection{}, fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", protocol)
	}
	if port < 1 || port > 65535 {
		return connection{}, fmt.Errorf("port %d out of range 1-65535", port)
	}
	s, err := e.resolve(src)
	if err != nil {
		return connection{}, fmt.Errorf("source: %w", err)
	}
	d, err := e.resolve(dst)
	if err != nil {
		return connection{}, fmt.Errorf("destination: %w", err)
	}
	return connection{src: s, dst: d, port: port, protocol: protocol}, nil
}

// cniDependent returns why traffic from s to d is left to the CNI whatever
// the policies say (a pod connecting to itself, the node, a hostNetwork
// pod), or "".
func cniDependent(s, d endpoint) string {
	switch {
	case s.pod != nil && d.pod != nil && s.pod.Namespace == d.pod.Namespace && s.pod.Name == d.pod.Name:
		return fmt.Sprintf("%s connecting to itself: CNIs differ (Cilium always allows a pod to reach itself)", s.text)
	case s.node || d.node:
		return "traffic between a pod and the node: CNIs differ (many always let a node reach its own pods; Cilium classifies the node as the host entity, not by its IP)"
	case s.pod != nil && s.pod.HostNetwork || d.pod != nil && d.pod.HostNetwork:
		return "traffic of a hostNetwork pod: CNIs differ (most treat it as the node's traffic, to which pod selectors and the pod's own policies do not apply)"
	}
	return ""
}

// unknownIPs applies the rule for pods of unknown IP to dec, a Blocked
// decision of connection c from s to d: each Blocked side that a rule with
// an ipBlock over every address would allow becomes ImplementationDefined,
// and so does the verdict when neither side is Blocked any more. Only the
// sides whose verdict NetworkPolicies decided (egressNP, ingressNP) are
// refined.
func (e *Engine) unknownIPs(dec *Decision, s, d endpoint, c connection, egressNP, ingressNP bool) {
	var whys []string
	refine := func(v *Verdict, dir Direction, subject, other endpoint) {
		if *v != Blocked || dir == Egress && !egressNP || dir == Ingress && !ingressNP {
			return
		}
		if why := e.unknownIPMatch(dir, subject, other, c); why != "" {
			*v = ImplementationDefined
			whys = append(whys, why)
		}
	}
	refine(&dec.Egress, Egress, s, d)
	refine(&dec.Ingress, Ingress, d, s)
	if combine(dec.Egress, dec.Ingress) != Blocked {
		dec.Verdict = ImplementationDefined
		dec.Reason = strings.Join(whys, "; ") + "; the policies alone say blocked: " + dec.Reason
	}
}

// unknownIPMatch returns why a rule of a policy isolating subject for dir
// may match other, a pod of unknown IP, through an ipBlock over every
// address; or "".
func (e *Engine) unknownIPMatch(dir Direction, subject, other endpoint, c connection) string {
	if subject.pod == nil || other.pod == nil || other.addr.IsValid() {
		return ""
	}
	for _, p := range e.policies {
		if !p.appliesTo(subject.pod, dir) {
			continue
		}
		for _, r := range p.rules(dir) {
			if b := r.everyAddressBlock(); b != nil && r.portsMatch(c) {
				return unknownIPText(b, r.where, other.text)
			}
		}
	}
	return ""
}

// unknownIPText explains why an ipBlock over every address makes traffic
// with pod, whose IP is unknown, CNI-dependent.
func unknownIPText(b *ipBlock, where, pod string) string {
	covers := "covers the pod IP of " + pod
	if len(b.except) > 0 {
		covers += " unless an except does"
	}
	return fmt.Sprintf("ipBlock %s (%s) %s (pod IPs are not known offline), and CNIs differ on whether ipBlocks apply to pod IPs (Cilium by default: no)",
		b.text, where, covers)
}

// combine ANDs the two sides: a definite Blocked wins over a CNI-dependent
// side, which wins over Allowed.
func combine(a, b Verdict) Verdict {
	switch {
	case a == Blocked || b == Blocked:
		return Blocked
	case a == ImplementationDefined || b == ImplementationDefined:
		return ImplementationDefined
	default:
		return Allowed
	}
}

// endpoint is a resolved Peer.
type endpoint struct {
	pod      *Pod       // nil for an outside address or the node
	nsLabels labels.Set // labels of the pod's namespace
	addr     netip.Addr // invalid when unknown
	node     bool
	text     string // for reasons
}

type connection struct {
	src, dst endpoint
	port     int32
	protocol corev1.Protocol
}

func (c connection) portText() string { return fmt.Sprintf("%s/%d", c.protocol, c.port) }

func (e *Engine) resolve(p Peer) (endpoint, error) {
	var ep endpoint
	if p.IP != "" {
		addr, err := netip.ParseAddr(p.IP)
		if err != nil {
			return ep, fmt.Errorf("IP %q: %w", p.IP, err)
		}
		ep.addr = addr.Unmap()
	}
	switch {
	case p.Pod != nil && p.Node:
		return ep, errors.New("peer sets both Pod and Node")
	case p.Pod != nil:
		if p.Pod.Namespace == "" || p.Pod.Name == "" {
			return ep, fmt.Errorf("pod %q: namespace and name are required", p.Pod.String())
		}
		if p.Pod.IP != "" {
			addr, err := netip.ParseAddr(p.Pod.IP)
			if err != nil {
				return ep, fmt.Errorf("pod %s: IP %q: %w", p.Pod.String(), p.Pod.IP, err)
			}
			if ep.addr.IsValid() && ep.addr != addr.Unmap() {
				return ep, fmt.Errorf("pod %s: peer IP %s differs from the pod's IP %s", p.Pod.String(), p.IP, p.Pod.IP)
			}
			ep.addr = addr.Unmap()
		}
		ep.pod = p.Pod
	case p.Node:
		ep.node = true
	case ep.addr.IsValid():
		ep.pod = e.podsByIP[ep.addr] // nil when no single pod has the IP
	default:
		return ep, errors.New("empty peer: set Pod, Node or IP")
	}
	switch {
	case ep.pod != nil:
		ep.text = ep.pod.String()
		ep.nsLabels = e.nsLabels[ep.pod.Namespace]
		if ep.nsLabels == nil {
			ep.nsLabels = withNameLabel(ep.pod.Namespace, nil)
		}
	case ep.node && ep.addr.IsValid():
		ep.text = "the node (" + ep.addr.String() + ")"
	case ep.node:
		ep.text = "the node"
	default:
		ep.text = ep.addr.String()
	}
	return ep, nil
}

// sideResult is what one direction's policies say.
type sideResult struct {
	verdict Verdict
	text    string
}

// sideLabel names direction dir of subject in reasons, e.g. "egress from x/a".
func sideLabel(dir Direction, subject endpoint) string {
	if dir == Ingress {
		return "ingress to " + subject.text
	}
	return "egress from " + subject.text
}

// side evaluates direction dir for subject (the source for Egress, the
// destination for Ingress) against other, the far end of the connection.
// The result's text follows the side's label (sideLabel).
func (e *Engine) side(dir Direction, subject, other endpoint, c connection) sideResult {
	if subject.pod == nil {
		return sideResult{Allowed, "not governed by NetworkPolicy (not a pod)"}
	}
	var isolating, allowedBy, depends []string
	for _, p := range e.policies {
		if !p.appliesTo(subject.pod, dir) {
			continue
		}
		isolating = append(isolating, p.String())
		for _, r := range p.rules(dir) {
			switch m, why := r.match(p.namespace, other, c); m {
			case matchYes:
				allowedBy = append(allowedBy, r.where)
			case matchDepends:
				depends = append(depends, why)
			}
		}
	}
	var res sideResult
	switch {
	case len(isolating) == 0:
		return sideResult{Allowed, fmt.Sprintf("not isolated (no policy selects it for %s)", dir)}
	case len(allowedBy) > 0:
		return sideResult{Allowed, "allowed by " + strings.Join(allowedBy, ", ")}
	case len(depends) > 0:
		res = sideResult{ImplementationDefined, "depends on the CNI: " + strings.Join(depends, "; ")}
	default:
		res = sideResult{Blocked, fmt.Sprintf("isolated by %s and no %s rule allows %s on %s",
			strings.Join(isolating, ", "), strings.ToLower(string(dir)), other.text, c.portText())}
	}
	if subject.pod.HostNetwork {
		res.verdict = ImplementationDefined
		res.text += " (but " + subject.text + " is a hostNetwork pod: CNIs that treat its traffic as the node's do not apply its policies)"
	}
	return res
}

// match is a three-valued match result: a rule matches, does not, or
// matches only on CNIs that read the API one way.
type match int8

const (
	matchNo match = iota
	matchDepends
	matchYes
)

// match says whether rule r of a policy in namespace policyNS matches
// traffic with the far end other; why explains a matchDepends.
func (r compiledRule) match(policyNS string, other endpoint, c connection) (m match, why string) {
	if !r.portsMatch(c) {
		return matchNo, ""
	}
	if r.allPeers {
		return matchYes, ""
	}
	for _, peer := range r.peers {
		switch pm, pwhy := peer.match(policyNS, other, r.where); pm {
		case matchYes:
			return matchYes, ""
		case matchDepends:
			if m == matchNo {
				m, why = matchDepends, pwhy
			}
		}
	}
	return m, why
}

func (p compiledPeer) match(policyNS string, other endpoint, where string) (match, string) {
	if p.block != nil {
		if !p.block.contains(other.addr) {
			return matchNo, ""
		}
		switch {
		case other.node || other.pod != nil && other.pod.HostNetwork:
			return matchDepends, fmt.Sprintf("ipBlock %s (%s) matches the node address of %s, which CNIs may classify as the host rather than by CIDR (Cilium does)",
				p.block.text, where, other.text)
		case other.pod != nil:
			return matchDepends, fmt.Sprintf("ipBlock %s (%s) matches the pod IP of %s, and CNIs differ on whether ipBlocks apply to pod IPs (Cilium by default: no)",
				p.block.text, where, other.text)
		}
		return matchYes, ""
	}
	if other.pod == nil {
		return matchNo, ""
	}
	if p.namespaces == nil {
		if other.pod.Namespace != policyNS {
			return matchNo, ""
		}
	} else if !p.namespaces.Matches(other.nsLabels) {
		return matchNo, ""
	}
	if p.pods != nil && !p.pods.Matches(labels.Set(other.pod.Labels)) {
		return matchNo, ""
	}
	if other.pod.HostNetwork {
		return matchDepends, fmt.Sprintf("%s selects hostNetwork pod %s, which CNIs that treat its traffic as the node's do not match", where, other.text)
	}
	return matchYes, ""
}
