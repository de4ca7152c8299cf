package inclusterreport

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func reportCM() *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: testName, Namespace: testNS, UID: "0b5e-uid", ResourceVersion: "42",
	}}
}

func events(t *testing.T, c *fake.Clientset) []corev1.Event {
	t.Helper()
	l, err := c.CoreV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func TestEmitMismatchEvent(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(reportCM())
	rep := makeReport("k3x9qa", 0,
		makeResult("core", "app/frontend", "app/backend"),
		makeResult("core", "app/random", "app/backend", failed),
		makeResult("core", "app/random", "svc:app/web", broken),
		makeResult("core", "app/a", "app/b", failed),
		makeResult("core", "app/c", "app/d", func(r *results.Result) { r.Status = results.Inconclusive }),
	)
	if err := EmitMismatchEvent(context.Background(), c, testNS, testName, rep); err != nil {
		t.Fatal(err)
	}
	evs := events(t, c)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	wantObj := corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: testNS, Name: testName, UID: "0b5e-uid", ResourceVersion: "42"}
	if ev.InvolvedObject != wantObj {
		t.Errorf("involvedObject = %+v, want %+v", ev.InvolvedObject, wantObj)
	}
	if ev.Type != corev1.EventTypeWarning || ev.Reason != "NetworkPolicyMismatch" || ev.Source.Component != "netverify" ||
		ev.Count != 1 || ev.FirstTimestamp.IsZero() || ev.Namespace != testNS || !strings.HasPrefix(ev.Name, testName+".") {
		t.Errorf("event = %+v", ev)
	}
	if ev.Labels[labelManagedBy] != managedBy || ev.Labels["netverify.io/run-id"] != "" {
		t.Errorf("event labels %v", ev.Labels)
	}
	want := "run k3x9qa: 4 of 5 expectations not met (2 failed, 1 errors, 1 inconclusive): " +
		"[fail] core: app/random → app/backend 8080/TCP expected blocked, got allowed (connected); " +
		"[error] core: app/random → svc:app/web 8080/TCP expected allowed, got error (exec); " +
		"[fail] core: app/a → app/b 8080/TCP expected blocked, got allowed (connected); and 1 more" +
		" — see configmap netverify/netverify-report"
	if ev.Message != want {
		t.Errorf("message\n got %q\nwant %q", ev.Message, want)
	}
}

func TestEmitMismatchEventNothingWhenAllPass(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(reportCM())
	rep := makeReport("r", 0, makeResult("core", "a", "b"), makeResult("core", "a", "c", func(r *results.Result) { r.Status = results.Skipped }))
	if err := EmitMismatchEvent(context.Background(), c, testNS, testName, rep); err != nil {
		t.Fatal(err)
	}
	if len(c.Actions()) != 0 {
		t.Errorf("a passing run made API calls: %v", c.Actions())
	}
}

func TestEmitMismatchEventNeedsTheConfigMap(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	err := EmitMismatchEvent(context.Background(), c, testNS, testName, makeReport("r", 0, makeResult("core", "a", "b", failed)))
	if !apierrors.IsNotFound(err) {
		t.Errorf("err = %v, want NotFound", err)
	}
	if len(events(t, c)) != 0 {
		t.Error("an event was created without its ConfigMap")
	}
}

func TestMismatchMessageIsBounded(t *testing.T) {
	t.Parallel()
	var rs []results.Result
	for i := 0; i < 100; i++ {
		rs = append(rs, makeResult(strings.Repeat("s", 250), fmt.Sprintf("%s/%d", strings.Repeat("n", 250), i), strings.Repeat("t", 250), failed))
	}
	msg := mismatchMessage(makeReport("r", 0, rs...), testNS+"/"+testName)
	if len(msg) > maxEventMessage || !strings.HasSuffix(msg, " — see configmap netverify/netverify-report") || !strings.Contains(msg, "100 of 100") {
		t.Errorf("message of %d bytes: %q", len(msg), msg)
	}
}
