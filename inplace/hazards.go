package inplace

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// Hazard is something in a live namespace that would notice a probe pod
// carrying given labels.
type Hazard struct {
	// Refuse: the pod must not be created (it would receive real traffic).
	Refuse bool
	// Object is "kind/name" of what would notice it.
	Object  string
	Message string
}

func (h Hazard) String() string { return h.Object + ": " + h.Message }

// Hazards lists what in namespace ns would notice a not-Ready pod carrying
// podLabels:
//
//   - a Service selecting it with publishNotReadyAddresses lists it as an
//     endpoint even though it is never Ready, so clients would reach the
//     probe pod instead of the workload: refused;
//   - a PodDisruptionBudget selecting it counts it while it exists (a few
//     seconds): a budget in percent or maxUnavailable then looks for its
//     controller, finds a ConfigMap, and may refuse evictions (a node drain)
//     until the pod is gone: a warning.
func Hazards(ctx context.Context, c kubernetes.Interface, ns string, podLabels map[string]string) ([]Hazard, error) {
	set := labels.Set(podLabels)
	var out []Hazard
	svcs, err := c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services in %s: %w", ns, err)
	}
	for _, s := range svcs.Items {
		if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(set) {
			continue
		}
		if s.Spec.PublishNotReadyAddresses {
			out = append(out, Hazard{Refuse: true, Object: "service/" + s.Name, Message: "selects these labels and publishes not-ready addresses, so it would send its clients' traffic to the probe pod; " +
				"check this source from a pod with fewer labels (a scenario pod with `labels:`) instead"})
		}
	}
	pdbs, err := c.PolicyV1().PodDisruptionBudgets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing PodDisruptionBudgets in %s: %w", ns, err)
	}
	for _, b := range pdbs.Items {
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(set) {
			continue
		}
		out = append(out, Hazard{Object: "poddisruptionbudget/" + b.Name, Message: "selects the probe pod while it exists (seconds); " +
			"evictions of the workload (a node drain) may be refused until it is gone"})
	}
	return out, nil
}
