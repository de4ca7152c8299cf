package orchestrator

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func makeNamespace(name string, labels map[string]string, heartbeat time.Time, created time.Time) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: metav1.NewTime(created)}}
	if !heartbeat.IsZero() {
		ns.Annotations = map[string]string{AnnotationHeartbeat: heartbeat.UTC().Format(time.RFC3339)}
	}
	return ns
}

func TestFindLeftovers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	run := func(id string) map[string]string { return map[string]string{LabelManagedBy: ManagedBy, LabelRunID: id} }
	c := fake.NewSimpleClientset(
		makeNamespace("nv-dead01-1-app", run("dead01"), now.Add(-10*time.Minute), now.Add(-20*time.Minute)),
		makeNamespace("nv-live01-1-app", run("live01"), now.Add(-20*time.Second), now.Add(-20*time.Minute)),
		makeNamespace("nv-nobeat-1-app", run("nobeat"), time.Time{}, now.Add(-time.Hour)),
		// a deploy/ installation: managed by netverify, but no run id
		makeNamespace("netverify", map[string]string{LabelManagedBy: ManagedBy}, time.Time{}, now.Add(-48*time.Hour)),
		makeNamespace("default", nil, time.Time{}, now.Add(-48*time.Hour)),
	)
	got, err := FindLeftovers(context.Background(), c, 3*time.Minute, "", now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range got {
		names = append(names, l.Namespace)
	}
	if len(names) != 2 || names[0] != "nv-dead01-1-app" || names[1] != "nv-nobeat-1-app" {
		t.Fatalf("leftovers %v, want the dead run and the one without heartbeat only", names)
	}
	// --run-id takes a run's namespaces whatever their age (after --keep)
	got, err = FindLeftovers(context.Background(), c, 3*time.Minute, "live01", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Namespace != "nv-live01-1-app" {
		t.Fatalf("--run-id live01: %v", got)
	}
	// the live runs it left alone, with how recent their heartbeat is
	live, err := FindLiveRuns(context.Background(), c, 3*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].RunID != "live01" || live[0].Namespaces != 1 || live[0].Age != 20*time.Second {
		t.Fatalf("live runs %+v, want live01 (1 namespace, heartbeat 20s ago)", live)
	}
}

// A killed in-place run's owner ConfigMap is found by its heartbeat, and
// DeleteLive removes it and the run's probe pods — only those: the
// workload's own pods and a live run's stay.
func TestLeftoverOwners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	owner := func(id string, beat time.Time) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "netverify-" + id, Namespace: "production",
			Labels:      map[string]string{LabelManagedBy: ManagedBy, LabelRunID: id},
			Annotations: map[string]string{AnnotationHeartbeat: beat.Format(time.RFC3339)}}}
	}
	pod := func(name string, l map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "production", Labels: l}}
	}
	c := fake.NewSimpleClientset(
		owner("dead01", now.Add(-10*time.Minute)), owner("live01", now.Add(-10*time.Second)),
		pod("nv-dead01-frontend", map[string]string{"app": "frontend", LabelRunID: "dead01"}),
		pod("nv-live01-frontend", map[string]string{"app": "frontend", LabelRunID: "live01"}),
		pod("frontend-7d9f-x", map[string]string{"app": "frontend"}),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config", Namespace: "production"}},
	)
	left, err := FindLeftoverOwners(ctx, c, 3*time.Minute, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].RunID != "dead01" || left[0].Name != "netverify-dead01" {
		t.Fatalf("leftover owners %+v, want dead01's only", left)
	}
	if err := DeleteLive(ctx, c, "production", LabelRunID+"=dead01", true); err != nil {
		t.Fatal(err)
	}
	pods, _ := c.CoreV1().Pods("production").List(ctx, metav1.ListOptions{})
	cms, _ := c.CoreV1().ConfigMaps("production").List(ctx, metav1.ListOptions{})
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	for _, cm := range cms.Items {
		names = append(names, cm.Name)
	}
	if got := strings.Join(names, ","); got != "frontend-7d9f-x,nv-live01-frontend,app-config,netverify-live01" {
		t.Errorf("left in production: %s", got)
	}
}
