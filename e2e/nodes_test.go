//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodesReport is what TestNodes reads of a -o json report: each result's
// nodes and the per-node summary.
type nodesReport struct {
	Summary struct {
		Total, Passed, Failed, Errors, Inconclusive, Skipped int
	} `json:"summary"`
	Results []struct {
		Scenario, From, To, Protocol, Status, Expected, Observed, Reason, Repro string
		Port                                                                    int
		SourceNode                                                              string `json:"sourceNode"`
		TargetNode                                                              string `json:"targetNode"`
		PolicedBy                                                               string `json:"policedBy"`
	} `json:"results"`
	Nodes []struct {
		Node            string `json:"node"`
		Denied, Blocked int
		Verdict         string `json:"verdict"`
	} `json:"nodes"`
}

// clusterNodes lists the cluster's node names.
func clusterNodes(t *testing.T) []string {
	return strings.Fields(kubectl(t, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"))
}

// TestNodes runs on the two-node local cluster (make test: cilium-mixed).
// In cilium-mixed node 2's agent runs with --enable-policy=never: the
// built-in suite must fail there, every mismatch with node 2 as the side
// that polices it, and the per-node summary must name node 2 as not
// enforcing and node 1 as enforcing. Then node 2's agent comes back with
// policy (a real restart) and the suite passes, with same-node and
// cross-node pairs on both nodes. Throughout, a pod on node 2 reaches
// CoreDNS and the stub addresses through the egress guard, which counts
// nothing but the deliberate off-machine probe.
func TestNodes(t *testing.T) {
	if E.nodes < 2 {
		t.Skip("needs the two-node local cluster (NODES=2; make test runs it in cilium-mixed)")
	}
	nodes := clusterNodes(t)
	if len(nodes) != 2 {
		t.Fatalf("nodes %v, want 2", nodes)
	}
	node1, node2 := "netverify-node", "netverify-node-2"

	t.Run("node 2 behind the guard", func(t *testing.T) { guardFromNode2(t, node1, node2) })

	if E.cni == "none" || E.cni == "cilium-noenforce" {
		// (make test-e2e MODES=none@2): no node enforces, and the summary
		// says so of the cluster rather than blaming one node
		t.Run("no node enforces", func(t *testing.T) {
			defer guardBefore(t)()
			res := runNetverify(t, "", "run", "--scenario", "default-deny", "--match-budget", "15s", "-o", "json")
			rep := parseNodesReport(t, res)
			if res.code != 1 || len(rep.Nodes) != 2 {
				t.Errorf("exit %d, %d nodes in the summary; want 1 and 2", res.code, len(rep.Nodes))
			}
			for _, n := range rep.Nodes {
				if n.Denied == 0 || n.Blocked != 0 || n.Verdict != "none-blocked" {
					t.Errorf("node summary %+v: want none blocked on this cluster", n)
				}
			}
			noLeftovers(t)
		})
		return
	}

	if E.cni == "cilium-mixed" {
		t.Run("node 2 fails open", func(t *testing.T) {
			defer guardBefore(t)()
			// three scenarios with ingress, egress and both-sides denials,
			// and the table of one, side by side (each waits out its budget)
			tabc := make(chan netverifyResult, 1)
			go func() { tabc <- runNetverify(t, "", "run", "--scenario", "default-deny", "--match-budget", "15s") }()
			res := runNetverify(t, "", "run", "--scenario", "default-deny,egress-restriction,frontend-backend", "--match-budget", "15s", "-o", "json")
			tab := <-tabc
			rep := parseNodesReport(t, res)
			if res.code != 1 {
				t.Errorf("exit %d, want 1 (node 2 does not enforce)\n%s", res.code, res.stderr)
			}
			failed := 0
			for _, r := range rep.Results {
				if r.Status != "fail" {
					continue
				}
				failed++
				if p := policedNodes(r.PolicedBy, r.SourceNode, r.TargetNode); !contains(p, node2) || contains(p, node1) {
					t.Errorf("%s: %s (%s) -> %s (%s) failed, policed by %s on %v: want node 2 alone as the policed side", r.Scenario, r.From, r.SourceNode, r.To, r.TargetNode, r.PolicedBy, p)
				}
			}
			if failed == 0 {
				t.Errorf("no mismatch on a node that does not enforce: summary %+v", rep.Summary)
			}
			sum := map[string]string{}
			for _, n := range rep.Nodes {
				sum[n.Node] = fmt.Sprintf("%d/%d", n.Blocked, n.Denied)
				switch {
				case n.Node == node1 && (n.Denied == 0 || n.Blocked != n.Denied || n.Verdict != "enforcing"):
					t.Errorf("node 1 summary %+v: want every denied connection blocked, enforcing", n)
				case n.Node == node2 && (n.Denied == 0 || n.Blocked != 0 || n.Verdict != "not-enforcing"):
					t.Errorf("node 2 summary %+v: want none blocked, not enforcing", n)
				}
			}
			if len(sum) != 2 {
				t.Errorf("per-node summary %v, want both nodes", sum)
			}
			if !strings.Contains(res.stdout+res.stderr, node2) {
				t.Errorf("the report never names %s", node2)
			}
			// the table says it in words
			if tab.code != 1 || !strings.Contains(tab.stdout, node2+": 0 of") || !strings.Contains(tab.stdout, "does not enforce") {
				t.Errorf("table output (exit %d) does not name node 2 as not enforcing:\n%s", tab.code, tab.stdout)
			}
			noLeftovers(t)
		})
		// the agent comes back with policy: a real restart of node 2's agent
		out, err := exec.Command(filepath.Join(E.repo, "e2e/cluster/restart.sh"), "cilium-agent-2", "0", "--enable-policy=default").CombinedOutput()
		if err != nil {
			t.Fatalf("restarting node 2's agent with policy: %v\n%s", err, out)
		}
		out, err = exec.Command(filepath.Join(E.repo, "e2e/cluster/canary.sh"), "180", node2, node1).CombinedOutput()
		if err != nil {
			t.Fatalf("node 2 does not enforce after its agent came back with policy: %v\n%s", err, out)
		}
	}

	t.Run("every node enforces", func(t *testing.T) {
		defer guardBefore(t)()
		res := runNetverify(t, "", "run", "-o", "json")
		rep := parseNodesReport(t, res)
		pairs := map[string]int{}
		for _, r := range rep.Results {
			if r.Protocol != "SCTP" && r.Status != "pass" {
				t.Errorf("%s: %s (%s) -> %s (%s): %s, observed %s (%s)\n  %s", r.Scenario, r.From, r.SourceNode, r.To, r.TargetNode, r.Status, r.Observed, r.Reason, r.Repro)
			}
			if r.SourceNode != "" && r.TargetNode != "" {
				pairs[r.SourceNode+" -> "+r.TargetNode]++
			}
		}
		for _, s := range []string{node1, node2} {
			for _, d := range []string{node1, node2} {
				if pairs[s+" -> "+d] == 0 {
					t.Errorf("no probe from a pod on %s to a pod on %s (pairs %v)", s, d, pairs)
				}
			}
		}
		for _, n := range rep.Nodes {
			if n.Denied == 0 || n.Blocked != n.Denied || n.Verdict != "enforcing" {
				t.Errorf("node summary %+v: want every denied connection blocked", n)
			}
		}
		if len(rep.Nodes) != 2 {
			t.Errorf("per-node summary has %d nodes, want 2", len(rep.Nodes))
		}
		if res.code != 0 {
			t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
		}
		noLeftovers(t)
	})
}

func parseNodesReport(t *testing.T, r netverifyResult) nodesReport {
	t.Helper()
	var rep nodesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("netverify -o json output is not JSON (exit %d): %v\nstdout:\n%s\nstderr:\n%s", r.code, err, r.stdout, r.stderr)
	}
	return rep
}

// policedNodes is where a connection's policy is enforced: the target's
// node for ingress, the source's for egress.
func policedNodes(by, src, dst string) []string {
	switch by {
	case "ingress":
		return []string{dst}
	case "egress":
		return []string{src}
	case "both":
		return []string{src, dst}
	}
	return []string{src, dst}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// guardFromNode2: a pod pinned to node 2 resolves names through CoreDNS,
// reaches the stub addresses and a pod on node 1 (over the tunnel, both
// ways); the guard counts none of that, and counts the one probe bound off
// the machine.
func guardFromNode2(t *testing.T, node1, node2 string) {
	const ns = "e2e-nodes"
	kubectlErr("delete", "namespace", ns, "--wait=true", "--ignore-not-found")
	kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { kubectlErr("delete", "namespace", ns, "--wait=true", "--timeout=60s") })
	pin := func(m, node string) string {
		return strings.Replace(m, "spec:\n", "spec:\n  nodeName: "+node+"\n", 1)
	}
	apply(t, pin(probePodManifest("on-node-1", ns, "one"), node1)+"---\n"+pin(probePodManifest("on-node-2", ns, "two"), node2))
	if _, err := kubectlErr("-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"); err != nil {
		dumpNamespace(t, ns)
		t.Fatalf("pods not Ready: %v", err)
	}
	ip := func(pod string) string {
		return strings.TrimSpace(kubectl(t, "-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.podIP}"))
	}
	before := guardCounter(t)
	if r := connect(t, ns, "on-node-2", "dns", "kubernetes.default.svc.cluster.local", 0); r.Verdict != "allowed" {
		t.Errorf("DNS from node 2: %+v", r)
	}
	for _, a := range []string{"169.254.169.254", "100.100.100.200", "203.0.113.10"} {
		if r := connect(t, ns, "on-node-2", "tcp", a, 80); r.Verdict != "allowed" {
			t.Errorf("stub %s:80 from node 2: %+v", a, r)
		}
	}
	eventually(t, 30*time.Second, func() string {
		if r := connect(t, ns, "on-node-2", "tcp", ip("on-node-1"), 8080); r.Verdict != "allowed" || r.AnsweredBy != ns+"/on-node-1" {
			return fmt.Sprintf("node 2 -> node 1: %+v", r)
		}
		if r := connect(t, ns, "on-node-1", "tcp", ip("on-node-2"), 8080); r.Verdict != "allowed" || r.AnsweredBy != ns+"/on-node-2" {
			return fmt.Sprintf("node 1 -> node 2: %+v", r)
		}
		return ""
	})
	if after := guardCounter(t); after != before {
		t.Errorf("guard counter rose from %d to %d on in-cluster and stub traffic from node 2", before, after)
	}
	// the positive control: bound off the machine from node 2, dropped and counted
	if r := connect(t, ns, "on-node-2", "tcp", "198.51.100.1", 80); r.Verdict == "allowed" {
		t.Errorf("198.51.100.1 from node 2 answered: %+v", r)
	}
	if after := guardCounter(t); after <= before {
		t.Errorf("guard counter %d -> %d: a packet from node 2 bound off the machine was not dropped by the guard", before, after)
	}
}
