package orchestrator

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
)

// makeState builds a probe state of scenario "s" with tweaks.
func makeState(tweaks ...func(*probeState)) *probeState {
	no := false
	s := &probeState{
		PlannedProbe: &PlannedProbe{Scenario: "s", Expectation: scenarios.Expectation{From: "a", To: "b", Port: "80", Allowed: &no},
			Target: scenarios.Target{Kind: scenarios.TargetPod}, Port: 80, Protocol: "tcp"},
		outcome: Pending{},
	}
	for _, f := range tweaks {
		f(s)
	}
	return s
}

func expectAllowed(s *probeState) { v := true; s.Expectation.Allowed = &v }
func outside(s *probeState) {
	s.Target = scenarios.Target{Kind: scenarios.TargetIP, Name: "169.254.169.254"}
}
func builtin(s *probeState)     { s.Builtin = true }
func implDefined(s *probeState) { s.Expectation.ImplementationDefined = "self traffic" }

var (
	allowedResp = probe.Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/b"}
	blockedResp = probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout}
	dnsResp     = probe.Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: "no such host"}
	unsupported = probe.Response{Verdict: results.Error, Reason: results.ReasonUnsupported, Detail: "sctp"}
)

func kindOf(o Outcome) string {
	switch o.(type) {
	case Pending:
		return "pending"
	case Settled:
		return "settled"
	case Unsettled:
		return "unsettled"
	case Broke:
		return "broke"
	case Skipped:
		return "skipped"
	case Inconclusive:
		return "inconclusive"
	}
	return "?"
}

func TestControlVerdict(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		state   *probeState
		control Outcome
		want    string
		why     string
	}{
		{"target answered", makeState(), Settled{Response: allowedResp}, "pending", ""},
		{"target silent", makeState(), Unsettled{Response: blockedResp}, "inconclusive", "target unreachable without policy (timeout)"},
		{"built-in outside target silent", makeState(outside, builtin), Unsettled{Response: blockedResp}, "skipped", "does not answer on this cluster"},
		{"user outside target silent", makeState(outside), Unsettled{Response: blockedResp}, "inconclusive", "target unreachable"},
		{"control broke", makeState(), Broke{Response: dnsResp}, "broke", "control probe"},
		{"control ended on an error", makeState(), Unsettled{Response: dnsResp}, "broke", "control probe"},
		{"control unsupported", makeState(), Skipped{Why: "unsupported: sctp"}, "skipped", "unsupported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := controlVerdict(tt.state, tt.control)
			if kindOf(got) != tt.want {
				t.Fatalf("%#v, want %s", got, tt.want)
			}
			text := ""
			switch o := got.(type) {
			case Skipped:
				text = o.Why
			case Inconclusive:
				text = o.Why
			case Broke:
				text = o.During
			}
			if !strings.Contains(text, tt.why) {
				t.Errorf("%q does not say %q", text, tt.why)
			}
		})
	}
}

func TestMatchRuleGatesAllowedOnEnforcement(t *testing.T) {
	t.Parallel()
	blockedExp := makeState()
	allowedExp := makeState(expectAllowed)
	impl := makeState(expectAllowed, implDefined)
	all := []*probeState{blockedExp, allowedExp, impl}
	m := newMatchRule(all, all, 10*time.Second)

	// round 1: policies not seen in effect yet; the allowed one waits
	m.newRound()
	allowedExp.last, impl.last, blockedExp.last = allowedResp, allowedResp, allowedResp
	for _, s := range []*probeState{allowedExp, impl, blockedExp} {
		if got := m.settle(s, 0); kindOf(got) != "pending" {
			t.Errorf("round 1: allowed=%v → %s, want pending", s.Expectation.Allowed != nil && *s.Expectation.Allowed, kindOf(got))
		}
	}
	// round 2: the blocked expectation is seen blocked; the allowed one in
	// the same round still waits (its observation may predate enforcement)
	m.newRound()
	blockedExp.last = blockedResp
	blockedExp.blocked = blockedRun{n: confirmBlocked}
	if got := m.settle(blockedExp, 0); kindOf(got) != "settled" {
		t.Fatalf("blocked observed blocked: %s", kindOf(got))
	}
	if got := m.settle(allowedExp, 0); kindOf(got) != "pending" {
		t.Errorf("allowed settled in the round enforcement was first seen")
	}
	// round 3: now they settle
	m.newRound()
	for _, s := range []*probeState{allowedExp, impl} {
		if got := m.settle(s, 0); kindOf(got) != "settled" {
			t.Errorf("round 3: %s → %s, want settled", s.Expectation.ImplementationDefined, kindOf(got))
		}
	}
}

