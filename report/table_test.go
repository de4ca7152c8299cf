package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netverify/netverify/results"
)

// builtinRun is the report of a run of the built-in suite, as on a kind
// cluster whose CNI enforces policies: testdata/builtin_run.json, made on
// the simulated cluster, with the metadata checks skipped because nothing
// answers at those addresses (their long reasons are what made the old
// table 266 columns wide).
func builtinRun(t *testing.T) *results.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "builtin_run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep results.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) < 30 {
		t.Fatalf("testdata/builtin_run.json has %d results, want the whole built-in suite", len(rep.Results))
	}
	return &rep
}

// nonEnforcing turns rep into the run of a CNI that ignores policies: every
// blocked expectation fails.
func nonEnforcing(rep *results.Report) *results.Report {
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Expected == results.Blocked && r.Status == results.Pass {
			r.Observed, r.Status, r.Match = results.Allowed, results.Fail, false
			r.Reason = "connected; still allowed when the 1m0s match budget (--match-budget) ran out"
		}
	}
	rep.Summary = results.Summarize(rep.Results)
	return rep
}

// troubled adds an inconclusive, a broken and an implementation-defined
// result to rep, the widest statuses.
func troubled(rep *results.Report) *results.Report {
	rs := rep.Results
	rs[0].Status, rs[0].Observed, rs[0].Reason = results.Inconclusive, results.None, string(results.ReasonControlFailed)
	rs[1].Status, rs[1].Observed, rs[1].Reason = results.StatusError, results.Error, "wrong-identity: answered by kube-system/impostor-5d8f7c9b6-x2x7q, not a backend of the service"
	rs[2].Status, rs[2].Reason = results.ImplementationDefined, "timeout; implementation-defined: a pod reaching itself"
	rep.Summary = results.Summarize(rs)
	return rep
}

// tableLines returns the lines of the table itself: up to the first blank
// line.
func tableLines(out []byte) []string {
	table, _, _ := strings.Cut(string(out), "\n\n")
	return strings.Split(table, "\n")
}

// The default table of realistic runs fits 120 columns, and the paths of
// the runs a first user sees (enforcing or not) are never shortened.
func TestTableFitsWidth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		rep        *results.Report
		wholePaths bool
	}{
		{"built-in suite, enforcing CNI", builtinRun(t), true},
		{"built-in suite, CNI ignoring policies", nonEnforcing(builtinRun(t)), true},
		{"built-in suite, inconclusive, error, implementation-defined", troubled(builtinRun(t)), false},
		{"fixture", fixtureReport(), true},
		{"long names", longNames(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, color := range []bool{false, true} {
				out := render(t, FormatTable, tc.rep, Options{Color: color})
				lines := tableLines(out)
				if len(lines) != len(tc.rep.Results)+1 {
					t.Fatalf("table has %d lines, want a header and %d rows:\n%s", len(lines), len(tc.rep.Results), out)
				}
				for _, l := range lines {
					if color {
						l = stripANSI(l)
					}
					if w := width(l); w > MaxTableWidth {
						t.Errorf("line is %d columns wide, want at most %d:\n%s", w, MaxTableWidth, l)
					}
				}
			}
			if !tc.wholePaths {
				return
			}
			// Every FROM and TO is whole, on the row of its result.
			lines := tableLines(render(t, FormatTable, tc.rep, Options{}))
			for i, r := range mismatchesFirst(tc.rep.Results) {
				f := strings.Fields(lines[i+1])
				if len(f) != 7 || f[1] != r.From || f[2] != r.To {
					t.Errorf("row %d = %q, want FROM %q and TO %q whole", i, lines[i+1], r.From, r.To)
				}
			}
		})
	}
}

// longNames has names far longer than any column budget.
func longNames() *results.Report {
	long := strings.Repeat("very-long-namespace-name-", 4)
	rs := []results.Result{
		makeResult(long+"scenario", long+"a/"+long+"pod", "svc:"+long+"/"+long+"service"),
		makeResult(long+"scenario-2", "app/a", "dns:"+long+".example.com", func(r *results.Result) { r.Status = results.ImplementationDefined }),
	}
	return &results.Report{RunID: "long", Results: rs}
}

func stripANSI(s string) string {
	for _, sgr := range []string{ansiBold, ansiRed, ansiYellow, ansiGreen, ansiReset} {
		s = strings.ReplaceAll(s, sgr, "")
	}
	return s
}

