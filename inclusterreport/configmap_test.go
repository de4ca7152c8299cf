package inclusterreport

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const (
	testNS   = "netverify"
	testName = "netverify-report"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// makeResult builds a passing result; tweaks change what a test cares about.
func makeResult(scenario, from, to string, tweaks ...func(*results.Result)) results.Result {
	r := results.Result{
		Scenario: scenario, From: from, To: to, Port: 8080, Protocol: "TCP",
		Expected: results.Allowed, Observed: results.Allowed, Status: results.Pass,
		Reason: string(results.ReasonConnected), Match: true, Attempts: 1, LatencyMs: 12,
		Repro: "kubectl exec -n nv-abc-1-app " + from + " -c probe -- /netverify-probe connect --proto tcp --host 10.244.0.17 --port 8080 --timeout 1s",
	}
	for _, t := range tweaks {
		t(&r)
	}
	return r
}

// failed turns a result into "expected blocked, got allowed".
func failed(r *results.Result) {
	r.Expected, r.Status, r.Match = results.Blocked, results.Fail, false
}

func broken(r *results.Result) {
	r.Observed, r.Status, r.Reason, r.Match = results.Error, results.StatusError, string(results.ReasonExec), false
}

// makeReport builds a report of run id started at t0 plus n minutes.
func makeReport(id string, n int, rs ...results.Result) *results.Report {
	return &results.Report{
		RunID: id, Started: t0.Add(time.Duration(n) * time.Minute), Duration: 1500 * time.Millisecond,
		Summary: results.Summarize(rs), Results: rs,
	}
}

// manyFailing builds a report with n failing results.
func manyFailing(id string, minute, n int) *results.Report {
	rs := make([]results.Result, n)
	for i := range rs {
		rs[i] = makeResult("big", fmt.Sprintf("app/client-%04d", i), "app/backend", failed)
	}
	return makeReport(id, minute, rs...)
}

func getCM(t *testing.T, c *fake.Clientset) *corev1.ConfigMap {
	t.Helper()
	cm, err := c.CoreV1().ConfigMaps(testNS).Get(context.Background(), testName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func history(t *testing.T, cm *corev1.ConfigMap) []HistoryEntry {
	t.Helper()
	var h []HistoryEntry
	if err := json.Unmarshal([]byte(cm.Data[KeyHistory]), &h); err != nil {
		t.Fatalf("history.json: %v", err)
	}
	return h
}

type latestOut struct {
	results.Report
	Truncated *Truncation `json:"truncated"`
}

func latest(t *testing.T, cm *corev1.ConfigMap) latestOut {
	t.Helper()
	var l latestOut
	if err := json.Unmarshal([]byte(cm.Data[KeyLatest]), &l); err != nil {
		t.Fatalf("latest.json: %v", err)
	}
	return l
}

func write(t *testing.T, c *fake.Clientset, rep *results.Report, opts Options) {
	t.Helper()
	if err := WriteConfigMap(context.Background(), c, testNS, testName, rep, opts); err != nil {
		t.Fatal(err)
	}
}

func TestWriteConfigMapCreates(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	rep := makeReport("run1", 0,
		makeResult("core", "app/frontend", "app/backend"),
		makeResult("core", "app/random", "app/backend", failed),
		makeResult("core", "app/random", "svc:app/web", broken))
	write(t, c, rep, Options{})

	cm := getCM(t, c)
	if cm.Labels[labelManagedBy] != managedBy {
		t.Errorf("labels %v: want %s=%s", cm.Labels, labelManagedBy, managedBy)
	}
	if _, ok := cm.Labels["netverify.io/run-id"]; ok {
		t.Errorf("labels %v: the report must carry no run id (cleanup would delete it)", cm.Labels)
	}
	l := latest(t, cm)
	if l.RunID != "run1" || len(l.Results) != 3 || l.Summary.Failed != 1 || l.Summary.Errors != 1 || l.DurationMs != 1500 || l.Truncated != nil {
		t.Errorf("latest.json = %+v", l)
	}
	h := history(t, cm)
	if len(h) != 1 {
		t.Fatalf("history has %d entries, want 1", len(h))
	}
	want := HistoryEntry{
		Time: t0, RunID: "run1", DurationMs: 1500, Total: 3, Passed: 1, Failed: 1, Errors: 1,
		Mismatches: []Mismatch{
			{Scenario: "core", From: "app/random", To: "app/backend", Port: 8080, Protocol: "TCP", Expected: results.Blocked, Observed: results.Allowed, Status: results.Fail, Reason: "connected"},
			{Scenario: "core", From: "app/random", To: "svc:app/web", Port: 8080, Protocol: "TCP", Expected: results.Allowed, Observed: results.Error, Status: results.StatusError, Reason: "exec"},
		},
	}
	if got, _ := json.Marshal(h[0]); string(got) != mustJSON(t, want) {
		t.Errorf("history[0]\n got %s\nwant %s", got, mustJSON(t, want))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteConfigMapUpdatesKeepingOtherKeys(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS, ResourceVersion: "7", Labels: map[string]string{"team": "net"}},
		Data:       map[string]string{"README": "kept", KeyHistory: mustJSON(t, []HistoryEntry{{RunID: "old", Passed: 3, Total: 3}})},
	})
	write(t, c, makeReport("new", 1, makeResult("core", "a", "b")), Options{})

	cm := getCM(t, c)
	if cm.Data["README"] != "kept" || cm.Labels["team"] != "net" || cm.Labels[labelManagedBy] != managedBy {
		t.Errorf("other keys or labels lost: data %v labels %v", cm.Data, cm.Labels)
	}
	h := history(t, cm)
	if len(h) != 2 || h[0].RunID != "old" || h[1].RunID != "new" {
		t.Errorf("history = %+v, want old then new", h)
	}
	// The update was sent with the resourceVersion that was read.
	for _, a := range c.Actions() {
		if u, ok := a.(k8stesting.UpdateAction); ok {
			if rv := u.GetObject().(*corev1.ConfigMap).ResourceVersion; rv != "7" {
				t.Errorf("update sent resourceVersion %q, want 7", rv)
			}
		}
	}
}

func TestWriteConfigMapSameRunIsNotCountedTwice(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	rep := makeReport("run1", 0, makeResult("core", "a", "b"))
	write(t, c, rep, Options{})
	write(t, c, rep, Options{})
	if h := history(t, getCM(t, c)); len(h) != 1 {
		t.Errorf("history has %d entries, want 1", len(h))
	}
}

func TestWriteConfigMapRetriesOnConflict(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS},
		Data:       map[string]string{KeyHistory: mustJSON(t, []HistoryEntry{{RunID: "old"}})},
	})
	updates := 0
	c.PrependReactor("update", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		updates++
		if updates == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, testName, fmt.Errorf("the object has been modified"))
		}
		return false, nil, nil
	})
	write(t, c, makeReport("run1", 0, makeResult("core", "a", "b")), Options{})

	if updates != 2 {
		t.Errorf("%d updates, want 2 (one conflict, one retry)", updates)
	}
	gets := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "get" {
			gets++
		}
	}
	if gets != 2 {
		t.Errorf("%d gets, want 2: a retry must re-read the ConfigMap", gets)
	}
	if h := history(t, getCM(t, c)); len(h) != 2 {
		t.Errorf("history = %+v, want old and run1", h)
	}
}

