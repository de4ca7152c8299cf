package policy

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

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