func TestMatchRuleUngatedScenario(t *testing.T) {
	t.Parallel()
	allowedExp := makeState(expectAllowed)
	m := newMatchRule([]*probeState{allowedExp}, []*probeState{allowedExp}, 10*time.Second) // no blocked expectation: nothing to wait for
	m.newRound()
	allowedExp.last = allowedResp
	if got := m.settle(allowedExp, 0); kindOf(got) != "settled" {
		t.Fatalf("got %s", kindOf(got))
	}
}

// A scenario whose blocked expectations were all skipped cannot show its
// policies in effect: its allowed ones are observed for the unproven wait,
// stretched to twice the slowest enforcement seen in the run.
func TestMatchRuleUnproven(t *testing.T) {
	t.Parallel()
	skippedBlocked := makeState(func(s *probeState) { s.outcome = Skipped{Why: "no metadata service"} })
	allowedExp := makeState(expectAllowed)
	other := makeState(func(s *probeState) { s.Scenario = "other" })
	all := []*probeState{skippedBlocked, allowedExp, other}
	m := newMatchRule([]*probeState{allowedExp, other}, all, 10*time.Second)
	m.newRound()
	allowedExp.last = allowedResp
	if got := m.settle(allowedExp, 9*time.Second); kindOf(got) != "pending" {
		t.Fatalf("settled at 9s, before the 10s unproven wait")
	}
	other.last = blockedResp
	other.blocked = blockedRun{n: confirmBlocked, since: 8 * time.Second}
	if got := m.settle(other, 8*time.Second); kindOf(got) != "settled" {
		t.Fatalf("other scenario's blocked expectation: %s", kindOf(got))
	}
	if got := m.settle(allowedExp, 12*time.Second); kindOf(got) != "pending" {
		t.Fatalf("settled at 12s, though the run saw enforcement take 8s (wait 16s)")
	}
	if got := m.settle(allowedExp, 16*time.Second); kindOf(got) != "settled" {
		t.Fatalf("not settled at 16s: %s", kindOf(got))
	}
}

func TestMatchRuleErrors(t *testing.T) {
	t.Parallel()
	s := makeState()
	m := newMatchRule([]*probeState{s}, []*probeState{s}, 10*time.Second)
	for i := 1; i <= errorAttempts; i++ {
		m.newRound()
		s.last = dnsResp
		s.streak.add(s.last)
		got := m.settle(s, 0)
		if want := map[bool]string{true: "broke", false: "pending"}[i == errorAttempts]; kindOf(got) != want {
			t.Fatalf("attempt %d: %s, want %s", i, kindOf(got), want)
		}
	}
	u := makeState()
	u.last = unsupported
	if got := m.settle(u, 0); kindOf(got) != "skipped" {
		t.Errorf("unsupported: %s, want skipped", kindOf(got))
	}
}

// A timeout can be a busy node: a blocked expectation settles only after
// confirmBlocked blocked attempts in a row, with the latency of the first.
func TestMatchRuleConfirmsBlocked(t *testing.T) {
	t.Parallel()
	s := makeState()
	m := newMatchRule([]*probeState{s}, []*probeState{s}, 10*time.Second)
	for i, resp := range []probe.Response{blockedResp, allowedResp, blockedResp, blockedResp, blockedResp} {
		m.newRound()
		elapsed := time.Duration(i) * time.Second
		s.last = resp
		s.blocked.add(resp, elapsed)
		got := m.settle(s, elapsed)
		want := map[bool]string{true: "settled", false: "pending"}[i == 4]
		if kindOf(got) != want {
			t.Fatalf("attempt %d (%s): %s, want %s", i, resp.Verdict, kindOf(got), want)
		}
		if st, ok := got.(Settled); ok && st.Latency != 2*time.Second {
			t.Errorf("latency %s, want 2s (the first of the confirming run)", st.Latency)
		}
	}
}

