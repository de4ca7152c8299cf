package simulate_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/simulate"
)

// production seeds a simulated cluster with a live namespace: Deployments
// frontend, backend and database (one running pod each), Services
// backend-service:8080 and database-service:5432, and policies: deny all,
// DNS, frontend → backend:8080, backend → database:5432.
func production(t *testing.T, c *simulate.Cluster) {
	t.Helper()
	add := func(o runtime.Object) {
		if err := c.Client.Tracker().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "production", Labels: map[string]string{corev1.LabelMetadataName: "production"}}})
	for i, app := range []string{"frontend", "backend", "database"} {
		port := map[string]int32{"frontend": 80, "backend": 8080, "database": 5432}[app]
		l := map[string]string{"app": app}
		ports := []corev1.ContainerPort{{Name: "main", ContainerPort: port, Protocol: corev1.ProtocolTCP}}
		add(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: "production"}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: app, Ports: ports}}}},
		}})
		add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: app + "-7d9f-x", Namespace: "production", Labels: l, UID: types.UID("uid-" + app)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: app, Ports: ports}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.200." + string(rune('1'+i)),
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}})
	}
	for name, app := range map[string]string{"backend-service": "backend", "database-service": "database"} {
		port := map[string]int32{"backend": 8080, "database": 5432}[app]
		add(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "production"}, Spec: corev1.ServiceSpec{
			ClusterIP: map[string]string{"backend": "10.96.200.1", "database": "10.96.200.2"}[app], Selector: map[string]string{"app": app},
			Ports: []corev1.ServicePort{{Port: port, TargetPort: intstr.FromString("main"), Protocol: corev1.ProtocolTCP}},
		}})
	}
	for _, y := range []string{
		`{metadata: {name: default-deny-all}, spec: {podSelector: {}, policyTypes: [Ingress, Egress]}}`,
		`{metadata: {name: allow-dns}, spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}], ports: [{protocol: UDP, port: 53}]}]}}`,
		`{metadata: {name: backend-allow-frontend}, spec: {podSelector: {matchLabels: {app: backend}}, ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: 8080}]}]}}`,
		`{metadata: {name: frontend-egress}, spec: {podSelector: {matchLabels: {app: frontend}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: backend}}}], ports: [{port: 8080}]}]}}`,
		`{metadata: {name: database-allow-backend}, spec: {podSelector: {matchLabels: {app: database}}, ingress: [{from: [{podSelector: {matchLabels: {app: backend}}}], ports: [{port: 5432}]}]}}`,
		`{metadata: {name: backend-egress}, spec: {podSelector: {matchLabels: {app: backend}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: database}}}], ports: [{port: 5432}]}]}}`,
	} {
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(y), &np); err != nil {
			t.Fatal(err)
		}
		np.Namespace = "production"
		add(&np) // in place before the run: in effect

	}
}

const seedCheck = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: seed}
spec:
  namespaces: [{name: production, existing: true}, {name: elsewhere}]
  pods:
  - {name: test-pod, namespace: production}
  - {name: frontend, namespace: production, impersonate: deployment/frontend}
  - {name: backend, namespace: production, impersonate: deployment/backend}
  - {name: outsider, namespace: elsewhere}
  expect:
  - {from: production/test-pod, to: svc:production/database-service, port: 5432, allowed: false}
  - {from: production/frontend, to: svc:production/backend-service, port: 8080, allowed: true}
  - {from: production/frontend, to: workload:production/deployment/database, port: main, allowed: false}
  - {from: elsewhere/outsider, to: svc:production/backend-service, port: 8080, allowed: false}
  - {from: production/frontend, to: dns:kubernetes.default.svc.cluster.local, allowed: true}
