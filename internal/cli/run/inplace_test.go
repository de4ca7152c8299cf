package run

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/simulate"
)

// seedProduction puts the e2e fixture (e2e/testdata/production: the
// guides' application and its policies) into a simulated cluster, with the
// pods its Deployments would run.
func seedProduction(t *testing.T, sim *simulate.Cluster, files ...string) {
	t.Helper()
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "..", "..", "e2e", "testdata", "production", f))
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufioReader(data))
		for {
			doc, err := r.Read()
			if err != nil {
				break
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if svc, ok := obj.(*corev1.Service); ok { // (as the API server gives one)
				n++
				svc.Spec.ClusterIP = fmt.Sprintf("10.96.250.%d", n)
			}
			if ns, ok := obj.(*corev1.Namespace); ok {
				if ns.Labels == nil {
					ns.Labels = map[string]string{}
				}
				ns.Labels[corev1.LabelMetadataName] = ns.Name
			}
			add(t, sim, obj)
			d, ok := obj.(*appsv1.Deployment)
			if !ok {
				continue
			}
			for i := range *d.Spec.Replicas {
				n++
				add(t, sim, &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", d.Name, i), Namespace: d.Namespace, Labels: d.Spec.Template.Labels},
					Spec:       d.Spec.Template.Spec,
					Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.244.250.%d", n),
						Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
				})
			}
		}
	}
}

func add(t *testing.T, sim *simulate.Cluster, obj runtime.Object) {
	t.Helper()
	if err := sim.Client.Tracker().Add(obj); err != nil {
		t.Fatal(err)
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// probeObjects lists what runs left in production: probe pods and owner
// ConfigMaps.
func probeObjects(t *testing.T, sim *simulate.Cluster) string {
	t.Helper()
	var left []string
	pods, _ := sim.Client.CoreV1().Pods("production").List(context.Background(), metav1.ListOptions{LabelSelector: orchestrator.LabelRunID})
	for _, p := range pods.Items {
		left = append(left, "pod/"+p.Name)
	}
	cms, _ := sim.Client.CoreV1().ConfigMaps("production").List(context.Background(), metav1.ListOptions{})
	for _, c := range cms.Items {
		left = append(left, "configmap/"+c.Name)
	}
	nss, _ := sim.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: orchestrator.LabelRunID})
	for _, ns := range nss.Items {
		left = append(left, "namespace/"+ns.Name)
	}
	return strings.Join(left, " ")
}

func TestZeroConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		ignore bool
		code   int
		want   []string
	}{
		{name: "enforcing", code: 0, want: []string{"PASSED:", "live-production", "witness-1/witness"}},
		{name: "ignoring policies", ignore: true, code: 1, want: []string{"FAILED:", "production/no-labels → svc:production/database-service 5432/TCP: expected blocked, got ALLOWED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sim *simulate.Cluster
			e, _ := simulatedCluster(func(c *simulate.Cluster) {
				sim, c.IgnorePolicies = c, tc.ignore
				seedProduction(t, c, "workloads.yaml", "policies.yaml")
			})
			got := execute(t, with(e), "", "-n", "production", "-o", "wide")
			if got.code != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s\n%s", got.code, got.err, tc.code, got.stdout, got.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, got.stdout)
				}
			}
			if !strings.Contains(got.stdout, "DECIDED BY") || !strings.Contains(got.stdout, "production/database-allow-backend ingress[0]") {
				t.Errorf("the deciding rules are not shown:\n%s", got.stdout)
			}
			if left := probeObjects(t, sim); left != "" {
				t.Errorf("left after the run: %s", left)
			}
		})
	}
}

// Bad in-place input is exit 2 naming what is wrong, with nothing created.
func TestInPlaceInputErrors(t *testing.T) {
	t.Parallel()
	missingSvc := writeFile(t, "missing.yaml", `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: missing}
spec:
  namespaces: [{name: production, existing: true}]
  pods: [{name: t}, {name: as-db, impersonate: statefulset/database}]
  expect:
  - {from: t, to: svc:production/db-svc, port: 5432, allowed: false}
  - {from: t, to: svc:production/database-service, port: 5433, allowed: false}
`)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{name: "no such namespace", args: []string{"-n", "nope"}, want: []string{`namespace "nope" not found`}},
		{name: "missing objects", args: []string{"-f", missingSvc}, want: []string{
			`scenario "missing": spec.pods[1].impersonate: statefulset/database not found in namespace production`,
			`scenario "missing": spec.expect[0].to: service production/db-svc not found`,
			`scenario "missing": spec.expect[1].to: service production/database-service has no port "5433" over TCP (it serves 5432/TCP)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sim *simulate.Cluster
			e, _ := simulatedCluster(func(c *simulate.Cluster) {
				sim = c
				seedProduction(t, c, "workloads.yaml", "policies.yaml")
			})
			got := execute(t, with(e), "", tc.args...)
			if got.code != 2 {
				t.Fatalf("exit %d (%v), want 2", got.code, got.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(errText(got.err), w) {
					t.Errorf("error %q lacks %q", errText(got.err), w)
				}
			}
			if left := probeObjects(t, sim); left != "" {
				t.Errorf("created before the error: %s", left)
			}
		})
	}
	// flags that cannot go together fail before any API call
	for _, args := range [][]string{{"-n", "production", "--dry-run"}, {"-n", "a", "-A"}, {"-n", "production", "--expect", "policies"}, {"-n", "Bad_Name"}} {
		if got := execute(t, with(noCluster(t)), "", args...); got.code != 2 {
			t.Errorf("%v: exit %d (%v), want 2", args, got.code, got.err)
		}
	}
}

// A Service that publishes not-ready addresses would send its clients to a
// probe pod carrying its selector's labels: that source is refused.
func TestInPlaceRefusesPublishedNotReady(t *testing.T) {
	t.Parallel()
	e, _ := simulatedCluster(func(c *simulate.Cluster) {
		seedProduction(t, c, "workloads.yaml", "policies.yaml")
		add(t, c, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "backend-peers", Namespace: "production"},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "backend"}, PublishNotReadyAddresses: true}})
	})
	got := execute(t, with(e), "", "-n", "production")
	if got.code != 2 || !strings.Contains(errText(got.err), "service/backend-peers: selects these labels and publishes not-ready addresses") {
		t.Fatalf("exit %d (%v), want 2 refusing the backend impersonator", got.code, got.err)
	}
}

// --all-namespaces checks every namespace but the excluded ones and the
// runs' own: here production and monitoring (whose Prometheus is a source).
func TestAllNamespaces(t *testing.T) {
	t.Parallel()
	e, _ := simulatedCluster(func(c *simulate.Cluster) { seedProduction(t, c, "workloads.yaml", "policies.yaml") })
	got := execute(t, with(e), "", "-A", "-o", "json")
	if got.code != 0 {
		t.Fatalf("exit %d (%v)\n%s", got.code, got.err, got.stderr)
	}
	for _, w := range []string{`"scenario": "live-2-namespaces"`, `"from": "monitoring/as-deploy-prometheus"`, `"from": "production/as-deploy-backend"`} {
		if !strings.Contains(got.stdout, w) {
			t.Errorf("stdout lacks %s", w)
		}
	}
	if strings.Contains(got.stdout, `"from": "kube-system/`) {
		t.Errorf("kube-system was checked, though excluded by default")
	}
}
