package policy

// This file bridges scenarios and the engine: the "expected from policies"
// truth table of a scenario, a lint of its hand-written expectations against
// its policies, and a human-readable explanation of one connection.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Computed is one connection of a scenario as its policies decide it.
type Computed struct {
	// Expectation is the connection in the scenario grammar: From and To
	// are "ns/pod", Port is the port number, and Allowed is the engine's
	// answer. For an ImplementationDefined decision Allowed is the best
	// answer: how Cilium, the local cluster's CNI, resolves it (see
	// BestAnswer).
	Expectation scenarios.Expectation
	// Decision is the engine's full answer; report a connection whose
	// Verdict is ImplementationDefined as such, not as a plain pass or fail.
	Decision Decision
}

// Finding is a problem Lint found in a scenario.
type Finding struct {
	Scenario string
	// Index is the position of the expectation in spec.expect, or -1 for a
	// note about the scenario's policies as a whole.
	Index   int
	Message string
}

// String returns `scenario "NAME": spec.expect[I]: MESSAGE` (without the
// spec.expect part for a note about the policies).
func (f Finding) String() string {
	if f.Index < 0 {
		return fmt.Sprintf("scenario %q: %s", f.Scenario, f.Message)
	}
	return fmt.Sprintf("scenario %q: spec.expect[%d]: %s", f.Scenario, f.Index, f.Message)
}

// BestAnswer turns a decision into allowed or not. Allowed and Blocked are
// themselves; an ImplementationDefined decision is answered as Cilium (the
// local cluster's CNI) answers it: a pod may always reach itself (self is
// true when source and destination are the same pod), while an ipBlock never
// matches a pod IP and the node is not matched by CIDR, so any other
// implementation-defined traffic is blocked.
func BestAnswer(d Decision, self bool) bool {
	switch d.Verdict {
	case Allowed:
		return true
	case ImplementationDefined:
		return self
	}
	return false
}

// ForScenario builds an engine from a scenario: its logical namespaces
// (with their labels and the implicit kubernetes.io/metadata.name=<logical
// name>), its pods (IP unknown, ports as container ports) and its policies,
// whose metadata.namespace is a logical namespace. The scenario should have
// been loaded (defaulted and validated) by the scenarios package.
func ForScenario(sc *scenarios.Scenario) (*Engine, error) {
	m, err := newScenarioModel(sc)
	if err != nil {
		return nil, err
	}
	return m.engine, nil
}

// ExpectationsFromPolicies returns the scenario's full truth table: for
// every source pod, every destination pod (the source itself included) and
// every port the destination declares, what the policies decide. The order
// is the scenario's: sources in spec.pods order, then destinations in
// spec.pods order, then the destination's ports in declaration order. Pods
// without ports are sources only.
func ExpectationsFromPolicies(sc *scenarios.Scenario) ([]Computed, error) {
	m, err := newScenarioModel(sc)
	if err != nil {
		return nil, err
	}
	var out []Computed
	for i := range m.pods {
		src := &m.pods[i]
		for j := range m.pods {
			dst := &m.pods[j]
			for _, cport := range dst.Ports {
				proto := containerProtocol(cport)
				d, err := m.decide(src, dst, cport.ContainerPort, proto)
				if err != nil {
					return nil, fmt.Errorf("scenario %q: %s → %s %d/%s: %w", sc.Metadata.Name, src, dst, cport.ContainerPort, proto, err)
				}
				allowed := BestAnswer(d, i == j)
				out = append(out, Computed{
					Expectation: scenarios.Expectation{
						From:     src.String(),
						To:       dst.String(),
						Port:     strconv.Itoa(int(cport.ContainerPort)),
						Protocol: scenarios.Protocol(proto),
						Allowed:  &allowed,
					},
					Decision: d,
				})
			}
		}
	}
	return out, nil
}

