package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Runner runs scenarios on a cluster.
type Runner struct {
	Client kubernetes.Interface
	Exec   Executor
	Opts   Options
}

// Stats are counters of a run, for benchmarks and logs.
type Stats struct {
	ExecCalls    int
	Rounds       int
	MaxExecRound int           // most exec calls in one round
	SourcePods   int           // pods that are the source of a probe
	Probing      time.Duration // from policies applied to every verdict final
	Setup        time.Duration // namespaces, pods, Ready, control probes
}

// InfraError is a failure of the run itself (not of an expectation): the
// cluster refused an object, pods never became Ready, the run timed out.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

// probeState is what is known of one probe while the run goes on.
type probeState struct {
	*PlannedProbe
	req        probe.Request
	last       probe.Response
	attempts   int
	final      bool
	latency    time.Duration
	skip       string          // reason when skipped
	inconcl    string          // reason when inconclusive (control failed)
	ctlBroken  *probe.Response // the control probe itself broke: an Error, not a verdict
	repro      string
	controlOK  bool
	errStreak  int    // consecutive attempts that broke the same way
	prevReason string // the reason of the previous attempt
}

func (s *probeState) expectAllowed() bool { return s.Expectation.IsAllowed() }

// Run creates the scenarios' objects, probes, compares and cleans up (unless
// Keep). It returns a report even when some expectations fail; an error is
// an infrastructure failure (an *InfraError) or ctx ending. Cleanup runs in
// every case, with its own deadline, even when ctx was cancelled.
func (r *Runner) Run(ctx context.Context, scs []*scenarios.Scenario) (rep *results.Report, stats Stats, err error) {
	o := r.Opts.withDefaults()
	if o.RunID == "" {
		o.RunID = NewRunID()
	}
	r.Opts = o
	start := time.Now()
	plan, err := MakePlan(scs, o)
	if err != nil {
		return nil, stats, err
	}
	created := []string{}
	defer func() {
		if o.Keep {
			fmt.Fprintf(o.Log, "--keep: leaving the run's namespaces; remove them with: kubectl delete namespace -l %s\n", RunSelector(o.RunID))
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
		defer cancel()
		// also what the server created for a request whose answer was lost
		// (cancelled mid-create)
		if list, lerr := r.Client.CoreV1().Namespaces().List(cctx, metav1.ListOptions{LabelSelector: RunSelector(o.RunID)}); lerr == nil {
			for _, ns := range list.Items {
				if !slices.Contains(created, ns.Name) {
					created = append(created, ns.Name)
				}
			}
		}
		if cerr := DeleteNamespaces(cctx, r.Client, created, true); cerr != nil {
			fmt.Fprintf(o.Log, "cleanup of run %s incomplete: %v (run `netverify cleanup`)\n", o.RunID, cerr)
			if err == nil {
				err = &InfraError{fmt.Errorf("cleanup: %w", cerr)}
			}
		}
	}()

	r.progress("run %s: creating %d namespaces, %d pods, %d services", o.RunID, len(plan.Namespaces), len(plan.Pods), len(plan.Services))
	for _, ns := range plan.Namespaces {
		ns = ns.DeepCopy()
		ns.Annotations = map[string]string{AnnotationHeartbeat: time.Now().UTC().Format(time.RFC3339)}
		if _, err := r.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return nil, stats, &InfraError{fmt.Errorf("creating namespace %s: %w", ns.Name, err)}
		}
		created = append(created, ns.Name)
	}
	if err := r.copyPullSecrets(ctx, created); err != nil {
		return nil, stats, err
	}
	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	go r.heartbeat(hbCtx, created)

	if err := r.createObjects(ctx, plan); err != nil {
		return nil, stats, err
	}
	if err := r.waitReady(ctx, plan); err != nil {
		return nil, stats, err
	}
	states := r.prepare(plan)
	stats.SourcePods = countSources(states)

	// Controls: a "blocked" verdict only counts when the target answers
	// without the policy. Pod and Service targets are probed before any
	// policy is applied; outside targets (addresses, hosts, DNS) from an
	// unrestricted pod in a control namespace that has no policies.
	var controls []*probeState
	owner := map[*probeState]*probeState{}
	for i, s := range states {
		// built-in checks of outside targets are controlled whichever way
		// they expect: where the target does not exist, they do not apply
		outsideBuiltin := s.Outside() && s.Builtin
		if s.skip != "" || (s.expectAllowed() && !outsideBuiltin) {
			continue
		}
		switch {
		case s.TargetPod != nil || s.TargetService != nil:
			controls = append(controls, s)
			owner[s] = s
		case s.Outside() && plan.Control != nil:
			c := &probeState{PlannedProbe: &PlannedProbe{}, req: s.req}
			*c.PlannedProbe = *s.PlannedProbe
			c.Source = plan.Control
			c.req.ID = fmt.Sprintf("c%d", i)
			controls = append(controls, c)
			owner[c] = s
		}
	}
	if len(controls) > 0 {
		r.progress("control: %d probes without policy", len(controls))
		if err := r.rounds(ctx, controls, o.ControlBudget, &stats, nil); err != nil {
			return nil, stats, err
		}
		for _, c := range controls {
			s := owner[c]
			if !c.controlOK && c.last.Verdict == string(results.Error) {
				broken := c.last
				broken.Detail = "control probe (without policy) broke: " + broken.Detail
				s.ctlBroken = &broken
			} else if !c.controlOK {
				what := fmt.Sprintf("%s (%s)", results.ReasonControlFailed, c.last.Reason)
				if s.Outside() && s.Builtin {
					s.skip = fmt.Sprintf("%s does not answer on this cluster even without policy (%s): check does not apply", s.Expectation.To, c.last.Reason)
				} else {
					s.inconcl = what
				}
			}
			s.attempts, s.final, s.errStreak, s.prevReason = 0, false, 0, ""
		}
	}
	stats.Setup = time.Since(start)

	r.progress("applying %d policies", len(plan.Policies))
	for i := range plan.Policies {
		np := &plan.Policies[i]
		if _, err := r.Client.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			return nil, stats, &InfraError{fmt.Errorf("creating NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)}
		}
	}
	applied := time.Now()
	var pending []*probeState
	for _, s := range states {
		if s.skip == "" && s.inconcl == "" && s.ctlBroken == nil {
			pending = append(pending, s)
		}
	}
	// A scenario's allowed expectations become final only once one of its
	// blocked expectations was seen blocked (its policies are in effect). A
	// scenario with blocked expectations none of which can show that (all
	// skipped, inconclusive or broken) has its allowed ones probed until the
	// budget ends: the last observation stands.
	gate := map[string]bool{}
	for _, s := range states {
		if !s.expectAllowed() && s.Expectation.ImplementationDefined == "" {
			gate[s.Scenario] = true
		}
	}
	if err := r.rounds(ctx, pending, o.MatchBudget, &stats, gate); err != nil {
		return nil, stats, err
	}
	stats.Probing = time.Since(applied)

	rep = &results.Report{RunID: o.RunID, Started: start}
	for _, s := range states {
		rep.Results = append(rep.Results, r.result(s))
	}
	rep.Summary = results.Summarize(rep.Results)
	rep.Duration = time.Since(start)
	rep.DurationMs = rep.Duration.Milliseconds()
	return rep, stats, nil
}

func countSources(states []*probeState) int {
	seen := map[*PlannedPod]bool{}
	for _, s := range states {
		if s.skip == "" {
			seen[s.Source] = true
		}
	}
	return len(seen)
}

func (r *Runner) progress(format string, a ...any) {
	if r.Opts.Progress != nil {
		fmt.Fprintf(r.Opts.Progress, format+"\n", a...)
	}
}

// heartbeat refreshes the run's heartbeat annotation so `netverify cleanup`
// can tell a live run from a killed one.
func (r *Runner) heartbeat(ctx context.Context, namespaces []string) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationHeartbeat, time.Now().UTC().Format(time.RFC3339))
			for _, ns := range namespaces {
				_, _ = r.Client.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			}
		}
	}
}

