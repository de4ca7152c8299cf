package orchestrator

// Placement over nodes: which nodes probe pods can be spread over, and how
// a probe pod is pinned to one. A CNI agent that came back without policy
// on one node after an upgrade is only seen by probes that start or end on
// that node, so a run plans its pods on every eligible node on purpose
// rather than wherever the scheduler puts them.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// NodeChoice is which nodes probe pods can be spread over, and why the
// others cannot.
type NodeChoice struct {
	// Eligible are the names of the eligible nodes, sorted.
	Eligible []string
	// Excluded says, for each other node, why: "node-2: not Ready".
	Excluded []string
}

// EligibleNodes picks, from the cluster's nodes, those a probe pod placed
// with p can run on: Ready, schedulable (not spec.unschedulable), matching
// p.NodeSelector and the p.Nodes label selector, with every NoSchedule and
// NoExecute taint tolerated by p.Tolerations. It is a pure function of its
// arguments; the error is a p.Nodes that does not parse.
func EligibleNodes(nodes []corev1.Node, p Placement) (NodeChoice, error) {
	sel := labels.Everything()
	if p.Nodes != "" {
		var err error
		if sel, err = labels.Parse(p.Nodes); err != nil {
			return NodeChoice{}, fmt.Errorf("--nodes %q: %w", p.Nodes, err)
		}
	}
	nodeSel := labels.SelectorFromSet(p.NodeSelector)
	var c NodeChoice
	for i := range nodes {
		n := &nodes[i]
		why := ""
		switch {
		case !nodeReady(n):
			why = "not Ready"
		case n.Spec.Unschedulable:
			why = "unschedulable (cordoned)"
		case !nodeSel.Matches(labels.Set(n.Labels)):
			why = "does not match --node-selector"
		case !sel.Matches(labels.Set(n.Labels)):
			why = "does not match --nodes"
		default:
			if t := untolerated(n.Spec.Taints, p.Tolerations); t != nil {
				why = fmt.Sprintf("taint %s not tolerated (--toleration)", taintString(*t))
			}
		}
		if why != "" {
			c.Excluded = append(c.Excluded, n.Name+": "+why)
			continue
		}
		c.Eligible = append(c.Eligible, n.Name)
	}
	sort.Strings(c.Eligible)
	sort.Strings(c.Excluded)
	return c, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// untolerated returns the first NoSchedule or NoExecute taint no toleration
// tolerates (PreferNoSchedule only steers the scheduler), or nil.
func untolerated(taints []corev1.Taint, tols []corev1.Toleration) *corev1.Taint {
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		ok := false
		for _, tol := range tols {
			ok = ok || tolerates(tol, t)
		}
		if !ok {
			return t
		}
	}
	return nil
}

// tolerates is the scheduler's rule for one toleration and one taint: an
// empty effect matches every effect, an empty key with Exists every key,
// Exists any value and Equal (the default operator) the same value.
func tolerates(tol corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case corev1.TolerationOpEqual, "":
		return tol.Key != "" && tol.Value == t.Value
	}
	return false
}

func taintString(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// spreadNodes lists the cluster's nodes and fills Placement.Spread with
// the eligible ones, unless placement is left to the scheduler or Spread
// was given. Where listing nodes is forbidden (a service account without
// that permission) it warns and leaves placement to the scheduler — unless
// --nodes asked for some, which cannot then be honoured. A --nodes that
// matches no eligible node is an error, before anything is created.
func (x *run) spreadNodes(ctx context.Context) error {
	p := &x.o.Placement
	if p.Scheduler || p.Spread != nil {
		return nil
	}
	list, err := x.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsForbidden(err) && p.Nodes != "":
		return fmt.Errorf("--nodes %q: listing nodes is forbidden, so the nodes cannot be chosen (grant list on nodes, or leave out --nodes): %w", p.Nodes, err)
	case apierrors.IsForbidden(err):
		fmt.Fprintf(x.o.Log, "warning: listing nodes is forbidden: probe pods are placed by the scheduler, not spread over every node (grant list on nodes, or pass --placement=scheduler to silence this)\n")
		return nil
	case err != nil:
		return &InfraError{fmt.Errorf("listing nodes to spread probe pods over them (--placement=scheduler skips it): %w", err)}
	}
	c, err := EligibleNodes(list.Items, *p)
	if err != nil {
		return err
	}
	switch {
	case len(c.Eligible) == 0 && p.Nodes != "":
		return fmt.Errorf("--nodes %q: no eligible node matches (%s)", p.Nodes, orNone(c.Excluded))
	case len(list.Items) == 0:
		return nil // (a cluster without nodes: the simulated one of --dry-run)
	case len(c.Eligible) == 0:
		// the scheduler's own error (stuck pods) says it best, if any
		fmt.Fprintf(x.o.Log, "warning: no node is eligible for probe pods (%s): placement is left to the scheduler\n", orNone(c.Excluded))
		return nil
	}
	p.Spread = c.Eligible
	if len(c.Eligible) > 1 {
		x.progress("spreading probe pods over %d nodes: %s", len(c.Eligible), strings.Join(c.Eligible, ", "))
	}
	return nil
}

func orNone(excluded []string) string {
	if len(excluded) == 0 {
		return "the cluster has no nodes"
	}
	return strings.Join(excluded, "; ")
}

// replicaNodes are the nodes each probe pod of a created namespace is
// planned on: nil to leave it to the scheduler (one pod); one node to pin
// it there under its own name (--nodes chose that node); several to plan a
// pinned replica on each, its name suffixed (see replicaName).
func (p Placement) replicaNodes() []string {
	if len(p.Spread) > 1 || len(p.Spread) == 1 && p.Nodes != "" {
		return p.Spread
	}
	return nil
}

// pinnedAffinity pins a pod to a node as the DaemonSet controller does: a
// required node affinity on the node's name (matchFields metadata.name),
// so the scheduler still checks taints, resources and the node selector,
// and says why when the pod cannot go there.
func pinnedAffinity(node string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
		}}},
	}}
}

// PinnedNode returns the node a pod is pinned to by pinnedAffinity, or "".
func PinnedNode(p *corev1.Pod) string {
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range t.MatchFields {
			if r.Key == "metadata.name" && r.Operator == corev1.NodeSelectorOpIn && len(r.Values) == 1 {
				return r.Values[0]
			}
		}
	}
	return ""
}

// replicaName names the replica of pod name on the i-th node (from 0):
// "<name>-<i+1>". The suffix is digits after the last '-', so replicas of
// different pods never share a name. A name that would pass 63 characters
// (a pod's hostname) is cut and keeps a hash of the whole name, so two long
// names that share a start stay apart.
func replicaName(name string, i int) string {
	suffix := "-" + strconv.Itoa(i+1)
	if len(name)+len(suffix) <= 63 {
		return name + suffix
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:63-len(suffix)-9], "-") + "-" + hex.EncodeToString(sum[:])[:8] + suffix
}
