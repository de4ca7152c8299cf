package inplace

// Witnesses: in place nothing can be probed without the target's
// policies, so a block of a live target counts only when something in the
// run reached it. A zero-config run adds, for each target no row is
// expected to reach, a source its own ingress rules admit.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/scenarios"
)

// candidate is a witness source made from an ingress rule's peer: a pod
// with Labels in a namespace the run creates with NSLabels, or (Existing)
// in that existing namespace.
type candidate struct {
	Namespace string
	Existing  bool
	NSLabels  map[string]string
	Labels    map[string]string
}

// addWitnesses adds to sc, for each probed target of rows that no row is
// expected to reach, a source its ingress rules admit — the engine must
// say every backend is allowed from it — and the allowed expectation
// from that source: its answer is the witness the blocked rows need.
func (l *Live) addWitnesses(sc *scenarios.Scenario, rows []Row, engineOpts []policy.Option) error {
	reached := map[string]bool{}
	var targets []Row
	for _, r := range rows {
		if r.To.Protocol != corev1.ProtocolTCP || len(r.Backends) == 0 {
			continue
		}
		k := r.To.String()
		if r.Verdict() == policy.Allowed {
			reached[k] = true
		}
		if !slices.ContainsFunc(targets, func(t Row) bool { return t.To.String() == k }) {
			targets = append(targets, r)
		}
	}
	checked := map[string]bool{}
	for _, ns := range sc.Spec.Namespaces {
		checked[ns.Name] = ns.Existing
	}
	n := 0
	for _, t := range targets {
		if reached[t.To.String()] {
			continue
		}
		for _, c := range l.candidates(t.Backends[0].Pod) {
			if c.Existing && !checked[c.Namespace] {
				continue // probe pods go only where the run was asked to check
			}
			ns := c.Namespace
			if !c.Existing {
				ns = fmt.Sprintf("witness-%d", n+1)
			}
			nsLabels := maps.Clone(c.NSLabels)
			if !c.Existing {
				if nsLabels == nil {
					nsLabels = map[string]string{}
				}
				nsLabels[corev1.LabelMetadataName] = ns
			}
			eng, err := l.engineWith([]policy.Namespace{{Name: Outsider, Labels: map[string]string{corev1.LabelMetadataName: Outsider}}, {Name: ns, Labels: nsLabels}}, engineOpts...)
			if err != nil {
				return err
			}
			from := &policy.Pod{Namespace: ns, Name: "witness", Labels: c.Labels}
			var decisions []Backend
			admitted := true
			for _, b := range t.Backends {
				d, err := eng.Decide(policy.Peer{Pod: from}, policy.Peer{Pod: &b.Pod}, b.Port, t.To.Protocol)
				if err != nil {
					return err
				}
				admitted = admitted && d.Verdict == policy.Allowed
				b.Decision = d
				decisions = append(decisions, b)
			}
			if !admitted {
				continue
			}
			n++
			pod := scenarios.Pod{Name: fmt.Sprintf("witness-%d", n), Namespace: ns, Labels: c.Labels}
			if !c.Existing {
				delete(nsLabels, corev1.LabelMetadataName) // (Kubernetes sets it)
				sc.Spec.Namespaces = append(sc.Spec.Namespaces, scenarios.Namespace{Name: ns, Labels: nsLabels})
				pod.Name = "witness"
			}
			sc.Spec.Pods = append(sc.Spec.Pods, pod)
			e := scenarios.Expectation{Name: "witness of " + t.To.String(), From: ns + "/" + pod.Name, Protocol: scenarios.TCP,
				Port: fmt.Sprint(t.To.Port)}
			if t.To.Service != nil {
				e.To = "svc:" + t.To.Namespace + "/" + t.To.Service.Name
			} else {
				e.To = "workload:" + t.To.Namespace + "/" + t.To.Workload.Ref.String()
			}
			decide(&e, decisions)
			sc.Spec.Expect = append(sc.Spec.Expect, e)
			reached[t.To.String()] = true
			break
		}
	}
	return nil
}

// candidates are the sources the ingress rules selecting pod name: for
// each peer of a rule, a pod with its podSelector's labels in a namespace
// with its namespaceSelector's labels (a new one), or, for a peer without
// a namespaceSelector, in the policy's namespace. Selectors with
// expressions are left out: their labels cannot be read off.
func (l *Live) candidates(pod policy.Pod) []candidate {
	var out []candidate
	for _, np := range l.Policies {
		if np.Namespace != pod.Namespace || !ingress(&np) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		for _, rule := range np.Spec.Ingress {
			for _, peer := range rule.From {
				c, ok := fromPeer(np.Namespace, peer)
				if ok {
					out = append(out, c)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b candidate) int { return strings.Compare(fmt.Sprint(a.Existing), fmt.Sprint(b.Existing)) }) // new namespaces first: no egress policy of their own
	return out
}

func fromPeer(policyNS string, peer networkingv1.NetworkPolicyPeer) (candidate, bool) {
	if peer.IPBlock != nil || !onlyLabels(peer.PodSelector) || !onlyLabels(peer.NamespaceSelector) {
		return candidate{}, false
	}
	c := candidate{Namespace: policyNS, Existing: true}
	if peer.PodSelector != nil {
		c.Labels = maps.Clone(peer.PodSelector.MatchLabels)
	}
	if peer.NamespaceSelector != nil {
		c.Existing, c.Namespace = false, ""
		c.NSLabels = maps.Clone(peer.NamespaceSelector.MatchLabels)
		if name, ok := c.NSLabels[corev1.LabelMetadataName]; ok {
			c.Existing, c.Namespace, c.NSLabels = true, name, nil
		}
	}
	for k := range c.Labels {
		if strings.HasPrefix(k, "netverify.io/") || k == "app.kubernetes.io/managed-by" {
			return candidate{}, false // (reserved for the run's own labels)
		}
	}
	for k := range c.NSLabels {
		if strings.HasPrefix(k, "netverify.io/") || k == "app.kubernetes.io/managed-by" || strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			return candidate{}, false
		}
	}
	return c, true
}

func onlyLabels(s *metav1.LabelSelector) bool { return s == nil || len(s.MatchExpressions) == 0 }

func ingress(np *networkingv1.NetworkPolicy) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return true
	}
	return slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
}
