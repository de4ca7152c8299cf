package orchestrator

// Pods that will not become Ready however long the run waits: an image that
// cannot be pulled, a pod no node accepts, a container that keeps crashing.
// The wait phase gives up on them at once (after a short grace for the
// scheduler) instead of waiting out --ready-timeout.

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// unschedulableGrace is how long a pod may stay unschedulable before the run
// gives up on it: long enough for a node that is just becoming Ready, short
// against the ready timeout.
const unschedulableGrace = 15 * time.Second

// Waiting reasons of a container that mean its image will not be there
// without someone acting.
var pullFailures = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
}

// stuck says why pod p cannot become Ready, or "" when it may still.
// unschedulableFor is how long the run has seen it unschedulable.
func stuck(p *corev1.Pod, unschedulableFor time.Duration) string {
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		node := orDash(p.Spec.NodeName)
		switch {
		case pullFailures[w.Reason]:
			return fmt.Sprintf("image %q cannot be pulled on node %s (%s: %s)", cs.Image, node, w.Reason, oneLineMsg(w.Message))
		case w.Reason == "CrashLoopBackOff":
			return fmt.Sprintf("container %s keeps crashing on node %s (%s); see kubectl logs -n %s %s -c %s --previous",
				cs.Name, node, oneLineMsg(w.Message), p.Namespace, p.Name, cs.Name)
		case w.Reason == "CreateContainerConfigError":
			return fmt.Sprintf("container %s cannot be created on node %s (%s: %s)", cs.Name, node, w.Reason, oneLineMsg(w.Message))
		}
	}
	if unschedulableFor >= unschedulableGrace {
		if c := unschedulable(p); c != nil {
			return fmt.Sprintf("no node accepts it for %s (%s)", unschedulableFor.Round(time.Second), oneLineMsg(c.Message))
		}
	}
	return ""
}

// unschedulable returns the pod's PodScheduled=False condition when the
// scheduler found no node for it.
func unschedulable(p *corev1.Pod) *corev1.PodCondition {
	for i, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// stuckError names the pods that cannot start and what to change.
func (x *run) stuckError(pods []*corev1.Pod, why []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d probe pod(s) cannot start:", len(pods))
	pull, sched := false, false
	for i, p := range pods {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … and %d more", len(pods)-5)
			break
		}
		fmt.Fprintf(&b, "\n  pod %s/%s: %s", p.Namespace, p.Name, why[i])
	}
	for _, w := range why {
		pull = pull || strings.HasPrefix(w, "image ")
		sched = sched || strings.HasPrefix(w, "no node")
	}
	if pull {
		fmt.Fprintf(&b, "\nMake the image available to the nodes (load it into the cluster, or push it to a registry they reach and set --image-probe; --image-pull-secret for a private one), or use --mode agnhost with the upstream agnhost image. Probe image: %s", x.o.ProbeImage)
		if x.o.ServerImage != "" && x.o.ServerImage != x.o.ProbeImage {
			fmt.Fprintf(&b, ", server image: %s", x.o.ServerImage)
		}
		b.WriteString(".")
	}
	if sched {
		b.WriteString("\nLet the probe pods be scheduled: --node-selector and --toleration place them, --nodes chooses the nodes they are spread over (--placement=scheduler: one pod each, wherever the scheduler puts it), --requests sets what they ask for.")
	}
	return &InfraError{fmt.Errorf("%s", b.String())}
}

// oneLineMsg keeps the first line of a kubelet or scheduler message.
func oneLineMsg(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if s == "" {
		return "no message"
	}
	return s
}
