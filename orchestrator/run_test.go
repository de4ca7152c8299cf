package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const coreYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: core}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: frontend, labels: {app: frontend}}
  - {name: backend, labels: {app: backend}, ports: [{name: http, port: 8080}]}
  - {name: random, labels: {app: random}}
  services:
  - {name: web, selector: {app: backend}, ports: [{port: 80, targetPort: "8080"}]}
  policies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: backend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}]}]
  expect:
  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: random, to: backend, port: "8080", allowed: false}
  - {from: frontend, to: "svc:web", port: "80", allowed: true}
`

func loadScenarios(t *testing.T, y string) []*scenarios.Scenario {
	t.Helper()
	scs, err := scenarios.LoadBytes("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return scs
}

// newFakeClient returns a fake clientset whose pods become Running and Ready
// with an IP as soon as they are created (unless ready is false), and whose
// services get a ClusterIP.
func newFakeClient(ready bool) *fake.Clientset {
	c := fake.NewSimpleClientset()
	var n atomic.Int32
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if ready {
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = fmt.Sprintf("10.244.0.%d", n.Add(1))
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		} else {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "probe", State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "image not found"}}}}
		}
		return false, nil, nil
	})
	c.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		s := a.(k8stesting.CreateAction).GetObject().(*corev1.Service)
		s.Spec.ClusterIP = "10.96.0.42"
		return false, nil, nil
	})
	withServiceAccounts(c)
	return c
}

// withServiceAccounts makes c create a namespace's default ServiceAccount
// with the namespace, as the controller-manager does.
func withServiceAccounts(c *fake.Clientset) {
	c.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ns := a.(k8stesting.CreateAction).GetObject().(*corev1.Namespace)
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}}
		_ = c.Tracker().Add(sa)
		return false, nil, nil
	})
}

// scriptedExec answers batch execs with a function of (source pod, request).
type scriptedExec struct {
	mu      sync.Mutex
	calls   int
	argvs   [][]string
	answer  func(src string, req probe.Request, call int) probe.Response
	failFor int // the first failFor calls fail as transport errors
}

func (s *scriptedExec) Exec(ctx context.Context, ns, pod, container string, argv []string) (ExecResult, error) {
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.argvs = append(s.argvs, argv)
	s.mu.Unlock()
	if call <= s.failFor {
		return ExecResult{}, errors.New("transport: connection reset")
	}
	if err := ctx.Err(); err != nil {
		return ExecResult{}, err
	}
	var reqs []probe.Request
	if argv[1] == "batch" {
		if err := json.Unmarshal([]byte(argv[2]), &reqs); err != nil {
			return ExecResult{}, err
		}
	} else {
		return ExecResult{}, fmt.Errorf("unexpected argv %v", argv)
	}
	var out bytes.Buffer
	for _, r := range reqs {
		resp := s.answer(ns+"/"+pod, r, call)
		resp.ID = r.ID
		b, _ := json.Marshal(resp)
		out.Write(append(b, '\n'))
	}
	return ExecResult{Stdout: out.Bytes()}, nil
}

func allowedBy(id string) probe.Response {
	return probe.Response{Verdict: "allowed", Reason: "connected", AnsweredBy: id}
}

var blocked = probe.Response{Verdict: "blocked", Reason: "timeout"}

// enforcing answers as a cluster that enforces the core policy once
// policiesApplied is set.
func enforcing(c *fake.Clientset) func(string, probe.Request, int) probe.Response {
	return func(src string, req probe.Request, _ int) probe.Response {
		nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
		applied := len(nps.Items) > 0
		if applied && strings.HasSuffix(src, "/random") {
			return blocked
		}
		if req.Identity != "" {
			return allowedBy(req.Identity)
		}
		return allowedBy(strings.Split(src, "/")[0] + "/backend")
	}
}

func testOptions() Options {
	return Options{RunID: "test01", ProbeImage: "probe:test", MatchBudget: 2 * time.Second, ControlBudget: time.Second,
		ReadyTimeout: time.Second, Concurrency: 4}
}

// testClock is virtual time: budgets and pauses pass without waiting.
func testClock() *VirtualClock { return NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }

func statusOf(rep *results.Report) []string {
	var out []string
	for _, r := range rep.Results {
		out = append(out, fmt.Sprintf("%s->%s:%s", r.From, r.To, r.Status))
	}
	return out
}

func TestRunEnforcingPasses(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{}
	ex.answer = enforcing(c)
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, stats, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Passed != 3 || rep.Summary.ExitCode(false) != 0 {
		t.Fatalf("summary %+v, results %v", rep.Summary, statusOf(rep))
	}
	// one exec per source pod per round
	if stats.MaxExecRound > stats.SourcePods {
		t.Errorf("%d exec calls in a round for %d source pods", stats.MaxExecRound, stats.SourcePods)
	}
	for _, res := range rep.Results {
		if !strings.Contains(res.Repro, "kubectl exec -n nv-test01-1-app") || !strings.Contains(res.Repro, "/netverify-probe connect") {
			t.Errorf("repro %q", res.Repro)
		}
	}
	if got := rep.Results[2].AnsweredBy; got != "nv-test01-1-app/backend" {
		t.Errorf("service answeredBy %q", got)
	}
	assertCleanedUp(t, c)
}

func TestRunNonEnforcingFailsDeniedOnly(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{answer: func(src string, req probe.Request, _ int) probe.Response {
		if req.Identity != "" {
			return allowedBy(req.Identity)
		}
		return allowedBy(strings.Split(src, "/")[0] + "/backend")
	}}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := "[app/frontend->app/backend:pass app/random->app/backend:fail app/frontend->svc:app/web:pass]"
	if got := fmt.Sprint(statusOf(rep)); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if rep.Results[1].Observed != results.Allowed || rep.Results[1].Attempts < 2 {
		t.Errorf("mismatch: %+v (want observed allowed after retries)", rep.Results[1])
	}
	if rep.Summary.ExitCode(false) != 1 {
		t.Errorf("exit code %d", rep.Summary.ExitCode(false))
	}
	assertCleanedUp(t, c)
}

func TestRunBrokenProbeIsErrorNotBlocked(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{answer: func(src string, req probe.Request, _ int) probe.Response {
		return probe.Response{Verdict: "error", Reason: "dns", Detail: "lookup failed"}
	}}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Observed == results.Blocked || res.Status == results.Pass {
			t.Errorf("%s -> %s: %s/%s", res.From, res.To, res.Observed, res.Status)
		}
	}
	if rep.Summary.Errors == 0 {
		t.Errorf("no errors counted: %+v", rep.Summary)
	}
	// a probe that breaks the same way three times in a row is final
	for _, res := range rep.Results {
		if res.Status == results.StatusError && !strings.Contains(res.Reason, "control probe") && res.Attempts != errorAttempts {
			t.Errorf("%s -> %s: %d attempts, want %d", res.From, res.To, res.Attempts, errorAttempts)
		}
	}
}

func TestRunExecTransportFailureIsRetried(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{failFor: 2}
	ex.answer = enforcing(c)
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Passed != 3 {
		t.Fatalf("summary %+v %v", rep.Summary, statusOf(rep))
	}
}

func TestRunExecAlwaysFailingIsError(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{failFor: 1 << 30}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Status != results.StatusError && res.Status != results.Inconclusive {
			t.Errorf("%s -> %s: %s (%s)", res.From, res.To, res.Status, res.Reason)
		}
	}
}

func TestRunServiceImpostor(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{}
	base := enforcing(c)
	ex.answer = func(src string, req probe.Request, call int) probe.Response {
		if req.Host == "10.96.0.42" {
			return allowedBy("elsewhere/sidecar")
		}
		return base(src, req, call)
	}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	svc := rep.Results[2]
	if svc.Status != results.StatusError || !strings.HasPrefix(svc.Reason, string(results.ReasonWrongIdentity)) || svc.AnsweredBy != "elsewhere/sidecar" {
		t.Fatalf("impostor result %+v", svc)
	}
}

func TestRunControlFailureIsInconclusive(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{answer: func(string, probe.Request, int) probe.Response { return blocked }}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Results[1]; got.Status != results.Inconclusive || !strings.Contains(got.Reason, string(results.ReasonControlFailed)) {
		t.Fatalf("blocked expectation whose target never answered: %+v", got)
	}
}

// pendingClient is a fake cluster whose pods stay Pending with the given
// status (copied into each pod created).
func pendingClient(status corev1.PodStatus, node string) *fake.Clientset {
	c := fake.NewSimpleClientset()
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Status = *status.DeepCopy()
		p.Spec.NodeName = node
		for i := range p.Status.ContainerStatuses {
			p.Status.ContainerStatuses[i].Image = p.Spec.Containers[0].Image
		}
		return false, nil, nil
	})
	withServiceAccounts(c)
	return c
}

func waiting(reason, msg string) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "probe",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}}
}

const pendingReadyTimeout = 2 * time.Minute

// runPending runs the core scenario on pods stuck with status and returns
// the error and how much (virtual) time the run took.
func runPending(t *testing.T, status corev1.PodStatus, node string) (error, time.Duration) {
	t.Helper()
	c := pendingClient(status, node)
	clock := testClock()
	start := clock.Now()
	opts := testOptions()
	opts.ReadyTimeout = pendingReadyTimeout
	r := &Runner{Client: c, Exec: &scriptedExec{}, Opts: opts, Clock: clock}
	_, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	var ie *InfraError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want InfraError", err)
	}
	assertCleanedUp(t, c)
	return err, clock.Now().Sub(start)
}

func TestRunPodsNeverReady(t *testing.T) {
	t.Parallel()
	err, took := runPending(t, waiting("ContainerCreating", ""), "node-1")
	for _, want := range []string{"not Ready after", "pod nv-test01-1-app/backend", "ContainerCreating", "--ready-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if took < pendingReadyTimeout {
		t.Errorf("a pod that is only slow was given up after %s, before the ready timeout", took)
	}
}

// An image that cannot be pulled, or a pod no node accepts, fails the wait
// at once with what to change, instead of waiting out --ready-timeout.
func TestRunPodsThatCannotStartFailFast(t *testing.T) {
	t.Parallel()
	unsched := corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
		Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}}}
	for name, tc := range map[string]struct {
		status  corev1.PodStatus
		node    string
		want    []string
		atLeast time.Duration
	}{
		"image pull":    {waiting("ErrImagePull", "failed to resolve reference: not found"), "node-1", []string{`image "` + testOptions().ProbeImage + `" cannot be pulled on node node-1`, "ErrImagePull", "--image-probe", "--mode agnhost"}, 0},
		"pull backoff":  {waiting("ImagePullBackOff", "Back-off pulling image"), "node-2", []string{"cannot be pulled on node node-2", "ImagePullBackOff"}, 0},
		"crash loop":    {waiting("CrashLoopBackOff", "back-off 10s restarting failed container"), "node-1", []string{"keeps crashing on node node-1", "--previous"}, 0},
		"unschedulable": {unsched, "", []string{"no node accepts it", "didn't match Pod's node affinity/selector", "--node-selector", "--toleration"}, unschedulableGrace},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err, took := runPending(t, tc.status, tc.node)
			for _, want := range append(tc.want, "cannot start", "pod nv-test01-1-app/") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if took >= pendingReadyTimeout {
				t.Errorf("gave up after %s: not before the ready timeout", took)
			}
			if took < tc.atLeast {
				t.Errorf("gave up after %s, before the %s grace", took, tc.atLeast)
			}
		})
	}
}

func TestRunCancelledMidProbeCleansUp(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ctx, cancel := context.WithCancel(context.Background())
	ex := &scriptedExec{}
	ex.answer = func(src string, req probe.Request, call int) probe.Response {
		nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
		if len(nps.Items) > 0 {
			cancel() // Ctrl-C while probing
		}
		return allowedBy(req.Identity)
	}
	opts := testOptions()
	opts.MatchBudget = time.Minute
	r := &Runner{Client: c, Exec: ex, Opts: opts, Clock: testClock()}
	_, _, err := r.Run(ctx, loadScenarios(t, coreYAML))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertCleanedUp(t, c)
}

// Keep modes: always leaves the namespaces, never removes them, on-failure
// leaves them only when a result failed; the report says which happened.
func TestRunKeepModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		keep      KeepMode
		enforcing bool
		kept      bool
	}{
		{"always, passing", KeepAlways, true, true},
		{"always, failing", KeepAlways, false, true},
		{"never, failing", KeepNever, false, false},
		{"unset is never, failing", "", false, false},
		{"on-failure, passing", KeepOnFailure, true, false},
		{"on-failure, failing", KeepOnFailure, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newFakeClient(true)
			ex := &scriptedExec{answer: enforcing(c)}
			if !tc.enforcing {
				ex.answer = func(src string, req probe.Request, _ int) probe.Response {
					if req.Identity != "" {
						return allowedBy(req.Identity)
					}
					return allowedBy(strings.Split(src, "/")[0] + "/backend")
				}
			}
			opts := testOptions()
			opts.Keep = tc.keep
			var log bytes.Buffer
			opts.Log = &log
			r := &Runner{Client: c, Exec: ex, Opts: opts, Clock: testClock()}
			rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
			if err != nil {
				t.Fatal(err)
			}
			if failed := rep.Summary.Failed > 0; failed == tc.enforcing {
				t.Fatalf("summary %+v: the scenario did not fail as the case needs", rep.Summary)
			}
			if rep.Kept != tc.kept {
				t.Errorf("report Kept = %v, want %v", rep.Kept, tc.kept)
			}
			nss, err := c.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			hint := strings.Contains(log.String(), "kubectl delete namespace -l "+RunSelector("test01"))
			if tc.kept && (len(nss.Items) != 1 || !hint) {
				t.Errorf("kept: %d namespaces, log %q; want the run's namespace and how to remove it", len(nss.Items), log.String())
			}
			if !tc.kept && (len(nss.Items) != 0 || hint) {
				t.Errorf("removed: %d namespaces, log %q; want none", len(nss.Items), log.String())
			}
		})
	}
}

// With on-failure, a run cancelled midway (no report) removes its
// namespaces.
func TestRunKeepOnFailureCancelledCleansUp(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ctx, cancel := context.WithCancel(context.Background())
	ex := &scriptedExec{answer: func(src string, req probe.Request, call int) probe.Response {
		cancel()
		return allowedBy(req.Identity)
	}}
	opts := testOptions()
	opts.Keep = KeepOnFailure
	r := &Runner{Client: c, Exec: ex, Opts: opts, Clock: testClock()}
	if _, _, err := r.Run(ctx, loadScenarios(t, coreYAML)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertCleanedUp(t, c)
}

func assertCleanedUp(t *testing.T, c *fake.Clientset) {
	t.Helper()
	nss, err := c.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nss.Items) != 0 {
		t.Fatalf("%d namespaces left after the run", len(nss.Items))
	}
}

func TestPlanProbePodsPassRestricted(t *testing.T) {
	t.Parallel()
	plan, err := MakePlan(loadScenarios(t, coreYAML), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range plan.Namespaces {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" || ns.Labels[LabelRunID] != "test01" {
			t.Errorf("namespace labels %v", ns.Labels)
		}
	}
	for _, pp := range plan.Pods {
		sc := pp.Pod.Spec.SecurityContext
		cs := pp.Pod.Spec.Containers[0].SecurityContext
		if !*sc.RunAsNonRoot || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
			*cs.AllowPrivilegeEscalation || len(cs.Capabilities.Drop) != 1 || cs.Capabilities.Drop[0] != "ALL" {
			t.Errorf("pod %s is not restricted: %+v %+v", pp.Pod.Name, sc, cs)
		}
		if pp.Pod.Labels[LabelManagedBy] != ManagedBy {
			t.Errorf("pod %s labels %v", pp.Pod.Name, pp.Pod.Labels)
		}
	}
}

const outsideYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: outside}
spec:
  namespaces: [{name: app}]
  pods: [{name: w, labels: {app: w}}]
  policies:
  - metadata: {name: block-metadata}
    spec:
      podSelector: {}
      policyTypes: [Egress]
      egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]
  expect:
  - {from: w, to: "ip:169.254.169.254", port: "80", allowed: false}
  - {from: w, to: "ip:203.0.113.10", port: "443", allowed: true}
`

