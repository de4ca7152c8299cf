package results

import (
	"fmt"
	"testing"
)

// A node through which no denied connection was blocked stands out; each
// connection counts once per node; runs on one node have no summary.
func TestNodesOf(t *testing.T) {
	denied := func(src, dst string, observed Verdict) Result {
		st := Pass
		if observed != Blocked {
			st = Fail
		}
		return Result{Expected: Blocked, Observed: observed, Status: st, SourceNode: src, TargetNode: dst}
	}
	rs := []Result{
		denied("a", "a", Blocked),
		denied("a", "b", Allowed), // b does not enforce ingress
		denied("b", "b", Allowed),
		denied("b", "a", Blocked),
		{Expected: Allowed, Observed: Allowed, Status: Pass, SourceNode: "a", TargetNode: "b"},
		{Expected: Blocked, Status: Skipped, SourceNode: "a", TargetNode: "b"},
		{Expected: Blocked, Observed: Blocked, Status: Pass, SourceNode: "c"}, // outside target
	}
	got := fmt.Sprint(NodesOf(rs))
	want := "[a: 2 of 3 denied connections blocked b: 1 of 3 denied connections blocked c: 1 of 1 denied connections blocked]"
	if got != want {
		t.Errorf("NodesOf = %s\nwant      %s", got, want)
	}
	if n := (NodeSummary{Node: "b", Denied: 14}); n.String() != "b: 0 of 14 denied connections blocked — does this node enforce NetworkPolicy?" {
		t.Errorf("%q", n.String())
	}
	if NodesOf([]Result{denied("a", "a", Blocked), denied("a", "", Blocked)}) != nil {
		t.Error("a one-node run has a node summary")
	}
}
