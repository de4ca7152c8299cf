package orchestrator

import (
	"context"
	"fmt"
	"time"

	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	cnpclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
)

// Runner runs scenarios on a cluster. A Runner may be used for several runs,
// one after the other or at once: each Run gets its own run id (unless
// Opts.RunID is set) and its own state.
type Runner struct {
	Client kubernetes.Interface
	// Policies creates and deletes ClusterNetworkPolicies; needed only when
	// a scenario has some.
	Policies cnpclient.Interface
	Exec     Executor
	Opts     Options
	// Clock times budgets and pauses; the wall clock when nil.
	Clock Clock
}

// Stats are counters of a run, for benchmarks and logs.
type Stats struct {
	ExecCalls    int
	Rounds       int
	MaxExecRound int           // most exec calls in one round
	SourcePods   int           // pods that are the source of a probe
	Probing      time.Duration // from policies applied to every verdict final
	Setup        time.Duration // namespaces, pods, Ready, control probes
	SlowestRound time.Duration // the longest round of probes (a measure of how busy the cluster was)
	LateAttempts int           // attempts that timed out late: the probe program was starved of CPU
}

// InfraError is a failure of the run itself (not of an expectation): the
// cluster refused an object, pods never became Ready, the run timed out.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

// run is the state of one Run.
type run struct {
	client      kubernetes.Interface
	policies    cnpclient.Interface
	exec        Executor
	o           Options
	clock       Clock
	stats       Stats
	created     []string // namespaces created so far, for the clean-up phase
	createdCNPs []string // ClusterNetworkPolicies created so far
	// createdOwners are the owner ConfigMaps created in existing
	// namespaces so far (in place)
	createdOwners []*corev1.ConfigMap
	createsCNPs   bool // the apply phase began creating ClusterNetworkPolicies
	keep          bool // the clean-up phase leaves the namespaces (Options.Keep)
}

// Run takes scenarios through the pipeline:
//
//	plan → create → wait → control → apply → probe → compare → clean up
//
// It returns a report even when expectations fail; an error is an
// infrastructure failure (an *InfraError) or ctx ending. The clean-up phase
// runs in every case, with its own deadline, even when ctx was cancelled.
func (r *Runner) Run(ctx context.Context, scs []*scenarios.Scenario) (*results.Report, Stats, error) {
	x := &run{client: r.Client, policies: r.Policies, exec: r.Exec, o: r.Opts.withDefaults(), clock: r.Clock}
	if x.o.RunID == "" {
		x.o.RunID = NewRunID()
	}
	if x.clock == nil {
		x.clock = RealClock{}
	}
	rep, err := x.pipeline(ctx, scs)
	return rep, x.stats, err
}

func (x *run) pipeline(ctx context.Context, scs []*scenarios.Scenario) (rep *results.Report, err error) {
	start := x.clock.Now()
	if err := x.spreadNodes(ctx); err != nil { // (placement, before the plan)
		return nil, err
	}
	plan, err := MakePlan(scs, x.o) // plan
	if err != nil {
		return nil, err
	}
	defer func() { // clean up
		x.keep = x.o.Keep.keeps(rep)
		if rep != nil {
			rep.Kept = x.keep
		}
		if cerr := x.cleanUp(ctx); cerr != nil && err == nil {
			rep, err = nil, cerr
		}
	}()
	if err := x.createNamespaces(ctx, plan); err != nil { // create
		return nil, err
	}
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	if err := x.createOwners(ctx, plan); err != nil {
		return nil, err
	}
	go x.heartbeat(hbCtx, x.created)
	if err := x.createObjects(ctx, plan); err != nil {
		return nil, err
	}
	if err := x.waitReady(ctx, plan); err != nil { // wait
		return nil, err
	}
	probes := x.prepare(plan)
	if err := x.control(ctx, plan, probes); err != nil { // control
		return nil, err
	}
	x.stats.Setup = x.clock.Now().Sub(start)
	if err := x.applyPolicies(ctx, plan); err != nil { // apply
		return nil, err
	}
	applied := x.clock.Now()
	if err := x.probe(ctx, probes); err != nil { // probe
		return nil, err
	}
	if err := x.witnesses(ctx, plan, probes); err != nil {
		return nil, err
	}
	x.stats.Probing = x.clock.Now().Sub(applied)
	x.noteBusy()
	rep = &results.Report{RunID: x.o.RunID, Started: start} // compare
	for _, s := range probes {
		rep.Results = append(rep.Results, compare(s))
	}
	for _, sk := range plan.Skipped {
		rep.Results = append(rep.Results, skippedResults(sk)...)
	}
	rep.Summary = results.Summarize(rep.Results)
	rep.Enforcement = results.EnforcementOf(rep.Results, x.o.SlowEnforcement)
	rep.Nodes = results.NodesOf(rep.Results)
	rep.Duration = x.clock.Now().Sub(start)
	rep.DurationMs = rep.Duration.Milliseconds()
	return rep, nil
}

// applyPolicies creates the scenarios' NetworkPolicies and
// ClusterNetworkPolicies: from here on, probes are compared with their
// expectations.
func (x *run) applyPolicies(ctx context.Context, plan *Plan) error {
	if n := len(plan.ClusterPolicies); n > 0 {
		x.progress("applying %d policies and %d ClusterNetworkPolicies", len(plan.Policies), n)
	} else {
		x.progress("applying %d policies", len(plan.Policies))
	}
	for i := range plan.Policies {
		np := &plan.Policies[i]
		if _, err := x.client.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			return &InfraError{fmt.Errorf("creating NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)}
		}
	}
	return x.applyClusterPolicies(ctx, plan)
}

// busyRound: a round of probes slower than this means a busy cluster.
const busyRound = 10 * time.Second

// noteBusy says, when the cluster was busy enough to matter, what was
// measured: verdicts waited for it (see matchObservations), so it is
// reported rather than mistaken for (no) enforcement.
func (x *run) noteBusy() {
	if x.stats.LateAttempts == 0 && x.stats.SlowestRound < busyRound {
		return
	}
	fmt.Fprintf(x.o.Log, "note: the cluster was busy: rounds of probes took up to %s", x.stats.SlowestRound.Round(100*time.Millisecond))
	if x.stats.LateAttempts > 0 {
		fmt.Fprintf(x.o.Log, "; %d attempts timed out late (the probe program got no CPU when their timeout was due) and were not counted", x.stats.LateAttempts)
	}
	fmt.Fprintf(x.o.Log, "; verdicts waited for at least %d observations each\n", matchObservations)
}

func (x *run) progress(format string, a ...any) {
	if x.o.Progress != nil {
		fmt.Fprintf(x.o.Progress, format+"\n", a...)
	}
}
