// Package inplace is what netverify needs to probe a live namespace without
// disturbing it: the labels of the workloads a probe pod impersonates, the
// run-owned object every probe pod there hangs from, the probe pod itself
// (never adopted, never a Ready endpoint, no token, PodSecurity
// "restricted"), and the checks that refuse or warn about what could still
// notice it (Services that publish not-ready addresses, disruption budgets,
// autoscalers).
//
// An impersonating pod carries the labels of the workload's pod template,
// so the live NetworkPolicies select it as they select the workload's own
// pods. Three things keep it from touching the workload:
//
//   - A controller ownerReference to a ConfigMap the run creates in the
//     namespace. Controllers (ReplicaSet, StatefulSet, DaemonSet, Job) adopt
//     only orphans, so none of them adopts it or counts it as a replica, and
//     deleting the ConfigMap garbage-collects every probe pod of the run —
//     also when the run itself was killed.
//   - A readiness gate no one sets: the pod is never Ready, so no Service
//     sends it traffic (EndpointSlices list it as not ready, which kube-proxy
//     and CNIs skip). A Service with publishNotReadyAddresses would still
//     route to it: Hazards refuses such a source.
//   - No service account token, no Service environment variables, nothing
//     mounted, the probe program only: it can open connections and nothing
//     else.
package inplace

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/netverify/netverify/scenarios"
)

// NeverReady is the readiness gate of every probe pod in a live
// namespace. Nothing sets the condition, so the pod never becomes Ready.
const NeverReady corev1.PodConditionType = "netverify.io/never-ready"

// TemplateLabels returns the labels of the pod template of workload ref in
// namespace ns: the labels its pods carry and its NetworkPolicies select.
func TemplateLabels(ctx context.Context, c kubernetes.Interface, ns string, ref scenarios.WorkloadRef) (map[string]string, error) {
	tmpl, err := template(ctx, c, ns, ref)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("%s not found in namespace %s", ref, ns)
	case err != nil:
		return nil, fmt.Errorf("reading %s in namespace %s: %w", ref, ns, err)
	case len(tmpl.Labels) == 0:
		return nil, fmt.Errorf("%s in namespace %s: its pod template has no labels", ref, ns)
	}
	return maps.Clone(tmpl.Labels), nil
}

// template reads the pod template of ref.
func template(ctx context.Context, c kubernetes.Interface, ns string, ref scenarios.WorkloadRef) (*corev1.PodTemplateSpec, error) {
	apps, get := c.AppsV1(), metav1.GetOptions{}
	switch ref.Kind {
	case scenarios.KindDeployment:
		o, err := apps.Deployments(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	case scenarios.KindStatefulSet:
		o, err := apps.StatefulSets(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	case scenarios.KindDaemonSet:
		o, err := apps.DaemonSets(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	case scenarios.KindReplicaSet:
		o, err := apps.ReplicaSets(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	}
	return nil, fmt.Errorf("%s: unknown kind", ref)
}

// Owner is the ConfigMap a run creates in each live namespace it probes:
// the controller owner of all its probe pods there.
func Owner(ns, runID string, runLabels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "netverify-" + runID,
			Namespace: ns,
			Labels:    maps.Clone(runLabels),
			Annotations: map[string]string{
				"netverify.io/purpose": "owner of this run's probe pods; deleting it removes them",
			},
		},
		Data: map[string]string{"run": runID},
	}
}

// Confine makes p, a probe pod of a live namespace, harmless to the
// workloads there: a controller ownerReference to owner (the run's created
// ConfigMap, its UID set), so no controller adopts it and deleting owner
// removes it; a readiness gate nothing sets, so it is never a Ready
// endpoint of a Service; no restart, no token, no Service links.
func Confine(p *corev1.Pod, owner *corev1.ConfigMap) error {
	if owner == nil || owner.UID == "" {
		return fmt.Errorf("pod %s/%s: the owner ConfigMap must exist (have a UID) first", p.Namespace, p.Name)
	}
	p.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(false),
	}}
	p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: NeverReady}}
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.Spec.AutomountServiceAccountToken = ptr.To(false)
	p.Spec.EnableServiceLinks = ptr.To(false)
	return nil
}

// Started reports whether an impersonating pod can be exec'd into: its
// containers run (it is never Ready, by design, so Ready cannot be waited
// for).
func Started(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil || (cs.Started != nil && !*cs.Started) {
			return false
		}
	}
	return true
}
