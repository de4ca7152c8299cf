// Package results holds what a netverify run observed, kept apart from the
// scenarios that asked for it: verdicts, per-expectation results, the summary
// and the exit code they imply.
package results

import "time"

// Verdict is what a connection attempt showed (or was expected to show).
type Verdict string

const (
	Allowed Verdict = "allowed" // the named target answered
	Blocked Verdict = "blocked" // timed out or was refused (Reason says which)
	Error   Verdict = "error"   // the probe itself broke: exec failed, DNS failed, no output, wrong identity…
	None    Verdict = "none"    // nothing was observed (skipped)
)

// Status is how an observation compares with its expectation.
type Status string

const (
	Pass                  Status = "pass"
	Fail                  Status = "fail"
	StatusError           Status = "error"
	Inconclusive          Status = "inconclusive"
	Skipped               Status = "skipped"
	ImplementationDefined Status = "implementation-defined"
)

// Reasons carried by verdicts. Free text may follow after ": ".
const (
	ReasonConnected     = "connected"
	ReasonTimeout       = "timeout"
	ReasonRefused       = "refused"
	ReasonDNS           = "dns"
	ReasonWrongIdentity = "wrong-identity"
	ReasonNoIdentity    = "no-identity"
	ReasonExec          = "exec"
	ReasonNoOutput      = "no-output"
	ReasonPodGone       = "pod-gone"
	ReasonUnreachable   = "unreachable"
	ReasonResolved      = "resolved"
	ReasonUnsupported   = "unsupported"
	ReasonControlFailed = "target unreachable without policy"
)

// Result is the outcome of one expectation.
type Result struct {
	Scenario   string  `json:"scenario"`
	Name       string  `json:"name,omitempty"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	Port       string  `json:"port"`
	Protocol   string  `json:"protocol"`
	Expected   Verdict `json:"expected"`
	Observed   Verdict `json:"observed"`
	Status     Status  `json:"status"`
	Reason     string  `json:"reason"`
	Match      bool    `json:"match"`
	Attempts   int     `json:"attempts"`
	LatencyMs  int64   `json:"latencyMs"`
	AnsweredBy string  `json:"answeredBy,omitempty"`
	// Repro is a kubectl exec command line that repeats the probe.
	Repro string `json:"repro,omitempty"`
}

// Summary counts results by status.
type Summary struct {
	Total                 int `json:"total"`
	Passed                int `json:"passed"`
	Failed                int `json:"failed"`
	Errors                int `json:"errors"`
	Inconclusive          int `json:"inconclusive"`
	Skipped               int `json:"skipped"`
	ImplementationDefined int `json:"implementationDefined"`
}

// Report is a whole run.
type Report struct {
	RunID    string        `json:"runId"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
	// DurationMs is Duration in milliseconds, for JSON.
	DurationMs int64    `json:"durationMs"`
	Summary    Summary  `json:"summary"`
	Results    []Result `json:"results"`
}

// Summarize counts results by status.
func Summarize(rs []Result) Summary {
	s := Summary{Total: len(rs)}
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		case StatusError:
			s.Errors++
		case Inconclusive:
			s.Inconclusive++
		case Skipped:
			s.Skipped++
		case ImplementationDefined:
			s.ImplementationDefined++
		}
	}
	return s
}

// Exit codes.
const (
	ExitOK       = 0
	ExitMismatch = 1 // an expectation failed (or was inconclusive)
	ExitError    = 2 // tool or input error, or a probe ended in error
)

// ExitCode maps a summary to the process exit code: 1 if any expectation
// failed; otherwise 2 if any probe ended in error; otherwise 1 if any result
// is inconclusive (unless allowInconclusive); otherwise 0.
func (s Summary) ExitCode(allowInconclusive bool) int {
	switch {
	case s.Failed > 0:
		return ExitMismatch
	case s.Errors > 0:
		return ExitError
	case s.Inconclusive > 0 && !allowInconclusive:
		return ExitMismatch
	}
	return ExitOK
}
