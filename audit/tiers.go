package audit

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/netverify/netverify/policy"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// model is one namespace's policies as the engine sees them: its
// NetworkPolicies alone, and inside the ClusterNetworkPolicy tiers. With no
// ClusterNetworkPolicies the tiers answer as the NetworkPolicies do.
type model struct {
	// np holds the namespace's NetworkPolicies.
	np *policy.Engine
	// full is the Admin tier, np, the Baseline tier and the default allow.
	full *policy.TieredEngine
	// closed is the Admin tier above NetworkPolicies that deny everything
	// in the namespace: a side it allows is allowed by an Admin Accept,
	// whatever the namespace's NetworkPolicies say. (policy exports no
	// per-tier answer; this asks the TieredEngine for it.)
	closed *policy.TieredEngine
	// cnps: the cluster has ClusterNetworkPolicies (messages then say
	// what they do not deny).
	cnps bool
}

// newModel builds the model of namespace ns. cnps must have passed
// policy.CheckClusterNetworkPolicy.
func newModel(ns string, w *world, pols []networkingv1.NetworkPolicy, cnps []cnpv1.ClusterNetworkPolicy) (*model, error) {
	np, err := policy.NewEngine(w.namespaces, nil, pols)
	if err != nil {
		return nil, err
	}
	full, err := policy.NewTieredEngine(np, cnps)
	if err != nil {
		return nil, err
	}
	denyAll := networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "(deny-all)"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{policy.Ingress, policy.Egress}},
	}
	npClosed, err := policy.NewEngine(w.namespaces, nil, []networkingv1.NetworkPolicy{denyAll})
	if err != nil {
		return nil, err
	}
	closed, err := policy.NewTieredEngine(npClosed, cnps)
	if err != nil {
		return nil, err
	}
	return &model{np: np, full: full, closed: closed, cnps: len(cnps) > 0}, nil
}

// adminAnswer is whether the Admin tier accepts a side outright.
type adminAnswer int

const (
	// notAccepted: no Admin Accept decides the side (a Deny, a Pass or no
	// match; the lower tiers may still allow it).
	notAccepted adminAnswer = iota
	// accepts: an Admin Accept decides the side (or every reading of the
	// API allows it, one of them through an Admin Accept).
	accepts
	// mayAccept: in some readings of the API an Admin Accept decides the
	// side, in others it is blocked.
	mayAccept
)

// sideAnswer is one side of a connection, the subject pod's egress or
// ingress, as the tiers decide it.
type sideAnswer struct {
	verdict policy.Verdict // all tiers together
	admin   adminAnswer
	reason  string // the engine's account of the side, for messages
}

// side decides subject's side dir of a connection with other on
// port/proto.
func (m *model) side(subject *policy.Pod, dir policy.Direction, other policy.Peer, port int32, proto corev1.Protocol) (sideAnswer, error) {
	src, dst := policy.Peer{Pod: subject}, other
	if dir == policy.Ingress {
		src, dst = other, policy.Peer{Pod: subject}
	}
	full, err := m.full.Decide(src, dst, port, proto)
	if err != nil {
		return sideAnswer{}, err
	}
	closed, err := m.closed.Decide(src, dst, port, proto)
	if err != nil {
		return sideAnswer{}, err
	}
	pick := func(d policy.Decision) policy.Verdict {
		if dir == policy.Ingress {
			return d.Ingress
		}
		return d.Egress
	}
	a := sideAnswer{verdict: pick(full), reason: sideReason(full, pick(full), dir, subject)}
	switch c := pick(closed); {
	case c == policy.Allowed, c == policy.ImplementationDefined && a.verdict == policy.Allowed:
		a.admin = accepts
	case c == policy.ImplementationDefined:
		a.admin = mayAccept
	}
	return a, nil
}

// sideReason is the part of d's Reason about subject's side dir: the
// Reason covers both sides ("egress from …: …; ingress to …: …"). It only
// shortens messages; when the side is ImplementationDefined (the why may
// come first) or the Reason is not of that form, it is returned whole.
func sideReason(d policy.Decision, v policy.Verdict, dir policy.Direction, subject *policy.Pod) string {
	r := d.Reason
	if v == policy.ImplementationDefined {
		return r
	}
	label := "ingress to " + subject.String() + ": "
	if dir == policy.Egress {
		label = "egress from " + subject.String() + ": "
	}
	i := strings.Index(r, label)
	if i < 0 {
		return r
	}
	r = r[i:]
	if dir == policy.Egress {
		if j := strings.Index(r, "; ingress to "); j >= 0 {
			r = r[:j]
		}
	}
	return r
}

// standInName names the pod without labels that stands for pods the
// namespace does not have yet.
const standInName = "(new pod)"

func standIn(ns string) policy.Pod { return policy.Pod{Namespace: ns, Name: standInName} }

// Traffic that no rule names, for the default-deny rules: from or to a pod
// of a namespace that does not exist and, for egress, an address outside
// the cluster, on TCP and UDP ports 1 and 65535.
const strangerNamespace = "(another namespace)"

var probePorts = []struct {
	port  int32
	proto corev1.Protocol
}{{1, corev1.ProtocolTCP}, {65535, corev1.ProtocolTCP}, {1, corev1.ProtocolUDP}, {65535, corev1.ProtocolUDP}}

