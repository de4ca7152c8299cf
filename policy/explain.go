package policy

// This file explains, in a few human-readable lines, how the policies decide
// one connection of a scenario (Explain, behind `netverify explain`).

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Explanation is Explain's answer.
type Explanation struct {
	// Text says, in a few lines for people, how the policies decide the
	// connection, ending with the verdict.
	Text string
	// Verdict is the connection's: the Decision's for a pod or an ip:
	// target. For a Service it is the verdict its backends share: Blocked
	// also when no backend can answer on the port, and
	// ImplementationDefined when the backends' verdicts differ (which
	// backend answers is up to the Service's load balancing).
	Verdict Verdict
}

// Explain describes in a few lines how the policies decide the connection
// from → to on port/protocol: which policies select the source for egress
// and the destination for ingress, which of their rules allows the
// connection or why none does, and the verdict.
//
// from names a scenario pod ("ns/pod", or "pod" when the scenario has one
// namespace); to is a pod, "svc:…" or "ip:ADDR" target in the expectation
// grammar. port is a number or, for pod and Service targets, a port name;
// protocol "" means TCP. A Service is explained for each pod it selects, on
// its targetPort, addressed to its ClusterIP. dns: and host: targets cannot
// be explained offline. opts are NewEngine's (WithClusterRanges).
func Explain(sc *scenarios.Scenario, from, to string, port string, protocol string, opts ...Option) (Explanation, error) {
	m, err := newScenarioModel(sc, opts)
	if err != nil {
		return Explanation{}, err
	}
	proto := corev1.Protocol(strings.ToUpper(protocol))
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	if !validProtocol(proto) {
		return Explanation{}, fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", protocol)
	}
	if port == "" {
		return Explanation{}, fmt.Errorf("a port is required")
	}
	src, err := m.resolvePod(from)
	if err != nil {
		return Explanation{}, fmt.Errorf("from: %w", err)
	}
	t, err := scenarios.ParseTarget(to)
	if err != nil {
		return Explanation{}, fmt.Errorf("to: %w", err)
	}
	var b strings.Builder
	var verdict Verdict
	switch t.Kind {
	case scenarios.TargetPod:
		dst, err := m.resolvePod(qualifiedRef(t))
		if err != nil {
			return Explanation{}, fmt.Errorf("to: %w", err)
		}
		number, err := podPort(dst, port, proto)
		if err != nil {
			return Explanation{}, fmt.Errorf("port: %w", err)
		}
		fmt.Fprintf(&b, "%s → %s %d/%s\n", src, dst, number, proto)
		if !servesPort(dst, number, proto) {
			fmt.Fprintf(&b, "note: %s declares no port %d/%s, so a probe would be refused even where the policies allow it\n", dst, number, proto)
		}
		d, err := m.explainConnection(&b, "", Peer{Pod: src}, Peer{Pod: dst}, number, proto)
		if err != nil {
			return Explanation{}, err
		}
		fmt.Fprintf(&b, "\nVerdict: %s\n", verdictLine(d, src == dst))
		verdict = d.Verdict
	case scenarios.TargetService:
		svc, err := sc.ResolveService(qualifiedRef(t))
		if err != nil {
			return Explanation{}, fmt.Errorf("to: %w", err)
		}
		sp, err := servicePort(svc, port, proto)
		if err != nil {
			return Explanation{}, fmt.Errorf("port: %w", err)
		}
		backends := m.backends(svc, "")
		fmt.Fprintf(&b, "%s → svc:%s/%s %d/%s (targetPort %s; %d backend(s))\n",
			src, svc.Namespace, svc.Name, sp.Port, proto, targetPort(sp), len(backends))
		verdicts := map[Verdict]int{}
		for _, dst := range backends {
			number, ok := backendPort(dst, sp, proto)
			if !ok {
				fmt.Fprintf(&b, "\nBackend %s: declares no port named %q (%s), so it cannot answer\n", dst, sp.TargetPort, proto)
				continue
			}
			fmt.Fprintf(&b, "\nBackend %s, port %d/%s:\n", dst, number, proto)
			d, err := m.explainConnection(&b, "  ", Peer{Pod: src}, serviceBackend(svc, dst), number, proto)
			if err != nil {
				return Explanation{}, err
			}
			fmt.Fprintf(&b, "  Verdict for this backend: %s\n", verdictLine(d, src == dst))
			verdicts[d.Verdict]++
		}
		fmt.Fprintf(&b, "\nVerdict: %s\n", serviceVerdict(verdicts))
		verdict = sharedVerdict(verdicts)
	case scenarios.TargetIP:
		number, err := strconv.Atoi(port)
		if err != nil || number < 1 || number > 65535 {
			return Explanation{}, fmt.Errorf("port: %q is not a port number (1-65535), as ip: targets need", port)
		}
		fmt.Fprintf(&b, "%s → %s %d/%s\n", src, t.Name, number, proto)
		d, err := m.explainConnection(&b, "", Peer{Pod: src}, Peer{IP: t.Name}, int32(number), proto)
		if err != nil {
			return Explanation{}, err
		}
		fmt.Fprintf(&b, "\nVerdict: %s\n", verdictLine(d, false))
		verdict = d.Verdict
	default:
		return Explanation{}, fmt.Errorf("to: %s targets cannot be explained offline: their address is only known in the cluster (explain a pod, svc: or ip: target)", t.Kind)
	}
	return Explanation{Text: b.String(), Verdict: verdict}, nil
}

