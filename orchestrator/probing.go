package orchestrator

// The probe phase: rounds of probes until each one settles or its budget
// runs out, one exec per source pod per round in batch mode.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"golang.org/x/sync/errgroup"
)

// probe runs the Pending probes, with the scenarios' policies applied, until
// each settles or the match budget runs out.
func (x *run) probe(ctx context.Context, states []*probeState) error {
	var pending []*probeState
	for _, s := range states {
		if s.pending() {
			pending = append(pending, s)
		}
	}
	return x.rounds(ctx, pending, x.o.MatchBudget, matchObservations, newMatchRule(pending, states, x.o.UnprovenWait))
}

// A verdict must not depend on how busy the cluster is. On a starved node a
// round of exec calls can take tens of seconds, so a budget may end after
// two or three attempts, and a probe program that gets no CPU fires its
// connect timeout long after it was due, when a handshake that completed
// meanwhile is no longer looked at. So an attempt that timed out late is no
// observation (see late), and a probe still unsettled when its budget ends
// gets more rounds, up to budgetOverrun times the budget, until it has the
// minimum number of observations; one that never gets them is Inconclusive,
// with what was measured, never a mismatch.
const (
	// matchObservations: observations a probe needs before a mismatch
	// after the match budget is final.
	matchObservations = 6
	// controlObservations: observations a control probe needs before
	// "does not answer without policy" is.
	controlObservations = 3
	// budgetOverrun: how many budgets in all the rounds may take to gather
	// the minimum observations.
	budgetOverrun = 3
	// lateSlack: an attempt is late when it ended this long (or half its
	// timeout, if longer) after its timeout.
	lateSlack = 500 * time.Millisecond
)

// late reports whether resp is a timeout the probe program noticed late: it
// took its own clock well past its timeout to report one, so it was not
// running when the deadline passed and what it saw is not an observation of
// the network. Any other answer, however late, is one: a connection that was
// made or refused, a wrong server, a broken probe.
func late(resp probe.Response, timeout time.Duration) bool {
	if resp.Verdict != results.Blocked || resp.Reason != results.ReasonTimeout {
		return false
	}
	return time.Duration(resp.Ms)*time.Millisecond > timeout+max(lateSlack, timeout/2)
}

// settleRule decides, after each attempt, what a probe's outcome is.
type settleRule interface {
	// newRound is called before each round.
	newRound()
	// settle returns the probe's outcome after its latest attempt (s.last,
	// with s.attempts and s.streak updated), elapsed into the budget:
	// Pending to try it again.
	settle(s *probeState, elapsed time.Duration) Outcome
	// unsettled is the outcome of a probe still pending when the budget
	// ran out.
	unsettled(s *probeState, budget time.Duration) Outcome
	// phase names the phase in reasons, when it is not the probing itself.
	phase() string
}

// matchRule settles a probe once its observation matches its expectation,
// with the scenario's policies in effect.
//
// A scenario's allowed (and implementation-defined) expectations settle only
// once one of its blocked expectations was seen blocked in an earlier round:
// proof that its policies are in effect. A scenario without blocked
// expectations has no such proof to wait for. A scenario whose blocked
// expectations can none of them show it (all skipped, inconclusive or
// broken: unproven) has its allowed ones observed for the unproven wait —
// UnprovenWait, or twice the slowest enforcement the run has seen, if
// longer — before a matching observation settles.
type matchRule struct {
	gated          map[string]bool // scenarios with a blocked expectation still to observe
	unproven       map[string]bool // scenarios with blocked expectations, none observable
	enforced       map[string]bool // scenarios seen enforcing, so far
	enforcedBefore map[string]bool // … before the current round
	unprovenWait   time.Duration
	slowest        time.Duration // the latest first sight of enforcement so far
}

