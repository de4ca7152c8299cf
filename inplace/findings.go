package inplace

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Findings are what the live policies of the checked namespaces say
// besides the rows: a policy whose podSelector selects no pod (a typo
// protects no one: the workload it was meant for is open), a peer whose
// podSelector matches no pod of its namespace, a namespaceSelector that
// matches no namespace (e.g. name=kube-system, a label kube-system does not
// carry). Each names the policy and the rule.
func (l *Live) Findings() []string {
	var out []string
	for _, np := range l.Policies {
		if !l.checkedNS(np.Namespace) {
			continue
		}
		ref := np.Namespace + "/" + np.Name
		if sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err == nil && !sel.Empty() && !l.anyPod(np.Namespace, sel) {
			out = append(out, fmt.Sprintf("%s: podSelector %s selects no pod in %s: the policy protects nothing (a typo?)", ref, sel, np.Namespace))
		}
		for i, r := range np.Spec.Ingress {
			out = append(out, l.peerFindings(fmt.Sprintf("%s ingress[%d].from", ref, i), np.Namespace, r.From)...)
		}
		for i, r := range np.Spec.Egress {
			out = append(out, l.peerFindings(fmt.Sprintf("%s egress[%d].to", ref, i), np.Namespace, r.To)...)
		}
	}
	return out
}

func (l *Live) peerFindings(where, policyNS string, peers []networkingv1.NetworkPolicyPeer) []string {
	var out []string
	for j, p := range peers {
		at := fmt.Sprintf("%s[%d]", where, j)
		var nsMatch []string
		if p.NamespaceSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
			if err != nil {
				continue
			}
			for _, ns := range l.Namespaces {
				if sel.Matches(labels.Set(ns.Labels)) {
					nsMatch = append(nsMatch, ns.Name)
				}
			}
			if len(nsMatch) == 0 {
				out = append(out, fmt.Sprintf("%s: namespaceSelector %s matches no namespace: the rule admits no one", at, sel))
				continue
			}
		} else if p.PodSelector != nil {
			nsMatch = []string{policyNS}
		}
		if p.PodSelector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.PodSelector)
		if err != nil || sel.Empty() {
			continue
		}
		known := true // pods are known in the checked namespaces only
		for _, ns := range nsMatch {
			known = known && l.checkedNS(ns)
		}
		found := false
		for _, ns := range nsMatch {
			found = found || l.anyPod(ns, sel)
		}
		if known && !found {
			out = append(out, fmt.Sprintf("%s: podSelector %s matches no pod in %s: the rule admits no one (a typo?)", at, sel, strings.Join(nsMatch, ", ")))
		}
	}
	return out
}

func (l *Live) checkedNS(ns string) bool { return slices.Contains(l.Checked, ns) }

func (l *Live) anyPod(ns string, sel labels.Selector) bool {
	for _, p := range l.Pods {
		if p.Namespace == ns && sel.Matches(labels.Set(p.Labels)) {
			return true
		}
	}
	return false
}
