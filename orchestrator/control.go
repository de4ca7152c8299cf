package orchestrator

// The prepare and control phases: probe requests once IPs are known, and
// the control probes that give a "blocked" verdict its meaning.

import (
	"context"
	"fmt"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
)

// prepare turns planned probes into probe requests, now that IPs are known.
// Probes the mode cannot run are Skipped; all others are Pending.
func (x *run) prepare(plan *Plan) []*probeState {
	timeoutMs := int(x.o.ProbeTimeout.Milliseconds())
	var states []*probeState
	seen := map[*PlannedPod]bool{}
	nodes := map[string]string{}
	for _, pp := range plan.Pods {
		nodes[pp.Identity()] = pp.Node
	}
	for _, pr := range plan.Probes {
		if pr.LivePod != nil {
			nodes[pr.LivePod.Namespace+"/"+pr.LivePod.Name] = pr.LivePod.Spec.NodeName
		}
	}
	for i, pr := range plan.Probes {
		s := &probeState{PlannedProbe: pr, outcome: Pending{}, backendNodes: nodes}
		req := probe.Request{ID: fmt.Sprintf("p%d", i), Protocol: pr.Protocol, Port: pr.Port, TimeoutMs: timeoutMs}
		switch pr.Target.Kind {
		case scenarios.TargetPod:
			req.Host = pr.TargetPod.IP
			req.Identity = pr.TargetPod.Identity()
		case scenarios.TargetService:
			req.Host = pr.TargetService.Spec.ClusterIP
		case scenarios.TargetWorkload:
			req.Host = pr.LivePod.Status.PodIP
		default:
			req.Host = pr.Target.Name
		}
		if pr.Protocol == probe.ProtocolSCTP {
			s.outcome = Skipped{Why: "SCTP is not supported by the probe program"}
		}
		argv := probe.ConnectCommand(ProbeBinary, req)
		if x.o.Mode == ModeAgnhost {
			req.Identity = "" // agnhost reads no answer
			argv = probe.AgnhostConnectCommand(req)
			if argv == nil {
				s.outcome = Skipped{Why: "agnhost mode cannot do DNS lookups"}
			}
		}
		s.req = req
		s.repro = ReproCommand(x.o.KubectlFlags, pr.Source.Pod.Namespace, pr.Source.Pod.Name, ProbeContainer, argv)
		if s.pending() && !seen[pr.Source] {
			seen[pr.Source] = true
			x.stats.SourcePods++
		}
		states = append(states, s)
	}
	return states
}

// needsControl reports whether a probe is controlled before policies are
// applied: every blocked expectation, and the built-in suite's checks of
// outside targets whichever way they expect (where such a target does not
// exist, the check does not apply), unless the expectation says why it
// cannot be (Expectation.NoControl).
func needsControl(s *probeState) bool {
	// (a live target cannot be probed without its policies: see witness)
	if !s.pending() || s.Expectation.NoControl != "" || s.Live {
		return false
	}
	return !s.Expectation.IsAllowed() || (s.Outside() && s.Builtin)
}

// control probes, before any policy is applied, the targets of the probes
// that need it: pod and Service targets from the probe's own source, outside
// targets (addresses, hosts, DNS) from the unrestricted control pod (on the
// source's node, when pods are spread over nodes). A probe
// whose control target never answered becomes Inconclusive (or Skipped, for
// a built-in check of an outside target this cluster does not have); one
// whose control broke becomes Broke. The others stay Pending.
func (x *run) control(ctx context.Context, plan *Plan, states []*probeState) error {
	var controls []*probeState
	owner := map[*probeState]*probeState{}
	for i, s := range states {
		if !needsControl(s) {
			continue
		}
		c := &probeState{PlannedProbe: s.PlannedProbe, req: s.req, outcome: Pending{}}
		if s.Outside() {
			if s.Control == nil {
				continue
			}
			pp := *s.PlannedProbe
			pp.Source = s.Control
			c.PlannedProbe = &pp
			c.req.ID = fmt.Sprintf("c%d", i)
		}
		controls = append(controls, c)
		owner[c] = s
	}
	if len(controls) == 0 {
		return nil
	}
	x.progress("control: %d probes without policy", len(controls))
	if err := x.rounds(ctx, controls, x.o.ControlBudget, controlObservations, controlRule{}); err != nil {
		return err
	}
	for _, c := range controls {
		owner[c].outcome = controlVerdict(owner[c], c.outcome)
	}
	return nil
}

// controlVerdict is what a control's outcome means for the probe it
// controls.
func controlVerdict(s *probeState, control Outcome) Outcome {
	const during = "control probe (without policy)"
	switch c := control.(type) {
	case Settled:
		return Pending{} // the target answers: "blocked" will mean something
	case Broke:
		return Broke{Response: c.Response, During: during}
	case Unsettled:
		if c.Response.Verdict == results.Error {
			return Broke{Response: c.Response, During: during}
		}
		if s.Outside() && s.Builtin {
			return Skipped{Why: fmt.Sprintf("%s does not answer on this cluster even without policy (%s): check does not apply", s.Expectation.To, c.Response.Reason)}
		}
		return Inconclusive{Why: fmt.Sprintf("%s (%s)", results.ReasonControlFailed, c.Response.Reason)}
	case Skipped:
		return c
	case Inconclusive: // too busy to tell whether the target answers
		return c
	}
	return Broke{Response: probe.Response{Verdict: results.Error, Reason: results.ReasonError, Detail: fmt.Sprintf("unexpected control outcome %T", control)}, During: during}
}

// controlRule settles a control probe once its target answered.
type controlRule struct{}

func (controlRule) newRound() {}

func (controlRule) phase() string { return "control probe (without policy)" }

func (controlRule) unsettled(s *probeState, budget time.Duration) Outcome {
	return Unsettled{Response: s.last, Budget: budget}
}

func (controlRule) settle(s *probeState, _ time.Duration) Outcome {
	switch {
	case s.streak.n >= errorAttempts:
		return Broke{Response: s.last}
	case s.last.Verdict == results.Error && s.last.Reason == results.ReasonUnsupported:
		return Skipped{Why: unsupportedWhy(s.last)}
	case s.last.Verdict == results.Allowed:
		return Settled{Response: s.last}
	}
	return Pending{}
}

func unsupportedWhy(resp probe.Response) string {
	why := string(resp.Reason)
	if resp.Detail != "" {
		why += ": " + resp.Detail
	}
	return why
}