func TestWriteConfigMapRetriesWhenCreatedConcurrently(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	creates := 0
	c.PrependReactor("create", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		creates++
		if creates == 1 {
			// Another writer wins the race with its own run.
			other := &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS},
				Data:       map[string]string{KeyHistory: mustJSON(t, []HistoryEntry{{RunID: "other"}})},
			}
			if err := c.Tracker().Add(other); err != nil {
				t.Error(err)
			}
			return true, nil, apierrors.NewAlreadyExists(schema.GroupResource{Resource: "configmaps"}, testName)
		}
		return false, nil, nil
	})
	write(t, c, makeReport("mine", 0, makeResult("core", "a", "b")), Options{})

	h := history(t, getCM(t, c))
	if len(h) != 2 || h[0].RunID != "other" || h[1].RunID != "mine" {
		t.Errorf("history = %+v, want other then mine", h)
	}
}

func TestWriteConfigMapGivesUpOnOtherErrors(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	c.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, testName, fmt.Errorf("no RBAC"))
	})
	err := WriteConfigMap(context.Background(), c, testNS, testName, makeReport("r", 0), Options{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "netverify/netverify-report") {
		t.Errorf("err = %v, want a Forbidden naming the ConfigMap", err)
	}
}

func TestHistoryKeepsTheLastN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
		want int
	}{
		{"default", Options{}, DefaultHistorySize},
		{"five", Options{HistorySize: 5}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := fake.NewClientset()
			for i := 1; i <= 25; i++ {
				write(t, c, makeReport(fmt.Sprintf("run%02d", i), i, makeResult("core", "a", "b", failed)), tc.opts)
			}
			h := history(t, getCM(t, c))
			if len(h) != tc.want {
				t.Fatalf("history has %d entries, want %d", len(h), tc.want)
			}
			if first, last := h[0].RunID, h[len(h)-1].RunID; first != fmt.Sprintf("run%02d", 26-tc.want) || last != "run25" {
				t.Errorf("history runs %s … %s, want the newest %d ending in run25", first, last, tc.want)
			}
		})
	}
}