// Outside addresses, from the documentation ranges (RFC 5737, RFC 3849).
const (
	outsideIPv4 = "192.0.2.1"
	outsideIPv6 = "2001:db8::1"
)

// farEnds are the other ends of traffic no rule names, for dir.
func (w *world) farEnds(dir policy.Direction) []policy.Peer {
	if dir == policy.Ingress {
		return w.strangers
	}
	return append(append([]policy.Peer(nil), w.strangers...), w.outside...)
}

// defaultState is how a pod's traffic in one direction that no rule names
// ends (what a default deny is about), worst last.
type defaultState int

const (
	denied   defaultState = iota // denied unless a rule allows it
	open                         // allowed: nothing denies it by default
	depends                      // the API leaves it to the implementation
	accepted                     // an Admin Accept allows it, whatever NetworkPolicies say
)

// podDefault is a pod's defaultState in one direction.
type podDefault struct {
	state defaultState
	// cnpDenies: an Admin or a Baseline Deny denies some of the pod's
	// traffic that no rule names, where NetworkPolicies would allow it.
	cnpDenies bool
	probe     string // the traffic that decided the state, e.g. "ingress from a pod of another namespace on TCP port 1"
	reason    string // the engine's account, for messages
}

// npDefault is what a namespace's NetworkPolicies say about default deny
// in one direction (see defaultDenyProblem).
type npDefault struct {
	deny   bool   // a podSelector {} policy isolates every pod and none voids it
	voided bool   // a podSelector {} policy allows everything
	msg    string // why there is no default deny; "" when deny
}

// defaultFor decides p's default in direction dir: an Admin Accept or an
// Admin tier the API leaves open decides; else a pod the NetworkPolicies
// isolate is denied by default (unless a namespace-wide policy allows
// everything, when only an Admin Deny denies); else the Baseline tier
// decides, then the default allow. isStandIn marks the stand-in for new
// pods, which only a namespace-wide default deny covers, as before
// ClusterNetworkPolicies were modelled. The worst probe wins.
func (m *model) defaultFor(p *policy.Pod, isStandIn bool, dir policy.Direction, nd npDefault, w *world) (podDefault, error) {
	worst := podDefault{state: denied}
	isolated := m.np.Isolated(p, dir)
	for _, other := range w.farEnds(dir) {
		for _, pp := range probePorts {
			s, err := m.side(p, dir, other, pp.port, pp.proto)
			if err != nil {
				return podDefault{}, err
			}
			state, reason := open, s.reason
			switch {
			case s.admin == accepts:
				state = accepted
			case s.admin == mayAccept:
				state = depends
			case isolated && !nd.voided && (nd.deny || !isStandIn):
				state, reason = denied, ""
			case isolated && !nd.voided:
				reason = "" // the NetworkPolicies' own finding says why
			case s.verdict == policy.Blocked:
				state = denied
				worst.cnpDenies = true
			case s.verdict == policy.ImplementationDefined:
				state = depends
			}
			if state > worst.state {
				worst.state, worst.reason = state, reason
				worst.probe = probeText(dir, other, pp.port, pp.proto)
			}
		}
	}
	return worst, nil
}

// probeText describes a probe of traffic no rule names.
func probeText(dir policy.Direction, other policy.Peer, port int32, proto corev1.Protocol) string {
	what := "a pod of another namespace"
	if other.Pod == nil {
		what = "an outside address (" + other.IP + ")"
	}
	if dir == policy.Ingress {
		return fmt.Sprintf("ingress from %s on %s port %d", what, proto, port)
	}
	return fmt.Sprintf("egress to %s on %s port %d", what, proto, port)
}

// labelsKey identifies a label set: pods with the same labels in a
// namespace are decided alike.
func labelsKey(l map[string]string) string { return labels.Set(l).String() }

// strangersAndOutside returns the far ends of traffic no rule names: a
// pod of a namespace that does not exist with the lowest pod IP of each
// family the cluster's pods use (without IP when none is known), and an
// outside address of each of those families (IPv4 when none is known).
func strangersAndOutside(pods []corev1.Pod) (strangers, outside []policy.Peer) {
	var v4, v6 netip.Addr
	lowest := func(cur *netip.Addr, a netip.Addr) {
		if !cur.IsValid() || a.Less(*cur) {
			*cur = a
		}
	}
	for _, p := range pods {
		ips := []string{p.Status.PodIP}
		for _, ip := range p.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		for _, ip := range ips {
			a, err := netip.ParseAddr(ip)
			switch {
			case err != nil:
			case a.Unmap().Is4():
				lowest(&v4, a.Unmap())
			default:
				lowest(&v6, a)
			}
		}
	}
	stranger := func(ip string) policy.Peer {
		return policy.Peer{Pod: &policy.Pod{Namespace: strangerNamespace, Name: "(any pod)", IP: ip}}
	}
	if v4.IsValid() || !v6.IsValid() {
		outside = append(outside, policy.Peer{IP: outsideIPv4})
	}
	for _, a := range []netip.Addr{v4, v6} {
		if a.IsValid() {
			strangers = append(strangers, stranger(a.String()))
		}
	}
	if v6.IsValid() {
		outside = append(outside, policy.Peer{IP: outsideIPv6})
	}
	if len(strangers) == 0 {
		strangers = []policy.Peer{stranger("")}
	}
	return strangers, outside
}
