package orchestrator

// The compare phase: one results.Result per probe, from its outcome.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
)

// compare turns a probe's outcome into its result.
func compare(s *probeState) results.Result {
	e := s.Expectation
	res := results.Result{
		Scenario: s.Scenario, Name: e.Name, From: e.From, To: e.To,
		Port: portNumber(s), PortName: portName(s), Protocol: strings.ToUpper(s.Protocol),
		Expected: results.Blocked, Attempts: s.attempts, Repro: s.repro,
	}
	if s.Source != nil {
		res.SourceNode = s.Source.Node
	}
	if !e.IsAllowed() && e.ImplementationDefined == "" {
		res.PolicedBy = s.PolicedBy
	}
	if s.TargetPod != nil {
		res.TargetNode = s.TargetPod.Node
	}
	if s.LivePod != nil {
		res.TargetNode, res.AnsweredBy = s.LivePod.Spec.NodeName, s.LivePod.Namespace+"/"+s.LivePod.Name
	}
	res.Live = liveNamespaces(s)
	if e.IsAllowed() {
		res.Expected = results.Allowed
	}
	switch o := s.outcome.(type) {
	case Skipped:
		res.Observed, res.Status, res.Reason, res.Repro = results.None, results.Skipped, o.Why, ""
	case Inconclusive:
		res.Observed, res.Status, res.Reason = results.None, results.Inconclusive, o.Why
	case Broke:
		res.Observed, res.Status, res.AnsweredBy = results.Error, results.StatusError, o.Response.AnsweredBy
		res.Reason = string(o.Response.Reason) + ": "
		if o.During != "" {
			res.Reason += o.During + " broke: "
		}
		res.Reason += o.Response.Detail
	case Settled:
		observed(&res, s, o.Response)
		if res.Status == results.Pass && !s.InPlace { // (in place: the policies predate the run)
			res.LatencyMs = o.Latency.Milliseconds()
		}
	case Unsettled:
		observed(&res, s, o.Response)
		switch {
		case res.Status == results.Fail:
			res.Reason += fmt.Sprintf("; still %s when the %s match budget (--match-budget) ran out", res.Observed, o.Budget)
		case res.Status == results.Pass && res.Expected == results.Blocked:
			// blocked at the end, but never confirmedBlocked times in a row:
			// a busy node, not a policy
			res.Status, res.Match = results.Fail, false
			res.Reason += fmt.Sprintf("; blocked only intermittently: not %d attempts in a row within the %s match budget (--match-budget)", confirmBlocked, o.Budget)
		}
	default: // Pending: the run ended before the probe did
		res.Observed, res.Status, res.Reason = results.Error, results.StatusError, fmt.Sprintf("%s: never probed", results.ReasonError)
	}
	if res.TargetNode == "" && s.TargetService != nil && res.AnsweredBy != "" {
		// the backend that answered, settled or not: a Service let through
		// on one node is that node's ingress failing
		res.TargetNode = s.backendNodes[res.AnsweredBy]
	}
	if e.Note != "" {
		res.Reason = strings.TrimPrefix(res.Reason+"; "+e.Note, "; ")
	}
	if e.DecidedBy != "" {
		// what the policies say, computed before the run (in place: the
		// live policies), over anything a simulated answer says
		res.DecidedBy = e.DecidedBy
		if res.Status == results.Fail {
			res.Reason += "; the policies say " + e.DecidedBy
		}
	}
	return res
}

// observed compares an observation with the expectation.
func observed(res *results.Result, s *probeState, resp probe.Response) {
	res.Reason, res.AnsweredBy, res.DecidedBy = string(resp.Reason), resp.AnsweredBy, resp.DecidedBy
	if resp.Detail != "" && resp.Verdict == results.Error {
		res.Reason += ": " + resp.Detail
	}
	switch resp.Verdict {
	case results.Allowed, results.Blocked:
		res.Observed = resp.Verdict
	default:
		res.Observed = results.Error
	}
	switch {
	case s.Expectation.ImplementationDefined != "" && res.Observed != results.Error:
		res.Status = results.ImplementationDefined
		res.Reason += "; implementation-defined: " + s.Expectation.ImplementationDefined
	case res.Observed == results.Error:
		res.Status = results.StatusError
	case res.Observed == res.Expected:
		res.Status, res.Match = results.Pass, true
	default:
		res.Status = results.Fail
	}
}

// portNumber is the port probed; 53 for a DNS lookup.
func portNumber(s *probeState) int {
	if s.Protocol == probe.ProtocolDNS {
		return 53
	}
	return s.Port
}

// portName is the name the expectation gave the port, when it gave one
// rather than the number probed (a DNS lookup has none).
func portName(s *probeState) string {
	if s.Protocol == probe.ProtocolDNS || s.Expectation.Port == "" || s.Expectation.Port == strconv.Itoa(s.Port) {
		return ""
	}
	return s.Expectation.Port
}

// skippedResults reports every expectation of a scenario the run left out.
func skippedResults(sk SkippedScenario) []results.Result {
	var out []results.Result
	for _, e := range sk.Scenario.Spec.Expect {
		res := results.Result{
			Scenario: sk.Scenario.Metadata.Name, Name: e.Name, From: e.From, To: e.To,
			Protocol: strings.ToUpper(orTCP(e.Protocol)), Expected: results.Blocked,
			Observed: results.None, Status: results.Skipped, Reason: sk.Why,
		}
		if e.IsAllowed() {
			res.Expected = results.Allowed
		}
		if n, err := strconv.Atoi(e.Port); err == nil {
			res.Port = n
		} else {
			res.PortName = e.Port
		}
		if t, err := scenarios.ParseTarget(e.To); err == nil && t.Kind == scenarios.TargetDNS {
			res.Port, res.PortName, res.Protocol = 53, "", "DNS"
		}
		out = append(out, res)
	}
	return out
}