// newMatchRule returns the rule for the pending probes of a run whose
// probes are all.
func newMatchRule(pending, all []*probeState, unprovenWait time.Duration) *matchRule {
	m := &matchRule{gated: map[string]bool{}, unproven: map[string]bool{}, enforced: map[string]bool{}, unprovenWait: unprovenWait}
	// a connection blocked before the run (Expectation.NoControl: the
	// cluster's own policies) says nothing about the scenario's policies
	blocked := func(s *probeState) bool {
		// nor does one of a scenario checked in place, whose policies
		// were in effect before the run
		return !s.Expectation.IsAllowed() && s.Expectation.ImplementationDefined == "" && s.Expectation.NoControl == "" && !s.InPlace
	}
	for _, s := range pending {
		if blocked(s) {
			m.gated[s.Scenario] = true
		}
	}
	for _, s := range all {
		if blocked(s) && !m.gated[s.Scenario] {
			m.unproven[s.Scenario] = true
		}
	}
	return m
}

func (*matchRule) phase() string { return "" }

func (m *matchRule) newRound() {
	m.enforcedBefore = map[string]bool{}
	for k, v := range m.enforced {
		m.enforcedBefore[k] = v
	}
}

func (m *matchRule) settle(s *probeState, elapsed time.Duration) Outcome {
	var inEffect bool
	switch {
	case m.gated[s.Scenario]:
		inEffect = m.enforcedBefore[s.Scenario]
	case m.unproven[s.Scenario]:
		inEffect = elapsed >= max(m.unprovenWait, 2*m.slowest)
	default:
		inEffect = true
	}
	v := s.last.Verdict
	switch {
	case s.streak.n >= errorAttempts:
		return Broke{Response: s.last} // broke the same way every time
	case v == results.Error && s.last.Reason == results.ReasonUnsupported:
		return Skipped{Why: unsupportedWhy(s.last)}
	case s.Expectation.ImplementationDefined != "":
		if inEffect {
			return Settled{Response: s.last} // nothing to match: one observation in effect
		}
	case !s.Expectation.IsAllowed() && v == results.Blocked && s.blocked.n >= confirmBlocked:
		if !m.enforced[s.Scenario] && s.Expectation.NoControl == "" { // (blocked before the run: no sign)
			m.enforced[s.Scenario] = true
			m.slowest = max(m.slowest, s.blocked.since)
		}
		return Settled{Response: s.last, Latency: s.blocked.since}
	case s.Expectation.IsAllowed() && v == results.Allowed && inEffect:
		return Settled{Response: s.last}
	case s.Expectation.IsAllowed() && v == results.Allowed:
		resp := s.last
		s.allowedEarly = &resp
	}
	return Pending{}
}

// unsettled: the last observation stands — except for an allowed
// expectation of a scenario whose policies were never seen in effect, whose
// last attempts were not confirmBlocked blocks in a row: there an allowed
// answer seen during the budget stands (the named server answered), so that
// a lone timeout at the very end of a long budget on a busy cluster is not
// mistaken for the policies blocking it.
func (m *matchRule) unsettled(s *probeState, budget time.Duration) Outcome {
	if s.Expectation.IsAllowed() && !m.enforced[s.Scenario] && s.allowedEarly != nil && s.last.Verdict != results.Allowed &&
		s.blocked.n < confirmBlocked { // blocked in a row at the end is the policies, not a busy node
		return Unsettled{Response: *s.allowedEarly, Budget: budget}
	}
	return Unsettled{Response: s.last, Budget: budget}
}

