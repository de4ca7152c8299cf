package simulate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/netverify/netverify/simulate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
  - metadata: {name: backend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}]}]
  expect:
  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: random, to: backend, port: "8080", allowed: false}
  - {from: frontend, to: "svc:web", port: "80", allowed: true}
  - {from: random, to: "svc:web", port: "80", allowed: false}
`

func load(t *testing.T, y string) []*scenarios.Scenario {
	t.Helper()
	scs, err := scenarios.LoadBytes("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return scs
}

// runOn runs scs through the whole pipeline on a simulated cluster.
func runOn(t *testing.T, c *simulate.Cluster, opts orchestrator.Options, scs []*scenarios.Scenario) (*results.Report, orchestrator.Stats) {
	t.Helper()
	clock := orchestrator.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Clock = clock
	r := &orchestrator.Runner{Client: c.Client, Policies: c.Policies, Exec: c, Opts: opts, Clock: clock}
	rep, stats, err := r.Run(context.Background(), scs)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	nss, err := c.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: orchestrator.AnyRunSelector()})
	if err != nil || len(nss.Items) != 0 {
		t.Fatalf("%d run namespaces left after the run (%v)", len(nss.Items), err)
	}
	cnps, err := c.Policies.PolicyV1alpha2().ClusterNetworkPolicies().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(cnps.Items) != 0 {
		t.Fatalf("%d ClusterNetworkPolicies left after the run (%v)", len(cnps.Items), err)
	}
	return rep, stats
}

func rows(rep *results.Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "%s→%s %s/%s %s\n", r.From, r.To, r.Expected, r.Observed, r.Status)
	}
	return b.String()
}

func TestEnforcingClusterPasses(t *testing.T) {
	t.Parallel()
	rep, stats := runOn(t, simulate.New(), orchestrator.Options{}, load(t, coreYAML))
	if rep.Summary.Passed != 4 || rep.Summary.ExitCode(false) != 0 {
		t.Fatalf("summary %+v\n%s", rep.Summary, rows(rep))
	}
	for _, r := range rep.Results {
		if r.DecidedBy == "" {
			t.Errorf("%s → %s: no deciding rule", r.From, r.To)
		}
	}
	if got := rep.Results[1].DecidedBy; !strings.Contains(got, "blocked") || !strings.Contains(got, "app/backend") || strings.Contains(got, "nv-") {
		t.Errorf("blocked row decided by %q; want the verdict and the isolating policy, in the scenario's namespace names", got)
	}
	if got := rep.Results[2].AnsweredBy; !strings.HasSuffix(got, "-app/backend") {
		t.Errorf("service answered by %q", got)
	}
	if stats.MaxExecRound > stats.SourcePods {
		t.Errorf("%d execs in one round for %d source pods", stats.MaxExecRound, stats.SourcePods)
	}
}

func TestPolicyIgnoringClusterFails(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.IgnorePolicies = true
	rep, _ := runOn(t, c, orchestrator.Options{MatchBudget: 3 * time.Second}, load(t, coreYAML))
	want := "app/frontend→app/backend allowed/allowed pass\n" +
		"app/random→app/backend blocked/allowed fail\n" +
		"app/frontend→svc:app/web allowed/allowed pass\n" +
		"app/random→svc:app/web blocked/allowed fail\n"
	if got := rows(rep); got != want {
		t.Fatalf("got\n%swant\n%s", got, want)
	}
	if rep.Summary.ExitCode(false) != results.ExitMismatch {
		t.Errorf("exit %d", rep.Summary.ExitCode(false))
	}
	// a mismatch was retried for the whole budget: 200ms apart
	if a := rep.Results[1].Attempts; a < 10 {
		t.Errorf("mismatch tried %d times in a 3s budget", a)
	}
}

// A CNI that takes 4s to program a policy: the blocked expectations pass
// with their enforcement latency, and the allowed ones only settle after.
func TestSlowEnforcementIsMeasured(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.EnforcementDelay = 4 * time.Second
	rep, _ := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
	if rep.Summary.Passed != 4 {
		t.Fatalf("summary %+v\n%s", rep.Summary, rows(rep))
	}
	blocked := rep.Results[1]
	if blocked.LatencyMs < 4000 || blocked.LatencyMs > 5000 || blocked.Attempts < 2 {
		t.Errorf("blocked row: latency %dms after %d attempts; want just over 4s", blocked.LatencyMs, blocked.Attempts)
	}
	if allowed := rep.Results[0]; allowed.LatencyMs <= blocked.LatencyMs {
		t.Errorf("allowed row settled at %dms, before enforcement was seen at %dms", allowed.LatencyMs, blocked.LatencyMs)
	}
}

// ... and one slower than the budget is a failure.
func TestEnforcementSlowerThanBudgetFails(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.EnforcementDelay = time.Minute
	rep, _ := runOn(t, c, orchestrator.Options{MatchBudget: 5 * time.Second}, load(t, coreYAML))
	if rep.Results[1].Status != results.Fail {
		t.Fatalf("%s", rows(rep))
	}
}

// The built-in suite, run on a simulated enforcing cluster, agrees with the
// engine: every check passes or is skipped.
func TestBuiltinSuite(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := runOn(t, simulate.New(), orchestrator.Options{}, scs)
	for _, r := range rep.Results {
		if r.Status != results.Pass && r.Status != results.Skipped {
			t.Errorf("%s: %s → %s %s: %s (%s) decided by %q", r.Scenario, r.From, r.To, r.NamedPortString(), r.Status, r.Reason, r.DecidedBy)
		}
	}
	if rep.Summary.Passed == 0 || rep.Summary.ExitCode(false) != 0 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

func TestExecAnswers(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		argv    []string
		code    int
		verdict results.Verdict
		reason  results.Reason
	}{
		{"dns of a cluster name", probe.ConnectCommand("", probe.Request{Protocol: "dns", Host: "kube-dns.kube-system.svc.cluster.local"}), 0, results.Allowed, results.ReasonResolved},
		{"tcp to the DNS service by name", probe.ConnectCommand("", probe.Request{Protocol: "tcp", Host: "kube-dns.kube-system.svc", Port: 53}), 0, results.Allowed, results.ReasonConnected},
		{"a port nothing serves", probe.ConnectCommand("", probe.Request{Protocol: "tcp", Host: simulate.DNSPodIP, Port: 80}), probe.ExitBlocked, results.Blocked, results.ReasonRefused},
		{"an outside name", probe.ConnectCommand("", probe.Request{Protocol: "tcp", Host: "example.com", Port: 443}), probe.ExitFailed, results.Error, results.ReasonUnsupported},
		{"an outside address", probe.BatchCommand("", []probe.Request{{ID: "a", Protocol: "tcp", Host: "203.0.113.10", Port: 443}}), 0, results.Allowed, results.ReasonConnected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Exec(ctx, simulate.DNSNamespace, simulate.DNSPod, "probe", tt.argv)
			if err != nil {
				t.Fatal(err)
			}
			var reqs []probe.Request
			if tt.argv[1] == "batch" {
				reqs = []probe.Request{{ID: "a"}}
			} else {
				reqs = []probe.Request{{}}
			}
			out, err := probe.ParseBatchOutput(res.Stdout, reqs)
			if err != nil {
				t.Fatal(err)
			}
			got := out[reqs[0].ID]
			if res.ExitCode != tt.code || got.Verdict != tt.verdict || got.Reason != tt.reason {
				t.Errorf("exit %d, %+v; want exit %d, %s/%s", res.ExitCode, got, tt.code, tt.verdict, tt.reason)
			}
		})
	}
	res, err := c.Exec(ctx, simulate.DNSNamespace, simulate.DNSPod, "probe", []string{"/netverify-probe", "serve"})
	if err != nil || res.ExitCode != probe.ExitUsage {
		t.Errorf("unknown subcommand: exit %d, %v; want exit %d", res.ExitCode, err, probe.ExitUsage)
	}
	if _, err := c.Exec(ctx, "nowhere", "nobody", "probe", probe.BatchCommand("", nil)); err == nil {
		t.Error("exec in a pod that does not exist succeeded")
	}
}

// Slow enforcement is measured and reported on the report, a warning above
// the threshold.
func TestEnforcementReported(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		delay time.Duration
		slow  bool
	}{{0, false}, {7 * time.Second, true}} {
		c := simulate.New()
		c.EnforcementDelay = tt.delay
		rep, _ := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
		e := rep.Enforcement
		if e == nil || e.Observed != 2 || e.Slow != tt.slow || e.MaxMs < tt.delay.Milliseconds() || e.SlowThresholdMs != 5000 {
			t.Errorf("delay %s: enforcement %+v", tt.delay, e)
			continue
		}
		if tt.slow && !strings.Contains(e.String(), "slow: above 5s") {
			t.Errorf("delay %s: %q", tt.delay, e.String())
		}
	}
}

// On a cluster that ignores policies, the run says so when the default
// budget runs out, in a bounded number of rounds (the pace slows as the
// budget wears on).
func TestNonEnforcingBoundedByDefaultBudget(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.IgnorePolicies = true
	rep, stats := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
	if rep.Summary.Failed != 2 {
		t.Fatalf("%s", rows(rep))
	}
	if stats.Probing < orchestrator.DefaultMatchBudget || stats.Probing > orchestrator.DefaultMatchBudget+2*time.Second {
		t.Errorf("probing took %s, want just over the %s budget", stats.Probing, orchestrator.DefaultMatchBudget)
	}
	if stats.Rounds > 120 {
		t.Errorf("%d rounds in a %s budget", stats.Rounds, orchestrator.DefaultMatchBudget)
	}
	if !strings.Contains(rep.Results[1].Reason, "match budget (--match-budget) ran out") {
		t.Errorf("failure reason %q does not name the budget", rep.Results[1].Reason)
	}
}

// On a busy cluster that ignores policies, a timeout now and then is not
// enforcement: blocked expectations still fail, none passes.
func TestTransientTimeoutsAreNotEnforcement(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.IgnorePolicies = true
	c.TimeoutEvery = 2 // every other attempt of every connection times out
	rep, _ := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
	for _, r := range rep.Results {
		if r.Expected == results.Blocked && r.Status == results.Pass {
			t.Errorf("%s → %s passed as blocked on a cluster that ignores policies: %s", r.From, r.To, r.Reason)
		}
	}
	if rep.Summary.ExitCode(false) != results.ExitMismatch {
		t.Errorf("exit %d\n%s", rep.Summary.ExitCode(false), rows(rep))
	}
}

// On a busy cluster that enforces, the same drops do not hide enforcement.
func TestTransientTimeoutsOnEnforcingCluster(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.TimeoutEvery = 3
	rep, _ := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
	if rep.Summary.ExitCode(false) != 0 {
		t.Errorf("summary %+v\n%s", rep.Summary, rows(rep))
	}
}

// On a busy cluster that ignores policies, an allowed expectation probed
// for the whole budget (its scenario's policies are never seen in effect)
// is not failed by a lone timeout at the end.
func TestAllowedNotFailedByALateTimeout(t *testing.T) {
	t.Parallel()
	for every := 2; every <= 5; every++ {
		c := simulate.New()
		c.IgnorePolicies = true
		c.TimeoutEvery = every
		rep, _ := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
		for _, r := range rep.Results {
			if r.Expected == results.Allowed && r.Status != results.Pass {
				t.Errorf("timeout every %d attempts: %s → %s: %s (%s)", every, r.From, r.To, r.Status, r.Reason)
			}
		}
	}
}

// A scenario's ClusterNetworkPolicies govern its own pods only: run beside
// it, a scenario without policies, with the same logical namespace name, is
// untouched by its cluster-wide Baseline deny, and its control probes (made
// before the apply phase) are not blocked.
func TestClusterNetworkPoliciesScopedToTheirScenario(t *testing.T) {
	t.Parallel()
	const denyYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: denied}
spec:
  namespaces: [{name: app}]
  pods: [{name: a, ports: [{port: 80}]}, {name: b}]
  clusterNetworkPolicies:
  - metadata: {name: deny-all}
    spec:
      tier: Baseline
      priority: 1
      subject: {namespaces: {}}
      ingress: [{name: deny, action: Deny, from: [{namespaces: {}}]}]
  expect:
  - {from: b, to: a, port: 80, allowed: false}
---
apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: open}
spec:
  namespaces: [{name: app}]
  pods: [{name: a, ports: [{port: 80}]}, {name: b}]
  expect:
  - {from: b, to: a, port: 80, allowed: true}
`
	scs := load(t, denyYAML)
	c := simulate.New()
	rep, _ := runOn(t, c, orchestrator.Options{}, scs)
	if rep.Summary.Passed != 2 {
		t.Fatalf("summary %+v\n%s", rep.Summary, rows(rep))
	}
	if got := rep.Results[0].DecidedBy; !strings.Contains(got, `baseline policy "deny-all"`) {
		t.Errorf("blocked row decided by %q, want the Baseline policy", got)
	}
}

// Two scenarios may name their ClusterNetworkPolicies alike: each is told
// by its scenario's name.
func TestClusterNetworkPoliciesSameNameTwoScenarios(t *testing.T) {
	t.Parallel()
	const one = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: one}
spec:
  namespaces: [{name: app}]
  pods: [{name: a, ports: [{port: 80}]}, {name: b}]
  clusterNetworkPolicies:
  - metadata: {name: deny-all}
    spec:
      tier: Baseline
      priority: 1
      subject: {namespaces: {}}
      ingress: [{name: deny, action: Deny, from: [{namespaces: {}}]}]
  expect:
  - {from: b, to: a, port: 80, allowed: false}
`
	scs := load(t, one+"---\n"+strings.Replace(one, "name: one", "name: two", 1))
	rep, _ := runOn(t, simulate.New(), orchestrator.Options{}, scs)
	if rep.Summary.Passed != 2 {
		t.Fatalf("summary %+v\n%s", rep.Summary, rows(rep))
	}
	for _, r := range rep.Results {
		if !strings.Contains(r.DecidedBy, `"`+r.Scenario+`.deny-all"`) {
			t.Errorf("%s: decided by %q, want its own scenario's deny-all", r.Scenario, r.DecidedBy)
		}
	}
}
