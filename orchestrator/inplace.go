package orchestrator

// In-place checks: probe pods in existing namespaces, impersonating their
// workloads, probing live Services and workloads whose own policies are
// what is tested (see package inplace for why they cannot disturb them).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
)

// livePod plans a probe pod of an existing namespace: named
// "<prefix>-<run id>-<name>" (never a workload's pod name), carrying the
// impersonated workload's pod template labels (or the scenario's) and only
// the run's netverify.io labels — not app.kubernetes.io/managed-by, which
// workloads' own pods often carry and policies may select on.
func (p *Plan) livePod(scenario string, sp scenarios.Pod, o Options) (*PlannedPod, error) {
	podLabels := sp.Labels
	if sp.Impersonate != "" {
		ref, err := scenarios.ParseWorkloadRef(sp.Impersonate)
		if err != nil {
			return nil, fmt.Errorf("pod %s/%s: %w", sp.Namespace, sp.Name, err)
		}
		var ok bool
		if o.Live == nil {
			return nil, fmt.Errorf("pod %s/%s impersonates %s: the live cluster was not read (an in-place scenario needs a cluster)", sp.Namespace, sp.Name, ref)
		}
		if podLabels, ok = o.Live.Labels[inplace.WorkloadKey(sp.Namespace, ref)]; !ok {
			return nil, fmt.Errorf("pod %s/%s impersonates %s, which was not read from the cluster", sp.Namespace, sp.Name, ref)
		}
	}
	runLabels := map[string]string{LabelRunID: p.RunID, LabelScenario: scenario}
	for k, v := range runLabels {
		if w, ok := podLabels[k]; ok && w != v {
			return nil, fmt.Errorf("pod %s/%s: its label %s=%s would be replaced by the run's", sp.Namespace, sp.Name, k, w)
		}
	}
	owner := p.owner(sp.Namespace)
	named := sp
	named.Name = fmt.Sprintf("%s-%s-%s", o.NamespacePrefix, p.RunID, sp.Name)
	named.Labels = maps.Clone(podLabels)
	named.Ports = nil
	return &PlannedPod{Scenario: scenario, Logical: sp.Namespace + "/" + sp.Name, Spec: sp,
		Pod: probePod(sp.Namespace, named, runLabels, o), Owner: owner}, nil
}

// owner returns the run's owner ConfigMap of existing namespace ns,
// planning it on first use.
func (p *Plan) owner(ns string) *corev1.ConfigMap {
	for _, o := range p.Owners {
		if o.Namespace == ns {
			return o
		}
	}
	o := inplace.Owner(ns, p.RunID, map[string]string{LabelManagedBy: ManagedBy, LabelRunID: p.RunID})
	p.Owners = append(p.Owners, o)
	return o
}

// planLiveTarget resolves a live target from what was read of the
// cluster: a Service by its ClusterIP and port, a workload by its first
// running pod's IP and the port number.
func planLiveTarget(pr *PlannedProbe, live *inplace.Facts) error {
	if live == nil {
		return fmt.Errorf("to: %s is a live target: the cluster was not read (an in-place scenario needs a cluster)", pr.Expectation.To)
	}
	proto := corev1.Protocol(strings.ToUpper(pr.Protocol))
	switch pr.Target.Kind {
	case scenarios.TargetService:
		svc := live.Services[pr.Target.Namespace+"/"+pr.Target.Name]
		if svc == nil {
			return fmt.Errorf("to: service %s/%s was not read from the cluster", pr.Target.Namespace, pr.Target.Name)
		}
		sp, err := inplace.ServicePort(svc, pr.Expectation.Port, proto)
		if err != nil {
			return fmt.Errorf("port: %w", err)
		}
		pr.TargetService, pr.Port = svc, int(sp.Port)
	case scenarios.TargetWorkload:
		ref, err := scenarios.ParseWorkloadRef(pr.Target.Name)
		if err != nil {
			return fmt.Errorf("to: %w", err)
		}
		pods := live.Pods[inplace.WorkloadKey(pr.Target.Namespace, ref)]
		if len(pods) == 0 {
			return fmt.Errorf("to: %s in namespace %s has no running pod that was read", ref, pr.Target.Namespace)
		}
		pr.LivePod = &pods[0]
		n, err := inplace.ContainerPort(pr.LivePod, pr.Expectation.Port, proto)
		if err != nil {
			return fmt.Errorf("port: %w", err)
		}
		pr.Port = int(n)
	}
	return nil
}

// createOwners creates the owner ConfigMaps of the existing namespaces,
// recording each for the clean-up phase, and confines the probe pods there
// to them.
func (x *run) createOwners(ctx context.Context, plan *Plan) error {
	for _, o := range plan.Owners {
		o.Annotations[AnnotationHeartbeat] = time.Now().UTC().Format(time.RFC3339)
		created, err := x.client.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		if err != nil {
			return &InfraError{fmt.Errorf("creating ConfigMap %s/%s (the owner of the run's probe pods there): %w", o.Namespace, o.Name, err)}
		}
		x.createdOwners = append(x.createdOwners, created)
		o.UID = created.UID
	}
	for _, pp := range plan.Pods {
		if pp.Owner == nil {
			continue
		}
		if err := inplace.Confine(pp.Pod, pp.Owner); err != nil {
			return &InfraError{err}
		}
	}
	return nil
}

