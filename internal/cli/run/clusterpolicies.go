package run

// ClusterNetworkPolicies on the cluster a run runs on: whether the kind is
// served at all, the cluster's own (which also select the run's
// namespaces), and priorities for the scenarios' that cannot tie with them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/scenarios"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
)

// noClusterPolicies is why scenarios with ClusterNetworkPolicies are
// skipped on a cluster that does not serve the kind.
const noClusterPolicies = "the cluster does not serve ClusterNetworkPolicy (" + kube.ClusterNetworkPolicyGroupVersion + "; its CRD is not installed): the scenario's clusterNetworkPolicies cannot be applied"

// ReadPermissions are what a run reads when it may, to know more than
// Permissions let it: the cluster's own ClusterNetworkPolicies (where the
// kind is served; without them it warns and leaves them out), and the
// nodes' podCIDRs and the ServiceCIDRs (without them, ipBlocks that may
// cover pod or Service addresses are implementation-defined).
var ReadPermissions = []kube.Permission{
	{Verb: "list", Group: "policy.networking.k8s.io", Resource: "clusternetworkpolicies"},
	{Verb: "list", Resource: "nodes"},
	{Verb: "list", Group: "networking.k8s.io", Resource: "servicecidrs"},
}

// clusterPolicyPermissions are what a run of scenarios that declare
// ClusterNetworkPolicies needs besides Permissions.
var clusterPolicyPermissions = append([]kube.Permission{
	{Verb: "create", Group: "policy.networking.k8s.io", Resource: "clusternetworkpolicies"},
	{Verb: "delete", Group: "policy.networking.k8s.io", Resource: "clusternetworkpolicies"},
}, ReadPermissions[0])

// prepareClusterPolicies readies the scenarios for the ClusterNetworkPolicies
// of the live cluster t: where the kind is not served, scenarios declaring
// some are skipped (t.noClusterPolicies); otherwise the cluster's own are
// read, the scenarios' get priorities none of them has, and expectations
// the cluster's own decide otherwise than the scenario's policies say so.
func (o *options) prepareClusterPolicies(ctx context.Context, t *target) error {
	served, err := kube.ServesClusterNetworkPolicies(t.clients.Clientset)
	if err != nil {
		return err
	}
	if !served {
		t.noClusterPolicies = noClusterPolicies
		return nil
	}
	if declaresClusterPolicies(o.scs) {
		missing, err := kube.MissingPermissions(ctx, t.clients.Clientset, clusterPolicyPermissions)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			// the user's own scenarios ask for it; the built-in ones are
			// skipped (a scheduled report's role need not grant it)
			var mine []string
			for _, sc := range o.scs {
				if len(sc.Spec.ClusterNetworkPolicies) > 0 && !sc.Builtin {
					mine = append(mine, fmt.Sprintf("%q (%s)", sc.Metadata.Name, sc.Source))
				}
			}
			if len(mine) > 0 {
				return fmt.Errorf("scenario %s declares clusterNetworkPolicies: missing RBAC permissions (see README \"RBAC\"): %s", strings.Join(mine, ", "), strings.Join(missing, ", "))
			}
			t.noClusterPolicies = "no permission to " + strings.Join(missing, ", ") + ": the scenario's clusterNetworkPolicies cannot be applied"
		}
	}
	list, err := t.clients.Policies.PolicyV1alpha2().ClusterNetworkPolicies().List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		fmt.Fprintf(o.streams.ErrOut, "warning: cannot read the cluster's ClusterNetworkPolicies (%v): expectations do not take them into account\n", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the cluster's ClusterNetworkPolicies: %w", err)
	}
	var own []cnpv1.ClusterNetworkPolicy
	for _, c := range list.Items {
		if c.Labels[orchestrator.LabelManagedBy] == orchestrator.ManagedBy && c.Labels[orchestrator.LabelRunID] != "" {
			continue // another run's, confined to that run's namespaces
		}
		own = append(own, c)
	}
	t.clusterPolicies = own
	var notes []string
	if o.scs, notes, err = avoidPriorities(o.scs, own); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(o.streams.ErrOut, "note: %s\n", n)
	}
	if t.noClusterPolicies == "" {
		if err := serverAccepts(ctx, t.clients.Policies, o.scs); err != nil {
			return err
		}
	}
	var opts []policy.Option
	if t.ranges != nil {
		opts = append(opts, t.ranges)
	}
	o.scs, err = decidedByCluster(o.streams.ErrOut, o.scs, own, opts...)
	return err
}

