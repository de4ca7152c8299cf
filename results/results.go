// Package results holds what a netverify run observed, kept apart from the
// scenarios that asked for it: verdicts, per-expectation results, the summary
// and the exit code they imply.
package results

import (
	"fmt"
	"slices"
	"time"
)

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

// Reason says why an attempt ended the way it did. It is the one reason
// vocabulary of netverify: the probe program writes these values on the wire
// (probe.Response.Reason) and results carry them (Result.Reason starts with
// one; free text may follow after ": ").
type Reason string

// Reasons. The probe program sets those up to ReasonError; the caller side
// (the orchestrator, reading exec output) sets the others.
const (
	ReasonConnected     Reason = "connected"      // allowed: a connection or an answer
	ReasonResolved      Reason = "resolved"       // allowed: a DNS lookup answered
	ReasonTimeout       Reason = "timeout"        // blocked: no answer in time
	ReasonRefused       Reason = "refused"        // blocked: connection refused (RST or ICMP)
	ReasonUnreachable   Reason = "unreachable"    // blocked: no route, host or network unreachable
	ReasonDNS           Reason = "dns"            // error: the name did not resolve
	ReasonWrongIdentity Reason = "wrong-identity" // error: another server answered
	ReasonNoIdentity    Reason = "no-identity"    // error: the server sent no identity
	ReasonUnsupported   Reason = "unsupported"    // error: the probe cannot do this (e.g. SCTP without kernel support)
	ReasonError         Reason = "error"          // error: anything else that broke

	ReasonExec     Reason = "exec"      // error: the exec failed or the program exited non-zero
	ReasonNoOutput Reason = "no-output" // error: the program printed no line for the probe
	ReasonPodGone  Reason = "pod-gone"  // error: the source pod disappeared
	// ReasonControlFailed: the target did not answer even without policy.
	ReasonControlFailed Reason = "target unreachable without policy"
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
	// DecidedBy is the policy rule that decided the observation, when it
	// was computed by the semantics engine (--dry-run), not probed.
	DecidedBy string `json:"decidedBy,omitempty"`
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
	DurationMs int64   `json:"durationMs"`
	Summary    Summary `json:"summary"`
	// Enforcement is how long the run's policies took to take effect; nil
	// when no blocked expectation passed.
	Enforcement *Enforcement `json:"enforcement,omitempty"`
	Results     []Result     `json:"results"`
}

// Enforcement is how long policies took to take effect, measured on the
// blocked expectations that passed: for each, the time from its scenario's
// policies being applied to the probe first seen blocked. Slow enforcement
// is reported, not failed: only a probe still not blocked when the match
// budget ran out fails.
type Enforcement struct {
	// Observed is how many blocked expectations passed.
	Observed int   `json:"observed"`
	MedianMs int64 `json:"medianMs"`
	MaxMs    int64 `json:"maxMs"`
	// Slowest names the slowest path: "scenario: from → to port".
	Slowest string `json:"slowest"`
	// Slow is set when MaxMs is above SlowThresholdMs.
	SlowThresholdMs int64 `json:"slowThresholdMs"`
	Slow            bool  `json:"slow"`
}

// EnforcementOf measures enforcement on rs (nil when no blocked expectation
// passed); slow is the warning threshold.
func EnforcementOf(rs []Result, slow time.Duration) *Enforcement {
	var ms []int64
	var slowest Result
	for _, r := range rs {
		if r.Expected != Blocked || r.Status != Pass {
			continue
		}
		ms = append(ms, r.LatencyMs)
		if len(ms) == 1 || r.LatencyMs > slowest.LatencyMs {
			slowest = r
		}
	}
	if len(ms) == 0 {
		return nil
	}
	slices.Sort(ms)
	e := &Enforcement{
		Observed: len(ms), MedianMs: ms[len(ms)/2], MaxMs: ms[len(ms)-1],
		Slowest:         fmt.Sprintf("%s: %s → %s %s/%s", slowest.Scenario, slowest.From, slowest.To, slowest.Port, slowest.Protocol),
		SlowThresholdMs: slow.Milliseconds(),
	}
	e.Slow = e.MaxMs > e.SlowThresholdMs
	return e
}

// String renders "median 120ms, max 10.3s (udp: app/random → app/server
// 5353/UDP)", with a warning when slow.
func (e *Enforcement) String() string {
	ms := func(v int64) string { return (time.Duration(v) * time.Millisecond).String() }
	s := fmt.Sprintf("policies took effect in %s (median of %d), at most %s (%s)", ms(e.MedianMs), e.Observed, ms(e.MaxMs), e.Slowest)
	if e.Slow {
		s += fmt.Sprintf(" — slow: above %s; the CNI enforced late but did enforce", ms(e.SlowThresholdMs))
	}
	return s
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
