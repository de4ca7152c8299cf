package policyreport

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
	orv1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// makeResult builds a passing allowed result checked in place in live;
// tweaks change what a test cares about.
func makeResult(scenario, from, to string, live []string, tweaks ...func(*results.Result)) results.Result {
	r := results.Result{
		Scenario: scenario, From: from, To: to, Port: 8080, Protocol: "TCP",
		Expected: results.Allowed, Observed: results.Allowed, Status: results.Pass,
		Reason: string(results.ReasonConnected), Match: true, Attempts: 1,
		Repro: "kubectl exec -n prod client -c probe -- /netverify-probe connect --host 10.0.0.7 --port 8080",
		Live:  live,
	}
	for _, t := range tweaks {
		t(&r)
	}
	return r
}

func failed(r *results.Result) {
	r.Expected, r.Status, r.Match = results.Blocked, results.Fail, false
}

func status(s results.Status) func(*results.Result) {
	return func(r *results.Result) { r.Status = s }
}

func named(n string) func(*results.Result) { return func(r *results.Result) { r.Name = n } }

func makeReport(rs ...results.Result) *results.Report {
	return &results.Report{
		Version: "v0.9.0", RunID: "k3x9qa", Started: t0, Duration: 1500 * time.Millisecond,
		Summary: results.Summarize(rs), Results: rs,
	}
}

func mustBuild(t *testing.T, rep *results.Report, f Format, opts Options) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Build(rep, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// entries returns the obj's results decoded strictly into the OpenReports
// types (the PolicyReport entries have the same fields).
func decode(t *testing.T, obj *unstructured.Unstructured) orv1.Report {
	t.Helper()
	b, err := json.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var rep orv1.Report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("%s does not decode strictly into the OpenReports types: %v\n%s", obj.GetKind(), err, b)
	}
	return rep
}

func TestBuildOpenReport(t *testing.T) {
	t.Parallel()
	rep := makeReport(makeResult("db-access", "prod/api", "prod/postgres", []string{"prod"}, named("api reaches postgres")))
	objs := mustBuild(t, rep, OpenReports, Options{})
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want 1", len(objs))
	}
	obj := objs[0]
	if got := obj.GetAPIVersion(); got != "openreports.io/v1alpha1" {
		t.Errorf("apiVersion %q", got)
	}
	if got := obj.GetKind(); got != "Report" {
		t.Errorf("kind %q", got)
	}
	if obj.GetNamespace() != "prod" || obj.GetName() != DefaultName {
		t.Errorf("object %s/%s, want prod/%s", obj.GetNamespace(), obj.GetName(), DefaultName)
	}
	wantLabels := map[string]string{LabelManagedBy: "netverify", LabelReportedRunID: "k3x9qa"}
	if got := obj.GetLabels(); !reflect.DeepEqual(got, wantLabels) {
		t.Errorf("labels %v, want %v", got, wantLabels)
	}
	if _, ok := obj.GetLabels()["netverify.io/run-id"]; ok {
		t.Error("report carries netverify.io/run-id: cleanup would delete it")
	}
	if src, _, _ := unstructured.NestedString(obj.Object, "source"); src != "netverify" {
		t.Errorf("source %q", src)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", "creationTimestamp"); found {
		t.Error("metadata.creationTimestamp set")
	}
	scope, _, _ := unstructured.NestedStringMap(obj.Object, "scope")
	if want := map[string]string{"apiVersion": "v1", "kind": "Namespace", "name": "prod"}; !reflect.DeepEqual(scope, want) {
		t.Errorf("scope %v, want %v", scope, want)
	}
	got := decode(t, obj)
	want := orv1.ReportResult{
		Source: "netverify", Policy: "db-access", Rule: "api reaches postgres", Category: "NetworkPolicy",
		Result: "pass", Scored: true,
		Description: "expected allowed, observed allowed: connected",
		Properties: map[string]string{
			"from": "prod/api", "to": "prod/postgres", "port": "8080/TCP", "expected": "allowed",
			"observed": "allowed", "status": "pass", "runID": "k3x9qa",
		},
	}
	want.Timestamp.Seconds, want.Timestamp.Nanos = t0.Add(1500*time.Millisecond).Unix(), 500_000_000
	if len(got.Results) != 1 || !reflect.DeepEqual(got.Results[0], want) {
		t.Errorf("results\n got %+v\nwant [%+v]", got.Results, want)
	}
	if want := (orv1.ReportSummary{Pass: 1}); got.Summary != want {
		t.Errorf("summary %+v, want %+v", got.Summary, want)
	}
}

