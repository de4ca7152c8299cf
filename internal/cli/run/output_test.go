package run

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/version"
	"github.com/netverify/netverify/report"
	"github.com/netverify/netverify/scenarios"
	"github.com/netverify/netverify/simulate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ignoring is a CNI without a policy engine: every blocked expectation fails.
func ignoring(c *simulate.Cluster) { c.IgnorePolicies = true }

// tableOf returns the lines of the table at the start of stdout.
func tableOf(stdout string) []string {
	table, _, _ := strings.Cut(stdout, "\n\n")
	return strings.Split(table, "\n")
}

// The built-in suite's default table, run as on a cluster, fits 120
// columns, with every FROM and TO whole; -o wide has room for everything.
func TestBuiltinTableFits120Columns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tweak func(*simulate.Cluster)
		code  int
	}{
		{"enforcing", nil, 0},
		{"ignoring policies", ignoring, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := simulatedCluster(tc.tweak)
			got := execute(t, with(e), "")
			if got.code != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", got.code, got.err, tc.code, got.stderr)
			}
			lines := tableOf(got.stdout)
			if len(lines) < 30 {
				t.Fatalf("a table of %d lines, want the built-in suite:\n%s", len(lines), got.stdout)
			}
			for _, l := range lines {
				if w := runewidth.StringWidth(l); w > report.MaxTableWidth {
					t.Errorf("table line %d columns wide, want at most %d:\n%s", w, report.MaxTableWidth, l)
				}
			}
			var wholePaths int
			for _, l := range lines[1:] {
				f := strings.Fields(l)
				if len(f) != 7 || strings.Contains(f[1]+f[2], "…") {
					t.Errorf("row %q: want 7 cells, FROM and TO whole", l)
				}
				if slices.Contains(f, "host:kube-dns.kube-system.svc.cluster.local") || slices.Contains(f, "dns:kubernetes.default.svc.cluster.local") {
					wholePaths++
				}
			}
			if wholePaths != 2 {
				t.Errorf("%d rows show the longest targets whole, want 2:\n%s", wholePaths, got.stdout)
			}
			// The mismatch entries are below the table, not in it.
			if tc.code != 0 && !strings.Contains(got.stdout, "\n✗ [fail] ") {
				t.Errorf("no mismatch entries:\n%s", got.stdout)
			}

			wide := execute(t, with(e), "", "-o", "wide")
			if header := tableOf(wide.stdout)[0]; !strings.Contains(header, "REASON") || !strings.Contains(header, "LATENCY") {
				t.Errorf("wide header %q", header)
			}
			if strings.Contains(wide.stdout, "…") || !strings.Contains(wide.stdout, "namespace-isolation-allow-same-namespace") {
				t.Errorf("wide output shortened a cell:\n%s", wide.stdout)
			}
		})
	}
}

func TestOnlyFailuresFlag(t *testing.T) {
	t.Parallel()
	e, _ := simulatedCluster(ignoring)
	all := execute(t, with(e), "", "--scenario", "frontend-backend")
	got := execute(t, with(e), "", "--scenario", "frontend-backend", "--only-failures")
	if got.code != 1 || all.code != 1 {
		t.Fatalf("exit %d and %d, want 1", all.code, got.code)
	}
	rows := tableOf(got.stdout)[1:]
	if len(rows) != 2 || len(tableOf(all.stdout)[1:]) != 3 {
		t.Fatalf("--only-failures: %d rows, without: %d; want 2 of 3\n%s", len(rows), len(tableOf(all.stdout)[1:]), got.stdout)
	}
	for _, r := range rows {
		if !strings.HasSuffix(r, " fail") {
			t.Errorf("row %q is not a failure", r)
		}
	}
	const summary = "FAILED: 2 of 3 expectations failed, 1 passed"
	if !strings.Contains(got.stdout, summary) {
		t.Errorf("summary does not count every result; want %q in\n%s", summary, got.stdout)
	}
	// JSON always has every result.
	js := execute(t, with(e), "", "--scenario", "frontend-backend", "--only-failures", "-o", "json")
	var rep struct{ Results []json.RawMessage }
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil || len(rep.Results) != 3 {
		t.Errorf("-o json --only-failures: %d results (%v), want all 3", len(rep.Results), err)
	}
}