// Lint compares the scenario's hand-written expectations with its policies
// and returns a Finding for every expectation the policies contradict: the
// expectation says allowed and the engine says definitely Blocked, or the
// reverse. An ImplementationDefined decision is never a contradiction.
//
// Pod targets are decided directly. A Service target is decided for each
// scenario pod the Service selects (only the expected backend, when the
// expectation names one and expects allowed), on the Service port's
// targetPort; it is a contradiction when the engine says the opposite for
// every such backend. For an ip: target only the source's egress counts.
// host: and dns: targets are skipped: their addresses (for dns:, the
// cluster's DNS server in kube-system) are not known offline.
//
// The notes of LintIsolation on the scenario's policies come first, as
// findings with Index -1. Lint fails only when the scenario does not build
// an engine (an invalid policy) or an expectation does not resolve, which a
// loaded scenario never does.
func Lint(sc *scenarios.Scenario) ([]Finding, error) {
	m, err := newScenarioModel(sc)
	if err != nil {
		return nil, err
	}
	name := sc.Metadata.Name
	var findings []Finding
	for _, note := range LintIsolation(m.policies, m.namespaces, m.pods) {
		findings = append(findings, Finding{Scenario: name, Index: -1, Message: note})
	}
	for i, e := range sc.Spec.Expect {
		msg, err := m.lintExpectation(e)
		if err != nil {
			return nil, fmt.Errorf("scenario %q: spec.expect[%d]: %w", name, i, err)
		}
		if msg != "" {
			findings = append(findings, Finding{Scenario: name, Index: i, Message: msg})
		}
	}
	return findings, nil
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
// its targetPort. dns: and host: targets cannot be explained offline.
func Explain(sc *scenarios.Scenario, from, to string, port string, protocol string) (string, error) {
	m, err := newScenarioModel(sc)
	if err != nil {
		return "", err
	}
	proto := corev1.Protocol(strings.ToUpper(protocol))
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	if !validProtocol(proto) {
		return "", fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", protocol)
	}
	if port == "" {
		return "", fmt.Errorf("a port is required")
	}
	src, err := m.resolvePod(from)
	if err != nil {
		return "", fmt.Errorf("from: %w", err)
	}
	t, err := scenarios.ParseTarget(to)
	if err != nil {
		return "", fmt.Errorf("to: %w", err)
	}
	var b strings.Builder
	switch t.Kind {
	case scenarios.TargetPod:
		dst, err := m.resolvePod(qualifiedRef(t))
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		number, err := podPort(dst, port, proto)
		if err != nil {
			return "", fmt.Errorf("port: %w", err)
		}
		fmt.Fprintf(&b, "%s → %s %d/%s\n", src, dst, number, proto)
		if !servesPort(dst, number, proto) {
			fmt.Fprintf(&b, "note: %s declares no port %d/%s, so a probe would be refused even where the policies allow it\n", dst, number, proto)
		}
		d, err := m.explainConnection(&b, "", Peer{Pod: src}, Peer{Pod: dst}, number, proto)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\nVerdict: %s\n", verdictLine(d, src == dst))
	case scenarios.TargetService:
		svc, err := sc.ResolveService(qualifiedRef(t))
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		sp, err := servicePort(svc, port, proto)
		if err != nil {
			return "", fmt.Errorf("port: %w", err)
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
			d, err := m.explainConnection(&b, "  ", Peer{Pod: src}, Peer{Pod: dst}, number, proto)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "  Verdict for this backend: %s\n", verdictLine(d, src == dst))
			verdicts[d.Verdict]++
		}
		fmt.Fprintf(&b, "\nVerdict: %s\n", serviceVerdict(verdicts))
	case scenarios.TargetIP:
		number, err := strconv.Atoi(port)
		if err != nil || number < 1 || number > 65535 {
			return "", fmt.Errorf("port: %q is not a port number (1-65535), as ip: targets need", port)
		}
		fmt.Fprintf(&b, "%s → %s %d/%s\n", src, t.Name, number, proto)
		d, err := m.explainConnection(&b, "", Peer{Pod: src}, Peer{IP: t.Name}, int32(number), proto)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\nVerdict: %s\n", verdictLine(d, false))
	default:
		return "", fmt.Errorf("to: %s targets cannot be explained offline: their address is only known in the cluster (explain a pod, svc: or ip: target)", t.Kind)
	}
	return b.String(), nil
}

// scenarioModel is a scenario translated for the engine.
type scenarioModel struct {
	sc         *scenarios.Scenario
	engine     *Engine
	namespaces []Namespace
	pods       []Pod // in spec.pods order
	policies   []networkingv1.NetworkPolicy
	byRef      map[string]*Pod // "ns/pod"
}

