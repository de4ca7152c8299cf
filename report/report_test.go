package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// makeResult builds a passing result; tweaks change what a test cares about.
func makeResult(scenario, from, to string, tweaks ...func(*results.Result)) results.Result {
	r := results.Result{
		Scenario:  scenario,
		From:      from,
		To:        to,
		Port:      8080,
		Protocol:  "TCP",
		Expected:  results.Allowed,
		Observed:  results.Allowed,
		Status:    results.Pass,
		Reason:    string(results.ReasonConnected),
		Match:     true,
		Attempts:  1,
		LatencyMs: 12,
	}
	for _, t := range tweaks {
		t(&r)
	}
	return r
}

// fixtureReport has one result of every status, with and without names,
// answeredBy and repro values, and cells that need escaping.
func fixtureReport() *results.Report {
	rs := []results.Result{
		makeResult("web", "app/frontend", "app/backend", func(r *results.Result) {
			r.AnsweredBy = "app/backend-7c9d8"
		}),
		makeResult("web", "app/random", "app/backend", func(r *results.Result) {
			r.Expected = results.Blocked
			r.Status = results.Fail
			r.Match = false
			r.Attempts = 3
			r.LatencyMs = 2034
			r.AnsweredBy = "app/backend-7c9d8"
			r.Repro = "kubectl exec -n app random -c probe -- /netverify-probe connect --proto tcp --host 10.96.0.12 --port 8080 --timeout 2s"
		}),
		makeResult("db", "app/backend", "data/postgres", func(r *results.Result) {
			r.Name = "backend-to-db"
			r.Port = 5432
			r.PortName = "postgres"
			r.Observed = results.Error
			r.Status = results.StatusError
			r.Reason = string(results.ReasonDNS) + ": lookup postgres.data.svc: no such host"
			r.Match = false
			r.Attempts = 2
			r.LatencyMs = 540
			r.Repro = "kubectl exec -n app backend -c probe -- /netverify-probe connect --proto dns --host postgres.data.svc --timeout 1s"
		}),
		makeResult("egress", "app/frontend", "203.0.113.10", func(r *results.Result) {
			r.Port = 443
			r.Expected = results.Blocked
			r.Observed = results.Blocked
			r.Status = results.Inconclusive
			r.Reason = string(results.ReasonControlFailed)
			r.Match = false
			r.Attempts = 4
			r.LatencyMs = 8000
			r.Repro = "kubectl exec -n app frontend -c probe -- /netverify-probe connect --proto tcp --host 203.0.113.10 --port 443 --timeout 1s"
		}),
		makeResult("egress", "app/frontend", "app/backend", func(r *results.Result) {
			r.Port = 9090
			r.Protocol = "SCTP"
			r.Observed = results.None
			r.Status = results.Skipped
			r.Reason = string(results.ReasonUnsupported) + ": SCTP | not enabled"
			r.Match = false
			r.Attempts = 0
			r.LatencyMs = 0
		}),
		makeResult("web", "app/frontend", "node/worker-1", func(r *results.Result) {
			r.Name = "host-network"
			r.Port = 10250
			r.Observed = results.Blocked
			r.Status = results.ImplementationDefined
			r.Reason = string(results.ReasonTimeout)
			r.Match = false
			r.Attempts = 1
			r.LatencyMs = 2001
		}),
		makeResult("web", "app/frontend", "app/backend", func(r *results.Result) {
			r.Port = 8081
			r.Expected = results.Blocked
			r.Observed = results.Blocked
			r.Reason = string(results.ReasonRefused)
			r.LatencyMs = 3
		}),
	}
	return &results.Report{
		Version:    "v0.3.0",
		RunID:      "nv-7f3a",
		Context:    "kind-netverify",
		ExitCode:   results.ExitMismatch,
		Started:    time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		Duration:   12*time.Second + 345678*time.Microsecond,
		DurationMs: 12345,
		Summary:    results.Summarize(rs),
		Results:    rs,
	}
}

