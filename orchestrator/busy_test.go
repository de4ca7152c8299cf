package orchestrator

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// busyOptions are a real run's budgets: a minute to match, a 1s timeout.
func busyOptions() Options {
	o := testOptions()
	o.MatchBudget, o.ControlBudget, o.ProbeTimeout = time.Minute, 10*time.Second, time.Second
	return o
}

// policiesApplied reports whether the run's policies exist, and remembers
// (in *at) when that was first seen.
func policiesApplied(c *fake.Clientset, clock *VirtualClock, at *atomic.Int64) (bool, time.Duration) {
	nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
	if len(nps.Items) == 0 {
		return false, 0
	}
	at.CompareAndSwap(0, clock.Now().UnixNano())
	return true, clock.Now().Sub(time.Unix(0, at.Load()))
}

// starved answers as an enforcing cluster whose frontend node is starved
// of CPU for starvedFor after the policies are applied: each exec from the
// frontend pod takes 20s, and its connections time out although the
// policies allow them (the probe's timeout fires on time, so nothing marks
// those attempts as late).
func starved(c *fake.Clientset, clock *VirtualClock, starvedFor time.Duration) func(string, probe.Request, int) probe.Response {
	var at atomic.Int64
	return func(src string, req probe.Request, _ int) probe.Response {
		applied, since := policiesApplied(c, clock, &at)
		switch {
		case applied && strings.HasSuffix(src, "/random"):
			return blocked
		case applied && strings.HasSuffix(src, "/frontend") && since < starvedFor:
			clock.Advance(20 * time.Second)
			return probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 1000}
		case req.Identity != "":
			return allowedBy(req.Identity)
		}
		return allowedBy(strings.Split(src, "/")[0] + "/backend")
	}
}

// Two or three slow rounds in the match budget are no proof that an allowed
// connection is blocked: the probes get rounds past the budget until they
// have enough observations, and pass once the node has CPU again.
func TestRunStarvedNodeIsNotAMismatch(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	clock := testClock()
	var log bytes.Buffer
	opts := busyOptions()
	opts.Log = &log
	r := &Runner{Client: c, Exec: &scriptedExec{answer: starved(c, clock, 100*time.Second)}, Opts: opts, Clock: clock}
	rep, stats, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(statusOf(rep), " "), "app/frontend->app/backend:pass app/random->app/backend:pass app/frontend->svc:app/web:pass"; got != want {
		t.Fatalf("got %s, want %s\n%+v", got, want, rep.Results)
	}
	if stats.SlowestRound < 20*time.Second {
		t.Errorf("slowest round %s, want the 20s starved ones measured", stats.SlowestRound)
	}
	if !strings.Contains(log.String(), "note: the cluster was busy: rounds of probes took up to 40s") {
		t.Errorf("log %q does not report the busy cluster", log.String())
	}
	if rep.Results[0].LatencyMs < (time.Minute).Milliseconds() {
		t.Errorf("latency %dms: the pass came after the budget, and says so", rep.Results[0].LatencyMs)
	}
}

// A node starved for the whole run gives an inconclusive verdict that says
// what was measured, never a mismatch.
func TestRunStarvedThroughoutIsInconclusive(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	clock := testClock()
	r := &Runner{Client: c, Exec: &scriptedExec{answer: starved(c, clock, time.Hour)}, Opts: busyOptions(), Clock: clock}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		res := rep.Results[i]
		if res.Status != results.Inconclusive || !strings.Contains(res.Reason, string(results.ReasonTooBusy)) ||
			!strings.Contains(res.Reason, "rounds of probes took up to 40s") { // two probes at 20s each
			t.Errorf("%s -> %s: %s %q, want inconclusive, too busy, with the round time", res.From, res.To, res.Status, res.Reason)
		}
	}
	if rep.Results[1].Status != results.Pass {
		t.Errorf("blocked expectation: %+v", rep.Results[1])
	}
	if code := rep.Summary.ExitCode(false); code != 1 {
		t.Errorf("exit code %d, want 1 (inconclusive)", code)
	}
	// the rounds stopped at budgetOverrun budgets, not at the run's timeout
	if d := rep.Duration; d > (budgetOverrun+1)*time.Minute {
		t.Errorf("run took %s", d)
	}
}

