package orchestrator

// ClusterNetworkPolicies of scenarios: a ClusterNetworkPolicy is
// cluster-scoped, so the run confines each one to its scenario's own
// namespaces, names it after the run, and deletes it on every path.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
)

// planClusterPolicies adds the scenario's ClusterNetworkPolicies to the
// plan: logical namespace names replaced by the run's (as for
// NetworkPolicies), a run-unique name, the run's labels, and the subject
// narrowed to the scenario's own namespaces whatever the scenario wrote — so
// a scenario's policy never changes the traffic of a pod outside it.
func (p *Plan) planClusterPolicies(idx int, sc *scenarios.Scenario, nsNames map[string]string, o Options) {
	own := make([]string, 0, len(nsNames))
	for _, real := range nsNames {
		own = append(own, real)
	}
	sort.Strings(own)
	for _, cnp := range scenarios.RewriteClusterPolicies(sc, nsNames) {
		cnp.ObjectMeta = metav1.ObjectMeta{
			Name:   clusterPolicyName(o.NamespacePrefix, p.RunID, idx, cnp.Name),
			Labels: p.baseLabels(sc.Metadata.Name),
			Annotations: map[string]string{
				AnnotationScenarioPolicy: cnp.Name,
			},
		}
		confine(&cnp.Spec.Subject, own)
		p.ClusterPolicies = append(p.ClusterPolicies, cnp)
	}
}

// AnnotationScenarioPolicy names the scenario's own name of a
// ClusterNetworkPolicy the run created.
const AnnotationScenarioPolicy = "netverify.io/policy"

// clusterPolicyName is a name no other run and no other scenario of the
// run uses, at most 63 characters (like the run's namespaces).
func clusterPolicyName(prefix, runID string, idx int, name string) string {
	n := fmt.Sprintf("%s-%s-%d-%s", prefix, runID, idx, name)
	if len(n) > 63 {
		sum := sha256.Sum256([]byte(name))
		n = strings.TrimRight(n[:54], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
	}
	return n
}

// confine narrows a subject to the namespaces named: a term on their
// kubernetes.io/metadata.name label (which only the API server sets) is
// added to its namespace selector, so it selects at most what it selected
// before, and only there.
func confine(s *cnpv1.ClusterNetworkPolicySubject, namespaces []string) {
	term := metav1.LabelSelectorRequirement{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: slices.Clone(namespaces)}
	switch {
	case s.Pods != nil:
		s.Pods.NamespaceSelector.MatchExpressions = append(s.Pods.NamespaceSelector.MatchExpressions, term)
	case s.Namespaces != nil:
		s.Namespaces.MatchExpressions = append(s.Namespaces.MatchExpressions, term)
	default:
		// the loader rejects a subject with neither; never select everything
		s.Namespaces = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{term}}
	}
}

// applyClusterPolicies creates the plan's ClusterNetworkPolicies, recording
// each one for the clean-up phase.
func (x *run) applyClusterPolicies(ctx context.Context, plan *Plan) error {
	if len(plan.ClusterPolicies) == 0 {
		return nil
	}
	if x.policies == nil {
		return &InfraError{errors.New("the run has ClusterNetworkPolicies but no client for them")}
	}
	x.createsCNPs = true
	for i := range plan.ClusterPolicies {
		cnp := &plan.ClusterPolicies[i]
		if _, err := x.policies.PolicyV1alpha2().ClusterNetworkPolicies().Create(ctx, cnp, metav1.CreateOptions{}); err != nil {
			return &InfraError{fmt.Errorf("creating ClusterNetworkPolicy %s (%q of scenario %s): %w", cnp.Name, cnp.Annotations[AnnotationScenarioPolicy], cnp.Labels[LabelScenario], err)}
		}
		x.createdCNPs = append(x.createdCNPs, cnp.Name)
	}
	return nil
}

// cleanUpClusterPolicies deletes the run's ClusterNetworkPolicies: those
// it created and any other carrying its run id (a create whose answer was
// lost).
func (x *run) cleanUpClusterPolicies(ctx context.Context) error {
	if x.policies == nil || !x.createsCNPs {
		return nil
	}
	names := slices.Clone(x.createdCNPs)
	list, err := x.policies.PolicyV1alpha2().ClusterNetworkPolicies().List(ctx, metav1.ListOptions{LabelSelector: RunSelector(x.o.RunID)})
	if err == nil {
		for _, c := range list.Items {
			if !slices.Contains(names, c.Name) {
				names = append(names, c.Name)
			}
		}
	} else {
		// one whose create answer was lost may be left: say so
		err = fmt.Errorf("listing the run's ClusterNetworkPolicies: %w", err)
	}
	return errors.Join(err, DeleteClusterPolicies(ctx, x.policies, names))
}

// DeleteClusterPolicies deletes the named ClusterNetworkPolicies; one
// already gone is not an error.
func DeleteClusterPolicies(ctx context.Context, c cnpclient.Interface, names []string) error {
	var errs []error
	for _, n := range names {
		err := c.PolicyV1alpha2().ClusterNetworkPolicies().Delete(ctx, n, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting ClusterNetworkPolicy %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// LeftoverClusterPolicy is a ClusterNetworkPolicy of a netverify run.
type LeftoverClusterPolicy struct {
	Name  string
	RunID string
}

// FindLeftoverClusterPolicies lists the ClusterNetworkPolicies of netverify
// runs that are not live (live holds the run ids to leave alone) or, when
// runID is set, those of that run. A cluster that does not serve the kind
// has none.
func FindLeftoverClusterPolicies(ctx context.Context, c cnpclient.Interface, runID string, live []string) ([]LeftoverClusterPolicy, error) {
	sel := AnyRunSelector()
	if runID != "" {
		sel = RunSelector(runID)
	}
	list, err := c.PolicyV1alpha2().ClusterNetworkPolicies().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing netverify ClusterNetworkPolicies: %w", err)
	}
	var out []LeftoverClusterPolicy
	for _, cnp := range list.Items {
		id := cnp.Labels[LabelRunID]
		if runID == "" && slices.Contains(live, id) {
			continue
		}
		out = append(out, LeftoverClusterPolicy{Name: cnp.Name, RunID: id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
