// Package results holds what a netverify run observed, kept apart from the
// scenarios that asked for it: verdicts, per-expectation results, the summary
// and the exit code they imply.
package results

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// ReasonTooBusy: the cluster was too busy for the probe to be observed
	// often enough to decide (inconclusive, never a mismatch).
	ReasonTooBusy Reason = "too-busy"
	// ReasonNoWitness: a live target (checked in place) was seen blocked,
	// but no probe of the run reached it, so the block proves nothing
	// (inconclusive).
	ReasonNoWitness Reason = "no-witness"
)

// Result is the outcome of one expectation.
type Result struct {
	Scenario string `json:"scenario"`
	Name     string `json:"name,omitempty"`
	From     string `json:"from"`
	To       string `json:"to"`
	// Port is the port number probed (53 for a DNS lookup); 0 when none.
	Port int `json:"port"`
	// PortName is the name the expectation gave the port ("postgres" for
	// port: postgres), when it named one rather than a number.
	PortName   string  `json:"portName,omitempty"`
	Protocol   string  `json:"protocol"`
	Expected   Verdict `json:"expected"`
	Observed   Verdict `json:"observed"`
	Status     Status  `json:"status"`
	Reason     string  `json:"reason"`
	Match      bool    `json:"match"`
	Attempts   int     `json:"attempts"`
	LatencyMs  int64   `json:"latencyMs"`
	AnsweredBy string  `json:"answeredBy,omitempty"`
	// SourceNode is the node the source pod ran on; TargetNode the target
	// pod's, or for a Service the answering backend's (empty for outside
	// targets and where unknown).
	SourceNode string `json:"sourceNode,omitempty"`
	TargetNode string `json:"targetNode,omitempty"`
	// PolicedBy says which side's policies deny the connection (ingress:
	// enforced on the target's node; egress: on the source's), as the
	// semantics engine decides the scenario; empty when unknown. NodesOf
	// attributes the connection by it.
	PolicedBy PolicedBy `json:"policedBy,omitempty"`
	// DecidedBy is the policy rule that decided the observation, when it
	// was computed by the semantics engine (--dry-run), not probed.
	DecidedBy string `json:"decidedBy,omitempty"`
	// Repro is a kubectl exec command line that repeats the probe.
	Repro string `json:"repro,omitempty"`
	// Live names the existing namespaces (not created by the run) the
	// connection was checked in place in: its source's, its target's, or
	// both. Empty for a synthetic check.
	Live []string `json:"live,omitempty"`
}

// PortString renders the port and protocol as "5432/TCP": just the port
// without a protocol, just the protocol without a port, "" without either.
func (r Result) PortString() string {
	port := ""
	if r.Port != 0 {
		port = strconv.Itoa(r.Port)
	}
	switch {
	case r.Protocol == "":
		return port
	case port == "":
		return r.Protocol
	}
	return port + "/" + r.Protocol
}

// NamedPortString is PortString followed by the port's name when the
// expectation named it: "5432/TCP (postgres)".
func (r Result) NamedPortString() string {
	s := r.PortString()
	if r.PortName == "" {
		return s
	}
	if s == "" {
		return r.PortName
	}
	return s + " (" + r.PortName + ")"
}