// copyPullSecrets copies each --image-pull-secret (namespace/name) into the
// run's fresh namespaces, so probe pods can pull from a private registry.
func (r *Runner) copyPullSecrets(ctx context.Context, namespaces []string) error {
	for _, ref := range r.Opts.Placement.ImagePullSecrets {
		srcNS, name, ok := strings.Cut(ref, "/")
		if !ok {
			continue // a bare name: the user provides the secret some other way
		}
		sec, err := r.Client.CoreV1().Secrets(srcNS).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return &InfraError{fmt.Errorf("reading image pull secret %s: %w", ref, err)}
		}
		for _, ns := range namespaces {
			cp := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy, LabelRunID: r.Opts.RunID}},
				Type:       sec.Type, Data: sec.Data,
			}
			if _, err := r.Client.CoreV1().Secrets(ns).Create(ctx, cp, metav1.CreateOptions{}); err != nil {
				return &InfraError{fmt.Errorf("copying image pull secret %s into %s: %w", ref, ns, err)}
			}
		}
	}
	return nil
}

func (r *Runner) createObjects(ctx context.Context, plan *Plan) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, pp := range plan.Pods {
		g.Go(func() error {
			if _, err := r.Client.CoreV1().Pods(pp.Pod.Namespace).Create(gctx, pp.Pod, metav1.CreateOptions{}); err != nil {
				return &InfraError{fmt.Errorf("creating pod %s/%s: %w", pp.Pod.Namespace, pp.Pod.Name, err)}
			}
			return nil
		})
	}
	for _, svc := range plan.Services {
		g.Go(func() error {
			created, err := r.Client.CoreV1().Services(svc.Namespace).Create(gctx, svc, metav1.CreateOptions{})
			if err != nil {
				return &InfraError{fmt.Errorf("creating service %s/%s: %w", svc.Namespace, svc.Name, err)}
			}
			svc.Spec.ClusterIP = created.Spec.ClusterIP
			return nil
		})
	}
	return g.Wait()
}