func newScenarioModel(sc *scenarios.Scenario) (*scenarioModel, error) {
	if sc == nil {
		return nil, fmt.Errorf("no scenario")
	}
	m := &scenarioModel{sc: sc, byRef: map[string]*Pod{}}
	only := ""
	if len(sc.Spec.Namespaces) == 1 {
		only = sc.Spec.Namespaces[0].Name
	}
	for _, ns := range sc.Spec.Namespaces {
		m.namespaces = append(m.namespaces, Namespace{Name: ns.Name, Labels: ns.Labels})
	}
	for _, sp := range sc.Spec.Pods {
		p := Pod{Namespace: sp.Namespace, Name: sp.Name, Labels: sp.Labels}
		if p.Namespace == "" {
			p.Namespace = only
		}
		for _, port := range sp.Ports {
			p.Ports = append(p.Ports, corev1.ContainerPort{
				Name:          port.Name,
				ContainerPort: port.Port,
				Protocol:      corev1.Protocol(orTCP(port.Protocol)),
			})
		}
		m.pods = append(m.pods, p)
	}
	for i := range m.pods {
		m.byRef[m.pods[i].String()] = &m.pods[i]
	}
	for _, np := range sc.Spec.Policies {
		np = *np.DeepCopy()
		if np.Namespace == "" {
			np.Namespace = only
		}
		m.policies = append(m.policies, np)
	}
	e, err := NewEngine(m.namespaces, m.pods, m.policies)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Metadata.Name, err)
	}
	m.engine = e
	return m, nil
}

// resolvePod returns the engine pod for a scenario pod reference.
func (m *scenarioModel) resolvePod(ref string) (*Pod, error) {
	sp, err := m.sc.ResolvePod(ref)
	if err != nil {
		return nil, err
	}
	p := m.byRef[sp.Namespace+"/"+sp.Name]
	if p == nil {
		return nil, fmt.Errorf("pod %q is not declared", ref)
	}
	return p, nil
}

// backends returns the pods svc selects, in spec.pods order; when only is
// not empty, just the pod it names ("pod" or "ns/pod"), if svc selects it.
func (m *scenarioModel) backends(svc *scenarios.Service, only string) []*Pod {
	if only != "" && !strings.Contains(only, "/") {
		only = svc.Namespace + "/" + only
	}
	sel := labels.SelectorFromSet(svc.Selector)
	var out []*Pod
	for i := range m.pods {
		p := &m.pods[i]
		if p.Namespace == svc.Namespace && sel.Matches(labels.Set(p.Labels)) && (only == "" || p.String() == only) {
			out = append(out, p)
		}
	}
	return out
}

