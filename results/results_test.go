package results

import (
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	rs := []Result{
		{Status: Pass}, {Status: Pass}, {Status: Fail}, {Status: StatusError},
		{Status: Inconclusive}, {Status: Skipped}, {Status: ImplementationDefined},
	}
	want := Summary{Total: 7, Passed: 2, Failed: 1, Errors: 1, Inconclusive: 1, Skipped: 1, ImplementationDefined: 1}
	if got := Summarize(rs); got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		s                 Summary
		allowInconclusive bool
		want              int
	}{
		{"empty run: nothing checked", Summary{}, false, ExitMismatch},
		{"all skipped: nothing checked", Summary{Total: 2, Skipped: 2}, false, ExitMismatch},
		{"all skipped, inconclusive allowed", Summary{Total: 2, Skipped: 2}, true, ExitMismatch},
		{"all pass", Summary{Total: 3, Passed: 3}, false, ExitOK},
		{"pass, skipped and implementation-defined", Summary{Total: 3, Passed: 1, Skipped: 1, ImplementationDefined: 1}, false, ExitOK},
		{"failed", Summary{Total: 2, Passed: 1, Failed: 1}, false, ExitMismatch},
		{"errors only", Summary{Total: 2, Passed: 1, Errors: 1}, false, ExitError},
		{"failed and errors", Summary{Total: 2, Failed: 1, Errors: 1}, false, ExitMismatch},
		{"inconclusive", Summary{Total: 2, Passed: 1, Inconclusive: 1}, false, ExitMismatch},
		{"inconclusive allowed", Summary{Total: 2, Passed: 1, Inconclusive: 1}, true, ExitOK},
		{"errors and inconclusive", Summary{Total: 2, Errors: 1, Inconclusive: 1}, false, ExitError},
		{"failed and inconclusive allowed", Summary{Total: 2, Failed: 1, Inconclusive: 1}, true, ExitMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.s.ExitCode(tc.allowInconclusive); got != tc.want {
				t.Errorf("%+v.ExitCode(%v) = %d, want %d", tc.s, tc.allowInconclusive, got, tc.want)
			}
		})
	}
}

func TestExitPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    Summary
		p    ExitPolicy
		want int
	}{
		{"empty run", Summary{}, ExitPolicy{}, ExitMismatch},
		{"empty run, skipped allowed", Summary{}, ExitPolicy{AllowSkipped: true}, ExitOK},
		{"all skipped", Summary{Total: 3, Skipped: 3}, ExitPolicy{}, ExitMismatch},
		{"all skipped, skipped allowed", Summary{Total: 3, Skipped: 3}, ExitPolicy{AllowSkipped: true}, ExitOK},
		{"one passed, rest skipped", Summary{Total: 3, Passed: 1, Skipped: 2}, ExitPolicy{}, ExitOK},
		{"skipped allowed does not allow inconclusive", Summary{Total: 2, Inconclusive: 1, Skipped: 1}, ExitPolicy{AllowSkipped: true}, ExitMismatch},
		{"both allowed", Summary{Total: 2, Inconclusive: 1, Skipped: 1}, ExitPolicy{AllowSkipped: true, AllowInconclusive: true}, ExitOK},
		{"failure whatever is allowed", Summary{Total: 2, Failed: 1, Skipped: 1}, ExitPolicy{AllowSkipped: true, AllowInconclusive: true}, ExitMismatch},
		{"error whatever is allowed", Summary{Total: 2, Errors: 1, Skipped: 1}, ExitPolicy{AllowSkipped: true, AllowInconclusive: true}, ExitError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.s.Exit(tc.p); got != tc.want {
				t.Errorf("%+v.Exit(%+v) = %d, want %d", tc.s, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummaryLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{"all passed", Summary{Total: 32, Passed: 32}, "PASSED: 32 of 32 expectations passed"},
		{"passed and skipped", Summary{Total: 32, Passed: 30, Skipped: 2}, "PASSED: 30 of 32 expectations passed, 2 skipped"},
		{"one expectation", Summary{Total: 1, Passed: 1}, "PASSED: 1 of 1 expectation passed"},
		{"failed, every kind", Summary{Total: 7, Passed: 2, Failed: 1, Errors: 1, Inconclusive: 1, Skipped: 1, ImplementationDefined: 1},
			"FAILED: 1 of 7 expectations failed, 1 error, 1 inconclusive, 2 passed, 1 skipped, 1 implementation-defined"},
		{"failed, zero counts omitted, plural errors", Summary{Total: 32, Passed: 28, Failed: 2, Errors: 2},
			"FAILED: 2 of 32 expectations failed, 2 errors, 28 passed"},
		{"errors only", Summary{Total: 3, Passed: 2, Errors: 1}, "ERROR: 1 of 3 expectations ended in error, 2 passed"},
		{"inconclusive", Summary{Total: 3, Passed: 2, Inconclusive: 1}, "INCONCLUSIVE: 1 of 3 expectations inconclusive, 2 passed"},
		{"all skipped", Summary{Total: 2, Skipped: 2}, "NOTHING CHECKED: 2 of 2 expectations skipped"},
		{"no results", Summary{}, "NOTHING CHECKED: no expectations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.s.Line(); got != tc.want {
				t.Errorf("Line() = %q\n               want %q", got, tc.want)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Summary
		want Outcome
	}{
		{Summary{Total: 2, Failed: 1, Errors: 1}, OutcomeFailed},
		{Summary{Total: 2, Errors: 1, Inconclusive: 1}, OutcomeError},
		{Summary{Total: 2, Inconclusive: 1, Skipped: 1}, OutcomeInconclusive},
		{Summary{Total: 2, Skipped: 2}, OutcomeNothingChecked},
		{Summary{}, OutcomeNothingChecked},
		{Summary{Total: 2, Passed: 1, Skipped: 1}, OutcomePassed},
		{Summary{Total: 1, ImplementationDefined: 1}, OutcomePassed},
	}
	for _, tc := range tests {
		if got := tc.s.Outcome(); got != tc.want {
			t.Errorf("%+v.Outcome() = %s, want %s", tc.s, got, tc.want)
		}
	}
}

func TestPortString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r           Result
		plain, name string
	}{
		{Result{Port: 8080, Protocol: "TCP"}, "8080/TCP", "8080/TCP"},
		{Result{Port: 5432, PortName: "postgres", Protocol: "TCP"}, "5432/TCP", "5432/TCP (postgres)"},
		{Result{Port: 53, Protocol: "DNS"}, "53/DNS", "53/DNS"},
		{Result{Port: 8080}, "8080", "8080"},
		{Result{Protocol: "TCP"}, "TCP", "TCP"},
		{Result{PortName: "http"}, "", "http"},
		{Result{}, "", ""},
	}
	for _, tc := range tests {
		if got := tc.r.PortString(); got != tc.plain {
			t.Errorf("%+v.PortString() = %q, want %q", tc.r, got, tc.plain)
		}
		if got := tc.r.NamedPortString(); got != tc.name {
			t.Errorf("%+v.NamedPortString() = %q, want %q", tc.r, got, tc.name)
		}
	}
}

func TestEnforcementSlowestNamesThePort(t *testing.T) {
	t.Parallel()
	rs := []Result{
		{Scenario: "db", From: "app/backend", To: "app/database", Port: 5432, PortName: "postgres", Protocol: "TCP",
			Expected: Blocked, Status: Pass, LatencyMs: 900},
		{Scenario: "web", From: "app/a", To: "app/b", Port: 80, Protocol: "TCP", Expected: Blocked, Status: Pass, LatencyMs: 10},
	}
	e := EnforcementOf(rs, time.Second)
	if want := "db: app/backend → app/database 5432/TCP (postgres)"; e == nil || e.Slowest != want {
		t.Fatalf("Slowest = %+v, want %q", e, want)
	}
	if !strings.Contains(e.String(), "at most 900ms") {
		t.Errorf("String() = %q", e.String())
	}
}

func TestIsMismatch(t *testing.T) {
	t.Parallel()
	for s, want := range map[Status]bool{Pass: false, Fail: true, StatusError: true, Inconclusive: true, Skipped: false, ImplementationDefined: false} {
		if got := s.IsMismatch(); got != want {
			t.Errorf("%s.IsMismatch() = %v, want %v", s, got, want)
		}
	}
}