func TestBuildPolicyReport(t *testing.T) {
	t.Parallel()
	rep := makeReport(makeResult("web", "shop/front", "shop/cart", []string{"shop"}, failed))
	objs := mustBuild(t, rep, PolicyReport, Options{Name: "netverify-nightly"})
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want 1", len(objs))
	}
	obj := objs[0]
	if obj.GetAPIVersion() != "wgpolicyk8s.io/v1alpha2" || obj.GetKind() != "PolicyReport" {
		t.Errorf("got %s %s, want wgpolicyk8s.io/v1alpha2 PolicyReport", obj.GetAPIVersion(), obj.GetKind())
	}
	if obj.GetName() != "netverify-nightly" || obj.GetNamespace() != "shop" {
		t.Errorf("object %s/%s", obj.GetNamespace(), obj.GetName())
	}
	// v1alpha2 has no top-level source: the entries carry it.
	if _, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "source"); found {
		t.Error("PolicyReport has a top-level source, which v1alpha2 does not define")
	}
	got := decode(t, obj)
	if len(got.Results) != 1 {
		t.Fatalf("got %d results", len(got.Results))
	}
	e := got.Results[0]
	if e.Source != "netverify" || e.Result != "fail" || e.Policy != "web" || e.Rule != "shop/front → shop/cart 8080/TCP" {
		t.Errorf("entry %+v", e)
	}
	if want := (orv1.ReportSummary{Fail: 1}); got.Summary != want {
		t.Errorf("summary %+v, want %+v", got.Summary, want)
	}
}