// cleanUpLive deletes the run's probe pods in existing namespaces and
// their owner ConfigMaps, and waits until the pods are gone: it touches
// only objects labelled with the run id.
func (x *run) cleanUpLive(ctx context.Context) error {
	var errs []error
	sel := LabelRunID + "=" + x.o.RunID
	for _, o := range x.createdOwners {
		if err := DeleteLive(ctx, x.client, o.Namespace, sel, true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteLive deletes the probe pods labelled sel in existing namespace ns
// and the run's owner ConfigMaps there (the garbage collector would remove
// the pods with them; deleting them at once is quicker), and with wait
// waits until the pods are gone or ctx ends.
func DeleteLive(ctx context.Context, c kubernetes.Interface, ns, sel string, wait bool) error {
	var errs []error
	grace := metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](1)}
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("listing the run's probe pods in %s: %w", ns, err)
	}
	for _, p := range pods.Items {
		if err := c.CoreV1().Pods(ns).Delete(ctx, p.Name, grace); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting probe pod %s/%s: %w", ns, p.Name, err))
		}
	}
	cms, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		errs = append(errs, fmt.Errorf("listing the run's ConfigMaps in %s: %w", ns, err))
	} else {
		for _, cm := range cms.Items {
			if cm.Labels[LabelManagedBy] != ManagedBy {
				continue
			}
			if err := c.CoreV1().ConfigMaps(ns).Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting ConfigMap %s/%s: %w", ns, cm.Name, err))
			}
		}
	}
	if !wait || len(errs) > 0 {
		return errors.Join(errs...)
	}
	for {
		left, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err == nil && len(left.Items) == 0 {
			return nil
		}
		if err := sleep(ctx, RealClock{}, 300*time.Millisecond); err != nil {
			return fmt.Errorf("probe pods in %s still terminating: %w", ns, err)
		}
	}
}

// witnesses: in place, nothing can be probed without the target's
// policies, so a blocked observation of a live target counts only when
// some probe of the run reached the same address and port: a witness that
// the target serves it there. Where no expectation of the run reached it,
// every pod of the scenario tries, as a control probe does (until one is
// answered, within the control budget; these probes are not reported).
// A blocked live target still without a witness is Inconclusive; one with
// a witness says who reached it.
func (x *run) witnesses(ctx context.Context, plan *Plan, states []*probeState) error {
	key := func(s *probeState) string { return fmt.Sprintf("%s %s/%d", s.req.Host, s.Protocol, s.req.Port) }
	reached := map[string]string{} // key → the source that reached it
	for _, s := range states {
		if s.sawAllowed && reached[key(s)] == "" {
			reached[key(s)] = s.Source.Logical
		}
	}
	var blocked []*probeState
	for _, s := range states {
		if s.Live && !s.Expectation.IsAllowed() && s.Expectation.ImplementationDefined == "" && observedBlocked(s.outcome) {
			blocked = append(blocked, s)
		}
	}
	var tries []*probeState
	asked := map[string]bool{}
	for _, s := range blocked {
		k := key(s)
		if reached[k] != "" || asked[k] {
			continue
		}
		asked[k] = true
		for _, pp := range plan.Pods {
			if pp.Scenario != s.Scenario || pp == s.Source {
				continue
			}
			w := &probeState{PlannedProbe: ptrTo(*s.PlannedProbe), req: s.req, outcome: Pending{}}
			w.Source = pp
			w.req.ID = fmt.Sprintf("w%d", len(tries))
			tries = append(tries, w)
		}
	}
	if len(tries) > 0 {
		x.progress("witnesses: %d probes for %d live targets seen blocked", len(tries), len(asked))
		if err := x.rounds(ctx, tries, x.o.ControlBudget, controlObservations, controlRule{}); err != nil {
			return err
		}
		for _, w := range tries {
			if w.sawAllowed && reached[key(w)] == "" {
				reached[key(w)] = w.Source.Logical
			}
		}
	}
	for _, s := range blocked {
		if by := reached[key(s)]; by != "" {
			s.Expectation.Note = strings.TrimPrefix(s.Expectation.Note+"; the target answered "+by+" in this run", "; ")
			continue
		}
		s.outcome = Inconclusive{Why: fmt.Sprintf("%s: blocked, but nothing in this run reached %s %d/%s (every pod of the scenario tried): the target may not serve it; "+
			"add a source the policies admit (allowed: true)", results.ReasonNoWitness, s.Expectation.To, s.req.Port, strings.ToUpper(s.Protocol))}
	}
	return nil
}

// observedBlocked: the outcome stands on a blocked observation.
func observedBlocked(o Outcome) bool {
	switch o := o.(type) {
	case Settled:
		return o.Response.Verdict == results.Blocked
	case Unsettled:
		return o.Response.Verdict == results.Blocked
	}
	return false
}

// liveNamespaces are the existing namespaces a probe checked in place: its
// source's and its live target's.
func liveNamespaces(s *probeState) []string {
	var out []string
	if s.Source != nil && s.Source.Owner != nil {
		out = append(out, s.Source.Pod.Namespace)
	}
	if s.Live && !slices.Contains(out, s.Target.Namespace) {
		out = append(out, s.Target.Namespace)
	}
	return out
}