// waitReady polls the run's pods until all are Ready, then records their IPs.
func (r *Runner) waitReady(ctx context.Context, plan *Plan) error {
	deadline := time.Now().Add(r.Opts.ReadyTimeout)
	byNS := map[string][]*PlannedPod{}
	for _, pp := range plan.Pods {
		byNS[pp.Pod.Namespace] = append(byNS[pp.Pod.Namespace], pp)
	}
	r.progress("waiting for %d pods to be Ready", len(plan.Pods))
	for {
		notReady := []*corev1.Pod{}
		for ns, pps := range byNS {
			list, err := r.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: RunSelector(plan.RunID)})
			if err != nil {
				return &InfraError{fmt.Errorf("listing pods in %s: %w", ns, err)}
			}
			got := map[string]*corev1.Pod{}
			for i := range list.Items {
				got[list.Items[i].Name] = &list.Items[i]
			}
			for _, pp := range pps {
				p := got[pp.Pod.Name]
				if p == nil || !podReady(p) || p.Status.PodIP == "" {
					if p == nil {
						p = pp.Pod
					}
					notReady = append(notReady, p)
					continue
				}
				pp.IP = p.Status.PodIP
			}
		}
		if len(notReady) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return &InfraError{r.notReadyError(ctx, notReady)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// notReadyError names the pods that did not come up, why, and their events.
func (r *Runner) notReadyError(ctx context.Context, pods []*corev1.Pod) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d probe pod(s) not Ready after %s:", len(pods), r.Opts.ReadyTimeout)
	for i, p := range pods {
		if i == 5 {
			fmt.Fprintf(&b, "\n  … and %d more", len(pods)-5)
			break
		}
		fmt.Fprintf(&b, "\n  pod %s/%s: phase %s", p.Namespace, p.Name, orDash(string(p.Status.Phase)))
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				fmt.Fprintf(&b, ", container %s waiting: %s %s", cs.Name, w.Reason, w.Message)
			}
			if t := cs.State.Terminated; t != nil {
				fmt.Fprintf(&b, ", container %s terminated: %s (exit %d) %s", cs.Name, t.Reason, t.ExitCode, t.Message)
			}
		}
		evs, err := r.Client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + p.Name})
		if err == nil {
			for _, e := range evs.Items {
				fmt.Fprintf(&b, "\n    event %s %s: %s", e.Type, e.Reason, e.Message)
			}
		}
	}
	b.WriteString("\nCheck that the probe image can be pulled there (--image-probe, --image-pull-secret), that the pods can be scheduled (--node-selector, --toleration), or allow more time (--ready-timeout).")
	return errors.New(b.String())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// prepare turns planned probes into probe requests, now that IPs are known.