func TestBuildGroupsByLiveNamespace(t *testing.T) {
	t.Parallel()
	rep := makeReport(
		makeResult("s", "a/x", "a/y", []string{"a"}, named("1")),
		makeResult("s", "a/x", "b/z", []string{"a", "b"}, named("2")),
		makeResult("s", "nv-run/p", "nv-run/q", nil, named("3")), // synthetic: no report
		makeResult("s", "b/z", "b/z", []string{"b", "b"}, named("4")),
		makeResult("s", "c/w", "nv-run/q", []string{"c"}, named("5")),
	)
	for _, f := range AllFormats {
		objs := mustBuild(t, rep, f, Options{})
		got := map[string][]string{}
		var order []string
		for _, obj := range objs {
			order = append(order, obj.GetNamespace())
			for _, e := range decode(t, obj).Results {
				got[obj.GetNamespace()] = append(got[obj.GetNamespace()], e.Rule)
			}
		}
		want := map[string][]string{"a": {"1", "2"}, "b": {"2", "4"}, "c": {"5"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rules by namespace %v, want %v", f, got, want)
		}
		if !reflect.DeepEqual(order, []string{"a", "b", "c"}) {
			t.Errorf("%s: namespaces in order %v", f, order)
		}
	}
}

func TestBuildNothingLive(t *testing.T) {
	t.Parallel()
	objs := mustBuild(t, makeReport(makeResult("s", "a", "b", nil)), OpenReports, Options{})
	if len(objs) != 0 {
		t.Errorf("got %d objects for a run with no in-place checks", len(objs))
	}
}

func TestResultOf(t *testing.T) {
	t.Parallel()
	for s, want := range map[results.Status]string{
		results.Pass:                  "pass",
		results.Fail:                  "fail",
		results.StatusError:           "error",
		results.Inconclusive:          "error",
		results.Skipped:               "skip",
		results.ImplementationDefined: "skip",
		"something-new":               "",
	} {
		if got := ResultOf(s); got != want {
			t.Errorf("ResultOf(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestBuildSummaryAndStatusProperty(t *testing.T) {
	t.Parallel()
	live := []string{"prod"}
	rep := makeReport(
		makeResult("s", "a", "b", live),
		makeResult("s", "a", "c", live),
		makeResult("s", "a", "d", live, failed),
		makeResult("s", "a", "e", live, status(results.StatusError)),
		makeResult("s", "a", "f", live, status(results.Inconclusive)),
		makeResult("s", "a", "g", live, status(results.Skipped)),
		makeResult("s", "a", "h", live, status(results.ImplementationDefined)),
		makeResult("s", "a", "i", live, status("something-new")),
	)
	got := decode(t, mustBuild(t, rep, OpenReports, Options{})[0])
	if want := (orv1.ReportSummary{Pass: 2, Fail: 1, Error: 3, Skip: 2}); got.Summary != want {
		t.Errorf("summary %+v, want %+v", got.Summary, want)
	}
	var statuses []string
	for _, e := range got.Results {
		statuses = append(statuses, e.Properties["status"]+"→"+string(e.Result))
	}
	want := []string{"pass→pass", "pass→pass", "fail→fail", "error→error", "inconclusive→error", "skipped→skip", "implementation-defined→skip", "something-new→error"}
	if !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}

func TestRuleAndMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		r         results.Result
		kept      bool
		rule, msg string
	}{
		{
			name: "pass: no repro",
			r:    makeResult("s", "prod/a", "prod/b", nil),
			rule: "prod/a → prod/b 8080/TCP",
			msg:  "expected allowed, observed allowed: connected",
		},
		{
			name: "fail: repro, namespaces removed",
			r:    makeResult("s", "prod/a", "prod/b", nil, failed, named("a must not reach b")),
			rule: "a must not reach b",
			msg:  "expected blocked, observed allowed: connected; reproduce: kubectl exec -n prod client -c probe -- /netverify-probe connect --host 10.0.0.7 --port 8080 (the run's namespaces were removed: run again with --keep=on-failure)",
		},
		{
			name: "fail kept: repro alone",
			r:    makeResult("s", "prod/a", "prod/b", nil, failed),
			kept: true,
			rule: "prod/a → prod/b 8080/TCP",
			msg:  "expected blocked, observed allowed: connected; reproduce: kubectl exec -n prod client -c probe -- /netverify-probe connect --host 10.0.0.7 --port 8080",
		},
		{
			name: "decided by the engine, named port",
			r: makeResult("s", "prod/a", "prod/db", nil, func(r *results.Result) {
				r.Port, r.PortName, r.DecidedBy, r.Repro = 5432, "postgres", "prod/allow-db ingress[0]", ""
			}),
			rule: "prod/a → prod/db 5432/TCP (postgres)",
			msg:  "expected allowed, observed allowed: connected; decided by prod/allow-db ingress[0]",
		},
		{
			name: "skipped, no port",
			r: makeResult("s", "prod/a", "metadata", nil, status(results.Skipped), func(r *results.Result) {
				r.Observed, r.Reason, r.Port, r.Protocol, r.Repro = results.None, "no such target on this cluster", 0, "", ""
			}),
			rule: "prod/a → metadata",
			msg:  "expected allowed, not observed: no such target on this cluster",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Rule(tt.r); got != tt.rule {
				t.Errorf("Rule = %q, want %q", got, tt.rule)
			}
			if got := Message(tt.r, tt.kept); got != tt.msg {
				t.Errorf("Message =\n %q\nwant\n %q", got, tt.msg)
			}
		})
	}
}

func TestBuildDecidedByProperty(t *testing.T) {
	t.Parallel()
	rep := makeReport(makeResult("", "a/x", "a/y", []string{"a"}, func(r *results.Result) { r.DecidedBy = "a/deny-all" }))
	e := decode(t, mustBuild(t, rep, PolicyReport, Options{})[0]).Results[0]
	if e.Policy != "netverify" {
		t.Errorf("policy of a result without scenario %q, want netverify", e.Policy)
	}
	if e.Properties["decidedBy"] != "a/deny-all" {
		t.Errorf("properties %v", e.Properties)
	}
}

func TestBuildRunIDLabel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		id    string
		label bool
	}{{"k3x9qa", true}, {"", false}, {"not a label value!", false}} {
		rep := makeReport(makeResult("s", "a", "b", []string{"a"}))
		rep.RunID = tt.id
		obj := mustBuild(t, rep, OpenReports, Options{})[0]
		v, ok := obj.GetLabels()[LabelReportedRunID]
		if ok != tt.label || (ok && v != tt.id) {
			t.Errorf("run id %q: label %q (present %v), want present %v", tt.id, v, ok, tt.label)
		}
		if obj.GetLabels()[LabelManagedBy] != ManagedBy {
			t.Errorf("run id %q: no managed-by label", tt.id)
		}
		if tt.id != "" {
			if got := decode(t, obj).Results[0].Properties["runID"]; got != tt.id {
				t.Errorf("run id %q: property %q", tt.id, got)
			}
		}
	}
}

func TestBuildTimestampFromDurationMs(t *testing.T) {
	t.Parallel()
	rep := makeReport(makeResult("s", "a", "b", []string{"a"}))
	rep.Duration, rep.DurationMs = 0, 2000 // read back from JSON
	e := decode(t, mustBuild(t, rep, OpenReports, Options{})[0]).Results[0]
	if e.Timestamp.Seconds != t0.Unix()+2 || e.Timestamp.Nanos != 0 {
		t.Errorf("timestamp %+v, want %d s", e.Timestamp, t0.Unix()+2)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	t.Parallel()
	rep := makeReport(makeResult("s", "a", "b", []string{"a"}))
	for _, tt := range []struct {
		name string
		rep  *results.Report
		f    Format
		opts Options
		want string
	}{
		{"nil report", nil, OpenReports, Options{}, "no report"},
		{"unknown format", rep, "kyverno", Options{}, `unknown policy report format "kyverno"`},
		{"bad name", rep, OpenReports, Options{Name: "Net_Verify"}, `report name "Net_Verify"`},
		{"format twice", rep, OpenReports, Options{Formats: []Format{PolicyReport, PolicyReport}}, "given twice"},
	} {
		_, err := Build(tt.rep, tt.f, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}
