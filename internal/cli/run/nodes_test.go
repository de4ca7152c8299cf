package run

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/simulate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// On two nodes, one of which enforces nothing: the probe pods are spread,
// the mismatches are the connections into the broken node, and the output
// names it — in the node summary, the NODES column and the mismatch lines.
func TestRunNamesTheNodeThatDoesNotEnforce(t *testing.T) {
	t.Parallel()
	web := writeFile(t, "web.yaml", webYAML)
	e, _ := simulatedCluster(func(c *simulate.Cluster) {
		c.AddNodes("node-a", "node-b")
		c.NotEnforcingOn = map[string]bool{"node-b": true}
	})
	got := execute(t, with(e), "", "-f", web)
	if got.code != 1 {
		t.Fatalf("exit %d (%v), want 1\n%s", got.code, got.err, got.stderr)
	}
	for _, want := range []string{
		"Node node-a: 2 of 2 denied connections blocked — enforcing",
		"Node node-b: 0 of 2 denied connections blocked — this node does not enforce NetworkPolicy (ingress 0 of 2)",
		"NODES", "node-a→node-b", "node-b→node-b",
		"app/random → app/backend 8080/TCP (http) on node-a→node-b: expected blocked, got ALLOWED",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, got.stdout)
		}
	}

	got = execute(t, with(e), "", "-f", web, "-o", "json")
	var rep results.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 8 || len(rep.Nodes) != 2 || rep.Nodes[1].Verdict != results.NodeNotEnforcing {
		t.Errorf("%d results, nodes %+v", len(rep.Results), rep.Nodes)
	}
	for _, r := range rep.Results {
		if r.Expected == results.Blocked && r.PolicedBy != results.PolicedByIngress {
			t.Errorf("%s → %s: policedBy %q, want ingress", r.From, r.To, r.PolicedBy)
		}
	}
}

// --nodes chooses the nodes: one node pins every pod there; a selector
// that matches no eligible node is exit 2 with nothing created;
// --placement=scheduler leaves the pods to the scheduler.
func TestRunNodesFlag(t *testing.T) {
	t.Parallel()
	web := writeFile(t, "web.yaml", webYAML)
	var sim *simulate.Cluster
	e, _ := simulatedCluster(func(c *simulate.Cluster) {
		sim = c
		c.AddNodes("node-a", "node-b")
		c.NotEnforcingOn = map[string]bool{"node-b": true}
	})
	got := execute(t, with(e), "", "-f", web, "--nodes", "kubernetes.io/hostname=node-a", "-o", "json")
	if got.code != 0 {
		t.Fatalf("exit %d (%v), want 0: only the enforcing node was chosen\n%s", got.code, got.err, got.stdout)
	}
	var rep results.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.SourceNode != "node-a" || r.TargetNode != "node-a" {
			t.Errorf("%s → %s ran on %s → %s", r.From, r.To, r.SourceNode, r.TargetNode)
		}
	}
	if len(rep.Results) != 2 || rep.Nodes != nil {
		t.Errorf("%d results, nodes %v", len(rep.Results), rep.Nodes)
	}

	got = execute(t, with(e), "", "-f", web, "--nodes", "pool=none")
	if got.code != 2 || !strings.Contains(errText(got.err), `--nodes "pool=none": no eligible node matches (node-a: does not match --nodes; node-b: does not match --nodes)`) {
		t.Errorf("exit %d, error %v", got.code, got.err)
	}
	nss, _ := sim.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: orchestrator.AnyRunSelector()})
	if len(nss.Items) != 0 {
		t.Errorf("namespaces left: %d", len(nss.Items))
	}

	got = execute(t, with(e), "", "-f", web, "--placement", "scheduler", "-o", "json")
	rep = results.Report{}
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if got.code != 0 || len(rep.Results) != 2 || rep.Nodes != nil {
		t.Errorf("exit %d, %d results, nodes %v: want the scheduler's one node (the first)", got.code, len(rep.Results), rep.Nodes)
	}
}
