package simulate_test

import (
	"strings"
	"testing"

	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/netverify/netverify/simulate"
)

// On three nodes, one of which enforces nothing, the pipeline spreads the
// probe pods and every mismatch is policed on that node: the pod target's
// replica there (same-node and cross-node), and the Service's backend
// there, which answers everyone. The node summary names it.
func TestOneNodeNotEnforcing(t *testing.T) {
	t.Parallel()
	c := simulate.New()
	c.AddNodes("node-1", "node-2", "node-3")
	c.NotEnforcingOn = map[string]bool{"node-2": true}
	rep, stats := runOn(t, c, orchestrator.Options{}, load(t, coreYAML))
	if stats.SourcePods != 6 || stats.MaxExecRound > stats.SourcePods {
		t.Errorf("%d source pods, %d exec calls in a round", stats.SourcePods, stats.MaxExecRound)
	}
	fails := 0
	for _, r := range rep.Results {
		if r.Status != results.Fail {
			continue
		}
		fails++
		if r.TargetNode != "node-2" || r.PolicedBy != results.PolicedByIngress {
			t.Errorf("mismatch %s → %s on %s → %s, policed by %q: not node-2's ingress", r.From, r.To, r.SourceNode, r.TargetNode, r.PolicedBy)
		}
	}
	if fails != 5 { // random → backend on node-2 from node-1 and node-2; random → web from each node
		t.Errorf("%d failures, want 5:\n%s", fails, rows(rep))
	}
	var lines []string
	for _, n := range rep.Nodes {
		lines = append(lines, n.String())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"node-1: 2 of 2 denied connections blocked — enforcing (ingress 2 of 2",
		"node-2: 0 of 5 denied connections blocked — this node does not enforce NetworkPolicy (ingress 0 of 5)",
		"node-3: 2 of 2 denied connections blocked — enforcing",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("node summary lacks %q:\n%s", want, got)
		}
	}
}

// The built-in suite spread over three enforcing nodes: every check passes
// (Service identities accept every replica, a pod reaching itself stays on
// its node, the outside targets' controls run on each node).
func TestBuiltinSuiteSpread(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	c := simulate.New()
	c.AddNodes("node-1", "node-2", "node-3")
	rep, stats := runOn(t, c, orchestrator.Options{}, scs)
	if rep.Summary.Mismatches() > 0 {
		t.Fatalf("summary %+v\n%s", rep.Summary, rows(rep))
	}
	if stats.MaxExecRound > stats.SourcePods {
		t.Errorf("%d exec calls in a round for %d source pods", stats.MaxExecRound, stats.SourcePods)
	}
	for _, n := range rep.Nodes {
		if n.Verdict != results.NodeEnforcing {
			t.Errorf("node %s", n)
		}
	}
	if len(rep.Nodes) != 3 {
		t.Errorf("nodes %v", rep.Nodes)
	}
}