func (r *Runner) prepare(plan *Plan) []*probeState {
	timeoutMs := int(r.Opts.ProbeTimeout.Milliseconds())
	var states []*probeState
	for i, pr := range plan.Probes {
		s := &probeState{PlannedProbe: pr}
		req := probe.Request{ID: fmt.Sprintf("p%d", i), Protocol: pr.Protocol, Port: pr.Port, TimeoutMs: timeoutMs}
		switch pr.Target.Kind {
		case scenarios.TargetPod:
			req.Host = pr.TargetPod.IP
			req.Identity = pr.TargetPod.Identity()
		case scenarios.TargetService:
			req.Host = pr.TargetService.Spec.ClusterIP
		default:
			req.Host = pr.Target.Name
		}
		if pr.Protocol == "sctp" {
			s.skip = "SCTP is not supported by the probe program"
		}
		s.req = req
		argv := probe.ConnectCommand(ProbeBinary, req)
		if r.Opts.Mode == ModeAgnhost {
			req.Identity = "" // agnhost reads no answer
			s.req = req
			argv = probe.AgnhostConnectCommand(req)
			if argv == nil {
				s.skip = "agnhost mode cannot do DNS lookups"
			}
		}
		s.repro = ReproCommand(r.Opts.KubectlFlags, pr.Source.Pod.Namespace, pr.Source.Pod.Name, ProbeContainer, argv)
		states = append(states, s)
	}
	return states
}

// observe maps a probe response to a verdict, applying the service identity check.
func (s *probeState) observe(resp probe.Response) probe.Response {
	if s.TargetService != nil && resp.Verdict == string(results.Allowed) && resp.Detail != agnhostNoIdentity {
		ok := false
		for _, b := range s.Backends {
			if resp.AnsweredBy == b {
				ok = true
			}
		}
		if !ok {
			resp.Verdict = string(results.Error)
			resp.Reason = results.ReasonWrongIdentity
			if resp.AnsweredBy == "" {
				resp.Reason = results.ReasonNoIdentity
			}
			resp.Detail = fmt.Sprintf("answered by %q, want one of %v", resp.AnsweredBy, s.Backends)
		}
	}
	return resp
}

// errorAttempts is how many times in a row a probe may break the same way
// (exec failure, wrong identity, DNS…) before that is its final answer.
const errorAttempts = 3