// rounds probes states until each settles by rule or budget runs out;
// those still Pending then are Unsettled, their last observation standing —
// unless they have fewer than minObs observations: those get more rounds,
// up to budgetOverrun budgets in all, and are Inconclusive if that is not
// enough (see matchObservations). Rounds are paced: one that came back at
// once is not re-run before RetryInterval has passed, or a tenth of the time
// spent so far (at most 1s), whichever is longer.
func (x *run) rounds(ctx context.Context, states []*probeState, budget time.Duration, minObs int, rule settleRule) error {
	begin := x.clock.Now()
	deadline, hardDeadline := begin.Add(budget), begin.Add(budgetOverrun*budget)
	pending := states
	var slowest time.Duration // the longest round
	for len(pending) > 0 {
		roundStart := x.clock.Now()
		rule.newRound()
		if err := x.round(ctx, pending); err != nil {
			return err
		}
		now := x.clock.Now()
		slowest = max(slowest, now.Sub(roundStart))
		x.stats.SlowestRound = max(x.stats.SlowestRound, now.Sub(roundStart))
		var next []*probeState
		starved := false
		for _, s := range pending {
			s.attempts++
			if late(s.got, x.o.ProbeTimeout) {
				s.late++
				x.stats.LateAttempts++
				next = append(next, s)
				starved = starved || s.observations() < minObs
				continue
			}
			s.last = s.got
			s.sawAllowed = s.sawAllowed || s.last.Verdict == results.Allowed
			s.streak.add(s.last)
			s.blocked.add(s.last, now.Sub(begin))
			s.outcome = rule.settle(s, now.Sub(begin))
			if st, ok := s.outcome.(Settled); ok && st.Latency == 0 {
				st.Latency = now.Sub(begin)
				s.outcome = st
			}
			if s.pending() {
				next = append(next, s)
				starved = starved || s.observations() < minObs
			}
		}
		pending = next
		x.progress("probes: %d/%d final", len(states)-len(pending), len(states))
		if len(pending) == 0 || now.After(deadline) && (!starved || now.After(hardDeadline)) {
			break
		}
		pace := min(max(x.o.RetryInterval, now.Sub(begin)/10), max(x.o.RetryInterval, maxRetryInterval))
		if err := sleep(ctx, x.clock, pace-x.clock.Now().Sub(roundStart)); err != nil {
			return err
		}
	}
	elapsed := x.clock.Now().Sub(begin)
	for _, s := range pending {
		if n := s.observations(); n < minObs {
			s.outcome = Inconclusive{Why: tooBusy(s, rule.phase(), n, minObs, elapsed, slowest)}
			continue
		}
		s.outcome = rule.unsettled(s, budget)
	}
	return nil
}

// tooBusy says why a probe with n observations of the minObs it needs is
// inconclusive, with what was measured.
func tooBusy(s *probeState, phase string, n, minObs int, elapsed, slowest time.Duration) string {
	why := string(results.ReasonTooBusy) + ": "
	if phase != "" {
		why += phase + ": "
	}
	why += fmt.Sprintf("the cluster was too busy to decide: %d of the %d observations needed in %s (rounds of probes took up to %s",
		n, minObs, elapsed.Round(100*time.Millisecond), slowest.Round(100*time.Millisecond))
	if s.late > 0 {
		why += fmt.Sprintf("; %d attempts timed out late: the probe program got no CPU when its timeout was due", s.late)
	}
	why += ")"
	if n > 0 {
		why += fmt.Sprintf("; last observed: %s (%s)", s.last.Verdict, s.last.Reason)
	}
	return why
}