// The wide table is not held to the width: it shows every reason whole, and
// the columns that explain a row.
func TestWideTable(t *testing.T) {
	t.Parallel()
	rep := builtinRun(t)
	out := string(render(t, FormatWide, rep, Options{}))
	header := tableLines([]byte(out))[0]
	for _, h := range []string{"SCENARIO", "FROM", "TO", "PORT", "EXPECTED", "OBSERVED", "STATUS", "REASON", "ATTEMPTS", "LATENCY", "ANSWERED BY"} {
		if !strings.Contains(header, h) {
			t.Errorf("wide header lacks %s: %q", h, header)
		}
	}
	if strings.Contains(header, "DECIDED BY") {
		t.Errorf("wide header has DECIDED BY though no result was decided by a rule: %q", header)
	}
	for _, want := range []string{
		"ip:169.254.169.254 does not answer on this cluster even without policy (timeout): check does not apply",
		"5432/TCP (postgres)", // the port's name
		"600ms",               // a latency
		"namespace-isolation-allow-same-namespace",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("wide output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ellipsis) {
		t.Errorf("wide output shortened a cell:\n%s", out)
	}
	// The default table shows neither the reasons nor the port names.
	def := string(render(t, FormatTable, rep, Options{}))
	for _, absent := range []string{"REASON", "does not answer", "(postgres)", "ANSWERED BY"} {
		if strings.Contains(def, absent) {
			t.Errorf("default table has %q:\n%s", absent, def)
		}
	}

	rep.Results[0].DecidedBy = "allowed by app/allow-dns egress[0]"
	if header := tableLines(render(t, FormatWide, rep, Options{}))[0]; !strings.HasSuffix(header, "DECIDED BY") {
		t.Errorf("wide header %q, want DECIDED BY last when a row has it", header)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    results.Result
		want string
	}{
		{results.Result{Attempts: 0, LatencyMs: 0}, "-"},
		{results.Result{Attempts: 1, LatencyMs: 0}, "0ms"},
		{results.Result{Attempts: 1, LatencyMs: 12}, "12ms"},
		{results.Result{Attempts: 3, LatencyMs: 2034}, "2.034s"},
		{results.Result{Attempts: 9, LatencyMs: 61500}, "1m1.5s"},
	}
	for _, tc := range tests {
		if got := latency(tc.r); got != tc.want {
			t.Errorf("latency(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	// SCENARIO FROM TO PORT EXPECTED OBSERVED STATUS, gaps of 2
	tests := []struct {
		name string
		in   []int
		want []int
	}{
		{"fits already", []int{20, 20, 20, 9, 8, 8, 7}, []int{20, 20, 20, 9, 8, 8, 7}},
		{"scenario absorbs it", []int{40, 21, 43, 9, 8, 8, 7}, []int{12, 21, 43, 9, 8, 8, 7}},
		{"then the wider path", []int{40, 21, 43, 9, 8, 8, 12}, []int{12, 21, 38, 9, 8, 8, 12}},
		{"both paths, evenly", []int{40, 60, 60, 9, 8, 8, 7}, []int{12, 32, 32, 9, 8, 8, 7}},
		{"paths not below their floor", []int{40, 100, 20, 9, 8, 8, 7}, []int{12, 44, 20, 9, 8, 8, 7}},
		{"then scenario to its header; fixed columns never shrink", []int{40, 20, 20, 10, 8, 8, 60}, []int{8, 16, 16, 10, 8, 8, 60}},
		{"NODES shrinks first", []int{20, 20, 20, 9, 8, 8, 7, 40}, []int{20, 20, 20, 9, 8, 8, 7, 14}},
		{"NODES not below its floor", []int{40, 21, 43, 9, 8, 8, 7, 40}, []int{12, 21, 29, 9, 8, 8, 7, 12}},
	}
	for _, tc := range tests {
		got := fit(tc.in, MaxTableWidth)
		if !equalInts(got, tc.want) {
			t.Errorf("%s: fit(%v) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestShortenColumn(t *testing.T) {
	t.Parallel()
	in := []string{"allow-dns", "backend-database", "namespace-isolation", "namespace-isolation-allow-same-namespace", "namespace-isolation"}
	got := shortenColumn(in, 12)
	want := []string{"allow-dns", "backend-dat…", "namesp…ation", "namesp…space", "namesp…ation"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("shortenColumn = %q, want %q", got, want)
	}
	for _, s := range got {
		if width(s) > 12 {
			t.Errorf("%q is wider than 12", s)
		}
	}
	if got := shortenEnd("ab", 1); got != "…" {
		t.Errorf("shortenEnd(ab, 1) = %q", got)
	}
}

// With OnlyFailures, the table formats show only the mismatches while the
// summary still counts everything; JSON and JUnit are unchanged.
func TestOnlyFailures(t *testing.T) {
	t.Parallel()
	rep := fixtureReport()
	for _, f := range []string{FormatTable, FormatWide} {
		out := string(render(t, f, rep, Options{OnlyFailures: true}))
		rows := tableLines([]byte(out))[1:]
		if len(rows) != 3 {
			t.Errorf("%s: %d rows, want the 3 mismatches:\n%s", f, len(rows), out)
		}
		for _, r := range rows {
			if st := strings.Fields(r)[6]; !isMismatch(results.Status(st)) {
				t.Errorf("%s: row with status %s:\n%s", f, st, r)
			}
		}
		if !strings.Contains(out, "FAILED: 1 of 7 expectations failed") || !strings.Contains(out, "2 passed, 1 skipped, 1 implementation-defined") {
			t.Errorf("%s: the summary does not count every result:\n%s", f, out)
		}
	}
	md := string(render(t, FormatMarkdown, rep, Options{OnlyFailures: true}))
	if strings.Contains(md, "## Results") || strings.Contains(md, "| pass |") || !strings.Contains(md, "## Mismatches") {
		t.Errorf("markdown with OnlyFailures:\n%s", md)
	}
	for _, f := range []string{FormatJSON, FormatJUnit} {
		if a, b := render(t, f, rep, Options{}), render(t, f, rep, Options{OnlyFailures: true}); !bytes.Equal(a, b) {
			t.Errorf("%s: OnlyFailures changed the output", f)
		}
	}

	// Nothing failed: a sentence stands in for the empty table.
	ok := builtinRun(t)
	for _, f := range []string{FormatTable, FormatWide, FormatMarkdown} {
		out := string(render(t, f, ok, Options{OnlyFailures: true}))
		if !strings.Contains(out, "No failed, broken or inconclusive expectations.") || strings.Contains(out, "SCENARIO") || !strings.Contains(out, "PASSED: 28 of 32 expectations passed, 4 skipped") {
			t.Errorf("%s with OnlyFailures and no failure:\n%s", f, out)
		}
	}
}

// The reproduce command is on its own line, and says when it cannot work
// as it stands.
func TestReproLine(t *testing.T) {
	t.Parallel()
	const cmd = "kubectl exec -n app random -c probe -- /netverify-probe connect --proto tcp --host 10.96.0.12 --port 8080 --timeout 2s"
	removed := fixtureReport()
	kept := fixtureReport()
	kept.Kept = true
	for _, tc := range []struct {
		rep  *results.Report
		want string
	}{
		{removed, "\n    reproduce (namespace removed after the run; rerun with --keep=on-failure): " + cmd + "\n"},
		{kept, "\n    reproduce: " + cmd + "\n"},
	} {
		if out := string(render(t, FormatTable, tc.rep, Options{})); !strings.Contains(out, tc.want) {
			t.Errorf("kept %v: table lacks %q:\n%s", tc.rep.Kept, tc.want, out)
		}
		if out := string(render(t, FormatJUnit, tc.rep, Options{})); !strings.Contains(out, strings.TrimSpace(tc.want)) {
			t.Errorf("kept %v: JUnit lacks %q:\n%s", tc.rep.Kept, strings.TrimSpace(tc.want), out)
		}
	}
	const note = "rerun with `--keep=on-failure`"
	if out := string(render(t, FormatMarkdown, removed, Options{})); !strings.Contains(out, note) {
		t.Errorf("markdown of a removed run lacks %q:\n%s", note, out)
	}
	if out := string(render(t, FormatMarkdown, kept, Options{})); strings.Contains(out, note) {
		t.Errorf("markdown of a kept run has %q:\n%s", note, out)
	}
	// The mismatch line itself ends with what went wrong.
	if out := string(render(t, FormatTable, removed, Options{})); !strings.Contains(out, "✗ [fail] web: app/random → app/backend 8080/TCP: expected blocked, got ALLOWED (connected)\n") {
		t.Errorf("mismatch line:\n%s", out)
	}
}

// The summary starts with the verdict, in every human format.
func TestSummaryVerdict(t *testing.T) {
	t.Parallel()
	allSkipped := builtinRun(t)
	allSkipped.Results = allSkipped.Results[:0]
	for _, r := range builtinRun(t).Results {
		if r.Status == results.Skipped {
			allSkipped.Results = append(allSkipped.Results, r)
		}
	}
	cases := []struct {
		name      string
		rep       *results.Report
		line, run string
	}{
		{"passed", builtinRun(t), "PASSED: 28 of 32 expectations passed, 4 skipped", "(run k3v9q2, context kind-netverify, 600ms)"},
		{"failed", nonEnforcing(builtinRun(t)), "FAILED: 16 of 32 expectations failed, 12 passed, 4 skipped", "(run k3v9q2, context kind-netverify, 600ms)"},
		{"nothing checked", allSkipped, "NOTHING CHECKED: 4 of 4 expectations skipped", "(run k3v9q2, context kind-netverify, 600ms)"},
		{"empty", emptyReport(), "NOTHING CHECKED: no expectations", "(run nv-empty, 5ms)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for f, want := range map[string]string{
				FormatTable:    "\n" + tc.line + " " + tc.run + "\n",
				FormatWide:     "\n" + tc.line + " " + tc.run + "\n",
				FormatMarkdown: "\n**" + tc.line + "** " + tc.run + "\n",
			} {
				if out := string(render(t, f, tc.rep, Options{})); !strings.Contains(out, want) {
					t.Errorf("%s lacks %q:\n%s", f, want, out)
				}
			}
		})
	}
	if out := string(render(t, FormatTable, allSkipped, Options{})); !strings.Contains(out, "Every expectation was skipped (-o wide shows why)") {
		t.Errorf("an all-skipped table does not say where to see why:\n%s", out)
	}
}

// JSON carries the port as a number, its name apart, and the run's
// version, context, exit code and whether its namespaces were kept.
func TestJSONFields(t *testing.T) {
	t.Parallel()
	var doc struct {
		Version  *string `json:"version"`
		Context  *string `json:"context"`
		ExitCode *int    `json:"exitCode"`
		Kept     *bool   `json:"kept"`
		Results  []map[string]any
	}
	if err := json.Unmarshal(render(t, FormatJSON, fixtureReport(), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version == nil || *doc.Version != "v0.3.0" || doc.Context == nil || *doc.Context != "kind-netverify" ||
		doc.ExitCode == nil || *doc.ExitCode != 1 || doc.Kept == nil || *doc.Kept {
		t.Errorf("version %v, context %v, exitCode %v, kept %v", doc.Version, doc.Context, doc.ExitCode, doc.Kept)
	}
	if p, ok := doc.Results[0]["port"].(float64); !ok || p != 8080 {
		t.Errorf(`results[0].port = %#v, want the number 8080`, doc.Results[0]["port"])
	}
	if _, ok := doc.Results[0]["portName"]; ok {
		t.Errorf("results[0] has a portName though its port was given as a number: %v", doc.Results[0])
	}
	if p, n := doc.Results[2]["port"], doc.Results[2]["portName"]; p != float64(5432) || n != "postgres" {
		t.Errorf("results[2]: port %#v, portName %#v; want 5432 and postgres", p, n)
	}
	// A dry run has no context: the key is left out.
	rep := fixtureReport()
	rep.Context = ""
	if out := render(t, FormatJSON, rep, Options{}); bytes.Contains(out, []byte(`"context"`)) {
		t.Errorf("empty context is in the JSON:\n%s", out)
	}
}

// Colour shows the verdict and the statuses, and pads by what is visible.
func TestColorTableAligns(t *testing.T) {
	t.Parallel()
	plain := tableLines(render(t, FormatTable, fixtureReport(), Options{}))
	color := tableLines(render(t, FormatTable, fixtureReport(), Options{Color: true}))
	for i := range plain {
		if stripANSI(color[i]) != plain[i] {
			t.Errorf("line %d with colour differs from the plain one once escapes are removed:\n%q\n%q", i, color[i], plain[i])
		}
	}
	if out := string(render(t, FormatTable, fixtureReport(), Options{Color: true})); !strings.Contains(out, ansiBold+ansiRed+"FAILED:") {
		t.Errorf("the verdict is not in red:\n%q", out)
	}
}