// An outside target that does not answer even from the unrestricted control
// pod makes "blocked" meaningless: inconclusive for a user's scenario,
// skipped for the built-in suite (the check does not apply to the cluster).
func TestRunOutsideTargetControl(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		builtin    bool
		metadataUp bool
		want       results.Status
	}{
		{"user scenario, no metadata service", false, false, results.Inconclusive},
		{"built-in scenario, no metadata service", true, false, results.Skipped},
		{"metadata service answers the control pod", false, true, results.Pass},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClient(true)
			ex := &scriptedExec{answer: func(src string, req probe.Request, _ int) probe.Response {
				if req.Host == "169.254.169.254" {
					nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
					if tt.metadataUp && (strings.HasSuffix(src, "-control/control") || len(nps.Items) == 0) {
						return allowedBy("")
					}
					return blocked
				}
				return allowedBy("")
			}}
			scs := loadScenarios(t, outsideYAML)
			scs[0].Builtin = tt.builtin
			r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
			rep, _, err := r.Run(context.Background(), scs)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Results[0]; got.Status != tt.want {
				t.Fatalf("metadata expectation: %+v, want status %s", got, tt.want)
			}
			if got := rep.Results[1]; got.Status != results.Pass {
				t.Fatalf("allowed outside expectation: %+v", got)
			}
			assertCleanedUp(t, c)
		})
	}
}

