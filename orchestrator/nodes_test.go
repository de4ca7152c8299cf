package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// makeNode returns a Ready, schedulable node; tweaks adjust it.
func makeNode(name string, tweaks ...func(*corev1.Node)) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
	for _, tweak := range tweaks {
		tweak(&n)
	}
	return n
}

func notReady(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }
func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }
func labelled(k, v string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[k] = v }
}
func tainted(key, value string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

func TestEligibleNodes(t *testing.T) {
	t.Parallel()
	nodes := []corev1.Node{
		makeNode("c-ready", labelled("pool", "b")),
		makeNode("a-ready", labelled("pool", "a")),
		makeNode("notready", notReady),
		makeNode("cordoned", cordoned),
		makeNode("gpu", tainted("gpu", "true", corev1.TaintEffectNoSchedule), labelled("pool", "a")),
		makeNode("draining", tainted("drain", "", corev1.TaintEffectNoExecute)),
		makeNode("preferred", tainted("spot", "", corev1.TaintEffectPreferNoSchedule)), // only steers the scheduler
	}
	for _, tt := range []struct {
		name string
		p    Placement
		want []string
	}{
		{"defaults", Placement{}, []string{"a-ready", "c-ready", "preferred"}},
		{"toleration by key and value", Placement{Tolerations: []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}}},
			[]string{"a-ready", "c-ready", "gpu", "preferred"}},
		{"toleration of the wrong value", Placement{Tolerations: []corev1.Toleration{{Key: "gpu", Value: "false"}}}, []string{"a-ready", "c-ready", "preferred"}},
		{"toleration of the wrong effect", Placement{Tolerations: []corev1.Toleration{{Key: "drain", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
			[]string{"a-ready", "c-ready", "preferred"}},
		{"tolerate everything", Placement{Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}},
			[]string{"a-ready", "c-ready", "draining", "gpu", "preferred"}},
		{"node selector", Placement{NodeSelector: map[string]string{"pool": "a"}}, []string{"a-ready"}},
		{"--nodes", Placement{Nodes: "pool in (a,b)"}, []string{"a-ready", "c-ready"}},
		{"--nodes and node selector", Placement{Nodes: "pool!=a", NodeSelector: map[string]string{"pool": "a"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := EligibleNodes(nodes, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Eligible, tt.want) {
				t.Errorf("eligible %v, want %v (excluded %v)", c.Eligible, tt.want, c.Excluded)
			}
			if len(c.Eligible)+len(c.Excluded) != len(nodes) {
				t.Errorf("eligible %v + excluded %v do not cover the %d nodes", c.Eligible, c.Excluded, len(nodes))
			}
		})
	}
	c, _ := EligibleNodes(nodes, Placement{})
	for _, want := range []string{"notready: not Ready", "cordoned: unschedulable (cordoned)", "gpu: taint gpu=true:NoSchedule not tolerated (--toleration)", "draining: taint drain:NoExecute not tolerated (--toleration)"} {
		if !slices.Contains(c.Excluded, want) {
			t.Errorf("excluded %q missing from %q", want, c.Excluded)
		}
	}
	if _, err := EligibleNodes(nodes, Placement{Nodes: "pool in ("}); err == nil || !strings.Contains(err.Error(), "--nodes") {
		t.Errorf("a bad --nodes selector: %v", err)
	}
}

const spreadYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: spread}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: frontend, labels: {app: frontend}}
  - {name: backend, labels: {app: backend}, ports: [{name: http, port: 8080}]}
  - {name: random, labels: {app: random}}
  services:
  - {name: web, selector: {app: backend}, ports: [{port: 80, targetPort: "8080"}]}
  policies:
  - metadata: {name: backend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}]}]
  - metadata: {name: random-egress}
    spec:
      podSelector: {matchLabels: {app: random}}
      policyTypes: [Egress]
      egress: [{to: [{podSelector: {}}]}]
  expect:
  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: random, to: backend, port: "8080", allowed: false}
  - {from: frontend, to: "svc:web", port: "80", allowed: true}
  - {from: random, to: "ip:169.254.169.254", port: "80", allowed: false}
  - {from: backend, to: backend, port: "8080", allowed: true}