// decide is Engine.Decide between two scenario pods, whose IPs are not
// known offline. A side the engine finds Blocked is ImplementationDefined
// instead when a rule of a policy isolating that side matches the port and
// has an ipBlock over every address (0.0.0.0/0, ::/0, whatever its
// excepts): that block covers the far pod's IP on a real cluster, unless an
// except does, and CNIs differ on whether ipBlocks apply to pod IPs. Narrower
// blocks are taken to address the outside world, not scenario pods.
func (m *scenarioModel) decide(src, dst *Pod, port int32, proto corev1.Protocol) (Decision, error) {
	d, err := m.engine.Decide(Peer{Pod: src}, Peer{Pod: dst}, port, proto)
	if err != nil || d.Verdict != Blocked {
		return d, err
	}
	s, err := m.engine.resolve(Peer{Pod: src})
	if err != nil {
		return d, err
	}
	t, err := m.engine.resolve(Peer{Pod: dst})
	if err != nil {
		return d, err
	}
	c := connection{src: s, dst: t, port: port, protocol: proto}
	var whys []string
	refine := func(v *Verdict, dir Direction, subject, other endpoint) {
		if *v != Blocked {
			return
		}
		if why := m.engine.unknownIPMatch(dir, subject, other, c); why != "" {
			*v = ImplementationDefined
			whys = append(whys, why)
		}
	}
	refine(&d.Egress, Egress, s, t)
	refine(&d.Ingress, Ingress, t, s)
	if v := combine(d.Egress, d.Ingress); v != Blocked {
		d.Verdict = ImplementationDefined
		d.Reason = strings.Join(whys, "; ") + "; the policies alone say blocked: " + d.Reason
	}
	return d, nil
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

// lintExpectation returns a message when the policies contradict e, and ""
// otherwise.
func (m *scenarioModel) lintExpectation(e scenarios.Expectation) (string, error) {
	src, err := m.resolvePod(e.From)
	if err != nil {
		return "", fmt.Errorf("from: %w", err)
	}
	t, err := scenarios.ParseTarget(e.To)
	if err != nil {
		return "", fmt.Errorf("to: %w", err)
	}
	proto := corev1.Protocol(orTCP(e.Protocol))
	want := e.IsAllowed()
	conn := fmt.Sprintf("%s → %s %s/%s", e.From, e.To, e.Port, proto)
	if e.Name != "" {
		conn = fmt.Sprintf("%q (%s)", e.Name, conn)
	}
	switch t.Kind {
	case scenarios.TargetPod:
		dst, err := m.resolvePod(qualifiedRef(t))
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		number, err := podPort(dst, e.Port, proto)
		if err != nil {
			return "", fmt.Errorf("port: %w", err)
		}
		d, err := m.decide(src, dst, number, proto)
		if err != nil {
			return "", err
		}
		if contradicts(d, want) {
			return contradiction(conn, want, d.Verdict, "") + ": " + d.Reason, nil
		}
	case scenarios.TargetService:
		svc, err := m.sc.ResolveService(qualifiedRef(t))
		if err != nil {
			return "", fmt.Errorf("to: %w", err)
		}
		sp, err := servicePort(svc, e.Port, proto)
		if err != nil {
			return "", fmt.Errorf("port: %w", err)
		}
		only := ""
		if want {
			only = e.Backend
		}
		var reasons []string
		var verdict Verdict
		for _, dst := range m.backends(svc, only) {
			number, ok := backendPort(dst, sp, proto)
			if !ok {
				continue // it cannot answer: not the policies' doing
			}
			d, err := m.decide(src, dst, number, proto)
			if err != nil {
				return "", err
			}
			if !contradicts(d, want) {
				return "", nil
			}
			verdict = d.Verdict
			reasons = append(reasons, fmt.Sprintf("backend %s port %d/%s: %s", dst, number, proto, d.Reason))
		}
		if len(reasons) > 0 {
			scope := "for every backend"
			if len(reasons) == 1 {
				scope = "for its only backend"
				if only != "" {
					scope = "for the expected backend"
				}
			}
			return contradiction(conn, want, verdict, scope) + ": " + strings.Join(reasons, " | "), nil
		}
	case scenarios.TargetIP:
		number, err := strconv.Atoi(e.Port)
		if err != nil || number < 1 || number > 65535 {
			return "", fmt.Errorf("port: %q is not a port number", e.Port)
		}
		d, err := m.engine.Decide(Peer{Pod: src}, Peer{IP: t.Name}, int32(number), proto)
		if err != nil {
			return "", err
		}
		if contradicts(d, want) {
			return contradiction(conn, want, d.Verdict, "") + ": " + d.Reason, nil
		}
	}
	// dns: and host: targets: the address is unknown offline.
	return "", nil
}

// contradicts reports whether a definite decision says the opposite of want.
func contradicts(d Decision, want bool) bool {
	return want && d.Verdict == Blocked || !want && d.Verdict == Allowed
}

func contradiction(conn string, want bool, got Verdict, scope string) string {
	expected := "blocked"
	if want {
		expected = "allowed"
	}
	s := fmt.Sprintf("%s is expected %s, but the policies say %s", conn, expected, got)
	if scope != "" {
		s += " " + scope
	}
	return s
}

// explainConnection writes, each line prefixed with indent, how the source's
// egress and the destination's ingress policies decide the connection, and
// returns the decision.
func (m *scenarioModel) explainConnection(b *strings.Builder, indent string, src, dst Peer, port int32, proto corev1.Protocol) (Decision, error) {
	var d Decision
	var err error
	if src.Pod != nil && dst.Pod != nil {
		d, err = m.decide(src.Pod, dst.Pod, port, proto)
	} else {
		d, err = m.engine.Decide(src, dst, port, proto)
	}
	if err != nil {
		return d, err
	}
	s, err := m.engine.resolve(src)
	if err != nil {
		return d, err
	}
	t, err := m.engine.resolve(dst)
	if err != nil {
		return d, err
	}
	c := connection{src: s, dst: t, port: port, protocol: proto}
	m.engine.explainSide(b, indent, Egress, s, t, c, d.Egress)
	m.engine.explainSide(b, indent, Ingress, t, s, c, d.Ingress)
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
	if other.pod != nil && !other.addr.IsValid() {
		if b := r.everyAddressBlock(); b != nil {
			return "depends on the CNI: " + unknownIPText(b, r.where, other.text)
		}
	}
	return fmt.Sprintf("no match: %s %s does not include %s", peersField, r.peersText(), other.text)
}

// unknownIPText explains why an ipBlock over every address makes traffic
// with a scenario pod, whose IP is not known offline, CNI-dependent.
func unknownIPText(b *ipBlock, where, pod string) string {
	covers := "covers the pod IP of " + pod
	if len(b.except) > 0 {
		covers += " unless an except does"
	}
	return fmt.Sprintf("ipBlock %s (%s) %s (pod IPs are not known offline), and CNIs differ on whether ipBlocks apply to pod IPs (Cilium by default: no)",
		b.text, where, covers)
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

// everyAddressBlock returns an ipBlock peer of r whose cidr is a /0
// (0.0.0.0/0 or ::/0), or nil.
func (r compiledRule) everyAddressBlock() *ipBlock {
	for _, p := range r.peers {
		if p.block != nil && p.block.cidr.Bits() == 0 {
			return p.block
		}
	}
	return nil
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

// qualifiedRef returns "ns/name", or "name" when t has no namespace.
func qualifiedRef(t scenarios.Target) string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "/" + t.Name
}

// podPort resolves port (a number or one of the pod's port names) to a
// number. A number need not be declared by the pod.
func podPort(p *Pod, port string, proto corev1.Protocol) (int32, error) {
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("%d is out of range 1-65535", n)
		}
		return int32(n), nil
	}
	if n, ok := p.NamedPort(port, proto); ok {
		return n, nil
	}
	return 0, fmt.Errorf("pod %s has no %s port named %q%s", p, proto, port, portList(p))
}

