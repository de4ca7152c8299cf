package orchestrator

// The create, wait and clean-up phases: everything the run puts in the
// cluster, and its removal.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netverify/netverify/inplace"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// createNamespaces creates the plan's namespaces, recording each one
// created for the clean-up phase, then copies the image pull secrets into
// them.
func (x *run) createNamespaces(ctx context.Context, plan *Plan) error {
	x.progress("run %s: creating %d namespaces, %d pods, %d services", x.o.RunID, len(plan.Namespaces), len(plan.Pods), len(plan.Services))
	for _, ns := range plan.Namespaces {
		ns = ns.DeepCopy()
		ns.Annotations = map[string]string{AnnotationHeartbeat: time.Now().UTC().Format(time.RFC3339)}
		if _, err := x.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return &InfraError{fmt.Errorf("creating namespace %s: %w", ns.Name, err)}
		}
		x.created = append(x.created, ns.Name)
	}
	if err := x.waitServiceAccounts(ctx); err != nil {
		return err
	}
	return x.copyPullSecrets(ctx, x.created)
}

// waitServiceAccounts waits until every new namespace has its "default"
// ServiceAccount: the API server refuses pods in a namespace whose service
// account the controller-manager has not created yet (as upstream's e2e
// framework, which waits for it too).
func (x *run) waitServiceAccounts(ctx context.Context) error {
	deadline := x.clock.Now().Add(x.o.ReadyTimeout)
	for _, ns := range x.created {
		for {
			_, err := x.client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			if err == nil {
				break
			}
			if !apierrors.IsNotFound(err) && !retriable(err) {
				return &InfraError{fmt.Errorf("reading the default service account of %s: %w", ns, err)}
			}
			if x.clock.Now().After(deadline) {
				return &InfraError{fmt.Errorf("namespace %s has no default service account after %s: is the controller-manager running? (%v)", ns, x.o.ReadyTimeout, err)}
			}
			if err := sleep(ctx, x.clock, 200*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanupTimeout bounds the clean-up phase: deleting a run's namespaces
// waits for every pod in them to be gone, which a busy node (many pods
// ending at once, the CNI tearing down each endpoint) can take minutes to
// finish.
const cleanupTimeout = 4 * time.Minute

// cleanUp deletes the run's namespaces (and so everything in them) and
// waits until they are gone, with its own deadline even when ctx was
// cancelled. It also deletes what the server created for a request whose
// answer was lost (cancelled mid-create), found by the run's label. With
// x.keep (Options.Keep) it only says how to remove them.
func (x *run) cleanUp(ctx context.Context) error {
	if x.keep {
		fmt.Fprintf(x.o.Log, "--keep=%s: leaving the run's namespaces; remove them with: kubectl delete namespace -l %s\n", x.o.Keep, RunSelector(x.o.RunID))
		for _, o := range x.createdOwners {
			fmt.Fprintf(x.o.Log, "--keep=%s: leaving the run's probe pods in %s; remove them with: kubectl delete configmap -n %s %s (its pods go with it)\n", x.o.Keep, o.Namespace, o.Namespace, o.Name)
		}
		if len(x.createdCNPs) > 0 {
			// confined to the kept namespaces, they keep the repro lines true
			fmt.Fprintf(x.o.Log, "--keep=%s: leaving the run's ClusterNetworkPolicies too; remove them with: kubectl delete clusternetworkpolicies -l %s\n", x.o.Keep, RunSelector(x.o.RunID))
		}
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	// the ClusterNetworkPolicies first: they must not outlive their namespaces
	cnpErr := x.cleanUpClusterPolicies(cctx)
	liveErr := x.cleanUpLive(cctx)
	names := slices.Clone(x.created)
	if list, err := x.client.CoreV1().Namespaces().List(cctx, metav1.ListOptions{LabelSelector: RunSelector(x.o.RunID)}); err == nil {
		for _, ns := range list.Items {
			if !slices.Contains(names, ns.Name) {
				names = append(names, ns.Name)
			}
		}
	}
	if err := errors.Join(cnpErr, liveErr, DeleteNamespaces(cctx, x.client, names, true)); err != nil {
		fmt.Fprintf(x.o.Log, "cleanup of run %s incomplete: %v (run `%s`)\n", x.o.RunID, err, x.o.CleanupCommand)
		return &InfraError{fmt.Errorf("cleanup: %w", err)}
	}
	return nil
}

// heartbeat refreshes the run's heartbeat annotation so `netverify cleanup`
// can tell a live run from a killed one.
func (x *run) heartbeat(ctx context.Context, namespaces []string) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationHeartbeat, time.Now().UTC().Format(time.RFC3339))
			for _, ns := range namespaces {
				_, _ = x.client.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			}
			for _, o := range x.createdOwners { // (complete before the heartbeat starts)
				_, _ = x.client.CoreV1().ConfigMaps(o.Namespace).Patch(ctx, o.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			}
		}
	}
}

// copyPullSecrets copies each --image-pull-secret (namespace/name) into the
// run's fresh namespaces, so probe pods can pull from a private registry.
func (x *run) copyPullSecrets(ctx context.Context, namespaces []string) error {
	for _, ref := range x.o.Placement.ImagePullSecrets {
		srcNS, name, ok := strings.Cut(ref, "/")
		if !ok {
			continue // a bare name: the user provides the secret some other way
		}
		sec, err := x.client.CoreV1().Secrets(srcNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return &InfraError{fmt.Errorf("reading image pull secret %s: %w", ref, err)}
		}
		for _, ns := range namespaces {
			cp := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy, LabelRunID: x.o.RunID}},
				Type:       sec.Type, Data: sec.Data,
			}
			if _, err := x.client.CoreV1().Secrets(ns).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
				return &InfraError{fmt.Errorf("copying image pull secret %s into %s: %w", ref, ns, err)}
			}
		}
	}
	return nil
}