func TestBigReportStaysWellUnderTheLimit(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	for i := 1; i <= 25; i++ {
		write(t, c, manyFailing(fmt.Sprintf("run%02d", i), i, 5000), Options{})
	}
	cm := getCM(t, c)
	if n := len(cm.Data[KeyLatest]) + len(cm.Data[KeyHistory]); n > DefaultMaxBytes {
		t.Errorf("latest.json + history.json = %d bytes, want at most %d", n, DefaultMaxBytes)
	}
	if obj, _ := json.Marshal(cm); len(obj) >= 900<<10 {
		t.Errorf("ConfigMap is %d bytes, want well under 1 MiB", len(obj))
	}
	l := latest(t, cm)
	if l.Summary.Failed != 5000 || l.Summary.Total != 5000 {
		t.Errorf("summary %+v must count every result", l.Summary)
	}
	if l.Truncated == nil || l.Truncated.DroppedResults != 5000-len(l.Results) || len(l.Results) == 0 ||
		!strings.Contains(l.Truncated.Note, "mismatches") {
		t.Errorf("truncated = %+v with %d results kept", l.Truncated, len(l.Results))
	}
	if l.Results[0].From != "app/client-0000" {
		t.Errorf("first kept result %q: failures are dropped from the end", l.Results[0].From)
	}
	h := history(t, cm)
	if len(h) == 0 || h[len(h)-1].RunID != "run25" {
		t.Fatalf("history must end with the newest run, got %d entries", len(h))
	}
	for _, e := range h {
		if len(e.Mismatches) != DefaultMaxMismatches || e.MismatchesOmitted != 5000-DefaultMaxMismatches || e.Failed != 5000 {
			t.Errorf("entry %s: %d mismatches, %d omitted, %d failed", e.RunID, len(e.Mismatches), e.MismatchesOmitted, e.Failed)
		}
	}
}

func TestHistoryDropsOldestEntriesOverBudget(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset()
	opts := Options{MaxBytes: 64 << 10}
	for i := 1; i <= 20; i++ {
		write(t, c, manyFailing(fmt.Sprintf("run%02d", i), i, 200), opts)
	}
	cm := getCM(t, c)
	if n := len(cm.Data[KeyLatest]) + len(cm.Data[KeyHistory]); n > opts.MaxBytes {
		t.Errorf("latest.json + history.json = %d bytes, want at most %d", n, opts.MaxBytes)
	}
	h := history(t, cm)
	if len(h) >= 20 || len(h) < 2 {
		t.Fatalf("history has %d entries: want the oldest dropped to fit, yet more than one kept", len(h))
	}
	for i, e := range h {
		if want := fmt.Sprintf("run%02d", 21-len(h)+i); e.RunID != want {
			t.Errorf("history[%d] = %s, want %s (the newest runs, oldest first)", i, e.RunID, want)
		}
	}
}

