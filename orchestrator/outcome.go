package orchestrator

import (
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
)

// Outcome is what happened to one probe: exactly one of Pending, Settled,
// Unsettled, Broke, Skipped or Inconclusive. Each phase of a run moves a
// probe from Pending to one of the others; the compare phase turns it into a
// results.Result.
type Outcome interface{ outcome() }

// Pending: the probe still has to be (re)tried.
type Pending struct{}

// Settled: the observation is final within the budget — it matched the
// expectation (or, for an implementation-defined expectation, was made with
// the scenario's policies in effect). Latency is the time from the start of
// the phase (policies applied, or controls started) to that observation.
type Settled struct {
	Response probe.Response
	Latency  time.Duration
}

// Unsettled: the budget ran out before the observation matched; the last
// observation stands (a mismatch — or, for an allowed expectation of a
// scenario whose policies could not be seen in effect, a match). A blocked
// observation that was not confirmed (see confirmBlocked) is a mismatch.
type Unsettled struct {
	Response probe.Response
	Budget   time.Duration
}

// Broke: the probe could not tell — it broke the same way errorAttempts
// times in a row, or its control probe broke. An Error, never "blocked".
type Broke struct {
	Response probe.Response
	// During names the phase it broke in, when not the probing itself
	// ("control probe (without policy)").
	During string
}

// Skipped: the check does not apply here; Why says why.
type Skipped struct{ Why string }

// Inconclusive: the probe ran but proves nothing (the target did not answer
// even without policy); Why says why.
type Inconclusive struct{ Why string }

func (Pending) outcome()      {}
func (Settled) outcome()      {}
func (Unsettled) outcome()    {}
func (Broke) outcome()        {}
func (Skipped) outcome()      {}
func (Inconclusive) outcome() {}

// probeState is one planned probe, its request and what is known of it so
// far. The outcome is the only record of what happened; attempts and the
// error streak are counters the settle rules read.
type probeState struct {
	*PlannedProbe
	req     probe.Request
	repro   string
	outcome Outcome

	got      probe.Response // the latest attempt's response
	last     probe.Response // the latest observation: got, unless that was late
	attempts int            // attempts made, late ones included
	late     int            // attempts that timed out late (see late): no observation
	streak   errStreak
	blocked  blockedRun
	// sawAllowed: some attempt was allowed (a witness that the target
	// serves the port, see witness).
	sawAllowed bool
	// allowedEarly is the latest allowed answer to an allowed expectation
	// seen before its scenario's policies were seen in effect.
	allowedEarly *probe.Response
	// backendNodes maps the run's pods ("ns/pod") to their nodes, to tell
	// which node a Service target's answering backend runs on.
	backendNodes map[string]string
}

// blockedRun counts attempts in a row that were blocked, and when the run
// began: a timeout can be a busy node as well as a policy, so "blocked"
// only counts once it is seen confirmBlocked times in a row.
type blockedRun struct {
	n     int
	since time.Duration // elapsed into the budget at the run's first attempt
}

func (b *blockedRun) add(resp probe.Response, elapsed time.Duration) {
	if resp.Verdict != results.Blocked {
		b.n = 0
		return
	}
	if b.n == 0 {
		b.since = elapsed
	}
	b.n++
}

// confirmBlocked is how many attempts in a row must be blocked before a
// blocked expectation settles (and its scenario's policies count as in
// effect). Allowed needs no confirmation: the named server answered.
const confirmBlocked = 3

// observations is how many attempts observed the network (were not late).
func (s *probeState) observations() int { return s.attempts - s.late }

func (s *probeState) pending() bool {
	_, ok := s.outcome.(Pending)
	return ok
}

// errStreak counts attempts in a row that broke the same way.
type errStreak struct {
	reason results.Reason
	n      int
}

// add records one response and returns the streak's new length (0 when the
// response is not an error).
func (e *errStreak) add(resp probe.Response) int {
	switch {
	case resp.Verdict != results.Error:
		e.n, e.reason = 0, ""
	case resp.Reason == e.reason:
		e.n++
	default:
		e.n, e.reason = 1, resp.Reason
	}
	return e.n
}

// errorAttempts is how many times in a row a probe may break the same way
// (exec failure, wrong identity, DNS…) before that is its final answer.
const errorAttempts = 3
