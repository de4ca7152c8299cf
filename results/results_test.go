package results

import "testing"

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
		{"empty run", Summary{}, false, ExitOK},
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