// explainConnection writes, each line prefixed with indent, how the source's
// egress and the destination's ingress policies decide the connection, and
// returns the decision.
func (m *scenarioModel) explainConnection(b *strings.Builder, indent string, src, dst Peer, port int32, proto corev1.Protocol) (Decision, error) {
	d, err := m.decide(src, dst, port, proto)
	if err != nil {
		return d, err
	}
	c, err := m.engine.connection(src, dst, port, proto)
	if err != nil {
		return d, err
	}
	s, t := c.src, c.dst
	if m.tiered == nil {
		m.engine.explainSide(b, indent, Egress, s, t, c, d.Egress)
		m.engine.explainSide(b, indent, Ingress, t, s, c, d.Ingress)
		return d, nil
	}
	// The tiers decide each side: the first line names the Admin or
	// Baseline policy, tier and rule that decided, or the NetworkPolicies
	// it passed to; the NetworkPolicies are then explained on their own.
	np, err := m.engine.Decide(src, dst, port, proto)
	if err != nil {
		return d, err
	}
	egress := m.tiered.side(Egress, s, t, c)
	ingress := m.tiered.side(Ingress, t, s, c)
	fmt.Fprintf(b, "%sClusterNetworkPolicy tiers (Admin, then NetworkPolicies, then Baseline):\n", indent)
	fmt.Fprintf(b, "%s  Egress from %s: %s: %s\n", indent, s.text, egress.verdict, egress.text)
	fmt.Fprintf(b, "%s  Ingress to %s: %s: %s\n", indent, t.text, ingress.verdict, ingress.text)
	fmt.Fprintf(b, "%sNetworkPolicies on their own:\n", indent)
	m.engine.explainSide(b, indent+"  ", Egress, s, t, c, np.Egress)
	m.engine.explainSide(b, indent+"  ", Ingress, t, s, c, np.Ingress)
	return d, nil
}

// explainSide writes what direction dir's policies of subject say about
// traffic with other; verdict is the side's verdict.
func (e *Engine) explainSide(b *strings.Builder, indent string, dir Direction, subject, other endpoint, c connection, verdict Verdict) {
	label := "Egress from " + subject.text
	field, peersField := "egress", "to"
	if dir == Ingress {
		label = "Ingress to " + subject.text
		field, peersField = "ingress", "from"
	}
	if subject.pod == nil {
		fmt.Fprintf(b, "%s%s: not a pod, so no NetworkPolicy governs it\n", indent, label)
		return
	}
	var selecting []*compiledPolicy
	for _, p := range e.policies {
		if p.appliesTo(subject.pod, dir) {
			selecting = append(selecting, p)
		}
	}
	if len(selecting) == 0 {
		fmt.Fprintf(b, "%s%s: not isolated (no policy selects it for %s), so %s traffic is allowed\n", indent, label, dir, field)
		return
	}
	fmt.Fprintf(b, "%s%s: isolated by %d polic%s; only what one of their %s rules allows gets through\n",
		indent, label, len(selecting), plural(len(selecting), "y", "ies"), field)
	for _, p := range selecting {
		fmt.Fprintf(b, "%s  policy %s selects it (podSelector %s)\n", indent, p, selectorText(p.selector))
		rules := p.rules(dir)
		if len(rules) == 0 {
			fmt.Fprintf(b, "%s    no %s rules: it allows nothing itself\n", indent, field)
		}
		for _, r := range rules {
			fmt.Fprintf(b, "%s    %s: %s\n", indent, r.where, r.explain(p.namespace, other, c, peersField))
		}
	}
	fmt.Fprintf(b, "%s  → %s %s\n", indent, field, verdict)
}