func TestErrStreak(t *testing.T) {
	t.Parallel()
	var e errStreak
	other := probe.Response{Verdict: results.Error, Reason: results.ReasonExec}
	for i, tt := range []struct {
		resp probe.Response
		want int
	}{{dnsResp, 1}, {dnsResp, 2}, {other, 1}, {blockedResp, 0}, {dnsResp, 1}} {
		if got := e.add(tt.resp); got != tt.want {
			t.Errorf("step %d: streak %d, want %d", i, got, tt.want)
		}
	}
}

func TestCompareEachOutcome(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		state    *probeState
		outcome  Outcome
		status   results.Status
		observed results.Verdict
		reason   string
		latency  int64
	}{
		{"blocked as expected", makeState(), Settled{Response: blockedResp, Latency: 1500 * time.Millisecond}, results.Pass, results.Blocked, "timeout", 1500},
		{"allowed as expected", makeState(expectAllowed), Settled{Response: allowedResp, Latency: time.Second}, results.Pass, results.Allowed, "connected", 1000},
		{"still allowed at the end", makeState(), Unsettled{Response: allowedResp, Budget: time.Minute}, results.Fail, results.Allowed, "connected; still allowed when the 1m0s match budget (--match-budget) ran out", 0},
		{"blocked at the end, unconfirmed", makeState(), Unsettled{Response: blockedResp, Budget: time.Minute}, results.Fail, results.Blocked, "timeout; blocked only intermittently: not 3 attempts in a row within the 1m0s match budget (--match-budget)", 0},
		{"ended on an error", makeState(), Unsettled{Response: dnsResp}, results.StatusError, results.Error, "dns: no such host", 0},
		{"broke", makeState(), Broke{Response: dnsResp}, results.StatusError, results.Error, "dns: no such host", 0},
		{"control broke", makeState(), Broke{Response: dnsResp, During: "control probe (without policy)"}, results.StatusError, results.Error, "dns: control probe (without policy) broke: no such host", 0},
		{"skipped", makeState(), Skipped{Why: "no SCTP"}, results.Skipped, results.None, "no SCTP", 0},
		{"inconclusive", makeState(), Inconclusive{Why: "target unreachable without policy (timeout)"}, results.Inconclusive, results.None, "target unreachable without policy (timeout)", 0},
		{"implementation-defined", makeState(expectAllowed, implDefined), Settled{Response: blockedResp}, results.ImplementationDefined, results.Blocked, "timeout; implementation-defined: self traffic", 0},
		{"never probed", makeState(), Pending{}, results.StatusError, results.Error, "error: never probed", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.state.outcome = tt.outcome
			got := compare(tt.state)
			if got.Status != tt.status || got.Observed != tt.observed || got.Reason != tt.reason || got.LatencyMs != tt.latency {
				t.Errorf("got %s/%s %q %dms, want %s/%s %q %dms", got.Status, got.Observed, got.Reason, got.LatencyMs,
					tt.status, tt.observed, tt.reason, tt.latency)
			}
			if got.Match != (tt.status == results.Pass) {
				t.Errorf("match %v for status %s", got.Match, got.Status)
			}
		})
	}
}

// A Runner used twice runs twice: its own run id each time, Opts untouched.
func TestRunnerReusable(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{}
	ex.answer = enforcing(c)
	opts := testOptions()
	opts.RunID = ""
	r := &Runner{Client: c, Exec: ex, Opts: opts, Clock: testClock()}
	first, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID == "" || first.RunID == second.RunID || r.Opts.RunID != "" {
		t.Errorf("run ids %q and %q, Opts.RunID %q", first.RunID, second.RunID, r.Opts.RunID)
	}
}