func (x *run) createObjects(ctx context.Context, plan *Plan) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, pp := range plan.Pods {
		g.Go(func() error {
			if _, err := x.client.CoreV1().Pods(pp.Pod.Namespace).Create(gctx, pp.Pod, metav1.CreateOptions{}); err != nil {
				return &InfraError{fmt.Errorf("creating pod %s/%s: %w", pp.Pod.Namespace, pp.Pod.Name, err)}
			}
			return nil
		})
	}
	for _, svc := range plan.Services {
		g.Go(func() error {
			created, err := x.client.CoreV1().Services(svc.Namespace).Create(gctx, svc, metav1.CreateOptions{})
			if err != nil {
				return &InfraError{fmt.Errorf("creating service %s/%s: %w", svc.Namespace, svc.Name, err)}
			}
			svc.Spec.ClusterIP = created.Spec.ClusterIP
			return nil
		})
	}
	return g.Wait()
}

// waitReady polls the run's pods until all are Ready, then records their IPs.
func (x *run) waitReady(ctx context.Context, plan *Plan) error {
	// The wait ends when no pod became Ready for ReadyTimeout: a busy
	// cluster that creates pods slowly (a CNI rate-limiting endpoint
	// creation, a kubelet backing off) is waited for while it progresses.
	start := x.clock.Now()
	deadline := start.Add(x.o.ReadyTimeout)
	lastReady := -1
	byNS := map[string][]*PlannedPod{}
	for _, pp := range plan.Pods {
		byNS[pp.Pod.Namespace] = append(byNS[pp.Pod.Namespace], pp)
	}
	x.progress("waiting for %d pods to be Ready", len(plan.Pods))
	unschedSince := map[string]time.Time{} // pod → when first seen unschedulable
	for {
		notReady := []*corev1.Pod{}
		var stuckPods []*corev1.Pod
		var why []string
		for ns, pps := range byNS {
			// (probe pods in existing namespaces carry only the run id)
			list, err := x.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelRunID + "=" + plan.RunID})
			if err != nil {
				return &InfraError{fmt.Errorf("listing pods in %s: %w", ns, err)}
			}
			got := map[string]*corev1.Pod{}
			for i := range list.Items {
				got[list.Items[i].Name] = &list.Items[i]
			}
			for _, pp := range pps {
				p := got[pp.Pod.Name]
				// a probe pod of an existing namespace is never Ready, by design
				if p == nil || !(podReady(p) || pp.Owner != nil && inplace.Started(p)) || p.Status.PodIP == "" {
					if p == nil {
						p = pp.Pod
					}
					notReady = append(notReady, p)
					key := p.Namespace + "/" + p.Name
					var unschedFor time.Duration
					if unschedulable(p) == nil {
						delete(unschedSince, key)
					} else if at, ok := unschedSince[key]; ok {
						unschedFor = x.clock.Now().Sub(at)
					} else {
						unschedSince[key] = x.clock.Now()
					}
					if w := stuck(p, unschedFor); w != "" {
						stuckPods, why = append(stuckPods, p), append(why, w)
					}
					continue
				}
				pp.IP, pp.Node = p.Status.PodIP, p.Spec.NodeName
			}
		}
		if len(notReady) == 0 {
			return nil
		}
		if len(stuckPods) > 0 {
			return x.stuckError(stuckPods, why)
		}
		if ready := len(plan.Pods) - len(notReady); ready > lastReady {
			lastReady, deadline = ready, x.clock.Now().Add(x.o.ReadyTimeout)
		}
		if x.clock.Now().After(deadline) {
			return &InfraError{x.notReadyError(ctx, notReady, len(plan.Pods), x.clock.Now().Sub(start))}
		}
		if err := sleep(ctx, x.clock, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// notReadyError names the pods that did not come up, why, and their events.
func (x *run) notReadyError(ctx context.Context, pods []*corev1.Pod, total int, waited time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d probe pod(s) not Ready after %s, none became Ready in the last %s (--ready-timeout):",
		len(pods), total, waited.Round(time.Second), x.o.ReadyTimeout)
	for i, p := range pods {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … and %d more", len(pods)-5)
			break
		}
		fmt.Fprintf(&b, "\n  pod %s/%s: phase %s", p.Namespace, p.Name, orDash(string(p.Status.Phase)))
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				fmt.Fprintf(&b, ", container %s waiting: %s %s", cs.Name, w.Reason, w.Message)
			}
			if t := cs.State.Terminated; t != nil {
				fmt.Fprintf(&b, ", container %s terminated: %s (exit %d) %s", cs.Name, t.Reason, t.ExitCode, t.Message)
			}
		}
		evs, err := x.client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + p.Name})
		if err == nil {
			for _, e := range evs.Items {
				fmt.Fprintf(&b, "\n    event %s %s: %s", e.Type, e.Reason, e.Message)
			}
		}
	}
	b.WriteString("\nCheck that the probe image can be pulled there (--image-probe, --image-pull-secret), that the pods can be scheduled (--node-selector, --toleration, --nodes; --placement=scheduler lets the scheduler choose), or allow more time (--ready-timeout).")
	return errors.New(b.String())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// DeleteNamespaces deletes namespaces and, when wait is set, waits until they
// are gone. A delete the API server refused for a transient reason (it was
// restarting, the connection broke) is retried until ctx ends, so a run
// cleans up once the server is back.
func DeleteNamespaces(ctx context.Context, c kubernetes.Interface, names []string, wait bool) error {
	var errs []error
	for _, n := range names {
		for {
			err := c.CoreV1().Namespaces().Delete(ctx, n, metav1.DeleteOptions{PropagationPolicy: ptrTo(metav1.DeletePropagationBackground)})
			if err == nil || apierrors.IsNotFound(err) {
				break
			}
			if !retriable(err) || ctx.Err() != nil {
				errs = append(errs, fmt.Errorf("deleting namespace %s: %w", n, err))
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	if !wait || len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, n := range names {
		for {
			_, err := c.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("namespace %s still terminating: %w", n, ctx.Err())
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
	return nil
}

// retriable reports whether an API error may go away by itself: the server
// was unreachable, overloaded or restarting. Refusals (forbidden, invalid,
// conflict…) are not.
func retriable(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // no answer from the server: transport
	}
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err)
}

func ptrTo[T any](v T) *T { return &v }
