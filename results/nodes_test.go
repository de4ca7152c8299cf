package results

import (
	"fmt"
	"testing"
)

func denied(src, dst string, by PolicedBy, observed Verdict, ms int64) Result {
	st := Pass
	if observed != Blocked {
		st, ms = Fail, 0
	}
	return Result{Expected: Blocked, Observed: observed, Status: st, SourceNode: src, TargetNode: dst, PolicedBy: by, LatencyMs: ms}
}

// Without a policing side, a connection within one node counts there; one
// across nodes let through counts against both, one blocked across nodes
// credits neither (either may have blocked it); results that are not
// denied connections probed do not count; runs on one node have no summary.
func TestNodesOfUnknownSide(t *testing.T) {
	rs := []Result{
		denied("a", "a", "", Blocked, 10),
		denied("a", "b", "", Allowed, 0), // b does not enforce ingress
		denied("b", "b", "", Allowed, 0),
		denied("b", "a", "", Blocked, 10),
		{Expected: Allowed, Observed: Allowed, Status: Pass, SourceNode: "a", TargetNode: "b"},
		{Expected: Blocked, Status: Skipped, SourceNode: "a", TargetNode: "b"},
		{Expected: Blocked, Observed: Blocked, Status: Pass, SourceNode: "c"}, // outside target
	}
	got := fmt.Sprint(NodesOf(rs))
	want := "[a: 1 of 2 denied connections blocked — 1 let through: this node enforces NetworkPolicy only in part" +
		" b: 0 of 2 denied connections blocked — this node does not enforce NetworkPolicy" +
		" c: 1 of 1 denied connections blocked — enforcing]"
	if got != want {
		t.Errorf("NodesOf = %s\nwant      %s", got, want)
	}
	if NodesOf([]Result{denied("a", "a", "", Blocked, 1), denied("a", "", "", Blocked, 1)}) != nil {
		t.Error("a one-node run has a node summary")
	}
}

// A mixed run where node b never enforces ingress: every connection into
// b is let through, everything b's egress and a's ingress police is
// blocked. With the policing side known, b is named as not enforcing
// ingress and a as enforcing, with the latency of each side.
func TestNodesOfNamesTheBrokenNode(t *testing.T) {
	var rs []Result
	for i := 0; i < 7; i++ {
		// ingress-policed: same-node and cross-node pairs on both nodes
		rs = append(rs,
			denied("a", "a", PolicedByIngress, Blocked, 100),
			denied("b", "a", PolicedByIngress, Blocked, 300),
			denied("b", "b", PolicedByIngress, Allowed, 0),
			denied("a", "b", PolicedByIngress, Allowed, 0),
		)
	}
	ns := NodesOf(rs)
	if len(ns) != 2 {
		t.Fatalf("NodesOf = %v", ns)
	}
	a, b := ns[0], ns[1]
	if a.Node != "a" || a.Verdict != NodeEnforcing || a.Denied != 14 || a.Blocked != 14 || a.Egress != nil ||
		a.Ingress == nil || a.Ingress.Measured != 14 || a.Ingress.MedianMs != 300 || a.Ingress.MaxMs != 300 {
		t.Errorf("a = %+v (ingress %+v)", a, a.Ingress)
	}
	if b.Node != "b" || b.Verdict != NodeNotEnforcing || b.Denied != 14 || b.Blocked != 0 || b.Ingress == nil || b.Ingress.Measured != 0 {
		t.Errorf("b = %+v", b)
	}
	if got, want := b.String(), "b: 0 of 14 denied connections blocked — this node does not enforce NetworkPolicy (ingress 0 of 14)"; got != want {
		t.Errorf("b:\n got %q\nwant %q", got, want)
	}
	if got, want := a.String(), "a: 14 of 14 denied connections blocked — enforcing (ingress 14 of 14, enforced in median 300ms, at most 300ms)"; got != want {
		t.Errorf("a:\n got %q\nwant %q", got, want)
	}

	// without the side, both nodes would share the blame: a looks partial
	for i := range rs {
		rs[i].PolicedBy = ""
	}
	if ns := NodesOf(rs); ns[0].Verdict != NodePartial {
		t.Errorf("without PolicedBy, a = %v; want it partial (the blame shared)", ns[0])
	}
}

// Egress is policed on the source's node; both sides on a connection
// within one node count once for the node and on each of its sides; a
// run where no node blocks anything says so of every node.
func TestNodesOfSides(t *testing.T) {
	rs := []Result{
		denied("a", "b", PolicedByEgress, Blocked, 50),
		denied("b", "a", PolicedByEgress, Allowed, 0),
		denied("a", "a", PolicedByBoth, Blocked, 70),
		denied("b", "a", PolicedByBoth, Blocked, 90), // b's egress or a's ingress: credits neither
		denied("b", "b", PolicedByBoth, Blocked, 90),
		{Expected: Blocked, Observed: Blocked, Status: Pass, SourceNode: "a", PolicedBy: PolicedByIngress}, // no target node: nowhere
	}
	ns := NodesOf(rs)
	a, b := ns[0], ns[1]
	if a.Denied != 2 || a.Blocked != 2 || a.Egress.Denied != 2 || a.Ingress.Denied != 1 || a.Egress.MaxMs != 70 || a.Ingress.MedianMs != 70 {
		t.Errorf("a = %+v egress %+v ingress %+v", a, a.Egress, a.Ingress)
	}
	if b.Denied != 2 || b.Blocked != 1 || b.Verdict != NodePartial || b.Ingress.Denied != 1 || b.Egress.Denied != 2 {
		t.Errorf("b = %+v egress %+v", b, b.Egress)
	}

	if got, want := b.String(), "b: 1 of 2 denied connections blocked — 1 let through: this node enforces NetworkPolicy only in part (ingress 1 of 1, enforced in median 90ms, at most 90ms; egress 1 of 2, enforced in median 90ms, at most 90ms)"; got != want {
		t.Errorf("b:\n got %q\nwant %q", got, want)
	}
	ingressOnly := NodesOf([]Result{
		denied("a", "b", PolicedByIngress, Allowed, 0), denied("b", "a", PolicedByIngress, Blocked, 5),
		denied("b", "a", PolicedByEgress, Blocked, 5), denied("a", "b", PolicedByEgress, Blocked, 5),
	})
	if got, want := ingressOnly[1].String(), "b: 1 of 2 denied connections blocked — 1 let through: this node does not enforce ingress rules (ingress 0 of 1; egress 1 of 1, enforced in median 5ms, at most 5ms)"; got != want {
		t.Errorf("b:\n got %q\nwant %q", got, want)
	}

	none := NodesOf([]Result{denied("a", "b", PolicedByIngress, Allowed, 0), denied("b", "a", PolicedByIngress, Allowed, 0)})
	for _, n := range none {
		if n.Verdict != NodeNoneBlocked {
			t.Errorf("%v: want %s", n, NodeNoneBlocked)
		}
	}
	if n := (NodeSummary{Node: "c", Verdict: NodeUnchecked}); n.String() != "c: 0 of 0 denied connections blocked" {
		t.Errorf("%q", n.String())
	}
}