`

func nodeNames(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("node-%d", i))
	}
	return out
}

// With N eligible nodes every probe pod (the control pod too) is planned
// once per node, pinned there, with the same labels; a pod target gets a
// same-node and a cross-node probe from each source replica, so every node
// sends and receives on both paths; a Service or outside target one probe
// per source replica; a pod probing itself stays on its node. One node
// changes nothing.
func TestPlanSpread(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			o.Placement.Spread = nodeNames(n)
			plan, err := MakePlan(loadScenarios(t, spreadYAML), o)
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				var names []string
				for _, pp := range plan.Pods {
					names = append(names, pp.Pod.Name)
					if pp.Pod.Spec.Affinity != nil || pp.Pinned != "" {
						t.Errorf("pod %s pinned with one node", pp.Pod.Name)
					}
				}
				if got := fmt.Sprint(names); got != "[frontend backend random control]" || len(plan.Probes) != 5 {
					t.Errorf("pods %s, %d probes", got, len(plan.Probes))
				}
				return
			}
			if len(plan.Pods) != 4*n || len(plan.Controls) != n {
				t.Fatalf("%d pods (%d controls), want %d", len(plan.Pods), len(plan.Controls), 4*n)
			}
			byName := map[string]*PlannedPod{}
			for _, pp := range plan.Pods {
				byName[pp.Pod.Name] = pp
			}
			for _, logical := range []string{"frontend", "backend", "random", "control"} {
				first := byName[logical+"-1"]
				for i, node := range nodeNames(n) {
					pp := byName[fmt.Sprintf("%s-%d", logical, i+1)]
					if pp == nil {
						t.Fatalf("no replica %s-%d in %v", logical, i+1, byName)
					}
					if pp.Pinned != node || PinnedNode(pp.Pod) != node {
						t.Errorf("%s pinned to %q / affinity %q, want %s", pp.Pod.Name, pp.Pinned, PinnedNode(pp.Pod), node)
					}
					terms := pp.Pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
					if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Key != "metadata.name" || len(terms[0].MatchExpressions) != 0 {
						t.Errorf("%s affinity %+v", pp.Pod.Name, terms)
					}
					if !reflect.DeepEqual(pp.Pod.Labels, first.Pod.Labels) || pp.Logical != first.Logical {
						t.Errorf("%s labels %v, want %v", pp.Pod.Name, pp.Pod.Labels, first.Pod.Labels)
					}
				}
			}
			type pair struct{ src, dst string }
			byExp := map[int][]pair{}
			for _, pr := range plan.Probes {
				dst := ""
				if pr.TargetPod != nil {
					dst = pr.TargetPod.Pinned
				}
				byExp[pr.Index] = append(byExp[pr.Index], pair{pr.Source.Pinned, dst})
				if pr.Outside() && (pr.Control == nil || pr.Control.Pinned != pr.Source.Pinned) {
					t.Errorf("probe %d from %s: control %v, want the one on the source's node", pr.Index, pr.Source.Pod.Name, pr.Control)
				}
				if pr.TargetService != nil && len(pr.Backends) != n {
					t.Errorf("service probe: backends %v, want every replica", pr.Backends)
				}
			}
			if len(plan.Probes) != 2*n+2*n+n+n+n {
				t.Errorf("%d probes, want %d", len(plan.Probes), 7*n)
			}
			for _, idx := range []int{0, 1} { // pod targets
				got := byExp[idx]
				var want []pair
				for i, node := range nodeNames(n) {
					want = append(want, pair{node, node}, pair{node, nodeNames(n)[(i+1)%n]})
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("expectation %d pairs %v, want %v", idx, got, want)
				}
				// every node sends and receives, on the same node and across
				for _, node := range nodeNames(n) {
					var sameOut, crossOut, crossIn bool
					for _, p := range got {
						sameOut = sameOut || p.src == node && p.dst == node
						crossOut = crossOut || p.src == node && p.dst != node
						crossIn = crossIn || p.dst == node && p.src != node
					}
					if !sameOut || !crossOut || !crossIn {
						t.Errorf("expectation %d: %s same %v, cross out %v, cross in %v", idx, node, sameOut, crossOut, crossIn)
					}
				}
			}
			for _, idx := range []int{2, 3} { // Service and outside targets: one per source replica
				if got := byExp[idx]; len(got) != n || got[n-1].src != nodeNames(n)[n-1] {
					t.Errorf("expectation %d pairs %v", idx, got)
				}
			}
			for _, p := range byExp[4] { // itself: on its own node only
				if p.src != p.dst {
					t.Errorf("self probe %v crosses nodes", p)
				}
			}
			for _, pr := range plan.Probes {
				want := map[int]results.PolicedBy{1: results.PolicedByIngress, 3: results.PolicedByEgress}[pr.Index]
				if pr.PolicedBy != want {
					t.Errorf("expectation %d policed by %q, want %q", pr.Index, pr.PolicedBy, want)
				}
			}
		})
	}
}

// --nodes choosing one node pins the pods there under their own names.
func TestPlanOneChosenNode(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.Placement.Spread, o.Placement.Nodes = []string{"node-7"}, "pool=x"
	plan, err := MakePlan(loadScenarios(t, coreYAML), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range plan.Pods {
		if PinnedNode(pp.Pod) != "node-7" || strings.Contains(pp.Pod.Name, "-") {
			t.Errorf("pod %s pinned to %q", pp.Pod.Name, PinnedNode(pp.Pod))
		}
	}
}

func TestReplicaName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 60) + "-x"
	longer := strings.Repeat("a", 60) + "-y"
	seen := map[string]bool{}
	for _, name := range []string{"web", "web-1", long, longer, strings.Repeat("b", 63)} {
		for i := 0; i < 12; i++ {
			r := replicaName(name, i)
			if len(r) > 63 || seen[r] || !strings.HasSuffix(r, fmt.Sprintf("-%d", i+1)) {
				t.Errorf("replicaName(%q, %d) = %q (len %d, seen %v)", name, i, r, len(r), seen[r])
			}
			seen[r] = true
		}
	}
	if replicaName("web", 0) != "web-1" || replicaName(long, 0) != replicaName(long, 0) {
		t.Error("replica names are not the plain, deterministic ones")
	}
}

// scheduledClient is newFakeClient with nodes, whose pods run on the node
// they are pinned to (or the first node), as the scheduler would.
func scheduledClient(nodes ...corev1.Node) *fake.Clientset {
	c := newFakeClient(true)
	for i := range nodes {
		_ = c.Tracker().Add(&nodes[i])
	}
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Spec.NodeName = PinnedNode(p)
		if p.Spec.NodeName == "" && len(nodes) > 0 {
			p.Spec.NodeName = nodes[0].Name
		}
		return false, nil, nil
	})
	return c
}

// notEnforcingOn answers as a cluster whose CNI agent on one node enforces
// nothing: spreadYAML's denied connections are blocked (once policies are
// applied) unless the node that polices them is the broken one — the
// target's for random → backend (ingress), the source's for random → the
// metadata address (egress).
func notEnforcingOn(c *fake.Clientset, broken string) func(string, probe.Request, int) probe.Response {
	nodeOf := func(nsName string) string {
		ns, name, _ := strings.Cut(nsName, "/")
		p, err := c.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		return p.Spec.NodeName
	}
	return func(src string, req probe.Request, _ int) probe.Response {
		nps, _ := c.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
		applied := len(nps.Items) > 0
		random := strings.Contains(src, "/random-")
		switch {
		case req.Host == "169.254.169.254" && applied && random && nodeOf(src) != broken:
			return blocked
		case req.Host == "169.254.169.254":
			return allowedBy("")
		case req.Identity != "" && applied && random && nodeOf(req.Identity) != broken:
			return blocked
		case req.Identity != "":
			return allowedBy(req.Identity)
		}
		return allowedBy(strings.Split(src, "/")[0] + "/backend-1")
	}
}

// A run on two nodes, one of which does not enforce: every mismatch has
// the broken node on the side that polices it, and the node summary names
// it as not enforcing and the other as enforcing.
func TestRunTwoNodesOneNotEnforcing(t *testing.T) {
	t.Parallel()
	c := scheduledClient(makeNode("node-a"), makeNode("node-b"))
	ex := &scriptedExec{}
	ex.answer = notEnforcingOn(c, "node-b")
	r := &Runner{Client: c, Exec: ex, Opts: testOptions(), Clock: testClock()}
	rep, stats, err := r.Run(context.Background(), loadScenarios(t, spreadYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 14 {
		t.Fatalf("%d results: %v", len(rep.Results), statusOf(rep))
	}
	if stats.MaxExecRound > stats.SourcePods || stats.SourcePods != 6 {
		t.Errorf("%d exec calls in a round for %d source pods", stats.MaxExecRound, stats.SourcePods)
	}
	fails := 0
	for _, res := range rep.Results {
		if res.SourceNode == "" {
			t.Errorf("result without a source node: %+v", res)
		}
		if res.Status != results.Fail {
			continue
		}
		fails++
		policed := res.TargetNode
		if res.PolicedBy == results.PolicedByEgress {
			policed = res.SourceNode
		}
		if policed != "node-b" {
			t.Errorf("mismatch %s → %s (%s → %s, policed by %s): the policing node is not the broken one",
				res.From, res.To, res.SourceNode, res.TargetNode, res.PolicedBy)
		}
	}
	if fails != 3 { // random → backend on node-b (same node, from node-a), random on node-b → metadata
		t.Errorf("%d failures, want 3: %v", fails, statusOf(rep))
	}
	if len(rep.Nodes) != 2 {
		t.Fatalf("nodes %v", rep.Nodes)
	}
	if a, b := rep.Nodes[0], rep.Nodes[1]; a.Verdict != results.NodeEnforcing || b.Verdict != results.NodeNotEnforcing ||
		!strings.Contains(b.String(), "node-b: 0 of 3 denied connections blocked — this node does not enforce NetworkPolicy") {
		t.Errorf("node summary:\n%s\n%s", a, b)
	}
	assertCleanedUp(t, c)
}

// Nodes that cannot be listed: a warning, and the scheduler places the
// pods — unless --nodes asked for some, which then cannot be honoured; a
// --nodes that matches no eligible node creates nothing.
func TestRunNodePlacementErrors(t *testing.T) {
	t.Parallel()
	forbidden := func(c *fake.Clientset) {
		c.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", fmt.Errorf("no"))
		})
	}
	t.Run("forbidden", func(t *testing.T) {
		t.Parallel()
		c := scheduledClient(makeNode("node-a"), makeNode("node-b"))
		forbidden(c)
		var log strings.Builder
		o := testOptions()
		o.Log = &log
		ex := &scriptedExec{}
		ex.answer = enforcing(c)
		rep, _, err := (&Runner{Client: c, Exec: ex, Opts: o, Clock: testClock()}).Run(context.Background(), loadScenarios(t, coreYAML))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Results) != 3 || !strings.Contains(log.String(), "listing nodes is forbidden") {
			t.Errorf("%d results; log %q", len(rep.Results), log.String())
		}
	})
	t.Run("forbidden with --nodes", func(t *testing.T) {
		t.Parallel()
		c := scheduledClient(makeNode("node-a"))
		forbidden(c)
		o := testOptions()
		o.Placement.Nodes = "pool=a"
		_, _, err := (&Runner{Client: c, Exec: &scriptedExec{}, Opts: o, Clock: testClock()}).Run(context.Background(), loadScenarios(t, coreYAML))
		if err == nil || !strings.Contains(err.Error(), `--nodes "pool=a": listing nodes is forbidden`) {
			t.Errorf("err %v", err)
		}
		assertNothingCreated(t, c)
	})
	t.Run("--nodes matches no eligible node", func(t *testing.T) {
		t.Parallel()
		c := scheduledClient(makeNode("node-a", labelled("pool", "a")), makeNode("node-b", labelled("pool", "b"), cordoned))
		o := testOptions()
		o.Placement.Nodes = "pool=b"
		_, _, err := (&Runner{Client: c, Exec: &scriptedExec{}, Opts: o, Clock: testClock()}).Run(context.Background(), loadScenarios(t, coreYAML))
		if err == nil || !strings.Contains(err.Error(), `--nodes "pool=b": no eligible node matches (node-a: does not match --nodes; node-b: unschedulable (cordoned))`) {
			t.Errorf("err %v", err)
		}
		var infra *InfraError
		if errors.As(err, &infra) {
			t.Errorf("a usage error reported as an infrastructure failure: %v", err)
		}
		assertNothingCreated(t, c)
	})
	t.Run("--placement=scheduler lists no nodes", func(t *testing.T) {
		t.Parallel()
		c := scheduledClient(makeNode("node-a"), makeNode("node-b"))
		o := testOptions()
		o.Placement.Scheduler = true
		ex := &scriptedExec{}
		ex.answer = enforcing(c)
		rep, _, err := (&Runner{Client: c, Exec: ex, Opts: o, Clock: testClock()}).Run(context.Background(), loadScenarios(t, coreYAML))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range c.Actions() {
			if a.GetResource().Resource == "nodes" {
				t.Errorf("nodes were read: %v", a)
			}
		}
		if len(rep.Results) != 3 || rep.Nodes != nil {
			t.Errorf("%d results, nodes %v", len(rep.Results), rep.Nodes)
		}
	})
}

func assertNothingCreated(t *testing.T, c *fake.Clientset) {
	t.Helper()
	for _, a := range c.Actions() {
		if a.GetVerb() == "create" {
			t.Errorf("created %s before failing", a.GetResource().Resource)
		}
	}
}