// A timeout the probe program noticed long after it was due is no
// observation: on a cluster that does not enforce, starved probes must not
// confirm "blocked".
func TestRunLateTimeoutsDoNotConfirmBlocked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		lateFor  time.Duration // after the policies are applied
		status   results.Status
		inReason string
	}{
		{"late throughout: too busy", time.Hour, results.Inconclusive, "attempts timed out late"},
		{"late, then allowed: the policy is not enforced", 30 * time.Second, results.Fail, "connected"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newFakeClient(true)
			clock := testClock()
			var at atomic.Int64
			answer := func(src string, req probe.Request, _ int) probe.Response {
				applied, since := policiesApplied(c, clock, &at)
				if applied && strings.HasSuffix(src, "/random") && since < tt.lateFor {
					clock.Advance(4 * time.Second)
					return probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 4000}
				}
				if req.Identity != "" {
					return allowedBy(req.Identity) // nothing is enforced
				}
				return allowedBy(strings.Split(src, "/")[0] + "/backend")
			}
			r := &Runner{Client: c, Exec: &scriptedExec{answer: answer}, Opts: busyOptions(), Clock: clock}
			rep, stats, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
			if err != nil {
				t.Fatal(err)
			}
			res := rep.Results[1]
			if res.Status != tt.status || !strings.Contains(res.Reason, tt.inReason) {
				t.Errorf("random -> backend: %s %q, want %s with %q", res.Status, res.Reason, tt.status, tt.inReason)
			}
			if stats.LateAttempts == 0 {
				t.Error("no late attempt counted")
			}
		})
	}
}

func TestLate(t *testing.T) {
	t.Parallel()
	timeout := time.Second
	for _, tt := range []struct {
		resp probe.Response
		want bool
	}{
		{probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 1000}, false},
		{probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 1500}, false},
		{probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 1501}, true},
		{probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 9000}, true},
		// answers are observations however late they came
		{probe.Response{Verdict: results.Blocked, Reason: results.ReasonRefused, Ms: 9000}, false},
		{probe.Response{Verdict: results.Allowed, Reason: results.ReasonConnected, Ms: 9000}, false},
		{probe.Response{Verdict: results.Error, Reason: results.ReasonNoIdentity, Ms: 9000}, false},
	} {
		if got := late(tt.resp, timeout); got != tt.want {
			t.Errorf("late(%+v, %s) = %v, want %v", tt.resp, timeout, got, tt.want)
		}
	}
	// a long timeout gets half of itself as slack
	if late(probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 14000}, 10*time.Second) {
		t.Error("14s for a 10s timeout is not late")
	}
}

// A control probe starved of CPU does not prove that its target is
// unreachable without policy: the run says it was too busy to tell.
func TestRunStarvedControlIsTooBusy(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	clock := testClock()
	var at atomic.Int64
	answer := func(src string, req probe.Request, _ int) probe.Response {
		if applied, _ := policiesApplied(c, clock, &at); !applied && strings.HasSuffix(src, "/random") {
			clock.Advance(16 * time.Second) // two rounds exceed three control budgets
			return probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 1000}
		}
		return enforcing(c)(src, req, 0)
	}
	r := &Runner{Client: c, Exec: &scriptedExec{answer: answer}, Opts: busyOptions(), Clock: clock}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	res := rep.Results[1]
	if want := "too-busy: control probe (without policy): the cluster was too busy to decide: 2 of the 3 observations needed"; res.Status != results.Inconclusive || !strings.HasPrefix(res.Reason, want) {
		t.Errorf("random -> backend: %s %q (%d attempts), want inconclusive %q…", res.Status, res.Reason, res.Attempts, want)
	}
}

// A cluster that creates pods slowly but steadily (a CNI rate-limiting
// endpoint creation) is waited for: --ready-timeout bounds how long no pod
// becomes Ready, not the whole wait.
func TestRunPodsReadySlowlyButSteadily(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	clock := testClock()
	start := clock.Now()
	var created []string // pod keys in creation order
	var mu sync.Mutex
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		mu.Lock()
		created = append(created, p.Namespace+"/"+p.Name)
		mu.Unlock()
		return false, nil, nil
	})
	// the k-th pod (from 0) is Ready 50s·(k+1) after the start: 4 pods,
	// 200s in all, each step within the 60s ready timeout
	c.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj, err := c.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		list := obj.(*corev1.PodList)
		mu.Lock()
		defer mu.Unlock()
		for i := range list.Items {
			p := &list.Items[i]
			k := slices.Index(created, p.Namespace+"/"+p.Name)
			if clock.Now().Sub(start) < time.Duration(k+1)*50*time.Second {
				p.Status.Conditions = nil // not Ready yet
			}
		}
		return true, list, nil
	})
	opts := testOptions()
	opts.ReadyTimeout = time.Minute
	r := &Runner{Client: c, Exec: &scriptedExec{answer: enforcing(c)}, Opts: opts, Clock: clock}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatalf("a steadily progressing cluster was given up: %v", err)
	}
	if rep.Summary.Passed != 3 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if took := clock.Now().Sub(start); took < 150*time.Second {
		t.Errorf("run took %s: the pods were not slow", took)
	}
}