func servesPort(p *Pod, port int32, proto corev1.Protocol) bool {
	for _, cport := range p.Ports {
		if cport.ContainerPort == port && containerProtocol(cport) == proto {
			return true
		}
	}
	return false
}

func portList(p *Pod) string {
	if len(p.Ports) == 0 {
		return " (it declares no ports)"
	}
	var parts []string
	for _, cport := range p.Ports {
		s := fmt.Sprintf("%d/%s", cport.ContainerPort, containerProtocol(cport))
		if cport.Name != "" {
			s = cport.Name + "=" + s
		}
		parts = append(parts, s)
	}
	return " (it declares " + strings.Join(parts, ", ") + ")"
}

// servicePort returns the port of svc that port (a number or a name) and
// proto name.
func servicePort(svc *scenarios.Service, port string, proto corev1.Protocol) (scenarios.ServicePort, error) {
	var parts []string
	for _, sp := range svc.Ports {
		if (sp.Name == port || strconv.Itoa(int(sp.Port)) == port) && orTCP(sp.Protocol) == string(proto) {
			return sp, nil
		}
		s := fmt.Sprintf("%d/%s", sp.Port, orTCP(sp.Protocol))
		if sp.Name != "" {
			s = sp.Name + "=" + s
		}
		parts = append(parts, s)
	}
	return scenarios.ServicePort{}, fmt.Errorf("service %s/%s has no %s port %q (it has %s)", svc.Namespace, svc.Name, proto, port, strings.Join(parts, ", "))
}

func targetPort(sp scenarios.ServicePort) string {
	if sp.TargetPort == "" {
		return strconv.Itoa(int(sp.Port))
	}
	return sp.TargetPort
}

// backendPort resolves a Service port's targetPort on backend p.
func backendPort(p *Pod, sp scenarios.ServicePort, proto corev1.Protocol) (int32, bool) {
	tp := targetPort(sp)
	if n, err := strconv.Atoi(tp); err == nil {
		return int32(n), true
	}
	return p.NamedPort(tp, proto)
}

func orTCP(p scenarios.Protocol) string {
	if p == "" {
		return string(scenarios.TCP)
	}
	return strings.ToUpper(string(p))
}