// round runs one attempt of every given probe, grouped by source pod, and
// records each response in its probe's got.
func (x *run) round(ctx context.Context, states []*probeState) error {
	bySource := map[*PlannedPod][]*probeState{}
	var order []*PlannedPod
	for _, s := range states {
		if _, ok := bySource[s.Source]; !ok {
			order = append(order, s.Source)
		}
		bySource[s.Source] = append(bySource[s.Source], s)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].Logical < order[j].Logical })
	checkIdentity := x.o.Mode != ModeAgnhost // agnhost reads no answer
	var mu sync.Mutex
	calls := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(x.o.Concurrency)
	for _, src := range order {
		group := bySource[src]
		if x.o.Mode == ModePerProbe || x.o.Mode == ModeAgnhost {
			for _, s := range group {
				g.Go(func() error {
					resp := x.execOne(gctx, src, s)
					mu.Lock()
					defer mu.Unlock()
					calls++
					s.got = s.observe(resp, checkIdentity)
					return nil
				})
			}
			continue
		}
		reqs := make([]probe.Request, len(group))
		for i, s := range group {
			reqs[i] = s.req
		}
		for _, chunk := range probe.ChunkRequests(reqs, 0) {
			g.Go(func() error {
				resps := x.execBatch(gctx, src, chunk)
				mu.Lock()
				defer mu.Unlock()
				calls++
				for _, s := range group {
					if resp, ok := resps[s.req.ID]; ok {
						s.got = s.observe(resp, checkIdentity)
					}
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	x.stats.Rounds++
	x.stats.ExecCalls += calls
	x.stats.MaxExecRound = max(x.stats.MaxExecRound, calls)
	return nil
}

// observe applies the Service identity check to a response: an allowed
// probe of a Service must have been answered by one of its backends.
func (s *probeState) observe(resp probe.Response, checkIdentity bool) probe.Response {
	// (a live Service's backends are the workload's pods: no identity)
	if s.TargetService == nil || s.Live || resp.Verdict != results.Allowed || !checkIdentity || slices.Contains(s.Backends, resp.AnsweredBy) {
		return resp
	}
	resp.Verdict, resp.Reason = results.Error, results.ReasonWrongIdentity
	if resp.AnsweredBy == "" {
		resp.Reason = results.ReasonNoIdentity
	}
	resp.Detail = fmt.Sprintf("answered by %q, want one of %v", resp.AnsweredBy, s.Backends)
	return resp
}

// execTimeout bounds one exec: an exec stream to an API server that went
// silent is a transport failure, not a hang until --timeout.
const execTimeout = 2 * time.Minute

// execRetry runs argv in src, retrying transport failures (never a command
// that ran) a few times before giving up.
func (x *run) execRetry(ctx context.Context, src *PlannedPod, argv []string) (ExecResult, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if err := sleep(ctx, x.clock, time.Duration(attempt)*300*time.Millisecond); err != nil {
			return ExecResult{}, err
		}
		ectx, cancel := context.WithTimeout(ctx, execTimeout)
		res, err := x.exec.Exec(ectx, src.Pod.Namespace, src.Pod.Name, ProbeContainer, argv)
		cancel()
		if err == nil {
			return res, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return ExecResult{}, lastErr
}

// execBatch runs one batch in src and returns a response per request; an
// exec that failed, or output that is not the probe program's, makes every
// request's response an exec error.
func (x *run) execBatch(ctx context.Context, src *PlannedPod, reqs []probe.Request) map[string]probe.Response {
	out := map[string]probe.Response{}
	res, err := x.execRetry(ctx, src, probe.BatchCommand(ProbeBinary, reqs))
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("probe program exited %d: %s", res.ExitCode, firstLine(res.Stderr))
	}
	if err == nil {
		if parsed, perr := probe.ParseBatchOutput(res.Stdout, reqs); perr != nil {
			err = perr
		} else {
			out = parsed
		}
	}
	if err != nil {
		for _, q := range reqs {
			out[q.ID] = execError(q.ID, err)
		}
	}
	return out
}

// execOne runs one probe in src (per-probe and agnhost modes).
func (x *run) execOne(ctx context.Context, src *PlannedPod, s *probeState) probe.Response {
	if x.o.Mode == ModeAgnhost {
		res, err := x.execRetry(ctx, src, probe.AgnhostConnectCommand(s.req))
		resp := probe.ParseAgnhostConnect(res.ExitCode, string(res.Stderr), err)
		resp.ID = s.req.ID
		return resp
	}
	res, err := x.execRetry(ctx, src, probe.ConnectCommand(ProbeBinary, s.req))
	if err == nil {
		out, perr := probe.ParseBatchOutput(res.Stdout, []probe.Request{s.req})
		if perr == nil {
			return out[s.req.ID]
		}
		err = perr
	}
	return execError(s.req.ID, err)
}

func execError(id string, err error) probe.Response {
	return probe.Response{ID: id, Verdict: results.Error, Reason: results.ReasonExec, Detail: err.Error()}
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
