package orchestrator

import (
	"context"
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
