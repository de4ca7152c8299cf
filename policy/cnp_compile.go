package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// Limits of the v1alpha2 API, as its CRD validation enforces them.
const (
	cnpMinPriority = 0
	cnpMaxPriority = 1000
	cnpMaxItems    = 25 // rules per direction, peers, protocols, networks, domain names
	cnpMaxRuleName = 100
)

// domainNamePattern is the CRD's pattern for a DomainName.
var domainNamePattern = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$`)

// clusterDomain is the default cluster DNS domain: a domain name under it
// may name cluster pods (through headless services or pod DNS records).
const clusterDomain = "cluster.local"

// compiledCNP is a ClusterNetworkPolicy with its selectors, CIDRs and ports
// parsed.
type compiledCNP struct {
	name     string
	tier     cnpv1.Tier
	priority int32
	// Subject: pods in namespaces matching namespaces and, when pods is not
	// nil, matching pods. hostNetwork pods are never subjects.
	namespaces labels.Selector
	pods       labels.Selector
	ingress    []cnpRule
	egress     []cnpRule
}

// selects reports whether pod is a subject of the policy for direction dir:
// selected, and the policy has rules for dir (a policy without rules in a
// direction does not affect it).
func (p *compiledCNP) selects(pod *Pod, nsLabels labels.Set, dir Direction) bool {
	if len(p.rules(dir)) == 0 || pod.HostNetwork || !p.namespaces.Matches(nsLabels) {
		return false
	}
	return p.pods == nil || p.pods.Matches(labels.Set(pod.Labels))
}

func (p *compiledCNP) rules(dir Direction) []cnpRule {
	if dir == Ingress {
		return p.ingress
	}
	return p.egress
}

// tierName is the tier in reasons: "admin" or "baseline".
func tierName(t cnpv1.Tier) string { return strings.ToLower(string(t)) }

// cnpRule is one ingress or egress rule.
type cnpRule struct {
	where  string // e.g. `admin policy "deny-metadata" (priority 10) egress[0] "block-imds"`
	action cnpv1.ClusterNetworkPolicyRuleAction
	// matchNone and matchAll are the API's "fail closed" reading of a rule
	// with a peer that sets no field: an Accept rule matches nothing, a Deny
	// or Pass rule denies all traffic.
	matchNone, matchAll bool
	peers               []cnpPeer
	ports               []cnpPort // empty: every port and protocol
}

// cnpPeer is one entry of from/to; exactly one of its fields is set.
type cnpPeer struct {
	namespaces labels.Selector // namespaces, or pods' namespaceSelector
	pods       labels.Selector // pods' podSelector
	nodes      labels.Selector
	networks   *addrBlock // its CIDRs
	domains    []string
	text       string // e.g. "networks 169.254.169.254/32", for reasons
}

// cnpPort is one entry of protocols: a port number or range of a protocol,
// or a named port (protocol "").
type cnpPort struct {
	protocol    corev1.Protocol
	name        string
	first, last int32
}

// matches reports whether a connection to port/protocol on dst (nil when
// the destination is not a pod) matches p. A named port matches when dst
// has a container port of that name, with the connection's protocol and
// number.
func (p cnpPort) matches(port int32, protocol corev1.Protocol, dst *Pod) bool {
	if p.name == "" {
		return p.protocol == protocol && p.first <= port && port <= p.last
	}
	return namedPortIs(dst, p.name, protocol, port)
}

// CNPError is one problem with a ClusterNetworkPolicy that the API server
// would reject.
type CNPError struct {
	Policy  string // metadata.name
	Field   string // the field's path in the policy, e.g. "spec.egress[0].action"
	Message string
}

// Error returns `clusternetworkpolicy "NAME": FIELD: MESSAGE`.
func (e *CNPError) Error() string {
	return fmt.Sprintf("clusternetworkpolicy %q: %s: %s", e.Policy, e.Field, e.Message)
}

// CheckClusterNetworkPolicy checks p as NewTieredEngine does, on its own
// (not for duplicate names), and returns every problem found, each with its
// field path in p. The scenarios loader takes it as its
// ClusterNetworkPolicy check (see scenarios.WithClusterPolicyCheck).
func CheckClusterNetworkPolicy(p *cnpv1.ClusterNetworkPolicy) []scenarios.FieldProblem {
	_, err := compileCNP(p)
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]scenarios.FieldProblem, 0, len(errs))
	for _, e := range errs {
		var ce *CNPError
		if errors.As(e, &ce) {
			out = append(out, scenarios.FieldProblem{Field: ce.Field, Message: ce.Message})
		} else {
			out = append(out, scenarios.FieldProblem{Message: e.Error()})
		}
	}
	return out
}

// compileCNP checks p as the API server (CRD validation) would and parses
// it. Every problem found is returned, joined, each naming the policy and
// the field.
func compileCNP(p *cnpv1.ClusterNetworkPolicy) (*compiledCNP, error) {
	cp := &compiledCNP{name: p.Name, tier: p.Spec.Tier, priority: p.Spec.Priority}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, &CNPError{Policy: p.Name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if p.Name == "" {
		fail("metadata.name", "empty")
	}
	switch p.Spec.Tier {
	case cnpv1.AdminTier, cnpv1.BaselineTier:
	case "":
		fail("spec.tier", "missing (want Admin or Baseline)")
	default:
		fail("spec.tier", "unknown tier %q (want Admin or Baseline)", p.Spec.Tier)
	}
	if p.Spec.Priority < cnpMinPriority || p.Spec.Priority > cnpMaxPriority {
		fail("spec.priority", "%d out of range %d-%d", p.Spec.Priority, cnpMinPriority, cnpMaxPriority)
	}

	subj := p.Spec.Subject
	switch {
	case subj.Namespaces == nil && subj.Pods == nil:
		fail("spec.subject", "missing: set namespaces or pods")
	case subj.Namespaces != nil && subj.Pods != nil:
		fail("spec.subject", "set only one of namespaces and pods")
	case subj.Namespaces != nil:
		cp.namespaces = selector(subj.Namespaces, "spec.subject.namespaces", fail)
	default:
		cp.namespaces = selector(&subj.Pods.NamespaceSelector, "spec.subject.pods.namespaceSelector", fail)
		cp.pods = selector(&subj.Pods.PodSelector, "spec.subject.pods.podSelector", fail)
	}

	where := fmt.Sprintf("%s policy %q (priority %d)", tierName(p.Spec.Tier), p.Name, p.Spec.Priority)
	if len(p.Spec.Ingress) > cnpMaxItems {
		fail("spec.ingress", "%d rules, at most %d allowed", len(p.Spec.Ingress), cnpMaxItems)
	}
	for i, r := range p.Spec.Ingress {
		field := fmt.Sprintf("spec.ingress[%d]", i)
		peers := make([]cnpv1.ClusterNetworkPolicyEgressPeer, len(r.From))
		for j, from := range r.From {
			peers[j] = cnpv1.ClusterNetworkPolicyEgressPeer{Namespaces: from.Namespaces, Pods: from.Pods}
		}
		rule := compileCNPRule(fmt.Sprintf("%s ingress[%d]", where, i), field, "from", r.Name, r.Action, peers, r.Protocols, fail)
		cp.ingress = append(cp.ingress, rule)
	}
	if len(p.Spec.Egress) > cnpMaxItems {
		fail("spec.egress", "%d rules, at most %d allowed", len(p.Spec.Egress), cnpMaxItems)
	}
	for i, r := range p.Spec.Egress {
		field := fmt.Sprintf("spec.egress[%d]", i)
		rule := compileCNPRule(fmt.Sprintf("%s egress[%d]", where, i), field, "to", r.Name, r.Action, r.To, r.Protocols, fail)
		cp.egress = append(cp.egress, rule)
	}
	return cp, errors.Join(errs...)
}

// compileCNPRule parses one rule. Ingress peers come converted to egress
// peers (they are a subset); peersField is "from" or "to".
func compileCNPRule(where, field, peersField, name string, action cnpv1.ClusterNetworkPolicyRuleAction,
	peers []cnpv1.ClusterNetworkPolicyEgressPeer, protocols []cnpv1.ClusterNetworkPolicyProtocol,
	fail func(field, format string, args ...any)) cnpRule {
	if name != "" {
		where += fmt.Sprintf(" %q", name)
	}
	rule := cnpRule{where: where, action: action}
	if len(name) > cnpMaxRuleName {
		fail(field+".name", "%d characters, at most %d allowed", len(name), cnpMaxRuleName)
	}
	switch action {
	case cnpv1.ClusterNetworkPolicyRuleActionAccept, cnpv1.ClusterNetworkPolicyRuleActionDeny, cnpv1.ClusterNetworkPolicyRuleActionPass:
	case "":
		fail(field+".action", "missing (want Accept, Deny or Pass)")
	default:
		fail(field+".action", "unknown action %q (want Accept, Deny or Pass)", action)
	}
	switch {
	case len(peers) == 0:
		fail(field+"."+peersField, "missing: at least one peer is required")
	case len(peers) > cnpMaxItems:
		fail(field+"."+peersField, "%d peers, at most %d allowed", len(peers), cnpMaxItems)
	}
	notPodPeer := false // networks, nodes or domainNames: no named ports
	for j, peer := range peers {
		pfield := fmt.Sprintf("%s.%s[%d]", field, peersField, j)
		cpeer, set := compileCNPPeer(peer, pfield, fail)
		switch {
		case set == 0:
			// Fail closed, as the API asks of a peer with no known field.
			if action == cnpv1.ClusterNetworkPolicyRuleActionAccept {
				rule.matchNone = true
				rule.where += fmt.Sprintf(" (%s sets no field: an Accept rule fails closed, matching nothing)", pfield)
			} else {
				rule.matchAll = true
				rule.where += fmt.Sprintf(" (%s sets no field: a %s rule fails closed, denying all traffic)", pfield, action)
			}
		case set > 1:
			fail(pfield, "set exactly one field, not %d", set)
		default:
			if cpeer.pods == nil && cpeer.namespaces == nil {
				notPodPeer = true
			}
			if cpeer.domains != nil && action != cnpv1.ClusterNetworkPolicyRuleActionAccept {
				fail(pfield+".domainNames", "only supported in Accept rules, not %s", action)
			}
			rule.peers = append(rule.peers, cpeer)
		}
	}
	if len(protocols) > cnpMaxItems {
		fail(field+".protocols", "%d entries, at most %d allowed", len(protocols), cnpMaxItems)
	}
	for j, proto := range protocols {
		pfield := fmt.Sprintf("%s.protocols[%d]", field, j)
		port, err := compileCNPPort(proto)
		if err != nil {
			fail(pfield, "%v", err)
			continue
		}
		if port.name != "" && notPodPeer {
			fail(pfield+".destinationNamedPort", "cannot be used with networks, nodes or domainNames peers, which have no named ports")
		}
		rule.ports = append(rule.ports, port)
	}
	if rule.matchNone {
		rule.matchAll = false
	}
	if rule.matchAll {
		rule.action = cnpv1.ClusterNetworkPolicyRuleActionDeny
	}
	return rule
}

// compileCNPPeer parses peer and returns how many of its fields are set;
// the peer is usable only when that is 1.
func compileCNPPeer(peer cnpv1.ClusterNetworkPolicyEgressPeer, field string, fail func(field, format string, args ...any)) (cnpPeer, int) {
	var cp cnpPeer
	set := 0
	if peer.Namespaces != nil {
		set++
		cp.namespaces = selector(peer.Namespaces, field+".namespaces", fail)
		cp.text = "namespaces " + metav1.FormatLabelSelector(peer.Namespaces)
	}
	if peer.Pods != nil {
		set++
		cp.namespaces = selector(&peer.Pods.NamespaceSelector, field+".pods.namespaceSelector", fail)
		cp.pods = selector(&peer.Pods.PodSelector, field+".pods.podSelector", fail)
		cp.text = fmt.Sprintf("pods %s in namespaces %s",
			metav1.FormatLabelSelector(&peer.Pods.PodSelector), metav1.FormatLabelSelector(&peer.Pods.NamespaceSelector))
	}
	if peer.Nodes != nil {
		set++
		cp.nodes = selector(peer.Nodes, field+".nodes", fail)
		cp.text = "nodes " + metav1.FormatLabelSelector(peer.Nodes)
	}
	if peer.Networks != nil {
		set++
		if len(peer.Networks) == 0 || len(peer.Networks) > cnpMaxItems {
			fail(field+".networks", "%d CIDRs, want 1 to %d", len(peer.Networks), cnpMaxItems)
		}
		var texts []string
		var nets []netip.Prefix
		for k, n := range peer.Networks {
			prefix, err := netip.ParsePrefix(string(n))
			switch {
			case err != nil:
				fail(fmt.Sprintf("%s.networks[%d]", field, k), "invalid CIDR %q: %v", n, err)
				continue
			case prefix != prefix.Masked():
				fail(fmt.Sprintf("%s.networks[%d]", field, k), "invalid CIDR %q: host bits set (want %s)", n, prefix.Masked())
				continue
			}
			nets = append(nets, prefix)
			texts = append(texts, string(n))
		}
		cp.networks = &addrBlock{addrs: nets} // set, even if nothing parsed
		cp.text = "networks " + strings.Join(texts, ", ")
	}
	if peer.DomainNames != nil {
		set++
		if len(peer.DomainNames) == 0 || len(peer.DomainNames) > cnpMaxItems {
			fail(field+".domainNames", "%d names, want 1 to %d", len(peer.DomainNames), cnpMaxItems)
		}
		cp.domains = []string{}
		for k, d := range peer.DomainNames {
			if !domainNamePattern.MatchString(string(d)) {
				fail(fmt.Sprintf("%s.domainNames[%d]", field, k), "invalid domain name %q", d)
				continue
			}
			cp.domains = append(cp.domains, strings.ToLower(strings.TrimSuffix(string(d), ".")))
		}
		cp.text = "domainNames " + strings.Join(cp.domains, ", ")
	}
	return cp, set
}

// compileCNPPort parses one protocols entry: exactly one of tcp, udp, sctp
// (each with a destinationPort: a number or a range) or
// destinationNamedPort.
func compileCNPPort(p cnpv1.ClusterNetworkPolicyProtocol) (cnpPort, error) {
	var port cnpPort
	var dest *cnpv1.Port
	set := 0
	if p.TCP != nil {
		set++
		port.protocol, dest = corev1.ProtocolTCP, p.TCP.DestinationPort
	}
	if p.UDP != nil {
		set++
		port.protocol, dest = corev1.ProtocolUDP, p.UDP.DestinationPort
	}
	if p.SCTP != nil {
		set++
		port.protocol, dest = corev1.ProtocolSCTP, p.SCTP.DestinationPort
	}
	if p.DestinationNamedPort != "" {
		set++
		port.name = p.DestinationNamedPort
	}
	switch {
	case set == 0:
		return port, errors.New("set one of tcp, udp, sctp or destinationNamedPort")
	case set > 1:
		return port, fmt.Errorf("set exactly one of tcp, udp, sctp or destinationNamedPort, not %d", set)
	case port.name != "":
		return port, nil
	}
	proto := strings.ToLower(string(port.protocol))
	switch {
	case dest == nil:
		return port, fmt.Errorf("%s.destinationPort: missing", proto)
	case dest.Number != 0 && dest.Range != nil:
		return port, fmt.Errorf("%s.destinationPort: set only one of number and range", proto)
	case dest.Range != nil:
		r := dest.Range
		switch {
		case r.Start < 1 || r.Start > 65535 || r.End < 1 || r.End > 65535:
			return port, fmt.Errorf("%s.destinationPort.range: %d-%d out of range 1-65535", proto, r.Start, r.End)
		case r.Start >= r.End:
			return port, fmt.Errorf("%s.destinationPort.range: start %d must be less than end %d", proto, r.Start, r.End)
		}
		port.first, port.last = r.Start, r.End
	case dest.Number < 1 || dest.Number > 65535:
		return port, fmt.Errorf("%s.destinationPort.number: %d out of range 1-65535", proto, dest.Number)
	default:
		port.first, port.last = dest.Number, dest.Number
	}
	return port, nil
}

// selector parses s, reporting a problem under field; an unparsable
// selector matches nothing.
func selector(s *metav1.LabelSelector, field string, fail func(field, format string, args ...any)) labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		fail(field, "%v", err)
		return labels.Nothing()
	}
	return sel
}