// agnhostExec answers `agnhost connect` the way agnhost does: exit 0, or
// exit 1 with a marker on stderr.
type agnhostExec struct {
	blocked func(src, hostPort string) bool
	argvs   [][]string
	mu      sync.Mutex
}

func (a *agnhostExec) Exec(_ context.Context, ns, pod, _ string, argv []string) (ExecResult, error) {
	a.mu.Lock()
	a.argvs = append(a.argvs, argv)
	a.mu.Unlock()
	if argv[0] != "/agnhost" || argv[1] != "connect" {
		return ExecResult{}, fmt.Errorf("unexpected argv %v", argv)
	}
	if a.blocked(ns+"/"+pod, argv[2]) {
		return ExecResult{ExitCode: 1, Stderr: []byte("TIMEOUT\n")}, nil
	}
	return ExecResult{}, nil
}

func TestRunAgnhostMode(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &agnhostExec{}
	ex.blocked = func(src, hostPort string) bool {
		nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
		return len(nps.Items) > 0 && strings.HasSuffix(src, "/random")
	}
	opts := testOptions()
	opts.Mode = ModeAgnhost
	r := &Runner{Client: c, Exec: ex, Opts: opts, Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Passed != 3 {
		t.Fatalf("summary %+v %v", rep.Summary, statusOf(rep))
	}
	if !strings.Contains(rep.Results[0].Repro, "/agnhost connect") {
		t.Errorf("repro %q", rep.Results[0].Repro)
	}
	plan, err := MakePlan(loadScenarios(t, coreYAML), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range plan.Pods {
		if pp.Spec.Name == "backend" {
			if len(pp.Pod.Spec.Containers) != 2 || pp.Pod.Spec.Containers[0].Name != ProbeContainer {
				t.Fatalf("backend containers %+v", pp.Pod.Spec.Containers)
			}
			args := strings.Join(pp.Pod.Spec.Containers[1].Args, " ")
			if args != "serve-hostname --http=false --port 8080 --tcp" {
				t.Errorf("backend server args %q", args)
			}
		}
	}
}

// garbageExec answers every exec with output that is not the probe
// program's: the probes are errors, and the run still cleans up.
type garbageExec struct{}

func (garbageExec) Exec(context.Context, string, string, string, []string) (ExecResult, error) {
	return ExecResult{Stdout: []byte("netverify-probe v0.0.1 starting\n")}, nil
}

func TestRunGarbageOutputIsError(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	r := &Runner{Client: c, Exec: garbageExec{}, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Status != results.StatusError {
			t.Errorf("%s -> %s: %s (%s), want error", res.From, res.To, res.Status, res.Reason)
		}
	}
	assertCleanedUp(t, c)
}

// A control probe that broke is an Error, never "target unreachable".
func TestRunBrokenControlIsError(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{}
	ex.answer = func(src string, req probe.Request, call int) probe.Response {
		nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
		if len(nps.Items) == 0 && strings.HasSuffix(src, "/random") {
			return probe.Response{Verdict: "error", Reason: "no-output", Detail: "exec stream closed"}
		}
		return enforcing(c)(src, req, call)
	}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Results[1]; got.Status != results.StatusError || !strings.Contains(got.Reason, "control probe") {
		t.Fatalf("blocked expectation with a broken control: %+v, want error", got)
	}
}

// When no blocked expectation of a scenario can show that its policies are
// in effect, its allowed expectations are not settled by an early round:
// they are probed until the budget ends and the last observation stands.
func TestRunAllowedNotSettledBeforeEnforcement(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	clock := testClock()
	var appliedAt atomic.Int64
	ex := &scriptedExec{answer: func(src string, req probe.Request, _ int) probe.Response {
		nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
		if len(nps.Items) > 0 {
			appliedAt.CompareAndSwap(0, clock.Now().UnixNano())
			// the CNI programs the (wrong) policy 500ms after it was applied:
			// from then on it blocks everything
			if clock.Now().Sub(time.Unix(0, appliedAt.Load())) > 500*time.Millisecond {
				return blocked
			}
		}
		if strings.HasSuffix(src, "/random") && len(nps.Items) == 0 {
			return blocked // the blocked expectation's control fails: inconclusive
		}
		if req.Identity != "" {
			return allowedBy(req.Identity)
		}
		return allowedBy(strings.Split(src, "/")[0] + "/backend")
	}}
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: clock}
	rep, _, err := r.Run(context.Background(), loadScenarios(t, coreYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Results[1]; got.Status != results.Inconclusive {
		t.Fatalf("blocked expectation: %+v", got)
	}
	if got := rep.Results[0]; got.Status != results.Fail || got.Observed != results.Blocked {
		t.Fatalf("allowed expectation passed before the policy took effect: %+v", got)
	}
}

// In the built-in suite an allowed check of an outside target that answers
// nothing even without policy is skipped (it does not apply to the cluster),
// not failed.
func TestRunBuiltinAllowedOutsideTargetMissing(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	ex := &scriptedExec{answer: func(src string, req probe.Request, _ int) probe.Response { return blocked }}
	scs := loadScenarios(t, outsideYAML)
	scs[0].Builtin = true
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, _, err := r.Run(context.Background(), scs)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Status != results.Skipped || !strings.Contains(res.Reason, "does not answer") {
			t.Errorf("%s: %s (%s), want skipped", res.To, res.Status, res.Reason)
		}
	}
	// every check skipped: nothing was checked, which is not a success
	// unless skipped checks are allowed (--allow-skipped)
	if code := rep.Summary.ExitCode(false); code != results.ExitMismatch {
		t.Errorf("exit %d, want %d (nothing checked)", code, results.ExitMismatch)
	}
	if code := rep.Summary.Exit(results.ExitPolicy{AllowSkipped: true}); code != results.ExitOK {
		t.Errorf("exit %d with skipped checks allowed, want 0", code)
	}
}