// Colour only on a terminal, and never with NO_COLOR set (to anything but
// the empty string).
func TestColor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		terminal bool
		env      map[string]string
		want     bool
	}{
		{"terminal", true, nil, true},
		{"terminal, NO_COLOR=1", true, map[string]string{"NO_COLOR": "1"}, false},
		{"terminal, NO_COLOR=false still disables", true, map[string]string{"NO_COLOR": "false"}, false},
		{"terminal, empty NO_COLOR", true, map[string]string{"NO_COLOR": ""}, true},
		{"not a terminal", false, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := noCluster(t)
			e.IsTerminal = func(any) bool { return tc.terminal }
			e.Getenv = func(k string) string { return tc.env[k] }
			got := execute(t, with(e), "", "--dry-run", "--scenario", "default-deny")
			if got.code != 0 {
				t.Fatalf("exit %d (%v)", got.code, got.err)
			}
			if has := strings.Contains(got.stdout, "\x1b["); has != tc.want {
				t.Errorf("ANSI escapes %v, want %v:\n%q", has, tc.want, got.stdout)
			}
		})
	}
}

// --scenario and --skip take comma-separated lists, and may be repeated.
func TestScenarioLists(t *testing.T) {
	t.Parallel()
	builtin := len(scenarios.BuiltinNames())
	cases := []struct {
		name string
		args []string
		want []string // scenarios run; nil: all but those named in skip
		skip []string
	}{
		{"comma-separated", []string{"--scenario", "udp,sctp"}, []string{"sctp", "udp"}, nil},
		{"repeated", []string{"--scenario", "udp", "--scenario", "sctp"}, []string{"sctp", "udp"}, nil},
		{"both, with blanks", []string{"--scenario", "udp, sctp", "--scenario", "default-deny,"}, []string{"default-deny", "sctp", "udp"}, nil},
		{"skip list", []string{"--skip", "udp,sctp"}, nil, []string{"sctp", "udp"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := execute(t, with(noCluster(t)), "", append([]string{"--dry-run", "-o", "json", "--allow-skipped"}, tc.args...)...)
			if got.code != 0 {
				t.Fatalf("exit %d (%v)", got.code, got.err)
			}
			var rep struct{ Results []struct{ Scenario string } }
			if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			var ran []string
			for _, r := range rep.Results {
				if !slices.Contains(ran, r.Scenario) {
					ran = append(ran, r.Scenario)
				}
			}
			slices.Sort(ran)
			if tc.want != nil && !slices.Equal(ran, tc.want) {
				t.Errorf("ran %v, want %v", ran, tc.want)
			}
			if tc.skip != nil && (len(ran) != builtin-len(tc.skip) || slices.ContainsFunc(ran, func(s string) bool { return slices.Contains(tc.skip, s) })) {
				t.Errorf("ran %v, want all %d built-in scenarios but %v", ran, builtin, tc.skip)
			}
		})
	}
	got := execute(t, with(noCluster(t)), "", "--dry-run", "--scenario", "udp,nope,sctp", "--skip", "gone")
	msg := errText(got.err)
	if got.code != 2 || !strings.Contains(msg, `no scenario named "nope"`) || !strings.Contains(msg, `no scenario named "gone"`) || !strings.Contains(msg, "allow-dns, backend-database") {
		t.Errorf("exit %d, error %q: want exit 2 naming every unknown scenario and the known ones", got.code, msg)
	}
}

// namespaces lists the namespaces of the simulated cluster other than
// kube-system: what a run left.
func namespaces(t *testing.T, sim *simulate.Cluster) []string {
	t.Helper()
	nss, err := sim.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ns := range nss.Items {
		if ns.Name != simulate.DNSNamespace {
			out = append(out, ns.Name)
		}
	}
	return out
}

func TestKeepModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		tweak func(*simulate.Cluster)
		code  int
		kept  bool
	}{
		{"default: never", nil, ignoring, 1, false},
		{"bare --keep is always", []string{"--keep"}, nil, 0, true},
		{"--keep=always", []string{"--keep=always"}, nil, 0, true},
		{"--keep=never", []string{"--keep=never"}, ignoring, 1, false},
		{"--keep=on-failure, passing", []string{"--keep=on-failure"}, nil, 0, false},
		{"--keep=on-failure, failing", []string{"--keep=on-failure"}, ignoring, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var sim *simulate.Cluster
			e, _ := simulatedCluster(func(c *simulate.Cluster) {
				sim = c
				if tc.tweak != nil {
					tc.tweak(c)
				}
			})
			args := append([]string{"--scenario", "frontend-backend", "-o", "json"}, tc.args...)
			got := execute(t, with(e), "", args...)
			if got.code != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", got.code, got.err, tc.code, got.stderr)
			}
			var rep struct{ Kept bool }
			if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, got.stdout)
			}
			left := namespaces(t, sim)
			if rep.Kept != tc.kept || (len(left) > 0) != tc.kept {
				t.Errorf("kept %v, namespaces left %v; want kept %v", rep.Kept, left, tc.kept)
			}
			if said := strings.Contains(got.stderr, "kubectl delete namespace -l"); said != tc.kept {
				t.Errorf("stderr says how to remove the namespaces: %v, want %v\n%s", said, tc.kept, got.stderr)
			}
		})
	}
}

// The reproduce line says whether the pod it execs into is still there.
func TestReproduceLineFollowsKeep(t *testing.T) {
	t.Parallel()
	e, _ := simulatedCluster(ignoring)
	kept := execute(t, with(e), "", "--scenario", "frontend-backend", "--keep=on-failure")
	if !strings.Contains(kept.stdout, "\n    reproduce: kubectl --context sim exec") || strings.Contains(kept.stdout, "namespace removed") {
		t.Errorf("--keep=on-failure, failing:\n%s", kept.stdout)
	}
	removed := execute(t, with(e), "", "--scenario", "frontend-backend")
	if !strings.Contains(removed.stdout, "\n    reproduce (namespace removed after the run; rerun with --keep=on-failure): kubectl --context sim exec") {
		t.Errorf("without --keep:\n%s", removed.stdout)
	}
}

func TestKeepValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // in the error; "" for none
	}{
		{[]string{"--keep=sometimes"}, `--keep="sometimes": want always, on-failure or never`},
		{[]string{"--dry-run", "--keep=on-failure"}, "--keep cannot be used with --dry-run"},
		{[]string{"--dry-run", "--keep=never"}, ""},
		{[]string{"--keep", "on-failure"}, `unexpected argument "on-failure": write --keep=on-failure`},
	} {
		got := execute(t, with(noCluster(t)), "", append(tc.args, "--scenario", "default-deny")...)
		switch {
		case tc.want == "" && got.code != 0:
			t.Errorf("%v: exit %d (%v), want 0", tc.args, got.code, got.err)
		case tc.want != "" && (got.code != 2 || !strings.Contains(errText(got.err), tc.want)):
			t.Errorf("%v: exit %d (%v), want 2 and %q", tc.args, got.code, got.err, tc.want)
		}
	}
}