func TestLatestDropsPassingResultsFirst(t *testing.T) {
	t.Parallel()
	var rs []results.Result
	for i := 0; i < 3000; i++ {
		rs = append(rs, makeResult("big", fmt.Sprintf("app/ok-%04d", i), "app/backend"))
		if i%300 == 0 {
			rs = append(rs, makeResult("big", fmt.Sprintf("app/bad-%04d", i), "app/backend", failed))
		}
	}
	b, err := latestJSON(makeReport("r", 0, rs...), 200<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 200<<10 {
		t.Errorf("latest.json is %d bytes, budget %d", len(b), 200<<10)
	}
	var l latestOut
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	var bad int
	for _, r := range l.Results {
		if r.Status == results.Fail {
			bad++
		}
	}
	if bad != 10 || l.Summary.Passed != 3000 || l.Truncated == nil || !strings.Contains(l.Truncated.Note, "every mismatch is kept") {
		t.Errorf("kept %d of 10 failures, summary %+v, truncated %+v", bad, l.Summary, l.Truncated)
	}
	// Kept results stay in report order.
	if l.Results[0].From != "app/ok-0000" || l.Results[1].From != "app/bad-0000" {
		t.Errorf("results out of order: %s, %s", l.Results[0].From, l.Results[1].From)
	}
}

func TestUnreadableHistoryStartsAfresh(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS},
		Data:       map[string]string{KeyHistory: "{not json"},
	})
	write(t, c, makeReport("run1", 0), Options{})
	cm := getCM(t, c)
	if h := history(t, cm); len(h) != 1 || h[0].RunID != "run1" {
		t.Errorf("history = %+v", h)
	}
	if l := latest(t, cm); l.Results == nil {
		t.Error(`latest.json must say "results": [] for an empty run`)
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("→", 200) // 3 bytes each
	got := clip(long)
	if len(got) > maxField || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "→→") {
		t.Errorf("clip gave %d bytes: %q", len(got), got)
	}
	if clip("short") != "short" {
		t.Error("clip changed a short string")
	}
}

// A history written by an older netverify, whose mismatch ports were
// strings ("8080", "5432 (postgres)"), is read and kept, not replaced.
func TestWriteConfigMapReadsOlderHistory(t *testing.T) {
	t.Parallel()
	const older = `[{"time":"2025-01-01T00:00:00Z","runId":"old","durationMs":1,"total":2,"passed":0,"failed":2,"errors":0,"inconclusive":0,"skipped":0,` +
		`"mismatches":[{"scenario":"core","from":"a","to":"b","port":"8080","protocol":"TCP","expected":"blocked","observed":"allowed","status":"fail","reason":"connected"},` +
		`{"scenario":"db","from":"a","to":"db","port":"5432 (postgres)","protocol":"TCP","expected":"blocked","observed":"allowed","status":"fail","reason":"connected"}]}]`
	c := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: testName, Namespace: testNS},
		Data:       map[string]string{KeyHistory: older},
	})
	write(t, c, makeReport("new", 1, makeResult("core", "a", "b")), Options{})
	h := history(t, getCM(t, c))
	if len(h) != 2 || h[0].RunID != "old" || len(h[0].Mismatches) != 2 {
		t.Fatalf("history = %+v, want the older run kept, then new", h)
	}
	if m := h[0].Mismatches[0]; m.Port != 8080 || m.PortName != "" {
		t.Errorf("older port \"8080\" read as %d %q", m.Port, m.PortName)
	}
	if m := h[0].Mismatches[1]; m.Port != 5432 || m.PortName != "postgres" {
		t.Errorf("older port \"5432 (postgres)\" read as %d %q", m.Port, m.PortName)
	}
	// and written back in the current form
	if s := getCM(t, c).Data[KeyHistory]; !strings.Contains(s, `"port":5432,"portName":"postgres"`) {
		t.Errorf("history.json not rewritten with numeric ports: %s", s)
	}
}

func TestMismatchRejectsAPortOfAnotherType(t *testing.T) {
	t.Parallel()
	var m Mismatch
	if err := json.Unmarshal([]byte(`{"port":true}`), &m); err == nil {
		t.Errorf("port true: want an error, got %+v", m)
	}
}