// explain says whether rule r matches traffic with the far end other, and
// if not, why.
func (r compiledRule) explain(policyNS string, other endpoint, c connection, peersField string) string {
	m, why := r.match(policyNS, other, c)
	desc := fmt.Sprintf("%s %s, ports %s", peersField, r.peersText(), r.portsText())
	switch m {
	case matchYes:
		return "ALLOWS it (" + desc + ")"
	case matchDepends:
		return "depends on the CNI: " + why
	}
	if !r.portsMatch(c) {
		return fmt.Sprintf("no match: its ports %s do not include %s", r.portsText(), c.portText())
	}
	text := fmt.Sprintf("no match: %s %s does not include %s", peersField, r.peersText(), other.text)
	if other.pod != nil && !other.pod.HostNetwork && !other.space.exact {
		// Why its ipBlocks cannot cover the pod's unknown IP.
		var whys []string
		for _, p := range r.peers {
			if p.block != nil {
				named := fmt.Sprintf("ipBlock %s", p.block.text)
				whys = append(whys, other.space.describe(named, p.block.addrs, coversNone, "the pod IP of "+other.text))
			}
		}
		if len(whys) > 0 {
			text += " (" + strings.Join(whys, "; ") + ")"
		}
	}
	return text
}

func (r compiledRule) peersText() string {
	if r.allPeers {
		return "(any)"
	}
	var parts []string
	for _, p := range r.peers {
		parts = append(parts, p.text())
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func (r compiledRule) portsText() string {
	if len(r.ports) == 0 {
		return "(any)"
	}
	var parts []string
	for _, p := range r.ports {
		parts = append(parts, p.text())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (p compiledPeer) text() string {
	if p.block != nil {
		return "ipBlock " + p.block.text
	}
	var parts []string
	if p.namespaces != nil {
		parts = append(parts, "namespaceSelector "+selectorText(p.namespaces))
	}
	if p.pods != nil {
		parts = append(parts, "podSelector "+selectorText(p.pods))
	}
	return strings.Join(parts, " AND ")
}

func (p compiledPort) text() string {
	switch {
	case p.any:
		return string(p.protocol) + "/any"
	case p.name != "":
		return string(p.protocol) + "/" + p.name
	case p.first != p.last:
		return fmt.Sprintf("%s/%d-%d", p.protocol, p.first, p.last)
	}
	return fmt.Sprintf("%s/%d", p.protocol, p.first)
}

func selectorText(s labels.Selector) string {
	if s.Empty() {
		return "{} (all)"
	}
	return "{" + s.String() + "}"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// verdictLine is the verdict, with the best answer for an
// implementation-defined one, and the reason.
func verdictLine(d Decision, self bool) string {
	if d.Verdict == ImplementationDefined {
		best := "blocked"
		if BestAnswer(d, self) {
			best = "allowed"
		}
		return fmt.Sprintf("%s (on Cilium, as on the local cluster: %s)\n  %s", d.Verdict, best, d.Reason)
	}
	return fmt.Sprintf("%s\n  %s", d.Verdict, d.Reason)
}

// serviceVerdict summarises the verdicts of a Service's backends.
func serviceVerdict(counts map[Verdict]int) string {
	total := 0
	var kinds []string
	for v, n := range counts {
		total += n
		kinds = append(kinds, fmt.Sprintf("%s for %d", v, n))
	}
	sort.Strings(kinds)
	switch {
	case total == 0:
		return "no backend can answer on this port"
	case len(counts) == 1:
		for v := range counts {
			return fmt.Sprintf("%s for every backend", v)
		}
	}
	return fmt.Sprintf("depends on the backend the Service picks (%s of %d backends)", strings.Join(kinds, ", "), total)
}

// sharedVerdict is the verdict of a Service whose backends have counts
// (see Explanation.Verdict).
func sharedVerdict(counts map[Verdict]int) Verdict {
	switch len(counts) {
	case 0:
		return Blocked // no backend can answer
	case 1:
		for v := range counts {
			return v
		}
	}
	return ImplementationDefined
}

func servesPort(p *Pod, port int32, proto corev1.Protocol) bool {
	for _, cport := range p.Ports {
		if cport.ContainerPort == port && containerProtocol(cport) == proto {
			return true
		}
	}
	return false
}