// A run that checked nothing is not a success, unless --allow-skipped.
func TestNothingChecked(t *testing.T) {
	t.Parallel()
	e, _ := simulatedCluster(nil) // the simulated probe program has no SCTP
	got := execute(t, with(e), "", "--scenario", "sctp")
	if got.code != 1 {
		t.Fatalf("exit %d (%v), want 1\n%s", got.code, got.err, got.stdout)
	}
	for _, want := range []string{"\nNOTHING CHECKED: 2 of 2 expectations skipped (run ", "-o wide shows why"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, got.stdout)
		}
	}
	allowed := execute(t, with(e), "", "--scenario", "sctp", "--allow-skipped", "-o", "json")
	if allowed.code != 0 {
		t.Fatalf("--allow-skipped: exit %d (%v), want 0", allowed.code, allowed.err)
	}
	var rep struct {
		ExitCode int `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(allowed.stdout), &rep); err != nil || rep.ExitCode != 0 {
		t.Errorf("--allow-skipped JSON exitCode %d (%v), want 0", rep.ExitCode, err)
	}
	// in a dry run too
	if dry := execute(t, with(noCluster(t)), "", "--dry-run", "--scenario", "sctp"); dry.code != 1 || !strings.Contains(dry.stdout, "NOTHING CHECKED") {
		t.Errorf("--dry-run: exit %d, stdout:\n%s", dry.code, dry.stdout)
	}
}

// JSON names the version, the context and the exit code the run ends with.
func TestJSONReportFields(t *testing.T) {
	t.Parallel()
	e, _ := simulatedCluster(ignoring)
	for _, tc := range []struct {
		name    string
		e       env
		args    []string
		code    int
		context *string
	}{
		{"failing run", e, []string{"--scenario", "frontend-backend,backend-database"}, 1, ptr("sim")},
		{"passing dry run", noCluster(t), []string{"--dry-run", "--scenario", "frontend-backend"}, 0, nil},
		{"failing dry run: no context", noCluster(t), []string{"--dry-run", "--scenario", "sctp"}, 1, nil},
	} {
		got := execute(t, with(tc.e), "", append(tc.args, "-o", "json")...)
		if got.code != tc.code {
			t.Fatalf("%s: exit %d (%v), want %d", tc.name, got.code, got.err, tc.code)
		}
		var rep struct {
			Version  string  `json:"version"`
			Context  *string `json:"context"`
			ExitCode *int    `json:"exitCode"`
			Results  []struct {
				To       string `json:"to"`
				Port     any    `json:"port"`
				PortName string `json:"portName"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, got.stdout)
		}
		if rep.Version != version.Version || rep.ExitCode == nil || *rep.ExitCode != got.code {
			t.Errorf("%s: version %q, exitCode %v; want %q and the process's %d", tc.name, rep.Version, rep.ExitCode, version.Version, got.code)
		}
		if (rep.Context == nil) != (tc.context == nil) || (rep.Context != nil && *rep.Context != *tc.context) {
			t.Errorf("%s: context %v, want %v", tc.name, rep.Context, tc.context)
		}
		for _, r := range rep.Results {
			if _, ok := r.Port.(float64); !ok {
				t.Errorf("%s: port %#v of %s is not a number", tc.name, r.Port, r.To)
			}
		}
		if tc.name == "failing run" {
			named := 0
			for _, r := range rep.Results {
				if r.PortName == "postgres" && r.Port == float64(5432) {
					named++
				}
			}
			if named == 0 {
				t.Errorf("no result carries port 5432 named postgres: %+v", rep.Results)
			}
		}
	}
}

func ptr(s string) *string { return &s }

func TestHelpHasExamples(t *testing.T) {
	t.Parallel()
	got := execute(t, with(noCluster(t)), "", "--help")
	for _, want := range []string{"Examples:", cliname.Placeholder + " run\n", // expanded by the root (see app.TestPluginNames)
		"-f scenarios/", "--dry-run", "-o json | jq", "--keep=on-failure", "--only-failures", "--allow-skipped", "wide"} {
		if !strings.Contains(got.stderr+got.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, got.stderr)
		}
	}
}

// Slow enforcement is said once: by the table's Enforcement line when the
// table is on a terminal, and also as a warning on stderr otherwise (a CI
// log, another format).
func TestSlowEnforcementSaidOnce(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{false, true} {
		e, _ := simulatedCluster(func(c *simulate.Cluster) { c.EnforcementDelay = 6 * time.Second })
		e.IsTerminal = func(any) bool { return terminal }
		got := execute(t, with(e), "", "--scenario", "default-deny")
		if got.code != 0 || !strings.Contains(got.stdout, "Enforcement: ") || !strings.Contains(got.stdout, "slow: above 5s") {
			t.Fatalf("terminal %v: exit %d, stdout lacks the slow Enforcement line:\n%s", terminal, got.code, got.stdout)
		}
		if warned := strings.Contains(got.stderr, "warning: slow enforcement"); warned == terminal {
			t.Errorf("terminal %v: stderr warning %v, want %v:\n%s", terminal, warned, !terminal, got.stderr)
		}
	}
}
