package policy

// This file checks scenarios against their policies: Lint (a scenario's
// hand-written expectations the policies contradict) and LintIsolation (the
// "namespace isolation" policy that also cuts same-namespace traffic).

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

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

// Lint compares the scenario's hand-written expectations with its policies
// and returns a Finding for every expectation the policies contradict: the
// expectation says allowed and the engine says definitely Blocked, or the
// reverse. An ImplementationDefined decision is never a contradiction. An
// expectation declared implementation-defined (`implementationDefined:`)
// that passes one outcome only is checked like one that expects it; one
// that passes both gets a finding when the policies decide the connection
// all the same (it would check nothing).
//
// Pod targets are decided directly. A Service target is decided for each
// scenario pod the Service selects (only the expected backend, when the
// expectation names one and expects allowed), on the Service port's
// targetPort, addressed to the Service's ClusterIP; it is a contradiction
// when the engine says the opposite for every such backend. For an ip:
// target only the source's egress counts. host: and dns: targets are
// skipped: their addresses (for dns:, the cluster's DNS server in
// kube-system) are not known offline.
//
// Without the cluster's ranges (WithClusterRanges) the pods' and Services'
// addresses are unknown, so an ipBlock that may cover them makes the
// connection implementation-defined, never a contradiction; with them, an
// ipBlock that excludes them gives a definite answer to check against.
//
// Two more findings need no engine: a scenario with policies but no
// blocked expectation (nothing would prove its policies in effect; Index
// -1), and every SCTP expectation (not probed, so reported as skipped).
//
// The notes of LintIsolation on the scenario's policies come first, as
// findings with Index -1. Lint fails only when the scenario does not build
// an engine (an invalid policy) or an expectation does not resolve, which a
// loaded scenario never does.
func Lint(sc *scenarios.Scenario, opts ...Option) ([]Finding, error) {
	m, err := newScenarioModel(sc, opts)
	if err != nil {
		return nil, err
	}
	name := sc.Metadata.Name
	var findings []Finding
	for _, note := range LintIsolation(m.policies, m.namespaces, m.pods) {
		findings = append(findings, Finding{Scenario: name, Index: -1, Message: note})
	}
	if note := noProofOfEffect(sc); note != "" {
		findings = append(findings, Finding{Scenario: name, Index: -1, Message: note})
	}
	for i, e := range sc.Spec.Expect {
		if e.Protocol == scenarios.SCTP {
			findings = append(findings, Finding{Scenario: name, Index: i, Message: "SCTP is not probed: the probe program cannot open SCTP connections, so this expectation will be reported as skipped, not checked"})
			continue
		}
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

// noProofOfEffect returns a note when the scenario has policies but no
// expectation they block (SCTP ones are not probed): on a cluster that
// ignores NetworkPolicy every expectation would still pass, so passing
// proves nothing about enforcement.
func noProofOfEffect(sc *scenarios.Scenario) string {
	if len(sc.Spec.Policies) == 0 && len(sc.Spec.ClusterNetworkPolicies) == 0 {
		return ""
	}
	for _, e := range sc.Spec.Expect {
		if e.Allowed != nil && !*e.Allowed && e.Protocol != scenarios.SCTP {
			return ""
		}
	}
	return "no expectation is blocked: a cluster that ignores NetworkPolicy passes every check, so a pass proves nothing about enforcement; add a connection the policies block (allowed: false)"
}

// lintExpectation returns a message when the policies contradict e, and ""
// otherwise.
func (m *scenarioModel) lintExpectation(e scenarios.Expectation) (string, error) {
	ds, err := m.expectationDecisions(e)
	if err != nil || len(ds) == 0 {
		return "", err
	}
	proto := corev1.Protocol(orTCP(e.Protocol))
	conn := fmt.Sprintf("%s → %s %s/%s", e.From, e.To, e.Port, proto)
	if e.Name != "" {
		conn = fmt.Sprintf("%q (%s)", e.Name, conn)
	}
	scope := ""
	if ds[0].backend != "" {
		switch {
		case len(ds) > 1:
			scope = "for every backend"
		case e.Backend != "" && (e.IsAllowed() || e.ImplementationDefined != ""):
			scope = "for the expected backend"
		default:
			scope = "for its only backend"
		}
	}
	var reasons []string
	for _, d := range ds {
		reasons = append(reasons, d.text())
	}
	if e.ImplementationDefined != "" {
		// Every outcome passes: a finding only when nothing is left open.
		v := ds[0].Verdict
		for _, d := range ds {
			if d.Verdict != v || v == ImplementationDefined {
				return "", nil
			}
		}
		s := fmt.Sprintf("%s is declared implementation-defined, but the policies decide it: %s on every implementation", conn, v)
		if scope != "" {
			s += " " + scope
		}
		return fmt.Sprintf("%s (check it with allowed: %t): %s", s, v == Allowed, strings.Join(reasons, " | ")), nil
	}
	want := e.IsAllowed()
	for _, d := range ds {
		if !contradicts(d.Decision, want) {
			return "", nil
		}
	}
	return contradiction(conn, want, ds[0].Verdict, scope) + ": " + strings.Join(reasons, " | "), nil
}

// scopedDecision is the engine's decision for an expectation, or for one
// backend of its Service target.
type scopedDecision struct {
	Decision
	backend string // "backend ns/pod port N/PROTO" for a Service target
}

func (d scopedDecision) text() string {
	if d.backend == "" {
		return d.Reason
	}
	return d.backend + ": " + d.Reason
}

// expectationDecisions decides the connection of e: one decision for a pod
// or ip: target; one per backend that can answer for a Service target (only
// the expected backend, when e names one and does not expect blocked);
// none for dns: and host: targets, whose addresses are unknown offline.
func (m *scenarioModel) expectationDecisions(e scenarios.Expectation) ([]scopedDecision, error) {
	src, err := m.resolvePod(e.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	t, err := scenarios.ParseTarget(e.To)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	proto := corev1.Protocol(orTCP(e.Protocol))
	switch t.Kind {
	case scenarios.TargetPod:
		dst, err := m.resolvePod(qualifiedRef(t))
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		number, err := podPort(dst, e.Port, proto)
		if err != nil {
			return nil, fmt.Errorf("port: %w", err)
		}
		d, err := m.decide(Peer{Pod: src}, Peer{Pod: dst}, number, proto)
		return []scopedDecision{{Decision: d}}, err
	case scenarios.TargetService:
		svc, err := m.sc.ResolveService(qualifiedRef(t))
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		sp, err := servicePort(svc, e.Port, proto)
		if err != nil {
			return nil, fmt.Errorf("port: %w", err)
		}
		only := ""
		if e.IsAllowed() || e.ImplementationDefined != "" {
			only = e.Backend
		}
		var out []scopedDecision
		for _, dst := range m.backends(svc, only) {
			number, ok := backendPort(dst, sp, proto)
			if !ok {
				continue // it cannot answer: not the policies' doing
			}
			d, err := m.decide(Peer{Pod: src}, serviceBackend(svc, dst), number, proto)
			if err != nil {
				return nil, err
			}
			out = append(out, scopedDecision{Decision: d, backend: fmt.Sprintf("backend %s port %d/%s", dst, number, proto)})
		}
		return out, nil
	case scenarios.TargetIP:
		number, err := strconv.Atoi(e.Port)
		if err != nil || number < 1 || number > 65535 {
			return nil, fmt.Errorf("port: %q is not a port number", e.Port)
		}
		d, err := m.decide(Peer{Pod: src}, Peer{IP: t.Name}, int32(number), proto)
		return []scopedDecision{{Decision: d}}, err
	}
	// dns: and host: targets: the address is unknown offline.
	return nil, nil
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

// LintIsolation returns one note per policy and direction where a policy
// whose name says it isolates (it contains "isolat", e.g.
// "namespace-isolation") cuts traffic between pods of its own namespace.
//
// That is the common hardening-guide mistake: podSelector {}, policyTypes
// [Ingress] and `ingress: []` denies every source, the namespace's own pods
// included. The isolating version keeps them:
// `ingress: [{from: [{podSelector: {}}]}]`. A direction counts as keeping
// same-namespace traffic when some rule of the policy admits every pod of
// its namespace on at least one port: a rule without from/to, or a peer with
// an empty (or no) podSelector and no namespaceSelector, or a
// namespaceSelector that matches the policy's own namespace.
//
// No note is given when another policy of the namespace that selects all
// its pods (podSelector {}) admits them for that direction, as the usual
// "allow-same-namespace" companion does.
//
// namespaces supplies labels for namespaceSelectors; pods, when given, are
// used to name an example of a cut connection. Invalid policies are skipped
// (NewEngine reports them). The notes are in policy order.
func LintIsolation(policies []networkingv1.NetworkPolicy, namespaces []Namespace, pods []Pod) []string {
	nsLabels := namespaceLabels(namespaces)
	var compiled []*compiledPolicy
	for i := range policies {
		if cp, err := compilePolicy(&policies[i]); err == nil {
			compiled = append(compiled, cp)
		}
	}
	var notes []string
	for _, cp := range compiled {
		if !strings.Contains(strings.ToLower(cp.name), "isolat") {
			continue
		}
		own := nsLabels[cp.namespace]
		if own == nil {
			own = withNameLabel(cp.namespace, nil)
		}
		for _, dir := range []Direction{Ingress, Egress} {
			if dir == Ingress && !cp.ingress || dir == Egress && !cp.egress {
				continue
			}
			if admitsOwnNamespace(cp.rules(dir), own) || restoredByOther(compiled, cp, dir, own) {
				continue
			}
			field, peers := "ingress", "from"
			if dir == Egress {
				field, peers = "egress", "to"
			}
			note := fmt.Sprintf("policy %s isolates its pods for %s but none of its %s rules admits the pods of its own namespace %q, so it also cuts same-namespace traffic",
				cp, dir, field, cp.namespace)
			if ex := exampleCut(cp, dir, pods); ex != "" {
				note += " (e.g. " + ex + ")"
			}
			note += fmt.Sprintf("; to isolate the namespace but keep traffic inside it, use `%s: [{%s: [{podSelector: {}}]}]`", field, peers)
			notes = append(notes, note)
		}
	}
	return notes
}

// admitsOwnNamespace reports whether a rule admits every pod of the
// policy's namespace (whose labels are own) on some port.
func admitsOwnNamespace(rules []compiledRule, own labels.Set) bool {
	for _, r := range rules {
		if r.allPeers {
			return true
		}
		for _, p := range r.peers {
			if p.block != nil || p.pods != nil && !p.pods.Empty() {
				continue
			}
			if p.namespaces == nil || p.namespaces.Matches(own) {
				return true
			}
		}
	}
	return false
}

// restoredByOther reports whether another policy of cp's namespace selects
// all its pods for dir and admits the whole namespace.
func restoredByOther(compiled []*compiledPolicy, cp *compiledPolicy, dir Direction, own labels.Set) bool {
	for _, other := range compiled {
		if other == cp || other.namespace != cp.namespace || !other.selector.Empty() {
			continue
		}
		if dir == Ingress && !other.ingress || dir == Egress && !other.egress {
			continue
		}
		if admitsOwnNamespace(other.rules(dir), own) {
			return true
		}
	}
	return false
}

// exampleCut names a same-namespace connection the policy isolates, such as
// "x/a → x/b", or returns "".
func exampleCut(cp *compiledPolicy, dir Direction, pods []Pod) string {
	for i := range pods {
		for j := range pods {
			src, dst := &pods[i], &pods[j]
			if i == j || src.Namespace != cp.namespace || dst.Namespace != cp.namespace || src.HostNetwork || dst.HostNetwork {
				continue
			}
			subject := dst
			if dir == Egress {
				subject = src
			}
			if cp.appliesTo(subject, dir) {
				return src.String() + " → " + dst.String()
			}
		}
	}
	return ""
}
