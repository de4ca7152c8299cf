package inplace

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/netverify/netverify/scenarios"
)

func tmplWith(l map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}}
}

func TestTemplateLabels(t *testing.T) {
	t.Parallel()
	meta := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Namespace: "production"} }
	c := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: meta("frontend"), Spec: appsv1.DeploymentSpec{Template: tmplWith(map[string]string{"app": "frontend"})}},
		&appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Template: tmplWith(map[string]string{"app": "db", "tier": "data"})}},
		&appsv1.DaemonSet{ObjectMeta: meta("agent"), Spec: appsv1.DaemonSetSpec{Template: tmplWith(map[string]string{"app": "agent"})}},
		&appsv1.ReplicaSet{ObjectMeta: meta("bare"), Spec: appsv1.ReplicaSetSpec{Template: tmplWith(map[string]string{"app": "bare"})}},
		&appsv1.Deployment{ObjectMeta: meta("nolabels")},
	)
	for ref, want := range map[string]string{
		"deployment/frontend": "app=frontend", "statefulset/db": "app=db,tier=data",
		"daemonset/agent": "app=agent", "replicaset/bare": "app=bare",
	} {
		r, _ := scenarios.ParseWorkloadRef(ref)
		got, err := TemplateLabels(context.Background(), c, "production", r)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if s := labelsString(got); s != want {
			t.Errorf("%s: labels %s, want %s", ref, s, want)
		}
	}
	for ref, want := range map[string]string{
		"deployment/missing":  "deployment/missing not found in namespace production",
		"deployment/nolabels": "pod template has no labels",
	} {
		r, _ := scenarios.ParseWorkloadRef(ref)
		if _, err := TemplateLabels(context.Background(), c, "production", r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", ref, err, want)
		}
	}
}

func labelsString(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

var runLabels = map[string]string{"app.kubernetes.io/managed-by": "netverify", "netverify.io/run-id": "abc123"}

func ownerWithUID() *corev1.ConfigMap {
	o := Owner("production", "abc123", runLabels)
	o.UID = types.UID("uid-1")
	return o
}

func TestConfineCannotBeAdoptedNorReady(t *testing.T) {
	t.Parallel()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nv-abc123-frontend", Namespace: "production", Labels: map[string]string{"app": "frontend"}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}}
	if err := Confine(p, ownerWithUID()); err != nil {
		t.Fatal(err)
	}
	ctl := metav1.GetControllerOf(p)
	if ctl == nil || ctl.Kind != "ConfigMap" || ctl.Name != "netverify-abc123" || ctl.UID != "uid-1" {
		t.Errorf("controller owner %+v: a controller would adopt an orphan", ctl)
	}
	if len(p.Spec.ReadinessGates) != 1 || p.Spec.ReadinessGates[0].ConditionType != NeverReady {
		t.Errorf("readiness gates %v: the pod could become a Ready endpoint", p.Spec.ReadinessGates)
	}
	if p.Spec.AutomountServiceAccountToken == nil || *p.Spec.AutomountServiceAccountToken ||
		p.Spec.EnableServiceLinks == nil || *p.Spec.EnableServiceLinks || p.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("the pod gets a token, Service links or restarts: %+v", p.Spec)
	}
	noOwner := Owner("production", "abc123", runLabels) // not created yet: no UID
	if err := Confine(p, noOwner); err == nil || !strings.Contains(err.Error(), "owner ConfigMap must exist") {
		t.Errorf("an owner without UID: %v", err)
	}
}

func TestStarted(t *testing.T) {
	t.Parallel()
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	waiting := corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	for name, tc := range map[string]struct {
		st   corev1.PodStatus
		want bool
	}{
		"running, never Ready": {corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", ContainerStatuses: []corev1.ContainerStatus{running}}, true},
		"no IP yet":            {corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running}}, false},
		"container waiting":    {corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", ContainerStatuses: []corev1.ContainerStatus{waiting}}, false},
		"pending":              {corev1.PodStatus{Phase: corev1.PodPending}, false},
	} {
		if got := Started(&corev1.Pod{Status: tc.st}); got != tc.want {
			t.Errorf("%s: Started = %v, want %v", name, got, tc.want)
		}
	}
}

func TestHazards(t *testing.T) {
	t.Parallel()
	meta := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Namespace: "production"} }
	c := fake.NewClientset(
		&corev1.Service{ObjectMeta: meta("frontend"), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "frontend"}}},
		&corev1.Service{ObjectMeta: meta("frontend-headless"), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "frontend"}, PublishNotReadyAddresses: true}},
		&corev1.Service{ObjectMeta: meta("db-headless"), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "db"}, PublishNotReadyAddresses: true}},
		&corev1.Service{ObjectMeta: meta("external"), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName}},
		&policyv1.PodDisruptionBudget{ObjectMeta: meta("frontend-pdb"), Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptrIntOrString(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}}},
		&policyv1.PodDisruptionBudget{ObjectMeta: meta("db-pdb"), Spec: policyv1.PodDisruptionBudgetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}},
	)
	hs, err := Hazards(context.Background(), c, "production", map[string]string{"app": "frontend", "version": "v2"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hs {
		got = append(got, h.Object+map[bool]string{true: " refuse", false: " warn"}[h.Refuse])
	}
	if want := "service/frontend-headless refuse,poddisruptionbudget/frontend-pdb warn"; strings.Join(got, ",") != want {
		t.Errorf("hazards %v, want %s", got, want)
	}
	if hs, _ := Hazards(context.Background(), c, "production", map[string]string{"app": "other"}); len(hs) != 0 {
		t.Errorf("labels nothing selects: hazards %v", hs)
	}
}

func ptrIntOrString(v intstr.IntOrString) *intstr.IntOrString { return &v }