// serverAccepts asks the API server, in a dry run, whether it takes every
// scenario's ClusterNetworkPolicies (its CRD's schema and rules may refuse
// what netverify's own checks accept, e.g. a field of the experimental
// channel that the standard CRD drops), so that a refused one is bad input
// — exit 2 — before anything is created.
func serverAccepts(ctx context.Context, c cnpclient.Interface, scs []*scenarios.Scenario) error {
	var errs []error
	for _, sc := range scs {
		for i := range sc.Spec.ClusterNetworkPolicies {
			cnp := sc.Spec.ClusterNetworkPolicies[i].DeepCopy()
			cnp.ObjectMeta = metav1.ObjectMeta{GenerateName: "netverify-check-", Labels: map[string]string{orchestrator.LabelManagedBy: orchestrator.ManagedBy}}
			_, err := c.PolicyV1alpha2().ClusterNetworkPolicies().Create(ctx, cnp, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: scenario %q: spec.clusterNetworkPolicies[%d] (%q): the API server refuses it: %w", sc.Source, sc.Metadata.Name, i, sc.Spec.ClusterNetworkPolicies[i].Name, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w; nothing was created", errors.Join(errs...))
	}
	return nil
}

func declaresClusterPolicies(scs []*scenarios.Scenario) bool {
	for _, sc := range scs {
		if len(sc.Spec.ClusterNetworkPolicies) > 0 {
			return true
		}
	}
	return false
}

// avoidPriorities returns scs with each scenario's ClusterNetworkPolicies
// moved, where needed, to priorities of their tier that none of the
// cluster's own has: two policies of one priority that select the same
// pods are ordered as the implementation likes. A scenario's order is kept
// (equal priorities stay equal) and a free priority is never lower than the
// one written. Scenarios that change are copies. A move past a priority
// the cluster uses changes which of the two comes first: a note says so.
func avoidPriorities(scs []*scenarios.Scenario, cluster []cnpv1.ClusterNetworkPolicy) ([]*scenarios.Scenario, []string, error) {
	var notes []string
	used := map[cnpv1.Tier]map[int32]bool{}
	for _, c := range cluster {
		if used[c.Spec.Tier] == nil {
			used[c.Spec.Tier] = map[int32]bool{}
		}
		used[c.Spec.Tier][c.Spec.Priority] = true
	}
	out := make([]*scenarios.Scenario, len(scs))
	for i, sc := range scs {
		out[i] = sc
		if len(sc.Spec.ClusterNetworkPolicies) == 0 || len(used) == 0 {
			continue
		}
		cp := *sc
		cp.Spec.ClusterNetworkPolicies = make([]cnpv1.ClusterNetworkPolicy, len(sc.Spec.ClusterNetworkPolicies))
		for j := range sc.Spec.ClusterNetworkPolicies {
			sc.Spec.ClusterNetworkPolicies[j].DeepCopyInto(&cp.Spec.ClusterNetworkPolicies[j])
		}
		for _, tier := range []cnpv1.Tier{cnpv1.AdminTier, cnpv1.BaselineTier} {
			var idx []int
			for j, c := range cp.Spec.ClusterNetworkPolicies {
				if c.Spec.Tier == tier {
					idx = append(idx, j)
				}
			}
			sort.SliceStable(idx, func(a, b int) bool {
				return cp.Spec.ClusterNetworkPolicies[idx[a]].Spec.Priority < cp.Spec.ClusterNetworkPolicies[idx[b]].Spec.Priority
			})
			last, lastWritten := int32(-1), int32(-1)
			for _, j := range idx {
				c := &cp.Spec.ClusterNetworkPolicies[j]
				p := c.Spec.Priority
				if p == lastWritten {
					c.Spec.Priority = last
					continue
				}
				lastWritten = p
				p = max(p, last+1)
				for used[tier][p] {
					p++
				}
				if p > 1000 {
					return nil, nil, fmt.Errorf("%s: scenario %q: ClusterNetworkPolicy %q: no %s priority from %d to 1000 is free of the cluster's own ClusterNetworkPolicies", sc.Source, sc.Metadata.Name, c.Name, tier, lastWritten)
				}
				for u := lastWritten + 1; u < p; u++ {
					if used[tier][u] {
						notes = append(notes, fmt.Sprintf("scenario %q: ClusterNetworkPolicy %q moves from %s priority %d to %d, past the cluster's own at %d, which now comes first", sc.Metadata.Name, c.Name, tier, lastWritten, p, u))
						break
					}
				}
				c.Spec.Priority, last = p, p
			}
		}
		out[i] = &cp
	}
	return out, notes, nil
}

// decidedByCluster returns scs with every expectation that the cluster's
// own ClusterNetworkPolicies decide otherwise than the scenario's policies
// alone changed to what they decide, with a note naming them: a guardrail
// of the cluster is reported as such, never as the CNI failing the
// scenario. A connection the cluster's policies alone already block gets
// no control probe (it cannot answer "without policy"). The scenarios'
// namespaces are taken as a run creates them (see asCreated). It prints
// one line per scenario whose expectations changed.
func decidedByCluster(w io.Writer, scs []*scenarios.Scenario, cluster []cnpv1.ClusterNetworkPolicy, opts ...policy.Option) ([]*scenarios.Scenario, error) {
	if len(cluster) == 0 {
		return scs, nil
	}
	out := make([]*scenarios.Scenario, len(scs))
	for i, sc := range scs {
		out[i] = sc
		if sc.InPlace() {
			continue // the live policies and the cluster's are tested together (see inplace.Live.Engine)
		}
		own := asCreated(sc) // the scenario's policies only
		with := *own         // and the cluster's
		with.Spec.ClusterNetworkPolicies = append(append([]cnpv1.ClusterNetworkPolicy{}, own.Spec.ClusterNetworkPolicies...), markClusters(cluster, sc)...)
		only := *own // the cluster's only: what holds before the run applies anything
		only.Spec.Policies, only.Spec.ClusterNetworkPolicies = nil, markClusters(cluster, sc)
		var exps []scenarios.Expectation
		changed, touched := 0, false
		for _, e := range sc.Spec.Expect {
			t, err := scenarios.ParseTarget(e.To)
			if err != nil || t.Kind == scenarios.TargetDNS || t.Kind == scenarios.TargetHost {
				exps = append(exps, e) // not decided offline
				continue
			}
			verdict := func(s *scenarios.Scenario) (policy.Explanation, error) {
				x, err := policy.Explain(s, e.From, e.To, e.Port, string(e.Protocol), opts...)
				if err != nil {
					return x, fmt.Errorf("%s: scenario %q: %s → %s: %w", sc.Source, sc.Metadata.Name, e.From, e.To, err)
				}
				return x, nil
			}
			alone, err := verdict(own)
			if err != nil {
				return nil, err
			}
			all, err := verdict(&with)
			if err != nil {
				return nil, err
			}
			before, err := verdict(&only)
			if err != nil {
				return nil, err
			}
			if before.Verdict != policy.Allowed {
				e.NoControl = "the cluster's own ClusterNetworkPolicies are in effect before the run"
				touched = true
			}
			if all.Verdict != alone.Verdict {
				changed++
				allowed := all.Verdict == policy.Allowed
				e.Allowed = &allowed
				e.ImplementationDefined = ""
				if all.Verdict == policy.ImplementationDefined {
					e.ImplementationDefined = lastLine(all.Text)
				}
				e.Note = "the cluster's own ClusterNetworkPolicies decide this connection, not the scenario's policies: " + lastLine(all.Text)
				touched = true
			}
			exps = append(exps, e)
		}
		if !touched {
			continue
		}
		if changed > 0 {
			fmt.Fprintf(w, "note: scenario %q: the cluster's own ClusterNetworkPolicies decide %d of its %d connections; they are checked as the cluster decides them\n", sc.Metadata.Name, changed, len(sc.Spec.Expect))
		}
		cp := *sc
		cp.Spec.Expect = exps
		out[i] = &cp
	}
	return out, nil
}

// asCreated returns a copy of sc whose namespaces carry the labels a run
// gives them (orchestrator.MakePlan), so that the cluster's own policies
// select them as they will select the real ones.
func asCreated(sc *scenarios.Scenario) *scenarios.Scenario {
	cp := *sc
	cp.Spec.Namespaces = make([]scenarios.Namespace, len(sc.Spec.Namespaces))
	for i, ns := range sc.Spec.Namespaces {
		l := map[string]string{}
		for k, v := range ns.Labels {
			l[k] = v
		}
		l[orchestrator.LabelManagedBy] = orchestrator.ManagedBy
		l[orchestrator.LabelRunID] = "run"
		l[orchestrator.LabelScenario] = sc.Metadata.Name
		l[orchestrator.LabelLogicalNamespace] = ns.Name
		l["pod-security.kubernetes.io/enforce"] = "restricted"
		ns.Labels = l
		cp.Spec.Namespaces[i] = ns
	}
	return &cp
}

// neverAName is a kubernetes.io/metadata.name value no namespace has (a
// valid label value, but not a DNS label: namespace names are lower case).
const neverAName = "Not_A_Namespace"

// markClusters returns copies of the cluster's ClusterNetworkPolicies, for
// the engine's view of scenario sc: named so that an explanation tells them
// from a scenario's, and with every kubernetes.io/metadata.name value that
// is one of sc's logical namespace names replaced by one no namespace has —
// the cluster's policies meet the run's real namespaces, whose names
// (<prefix>-<run id>-<n>-<logical name>) they cannot know.
func markClusters(cluster []cnpv1.ClusterNetworkPolicy, sc *scenarios.Scenario) []cnpv1.ClusterNetworkPolicy {
	logical := map[string]string{}
	for _, ns := range sc.Spec.Namespaces {
		logical[ns.Name] = neverAName
	}
	s := &scenarios.Scenario{Spec: scenarios.Spec{ClusterNetworkPolicies: cluster}}
	out := scenarios.RewriteClusterPolicies(s, logical)
	for i := range out {
		out[i].Name = "cluster:" + out[i].Name
	}
	return out
}

// lastLine is the verdict line that ends an explanation.
func lastLine(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.LastIndex(text, "\n"); i >= 0 {
		text = text[i+1:]
	}
	return strings.TrimSpace(text)
}