// The identity check of a Service target: an answer from a pod that is not
// one of its backends is an error, unless the mode reads no answer.
func TestObserveServiceIdentity(t *testing.T) {
	t.Parallel()
	s := makeState(expectAllowed, func(s *probeState) {
		s.TargetService = &corev1.Service{}
		s.Backends = []string{"ns/b"}
	})
	if got := s.observe(allowedResp, true); got.Verdict != results.Allowed {
		t.Errorf("backend answer: %+v", got)
	}
	impostor := allowedResp
	impostor.AnsweredBy = "ns/sidecar"
	if got := s.observe(impostor, true); got.Verdict != results.Error || got.Reason != results.ReasonWrongIdentity {
		t.Errorf("impostor: %+v", got)
	}
	if got := s.observe(probe.Response{Verdict: results.Allowed, Reason: results.ReasonConnected}, true); got.Reason != results.ReasonNoIdentity {
		t.Errorf("no identity: %+v", got)
	}
	if got := s.observe(impostor, false); got.Verdict != results.Allowed {
		t.Errorf("identity not checked (agnhost): %+v", got)
	}
}

// Cleanup outlasts an API server that is briefly unreachable: a failed
// delete is retried until it goes through; a refusal is not retried.
func TestDeleteNamespacesRetriesTransientErrors(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	if _, err := c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nv-x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int32
	c.PrependReactor("delete", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failures.Add(1) <= 3 {
			return true, nil, errors.New("dial tcp 10.0.0.1:6443: connect: connection refused")
		}
		return false, nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := DeleteNamespaces(ctx, c, []string{"nv-x"}, true); err != nil {
		t.Fatalf("DeleteNamespaces: %v", err)
	}
	if failures.Load() != 4 {
		t.Errorf("%d delete attempts, want 4", failures.Load())
	}
	forbidden := newFakeClient(true)
	forbidden.PrependReactor("delete", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "nv-y", errors.New("no"))
	})
	if err := DeleteNamespaces(ctx, forbidden, []string{"nv-y"}, true); !apierrors.IsForbidden(err) {
		t.Errorf("forbidden delete: %v", err)
	}
}

// Pods are created only once their namespace has its default
// ServiceAccount; a controller-manager that never creates it is named.
func TestRunWaitsForServiceAccount(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	c.PrependReactor("get", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, "default")
	})
	r := &Runner{Client: c, Exec: &scriptedExec{}, Opts: testOptions(), Clock: testClock()}
	_, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	var ie *InfraError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "no default service account") {
		t.Fatalf("err = %v, want an InfraError about the default service account", err)
	}
	pods, _ := c.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Errorf("%d pods created before the service account existed", len(pods.Items))
	}
	assertCleanedUp(t, c)
}

// A result carries the port probed as a number, and the name the
// expectation gave it apart; a DNS lookup is port 53.
func TestComparePort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tweak    func(*probeState)
		port     int
		portName string
		str      string
	}{
		{"number", func(*probeState) {}, 80, "", "80/TCP"},
		{"named pod port", func(s *probeState) { s.Expectation.Port, s.Port = "postgres", 5432 }, 5432, "postgres", "5432/TCP (postgres)"},
		{"named service port", func(s *probeState) {
			s.Target.Kind, s.Expectation.Port, s.Port = scenarios.TargetService, "http", 80
		}, 80, "http", "80/TCP (http)"},
		{"dns", func(s *probeState) { s.Protocol, s.Expectation.Port, s.Port = probe.ProtocolDNS, "", 0 }, 53, "", "53/DNS"},
	}
	for _, tc := range tests {
		r := compare(makeState(tc.tweak, func(s *probeState) { s.outcome = Settled{Response: blockedResp} }))
		if r.Port != tc.port || r.PortName != tc.portName || r.NamedPortString() != tc.str {
			t.Errorf("%s: port %d, portName %q, %q; want %d, %q, %q", tc.name, r.Port, r.PortName, r.NamedPortString(), tc.port, tc.portName, tc.str)
		}
	}
}