`

// created records the probe pods a run creates.
func created(c *simulate.Cluster) func() []*corev1.Pod {
	var mu sync.Mutex
	var pods []*corev1.Pod
	c.Client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		pods = append(pods, a.(k8stesting.CreateAction).GetObject().(*corev1.Pod).DeepCopy())
		return false, nil, nil
	})
	return func() []*corev1.Pod { mu.Lock(); defer mu.Unlock(); return pods }
}

func runInPlace(t *testing.T, c *simulate.Cluster, y string) (string, []*corev1.Pod) {
	t.Helper()
	scs := load(t, y)
	facts, err := inplace.Resolve(context.Background(), c.Client, scs)
	if err != nil {
		t.Fatal(err)
	}
	pods := created(c)
	rep, _ := runOn(t, c, orchestrator.Options{RunID: "abc123", Live: facts}, scs)
	var b strings.Builder
	for _, r := range rep.Results {
		b.WriteString(r.From + "→" + r.To + " " + string(r.Status) + " live=" + strings.Join(r.Live, ",") + " " + r.Reason + "\n")
	}
	if rep.Enforcement != nil {
		t.Errorf("enforcement measured in place, where the policies predate the run: %+v", rep.Enforcement)
	}
	// nothing of the run is left in the live namespace; its workloads are
	for _, kind := range []string{"pods", "configmaps"} {
		var n int
		switch kind {
		case "pods":
			l, _ := c.Client.CoreV1().Pods("production").List(context.Background(), metav1.ListOptions{LabelSelector: orchestrator.LabelRunID})
			n = len(l.Items)
		case "configmaps":
			l, _ := c.Client.CoreV1().ConfigMaps("production").List(context.Background(), metav1.ListOptions{})
			n = len(l.Items)
		}
		if n != 0 {
			t.Errorf("%d %s of the run left in production", n, kind)
		}
	}
	l, _ := c.Client.CoreV1().Pods("production").List(context.Background(), metav1.ListOptions{})
	if len(l.Items) != 3 {
		t.Errorf("production has %d pods after the run, want its 3 own", len(l.Items))
	}
	return b.String(), pods()
}

func TestInPlaceOnEnforcingCluster(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	production(t, c)
	got, pods := runInPlace(t, c, seedCheck)
	want := `production/test-pod→svc:production/database-service pass live=production timeout; the target answered production/backend in this run
production/frontend→svc:production/backend-service pass live=production connected
production/frontend→workload:production/deployment/database pass live=production timeout; the target answered production/backend in this run
elsewhere/outsider→svc:production/backend-service pass live=production timeout; the target answered production/frontend in this run
production/frontend→dns:kubernetes.default.svc.cluster.local pass live=production resolved
`
	if got != want {
		t.Errorf("results:\n%s\nwant:\n%s", got, want)
	}
	var live int
	for _, p := range pods {
		if p.Namespace != "production" {
			continue
		}
		live++
		ctl := metav1.GetControllerOf(p)
		if ctl == nil || ctl.Kind != "ConfigMap" || ctl.UID == "" || len(p.Spec.ReadinessGates) != 1 || p.Spec.ReadinessGates[0].ConditionType != inplace.NeverReady {
			t.Errorf("probe pod %s: controller %+v, readiness gates %v: could be adopted or become a Service endpoint", p.Name, ctl, p.Spec.ReadinessGates)
		}
		if !strings.HasPrefix(p.Name, "nv-abc123-") || p.Labels[orchestrator.LabelManagedBy] != "" || p.Labels[orchestrator.LabelRunID] != "abc123" {
			t.Errorf("probe pod %s labels %v: want the run id and the workload's labels only", p.Name, p.Labels)
		}
		if p.Name == "nv-abc123-frontend" && p.Labels["app"] != "frontend" {
			t.Errorf("the frontend impersonator carries %v", p.Labels)
		}
	}
	if live != 3 {
		t.Errorf("%d probe pods created in production, want 3", live)
	}
}

func TestInPlaceOnClusterIgnoringPolicies(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.IgnorePolicies = true
	production(t, c)
	got, _ := runInPlace(t, c, seedCheck)
	for _, row := range []string{
		"production/test-pod→svc:production/database-service fail",
		"production/frontend→workload:production/deployment/database fail",
		"elsewhere/outsider→svc:production/backend-service fail",
		"production/frontend→svc:production/backend-service pass",
	} {
		if !strings.Contains(got, row) {
			t.Errorf("no row %q in:\n%s", row, got)
		}
	}
}

// A block of a target nothing in the run reaches proves nothing: the
// workload may not serve the port at all.
func TestInPlaceBlockNeedsWitness(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	production(t, c)
	got, _ := runInPlace(t, c, `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: lonely}
spec:
  namespaces: [{name: production, existing: true}]
  pods: [{name: test-pod}]
  expect:
  - {from: test-pod, to: "workload:deployment/database", port: 5432, allowed: false}
  - {from: test-pod, to: "workload:deployment/backend", port: 9999, allowed: false}
`)
	for _, row := range []string{
		"production/test-pod→workload:production/deployment/database inconclusive live=production no-witness: blocked, but nothing in this run reached",
		"production/test-pod→workload:production/deployment/backend inconclusive live=production no-witness",
	} {
		if !strings.Contains(got, row) {
			t.Errorf("no row %q in:\n%s", row, got)
		}
	}
}