// IsMismatch reports whether a status needs a person's attention: the
// expectation failed, its probe broke, or it could not be decided.
func (s Status) IsMismatch() bool {
	return s == Fail || s == StatusError || s == Inconclusive
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
	// Version is the version of netverify that ran.
	Version string `json:"version,omitempty"`
	RunID   string `json:"runId"`
	// Context is the kubeconfig context the run used, when known (not for
	// a dry run, nor with the in-cluster configuration).
	Context  string        `json:"context,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
	// DurationMs is Duration in milliseconds, for JSON.
	DurationMs int64 `json:"durationMs"`
	// ExitCode is the exit code the run ends with (see Summary.Exit).
	ExitCode int `json:"exitCode"`
	// Kept says whether the run's namespaces were left in place (--keep),
	// so that the Repro commands still work; false when they were removed.
	Kept    bool    `json:"kept"`
	Summary Summary `json:"summary"`
	// Enforcement is how long the run's policies took to take effect; nil
	// when no blocked expectation passed.
	Enforcement *Enforcement `json:"enforcement,omitempty"`
	// Nodes summarizes the denied connections per node (NodesOf); absent
	// when the run's pods ran on one node.
	Nodes []NodeSummary `json:"nodes,omitempty"`
	// Findings are what a run checking live namespaces in place found in
	// their policies besides the probes: a selector that matches nothing
	// (a typo protects no one), a namespace selector that matches no
	// namespace.
	Findings []string `json:"findings,omitempty"`
	Results  []Result `json:"results"`
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
		// (in place, the policies were in effect before the run)
		if r.Expected != Blocked || r.Status != Pass || len(r.Live) > 0 {
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
		Slowest:         fmt.Sprintf("%s: %s → %s %s", slowest.Scenario, slowest.From, slowest.To, slowest.NamedPortString()),
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

// Mismatches counts the results that need a person's attention: failed,
// broken or inconclusive.
func (s Summary) Mismatches() int {
	return s.Failed + s.Errors + s.Inconclusive
}

// NothingChecked reports whether the run observed nothing: it had no
// results, or every result was skipped.
func (s Summary) NothingChecked() bool {
	return s.Total == s.Skipped
}

// Outcome is the verdict of a whole run, the first word of its summary.
type Outcome string

// Outcomes, from the worst down: the first that applies is the run's.
const (
	OutcomeFailed         Outcome = "FAILED"          // an expectation failed
	OutcomeError          Outcome = "ERROR"           // no failure, but a probe broke
	OutcomeInconclusive   Outcome = "INCONCLUSIVE"    // no failure or error, but a result could not be decided
	OutcomeNothingChecked Outcome = "NOTHING CHECKED" // no result, or every result skipped
	OutcomePassed         Outcome = "PASSED"          // every checked expectation was met
)

// Outcome is the run's verdict. It says what happened, whatever the exit
// policy: a run whose inconclusive results are allowed is still
// INCONCLUSIVE, though it exits 0.
func (s Summary) Outcome() Outcome {
	switch {
	case s.Failed > 0:
		return OutcomeFailed
	case s.Errors > 0:
		return OutcomeError
	case s.Inconclusive > 0:
		return OutcomeInconclusive
	case s.NothingChecked():
		return OutcomeNothingChecked
	}
	return OutcomePassed
}

// Line renders the summary with its verdict first, counts that are zero
// left out: "PASSED: 30 of 32 expectations passed, 2 skipped", "FAILED: 1 of
// 7 expectations failed, 1 error, 2 passed, …", "NOTHING CHECKED: 2 of 2
// expectations skipped", "NOTHING CHECKED: no expectations".
func (s Summary) Line() string {
	o := s.Outcome()
	if s.Total == 0 {
		return string(o) + ": no expectations"
	}
	counts := []struct {
		n    int
		what string
		lead Outcome
	}{
		{s.Failed, "failed", OutcomeFailed},
		{s.Errors, "ended in error", OutcomeError},
		{s.Inconclusive, "inconclusive", OutcomeInconclusive},
		{s.Passed, "passed", OutcomePassed},
		{s.Skipped, "skipped", OutcomeNothingChecked},
		{s.ImplementationDefined, "implementation-defined", ""},
	}
	var lead string
	var rest []string
	for _, c := range counts {
		switch {
		case c.lead == o:
			lead = fmt.Sprintf("%d of %d %s %s", c.n, s.Total, plural(s.Total, "expectation", "expectations"), c.what)
		case c.n > 0 && c.lead == OutcomeError:
			rest = append(rest, fmt.Sprintf("%d %s", c.n, plural(c.n, "error", "errors")))
		case c.n > 0:
			rest = append(rest, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return string(o) + ": " + strings.Join(append([]string{lead}, rest...), ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Exit codes.
const (
	ExitOK       = 0
	ExitMismatch = 1 // an expectation failed (or was inconclusive), or nothing was checked
	ExitError    = 2 // tool or input error, or a probe ended in error
)

// ExitPolicy says which outcomes a run accepts as success.
type ExitPolicy struct {
	// AllowInconclusive: inconclusive results do not fail the run
	// (--allow-inconclusive).
	AllowInconclusive bool
	// AllowSkipped: a run that checked nothing (no results, or all
	// skipped) does not fail (--allow-skipped).
	AllowSkipped bool
}

// Exit maps a summary to the process exit code: 1 if any expectation
// failed; otherwise 2 if any probe ended in error; otherwise 1 if any result
// is inconclusive (unless p.AllowInconclusive) or nothing was checked
// (unless p.AllowSkipped); otherwise 0.
func (s Summary) Exit(p ExitPolicy) int {
	switch s.Outcome() {
	case OutcomeFailed:
		return ExitMismatch
	case OutcomeError:
		return ExitError
	case OutcomeInconclusive:
		if !p.AllowInconclusive {
			return ExitMismatch
		}
	case OutcomeNothingChecked:
		if !p.AllowSkipped {
			return ExitMismatch
		}
	}
	return ExitOK
}

// ExitCode is Exit with only AllowInconclusive set: a run that checked
// nothing exits 1.
func (s Summary) ExitCode(allowInconclusive bool) int {
	return s.Exit(ExitPolicy{AllowInconclusive: allowInconclusive})
}