// rounds probes states until each matches or budget runs out. One exec per
// source pod per round in batch mode. gate names the scenarios with a
// blocked expectation: their allowed expectations only become final once a
// blocked one of the same scenario was seen blocked (proof the policies are
// in effect). A nil gate makes these control rounds: a probe is final once
// its target answered.
func (r *Runner) rounds(ctx context.Context, states []*probeState, budget time.Duration, stats *Stats, gate map[string]bool) error {
	begin := time.Now()
	deadline := begin.Add(budget)
	enforced := map[string]bool{}
	control := gate == nil
	pending := states
	total := len(states)
	for len(pending) > 0 {
		roundStart := time.Now()
		enforcedBefore := map[string]bool{}
		for k, v := range enforced {
			enforcedBefore[k] = v
		}
		if err := r.round(ctx, pending, stats); err != nil {
			return err
		}
		var next []*probeState
		for _, s := range pending {
			s.attempts++
			if s.last.Verdict == string(results.Error) && s.last.Reason == s.prevReason {
				s.errStreak++
			} else if s.last.Verdict == string(results.Error) {
				s.errStreak = 1
			} else {
				s.errStreak = 0
			}
			s.prevReason = s.last.Reason
			switch {
			case s.errStreak >= errorAttempts:
				// the probe broke the same way every time: an Error, final
				s.final = true
			case control:
				if s.last.Verdict == string(results.Allowed) {
					s.controlOK, s.final = true, true
				}
			case s.Expectation.ImplementationDefined != "":
				// nothing to match: one observation once policies are in effect
				s.final = enforcedBefore[s.Scenario] || !gate[s.Scenario] || time.Now().After(deadline)
			case !s.expectAllowed() && s.last.Verdict == string(results.Blocked):
				s.final = true
				enforced[s.Scenario] = true
			case s.expectAllowed() && s.last.Verdict == string(results.Allowed) &&
				(enforcedBefore[s.Scenario] || !gate[s.Scenario]):
				s.final = true
			}
			if s.final {
				s.latency = time.Since(begin)
			} else {
				next = append(next, s)
			}
		}
		pending = next
		r.progress("probes: %d/%d final", total-len(pending), total)
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		// pace the polling: a round that came back at once is not re-run
		// before RetryInterval has passed
		if wait := r.Opts.RetryInterval - time.Since(roundStart); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	return nil
}

// round runs one attempt of every given probe, grouped by source pod.
func (r *Runner) round(ctx context.Context, states []*probeState, stats *Stats) error {
	bySource := map[*PlannedPod][]*probeState{}
	var order []*PlannedPod
	for _, s := range states {
		if _, ok := bySource[s.Source]; !ok {
			order = append(order, s.Source)
		}
		bySource[s.Source] = append(bySource[s.Source], s)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].Logical < order[j].Logical })
	var mu sync.Mutex
	calls := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Opts.Concurrency)
	for _, src := range order {
		group := bySource[src]
		if r.Opts.Mode == ModePerProbe || r.Opts.Mode == ModeAgnhost {
			for _, s := range group {
				g.Go(func() error {
					resp := r.execOne(gctx, src, s)
					mu.Lock()
					calls++
					s.last = s.observe(resp)
					mu.Unlock()
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
				resps := r.execBatch(gctx, src, chunk)
				mu.Lock()
				defer mu.Unlock()
				calls++
				for _, s := range group {
					if resp, ok := resps[s.req.ID]; ok {
						s.last = s.observe(resp)
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
	stats.Rounds++
	stats.ExecCalls += calls
	if calls > stats.MaxExecRound {
		stats.MaxExecRound = calls
	}
	return nil
}

// execRetry runs argv in src, retrying transport failures (never a command
// that ran) a few times before giving up.
func (r *Runner) execRetry(ctx context.Context, src *PlannedPod, argv []string) (ExecResult, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ExecResult{}, ctx.Err()
			case <-time.After(time.Duration(attempt) * 300 * time.Millisecond):
			}
		}
		res, err := r.Exec.Exec(ctx, src.Pod.Namespace, src.Pod.Name, ProbeContainer, argv)
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

func (r *Runner) execBatch(ctx context.Context, src *PlannedPod, reqs []probe.Request) map[string]probe.Response {
	out := map[string]probe.Response{}
	res, err := r.execRetry(ctx, src, probe.BatchCommand(ProbeBinary, reqs))
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
			out[q.ID] = probe.Response{ID: q.ID, Verdict: string(results.Error), Reason: results.ReasonExec, Detail: err.Error()}
		}
	}
	return out
}

// agnhostNoIdentity is the Detail of an allowed agnhost probe.
const agnhostNoIdentity = "identity not checked (agnhost)"

func (r *Runner) execOne(ctx context.Context, src *PlannedPod, s *probeState) probe.Response {
	if r.Opts.Mode == ModeAgnhost {
		res, err := r.execRetry(ctx, src, probe.AgnhostConnectCommand(s.req))
		resp := probe.ParseAgnhostConnect(res.ExitCode, string(res.Stderr), err)
		resp.ID = s.req.ID
		return resp
	}
	res, err := r.execRetry(ctx, src, probe.ConnectCommand(ProbeBinary, s.req))
	if err == nil {
		out, perr := probe.ParseBatchOutput(res.Stdout, []probe.Request{s.req})
		if perr == nil {
			return out[s.req.ID]
		}
		err = perr
	}
	return probe.Response{ID: s.req.ID, Verdict: string(results.Error), Reason: results.ReasonExec, Detail: err.Error()}
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// result compares a probe's final observation with its expectation.
func (r *Runner) result(s *probeState) results.Result {
	e := s.Expectation
	res := results.Result{
		Scenario: s.Scenario, Name: e.Name, From: e.From, To: e.To,
		Port: portLabel(s), Protocol: strings.ToUpper(s.Protocol),
		Expected: results.Blocked, Attempts: s.attempts, Repro: s.repro,
	}
	if e.IsAllowed() {
		res.Expected = results.Allowed
	}
	switch {
	case s.skip != "":
		res.Observed, res.Status, res.Reason = results.None, results.Skipped, s.skip
		res.Repro = ""
		return res
	case s.ctlBroken != nil:
		res.Observed, res.Status = results.Error, results.StatusError
		res.Reason = s.ctlBroken.Reason + ": " + s.ctlBroken.Detail
		return res
	case s.inconcl != "":
		res.Observed, res.Status, res.Reason = results.None, results.Inconclusive, s.inconcl
		return res
	}
	resp := s.last
	res.Reason = resp.Reason
	if resp.Detail != "" && resp.Verdict == string(results.Error) {
		res.Reason += ": " + resp.Detail
	}
	res.AnsweredBy = resp.AnsweredBy
	switch resp.Verdict {
	case string(results.Allowed):
		res.Observed = results.Allowed
	case string(results.Blocked):
		res.Observed = results.Blocked
	default:
		res.Observed = results.Error
	}
	switch {
	case res.Observed == results.Error && resp.Reason == "unsupported":
		res.Status, res.Observed = results.Skipped, results.None
	case e.ImplementationDefined != "" && res.Observed != results.Error:
		res.Status = results.ImplementationDefined
		res.Reason += "; implementation-defined: " + e.ImplementationDefined
	case res.Observed == results.Error:
		res.Status = results.StatusError
	case res.Observed == res.Expected:
		res.Status, res.Match = results.Pass, true
		res.LatencyMs = s.latency.Milliseconds()
	default:
		res.Status = results.Fail
	}
	return res
}

func portLabel(s *probeState) string {
	if s.Protocol == "dns" {
		return "53"
	}
	if s.Expectation.Port != "" && s.Expectation.Port != fmt.Sprint(s.Port) {
		return fmt.Sprintf("%d (%s)", s.Port, s.Expectation.Port)
	}
	return fmt.Sprint(s.Port)
}

// DeleteNamespaces deletes namespaces and, when wait is set, waits until they
// are gone (or ctx ends).
func DeleteNamespaces(ctx context.Context, c kubernetes.Interface, names []string, wait bool) error {
	var errs []error
	for _, n := range names {
		err := c.CoreV1().Namespaces().Delete(ctx, n, metav1.DeleteOptions{PropagationPolicy: ptrTo(metav1.DeletePropagationBackground)})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting namespace %s: %w", n, err))
		}
	}
	if !wait || len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, n := range names {
		for {
			_, err := c.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("namespace %s still terminating: %w", n, ctx.Err())
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }
