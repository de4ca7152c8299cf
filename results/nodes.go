package results

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// PolicedBy says which side's policies deny a connection, and so which
// node's CNI agent must block it: ingress rules are enforced on the
// target's node, egress rules on the source's.
type PolicedBy string

// Sides that police a denied connection; "" when unknown (then both nodes
// count it).
const (
	PolicedByIngress PolicedBy = "ingress"
	PolicedByEgress  PolicedBy = "egress"
	PolicedByBoth    PolicedBy = "both"
)

// NodeVerdict is what the denied connections policed on a node say of it.
type NodeVerdict string

// Node verdicts.
const (
	// NodeEnforcing: it blocked every denied connection policed there.
	NodeEnforcing NodeVerdict = "enforcing"
	// NodePartial: it blocked some, not all.
	NodePartial NodeVerdict = "partial"
	// NodeNotEnforcing: it blocked none, while other nodes blocked theirs:
	// its CNI agent does not enforce NetworkPolicy.
	NodeNotEnforcing NodeVerdict = "not-enforcing"
	// NodeNoneBlocked: it blocked none, and neither did any other node:
	// the cluster, not this node, does not enforce.
	NodeNoneBlocked NodeVerdict = "none-blocked"
	// NodeUnchecked: no denied connection was policed there.
	NodeUnchecked NodeVerdict = "unchecked"
)

// NodeSummary is how the denied connections policed on one node went:
// those expected blocked and probed (passed or failed) whose target runs
// there and is denied by ingress rules, or whose source runs there and is
// denied by egress rules (both nodes, when the side is unknown).
type NodeSummary struct {
	Node string `json:"node"`
	// Denied is how many such connections were checked; Blocked how many
	// of them were seen blocked.
	Denied  int         `json:"denied"`
	Blocked int         `json:"blocked"`
	Verdict NodeVerdict `json:"verdict"`
	// Ingress and Egress split the connections whose policing side is
	// known, with how long the blocked ones took to be enforced there;
	// absent when none was policed on that side of the node.
	Ingress *NodeSide `json:"ingress,omitempty"`
	Egress  *NodeSide `json:"egress,omitempty"`
}

// NodeSide is the denied connections one side (ingress or egress) of a
// node policed, and the enforcement latency of those it blocked: from the
// scenario's policies applied to the connection first seen blocked.
type NodeSide struct {
	Denied  int `json:"denied"`
	Blocked int `json:"blocked"`
	// MedianMs and MaxMs are over the blocked connections that passed
	// (latency is not measured in place, where policies predate the run).
	Measured int   `json:"measured"`
	MedianMs int64 `json:"medianMs"`
	MaxMs    int64 `json:"maxMs"`
	ms       []int64
}

// String renders "netverify-node-2: 0 of 14 denied connections blocked —
// this node does not enforce NetworkPolicy (ingress 0 of 8, egress 0 of
// 6)", the latency of each side that blocked some following its counts.
func (n NodeSummary) String() string {
	s := fmt.Sprintf("%s: %d of %d denied connections blocked", n.Node, n.Blocked, n.Denied)
	switch n.Verdict {
	case NodeEnforcing:
		s += " — enforcing"
	case NodePartial:
		s += fmt.Sprintf(" — %d let through: ", n.Denied-n.Blocked)
		switch {
		case n.Ingress.none() && !n.Egress.none():
			s += "this node does not enforce ingress rules"
		case n.Egress.none() && !n.Ingress.none():
			s += "this node does not enforce egress rules"
		default:
			s += "this node enforces NetworkPolicy only in part"
		}
	case NodeNotEnforcing:
		s += " — this node does not enforce NetworkPolicy"
	case NodeNoneBlocked:
		s += " — no node blocked any: NetworkPolicy is not enforced on this cluster"
	}
	var sides []string
	for _, side := range []struct {
		name string
		s    *NodeSide
	}{{"ingress", n.Ingress}, {"egress", n.Egress}} {
		if side.s != nil {
			sides = append(sides, side.name+" "+side.s.String())
		}
	}
	if len(sides) > 0 {
		s += " (" + strings.Join(sides, "; ") + ")"
	}
	return s
}

// none reports whether the side policed denied connections and blocked
// none of them.
func (s *NodeSide) none() bool { return s != nil && s.Denied > 0 && s.Blocked == 0 }

// String renders "8 of 8, enforced in median 120ms, at most 400ms".
func (s *NodeSide) String() string {
	out := fmt.Sprintf("%d of %d", s.Blocked, s.Denied)
	if s.Measured > 0 {
		ms := func(v int64) string { return (time.Duration(v) * time.Millisecond).String() }
		out += fmt.Sprintf(", enforced in median %s, at most %s", ms(s.MedianMs), ms(s.MaxMs))
	}
	return out
}

// NodesOf summarizes rs per node, sorted by node name; nil unless the
// results' pods ran on two nodes or more (on one node, the summary is the
// run's own). Each denied connection counts on the node that polices it
// (Result.PolicedBy): the target's node for ingress, the source's for
// egress. Policed by both sides (or by an unknown side) across two nodes,
// a connection let through counts against both nodes, while a blocked one
// counts on neither: either node may have blocked it, so it credits none
// (a node that does not enforce would otherwise look partly enforcing).
// On one node it counts there. A Service target counts on its target side
// only when a backend answered (a blocked connection has no known backend).
func NodesOf(rs []Result) []NodeSummary {
	by := map[string]*NodeSummary{}
	node := func(n string) *NodeSummary {
		if by[n] == nil {
			by[n] = &NodeSummary{Node: n}
		}
		return by[n]
	}
	side := func(s **NodeSide) *NodeSide {
		if *s == nil {
			*s = &NodeSide{}
		}
		return *s
	}
	for _, r := range rs {
		for _, n := range []string{r.SourceNode, r.TargetNode} {
			if n != "" {
				node(n)
			}
		}
		if r.Expected != Blocked || (r.Status != Pass && r.Status != Fail) {
			continue
		}
		blocked := r.Observed == Blocked
		measured := blocked && r.Status == Pass && len(r.Live) == 0
		// add counts the connection on node n, and on its ingress and/or
		// egress side
		add := func(n string, ingress, egress bool) {
			if n == "" {
				return
			}
			ns := node(n)
			ns.Denied++
			if blocked {
				ns.Blocked++
			}
			for _, s := range []struct {
				on bool
				s  **NodeSide
			}{{ingress, &ns.Ingress}, {egress, &ns.Egress}} {
				if !s.on {
					continue
				}
				sd := side(s.s)
				sd.Denied++
				if blocked {
					sd.Blocked++
				}
				if measured {
					sd.ms = append(sd.ms, r.LatencyMs)
				}
			}
		}
		switch {
		case r.PolicedBy == PolicedByIngress:
			add(r.TargetNode, true, false)
		case r.PolicedBy == PolicedByEgress:
			add(r.SourceNode, false, true)
		case r.PolicedBy == PolicedByBoth && r.SourceNode == r.TargetNode:
			add(r.SourceNode, true, true)
		case blocked && r.SourceNode != "" && r.TargetNode != "" && r.SourceNode != r.TargetNode:
			// either node may have blocked it
		case r.PolicedBy == PolicedByBoth:
			add(r.SourceNode, false, true)
			add(r.TargetNode, true, false)
		default:
			add(r.SourceNode, false, false)
			if r.TargetNode != r.SourceNode {
				add(r.TargetNode, false, false)
			}
		}
	}
	if len(by) < 2 {
		return nil
	}
	anyBlocked := false
	for _, n := range by {
		anyBlocked = anyBlocked || n.Blocked > 0
	}
	out := make([]NodeSummary, 0, len(by))
	for _, n := range by {
		switch {
		case n.Denied == 0:
			n.Verdict = NodeUnchecked
		case n.Blocked == n.Denied:
			n.Verdict = NodeEnforcing
		case n.Blocked > 0:
			n.Verdict = NodePartial
		case anyBlocked:
			n.Verdict = NodeNotEnforcing
		default:
			n.Verdict = NodeNoneBlocked
		}
		for _, s := range []*NodeSide{n.Ingress, n.Egress} {
			if s != nil && len(s.ms) > 0 {
				slices.Sort(s.ms)
				s.Measured, s.MedianMs, s.MaxMs = len(s.ms), s.ms[len(s.ms)/2], s.ms[len(s.ms)-1]
			}
		}
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}
