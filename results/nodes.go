package results

import (
	"fmt"
	"sort"
)

// NodeSummary is how the denied connections through one node went: those
// whose source or target pod ran on it, expected blocked and probed (passed
// or failed). A node that blocked none of many while others blocked theirs
// is a node whose CNI agent does not enforce NetworkPolicy.
type NodeSummary struct {
	Node string `json:"node"`
	// Denied is how many such connections were checked; Blocked how many
	// of them were seen blocked.
	Denied  int `json:"denied"`
	Blocked int `json:"blocked"`
}

func (n NodeSummary) String() string {
	s := fmt.Sprintf("%s: %d of %d denied connections blocked", n.Node, n.Blocked, n.Denied)
	if n.Denied > 0 && n.Blocked == 0 {
		s += " — does this node enforce NetworkPolicy?"
	}
	return s
}

// NodesOf summarizes rs per node, sorted by node name; nil unless the
// results' pods ran on two nodes or more (on one node, the summary is the
// run's own).
func NodesOf(rs []Result) []NodeSummary {
	by := map[string]*NodeSummary{}
	for _, r := range rs {
		for _, n := range []string{r.SourceNode, r.TargetNode} {
			if n != "" && by[n] == nil {
				by[n] = &NodeSummary{Node: n}
			}
		}
		if r.Expected != Blocked || (r.Status != Pass && r.Status != Fail) {
			continue
		}
		for i, n := range []string{r.SourceNode, r.TargetNode} {
			if n == "" || (i == 1 && n == r.SourceNode) {
				continue // each node once per connection
			}
			by[n].Denied++
			if r.Observed == Blocked {
				by[n].Blocked++
			}
		}
	}
	if len(by) < 2 {
		return nil
	}
	out := make([]NodeSummary, 0, len(by))
	for _, n := range by {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}
