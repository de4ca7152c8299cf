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
	ranges   ClusterRanges       // empty lists: unknown
	// Where unknown addresses lie: a pod's, a ClusterIP, a node's.
	podSpace, serviceSpace, nodeSpace addrSpace
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
// copied; later changes to them do not affect the engine. opts give what
// the engine knows of the cluster (WithClusterRanges).
func NewEngine(namespaces []Namespace, pods []Pod, policies []networkingv1.NetworkPolicy, opts ...Option) (*Engine, error) {
	e := &Engine{
		nsLabels: namespaceLabels(namespaces),
		podsByIP: map[netip.Addr]*Pod{},
		ranges:   buildOptions(opts).ranges,
	}
	e.podSpace = rangeSpace(e.ranges.Pods, "pod")
	e.serviceSpace = rangeSpace(e.ranges.Services, "Service")
	e.nodeSpace = rangeSpace(nil, "node")
	var errs []error
	for i := range policies {
		cp, err := compilePolicy(&policies[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rules := range [][]compiledRule{cp.ingressRules, cp.egressRules} {
			for _, r := range rules {
				for _, p := range r.peers {
					if p.block != nil {
						e.prepare(&p.block.addrBlock)
					}
				}
			}
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

// prepare computes how much of the engine's spaces for unknown addresses
// block covers.
func (e *Engine) prepare(block *addrBlock) {
	block.prepare([]addrSpace{e.podSpace, e.serviceSpace, e.nodeSpace})
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
// traffic of the node or of hostNetwork pods, an ipBlock that may cover a
// pod's IP, and an egress ipBlock that may cover the ClusterIP of the
// Service a connection is addressed to (Peer.Service) — each only when it
// changes the outcome.
//
// Whether an ipBlock (cidr minus its excepts) may cover an address: a
// known address (Pod.IP, Service.ClusterIP) is in it or not. An unknown
// one (as for a scenario's pods offline) lies in the cluster's pod or
// Service ranges when the engine has them (WithClusterRanges): a block
// that excludes the whole range does not match, one that overlaps it may —
// and whether ipBlocks apply to pod IPs is the CNI's choice, so even a
// block covering the whole range is ImplementationDefined. Without the
// ranges the address may be anything but loopback, link-local, multicast
// and the like, so nearly every block may cover it. The Reason names the
// block, its rule and the range.
//
// It fails only on invalid input: an empty or contradictory Peer, an
// unparsable IP, a Service that is not beside a destination Pod, a port
// outside 1-65535 or an unknown protocol.
func (e *Engine) Decide(src, dst Peer, port int32, protocol corev1.Protocol) (Decision, error) {
	c, err := e.connection(src, dst, port, protocol)
	if err != nil {
		return Decision{}, err
	}
	egress := e.side(Egress, c.src, c.dst, c)
	ingress := e.side(Ingress, c.dst, c.src, c)
	return decision(c, egress, ingress), nil
}

// decision combines the two sides of connection c into the Decision, then
// applies what the API leaves to the CNI whatever the policies say: self,
// node and hostNetwork traffic. Only a definite Allowed stands unchanged.
func decision(c connection, egress, ingress sideResult) Decision {
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
	if src.Service != nil {
		return connection{}, errors.New("source: a Service is only a destination")
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
	space    addrSpace  // where addr lies, as far as the engine knows
	node     bool
	service  *serviceEnd // a destination addressed through a Service's ClusterIP
	text     string      // for reasons
}

// serviceEnd is the Service a destination is addressed through.
type serviceEnd struct {
	text  string    // "svc:ns/name"
	space addrSpace // its ClusterIP, or the cluster's Service ranges
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
	switch {
	case ep.addr.IsValid():
		kind := ""
		if ep.pod != nil && !ep.pod.HostNetwork {
			kind = "pod"
		} else if ep.pod != nil || ep.node {
			kind = "node"
		}
		ep.space = exactSpace(ep.addr, kind)
	case ep.pod != nil && !ep.pod.HostNetwork:
		ep.space = e.podSpace
	default: // the node, or a hostNetwork pod: some node address
		ep.space = e.nodeSpace
	}
	if p.Service != nil {
		svc, err := e.resolveService(p.Service, ep.pod)
		if err != nil {
			return ep, err
		}
		ep.service = svc
	}
	return ep, nil
}

// resolveService resolves the Service a destination pod is reached
// through.
func (e *Engine) resolveService(s *Service, backend *Pod) (*serviceEnd, error) {
	if backend == nil {
		return nil, fmt.Errorf("service %s: a Service needs its backend as Pod", s)
	}
	if s.Namespace == "" || s.Name == "" {
		return nil, fmt.Errorf("service %q: namespace and name are required", s.String())
	}
	svc := &serviceEnd{text: s.String(), space: e.serviceSpace}
	if s.ClusterIP != "" {
		addr, err := netip.ParseAddr(s.ClusterIP)
		if err != nil {
			return nil, fmt.Errorf("service %s: ClusterIP %q: %w", s, s.ClusterIP, err)
		}
		svc.space = exactSpace(addr.Unmap(), "Service")
	}
	return svc, nil
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
		res = sideResult{ImplementationDefined, fmt.Sprintf("isolated by %s; depends on the CNI: %s", strings.Join(isolating, ", "), strings.Join(depends, "; "))}
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
		return p.block.match(other, where)
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

// match says whether ipBlock b of a rule (where) matches the far end other.
// An outside address matches when it is in the block. A pod's IP, known or
// only known to lie in the pod ranges, makes the match CNI-dependent when
// the block may cover it, since CNIs differ on whether ipBlocks apply to
// pod IPs; so does, for a destination addressed through a Service, a
// ClusterIP the block may cover (see Service). The node's address is
// matched only when known.
func (b *ipBlock) match(other endpoint, where string) (match, string) {
	named := fmt.Sprintf("ipBlock %s (%s)", b.text, where)
	switch {
	case other.node || other.pod != nil && other.pod.HostNetwork:
		if b.contains(other.addr) {
			return matchDepends, fmt.Sprintf("%s matches the node address of %s, which CNIs may classify as the host rather than by CIDR (Cilium does)",
				named, other.text)
		}
		return matchNo, ""
	case other.pod == nil:
		if b.contains(other.addr) {
			return matchYes, ""
		}
		return matchNo, ""
	}
	pod := matchNo // a pod's IP in an ipBlock is never a definite match
	var why string
	if c := b.cover(other.space); c != coversNone {
		pod = matchDepends
		why = other.space.describe(named, b.addrs, c, "the pod IP of "+other.text) +
			", and CNIs differ on whether ipBlocks apply to pod IPs (Cilium by default: no)"
	}
	return viaService(pod, why, named, &b.addrBlock, other)
}

// viaService refines how a block (named as in reasons) matches a
// destination pod, m and why, when the connection is addressed to a
// Service's ClusterIP: implementations that apply egress policy before
// load balancing match the ClusterIP instead, so unless both readings agree
// on a definite answer the match depends on the implementation.
func viaService(m match, why, named string, block *addrBlock, other endpoint) (match, string) {
	svc := other.service
	if svc == nil {
		return m, why
	}
	var pre match
	c := block.cover(svc.space)
	switch c {
	case coversAll:
		pre = matchYes
	case coversPart:
		pre = matchDepends
	}
	if pre == m && m != matchDepends {
		return m, ""
	}
	whys := []string{}
	if m == matchDepends {
		whys = append(whys, why)
	}
	if pre != matchNo || m == matchYes { // the ClusterIP reading matters
		whys = append(whys, svc.space.describe(named, block.addrs, c, "the ClusterIP of "+svc.text)+
			", and implementations differ on whether egress policies see a Service's ClusterIP or, after load balancing, the backend's IP (most, Cilium included: the backend's)")
	}
	return matchDepends, strings.Join(whys, "; ")
}
