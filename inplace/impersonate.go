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
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// NeverReady is the readiness gate of every impersonating pod. Nothing sets
// the condition, so the pod never becomes Ready.
const NeverReady corev1.PodConditionType = "netverify.io/never-ready"

// Kinds of workload a probe pod can impersonate.
const (
	KindDeployment  = "deployment"
	KindStatefulSet = "statefulset"
	KindDaemonSet   = "daemonset"
	KindReplicaSet  = "replicaset"
)

// Ref names a workload: "deployment/frontend".
type Ref struct {
	Kind, Name string
}

func (r Ref) String() string { return r.Kind + "/" + r.Name }

// ParseRef parses KIND/NAME, with the kind's usual short names (deploy,
// sts, ds, rs) accepted.
func ParseRef(s string) (Ref, error) {
	kind, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return Ref{}, fmt.Errorf("%q: want KIND/NAME, e.g. deployment/frontend", s)
	}
	switch strings.ToLower(kind) {
	case "deployment", "deployments", "deploy":
		kind = KindDeployment
	case "statefulset", "statefulsets", "sts":
		kind = KindStatefulSet
	case "daemonset", "daemonsets", "ds":
		kind = KindDaemonSet
	case "replicaset", "replicasets", "rs":
		kind = KindReplicaSet
	default:
		return Ref{}, fmt.Errorf("%q: kind %q is not deployment, statefulset, daemonset or replicaset", s, kind)
	}
	return Ref{Kind: kind, Name: name}, nil
}

// TemplateLabels returns the labels of the pod template of workload ref in
// namespace ns: the labels its pods carry and its NetworkPolicies select.
func TemplateLabels(ctx context.Context, c kubernetes.Interface, ns string, ref Ref) (map[string]string, error) {
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
func template(ctx context.Context, c kubernetes.Interface, ns string, ref Ref) (*corev1.PodTemplateSpec, error) {
	apps, get := c.AppsV1(), metav1.GetOptions{}
	switch ref.Kind {
	case KindDeployment:
		o, err := apps.Deployments(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	case KindStatefulSet:
		o, err := apps.StatefulSets(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	case KindDaemonSet:
		o, err := apps.DaemonSets(ns).Get(ctx, ref.Name, get)
		if err != nil {
			return nil, err
		}
		return &o.Spec.Template, nil
	case KindReplicaSet:
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

// PodOptions are what an impersonating pod is made of besides the labels.
type PodOptions struct {
	Name      string
	Namespace string
	// Labels: the impersonated workload's (or the scenario's) labels.
	Labels map[string]string
	// RunLabels: the run's own labels (managed-by, run id); they are added
	// to Labels and must not collide with them.
	RunLabels map[string]string
	// Owner: the run's created Owner ConfigMap (its UID set).
	Owner *corev1.ConfigMap
	Image string
	// Command starts the probe program (kept alive for exec).
	Command, Args []string
	Resources     corev1.ResourceRequirements
	NodeName      string
}

// Pod returns the impersonating probe pod. It refuses labels that would
// hide the run's own labels.
func Pod(o PodOptions) (*corev1.Pod, error) {
	if o.Owner == nil || o.Owner.UID == "" {
		return nil, fmt.Errorf("pod %s/%s: the owner ConfigMap must exist (have a UID) first", o.Namespace, o.Name)
	}
	labels := maps.Clone(o.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range o.RunLabels {
		if w, ok := labels[k]; ok && w != v {
			return nil, fmt.Errorf("pod %s/%s: label %s=%s would be replaced by netverify's own %s=%s", o.Namespace, o.Name, k, w, k, v)
		}
		labels[k] = v
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: o.Name, Namespace: o.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "ConfigMap", Name: o.Owner.Name, UID: o.Owner.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(false),
			}},
		},
		Spec: corev1.PodSpec{
			ReadinessGates:                []corev1.PodReadinessGate{{ConditionType: NeverReady}},
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			RestartPolicy:                 corev1.RestartPolicyNever,
			NodeName:                      o.NodeName,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				RunAsUser:      ptr.To[int64](65532),
				RunAsGroup:     ptr.To[int64](65532),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "probe", Image: o.Image, Command: o.Command, Args: o.Args, Resources: o.Resources,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					ReadOnlyRootFilesystem:   ptr.To(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}, nil
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