// nodesReport is a run over two nodes whose node-b does not enforce
// ingress: an expectation per node pair, the per-node summary.
func nodesReport() *results.Report {
	var rs []results.Result
	pairs := [][2]string{{"node-a", "node-a"}, {"node-a", "node-b"}, {"node-b", "node-b"}, {"node-b", "node-a"}}
	for _, p := range pairs {
		rs = append(rs, makeResult("web", "app/frontend", "app/backend", func(r *results.Result) {
			r.SourceNode, r.TargetNode = p[0], p[1]
			r.AnsweredBy = "nv-7f3a-1-app/backend-" + map[string]string{"node-a": "1", "node-b": "2"}[p[1]]
		}))
	}
	for _, p := range pairs {
		rs = append(rs, makeResult("web", "app/random", "app/backend", func(r *results.Result) {
			r.SourceNode, r.TargetNode, r.PolicedBy = p[0], p[1], results.PolicedByIngress
			r.Expected, r.Observed, r.Reason, r.LatencyMs = results.Blocked, results.Blocked, string(results.ReasonTimeout), 400
			if p[1] == "node-b" {
				r.Observed, r.Status, r.Match, r.Attempts, r.LatencyMs = results.Allowed, results.Fail, false, 7, 0
				r.Reason = "connected; still allowed when the 1m0s match budget (--match-budget) ran out"
				r.AnsweredBy = "nv-7f3a-1-app/backend-2"
				r.Repro = "kubectl exec -n nv-7f3a-1-app random-" + map[string]string{"node-a": "1", "node-b": "2"}[p[0]] +
					" -c probe -- /netverify-probe connect --proto tcp --host 10.244.1.7 --port 8080 --identity nv-7f3a-1-app/backend-2 --timeout 1s"
			}
		}))
	}
	for _, n := range []string{"node-a", "node-b"} {
		rs = append(rs, makeResult("egress", "app/random", "ip:169.254.169.254", func(r *results.Result) {
			r.Port, r.SourceNode, r.PolicedBy = 80, n, results.PolicedByEgress
			r.Expected, r.Observed, r.Reason, r.LatencyMs = results.Blocked, results.Blocked, string(results.ReasonTimeout), 250
		}))
	}
	return &results.Report{
		Version: "v0.3.0", RunID: "nv-7f3a", Context: "kind-netverify", ExitCode: results.ExitMismatch,
		Started:  time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		Duration: 61 * time.Second, DurationMs: 61000,
		Summary: results.Summarize(rs), Nodes: results.NodesOf(rs), Results: rs,
	}
}

// One expectation's node pairs keep apart in every format that names
// results: unique JUnit case names.
func TestNodePairsKeepNamesUnique(t *testing.T) {
	t.Parallel()
	var doc junitSuites
	if err := xml.Unmarshal(render(t, FormatJUnit, nodesReport(), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if seen[s.Name+"/"+c.Name] {
				t.Errorf("JUnit case %q twice in suite %s", c.Name, s.Name)
			}
			seen[s.Name+"/"+c.Name] = true
		}
	}
	if len(seen) != 10 {
		t.Errorf("%d distinct cases, want 10", len(seen))
	}
}

// keptReport is fixtureReport of a run that left its namespaces.
func keptReport() *results.Report {
	rep := fixtureReport()
	rep.Kept = true
	return rep
}

func emptyReport() *results.Report {
	return &results.Report{RunID: "nv-empty", Started: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC), Duration: 5 * time.Millisecond}
}

func render(t *testing.T, format string, rep *results.Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, rep, opts); err != nil {
		t.Fatalf("Write(%q): %v", format, err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/<name>.golden, or rewrites it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run 'go test ./report -update' to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run 'go test ./report -update' if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", file, got, want)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		format string
		rep    *results.Report
		opts   Options
	}{
		{"table", FormatTable, fixtureReport(), Options{}},
		{"table_color", FormatTable, fixtureReport(), Options{Color: true}},
		{"table_kept", FormatTable, keptReport(), Options{}},
		{"table_only_failures", FormatTable, fixtureReport(), Options{OnlyFailures: true}},
		{"wide", FormatWide, fixtureReport(), Options{}},
		{"wide_color", FormatWide, fixtureReport(), Options{Color: true}},
		{"markdown_only_failures", FormatMarkdown, fixtureReport(), Options{OnlyFailures: true}},
		{"json", FormatJSON, fixtureReport(), Options{}},
		{"junit", FormatJUnit, fixtureReport(), Options{}},
		{"markdown", FormatMarkdown, fixtureReport(), Options{}},
		{"nodes_table", FormatTable, nodesReport(), Options{}},
		{"nodes_wide", FormatWide, nodesReport(), Options{}},
		{"nodes_json", FormatJSON, nodesReport(), Options{}},
		{"nodes_junit", FormatJUnit, nodesReport(), Options{}},
		{"nodes_markdown", FormatMarkdown, nodesReport(), Options{}},
		{"empty_table", FormatTable, emptyReport(), Options{}},
		{"empty_wide", FormatWide, emptyReport(), Options{}},
		{"empty_json", FormatJSON, emptyReport(), Options{}},
		{"empty_junit", FormatJUnit, emptyReport(), Options{}},
		{"empty_markdown", FormatMarkdown, emptyReport(), Options{}},
	}
	builtin := []struct {
		name   string
		format string
	}{{"builtin_table", FormatTable}, {"builtin_wide", FormatWide}, {"builtin_markdown", FormatMarkdown}}
	for _, b := range builtin {
		cases = append(cases, struct {
			name   string
			format string
			rep    *results.Report
			opts   Options
		}{b.name, b.format, builtinRun(t), Options{}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, tc.name, render(t, tc.format, tc.rep, tc.opts))
		})
	}
}

func TestEveryFormatIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		a := render(t, f, fixtureReport(), Options{Color: true})
		b := render(t, f, fixtureReport(), Options{Color: true})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings of the same report differ", f)
		}
	}
}

func TestNoColorWithoutOption(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		if out := render(t, f, fixtureReport(), Options{}); bytes.Contains(out, []byte("\x1b[")) {
			t.Errorf("%s: output has ANSI escapes with Color off:\n%s", f, out)
		}
	}
	if out := render(t, FormatTable, fixtureReport(), Options{Color: true}); !bytes.Contains(out, []byte(ansiRed)) {
		t.Errorf("table: no ANSI red with Color on:\n%s", out)
	}
}

func TestUnknownFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := Write(&buf, "yaml", fixtureReport(), Options{})
	if err == nil {
		t.Fatal("Write(yaml): want an error, got nil")
	}
	for _, f := range append(Formats(), `"yaml"`) {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %s", err, f)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("Write(yaml) wrote %q before failing", buf.String())
	}
}

func TestNilReport(t *testing.T) {
	t.Parallel()
	if err := Write(&bytes.Buffer{}, FormatTable, nil, Options{}); err == nil {
		t.Error("Write(nil report): want an error, got nil")
	}
}

func TestJSONEmptyResultsIsArray(t *testing.T) {
	t.Parallel()
	out := render(t, FormatJSON, &results.Report{}, Options{})
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if got := string(m["results"]); got != "[]" {
		t.Errorf(`"results" = %s, want []`, got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	rep := fixtureReport()
	var got results.Report
	if err := json.Unmarshal(render(t, FormatJSON, rep, Options{}), &got); err != nil {
		t.Fatal(err)
	}
	if got.RunID != rep.RunID || len(got.Results) != len(rep.Results) || got.Summary != results.Summarize(rep.Results) {
		t.Errorf("round trip lost data: got %+v", got)
	}
	// A report read back from JSON has DurationMs only; it renders the same.
	if a, b := render(t, FormatTable, rep, Options{}), render(t, FormatTable, &got, Options{}); !bytes.Equal(a, b) {
		t.Errorf("table of the JSON round trip differs:\n%s\nvs\n%s", a, b)
	}
}

func TestJUnitParsesAndCounts(t *testing.T) {
	t.Parallel()
	var doc junitSuites
	if err := xml.Unmarshal(render(t, FormatJUnit, fixtureReport(), Options{}), &doc); err != nil {
		t.Fatalf("output is not valid XML: %v", err)
	}
	// 7 results: 1 fail + 1 inconclusive are failures, 1 error, 1 skipped + 1
	// implementation-defined are skipped.
	if doc.Tests != 7 || doc.Failures != 2 || doc.Errors != 1 || doc.Skipped != 2 {
		t.Errorf("totals = tests %d failures %d errors %d skipped %d, want 7 2 1 2", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "web,db,egress" {
		t.Errorf("suites = %s, want web,db,egress (order of first appearance)", got)
	}
}

func TestMismatchesFirst(t *testing.T) {
	t.Parallel()
	st := func(s results.Status, to string) results.Result {
		return makeResult("s", "a/x", to, func(r *results.Result) { r.Status = s })
	}
	in := []results.Result{
		st(results.Pass, "1"), st(results.Fail, "2"), st(results.Skipped, "3"),
		st(results.Inconclusive, "4"), st(results.StatusError, "5"), st(results.ImplementationDefined, "6"), st(results.Fail, "7"),
	}
	var got []string
	for _, r := range mismatchesFirst(in) {
		got = append(got, r.To)
	}
	if s := strings.Join(got, ""); s != "2457136" {
		t.Errorf("order = %s, want 2457136", s)
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, got, want string }{
		{"md pipe", mdCell("a|b"), `a\|b`},
		{"md newline", mdCell("a\nb"), "a b"},
		{"code span", codeSpan("a`b"), "``a`b``"},
		{"code span empty", codeSpan(""), ""},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
