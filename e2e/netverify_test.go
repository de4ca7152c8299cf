//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type jsonReport struct {
	RunID   string `json:"runId"`
	Summary struct {
		Total, Passed, Failed, Errors, Inconclusive, Skipped int
	} `json:"summary"`
	Results []struct {
		Scenario, From, To, PortName, Protocol string
		Port                                   int
		Expected, Observed, Status, Reason     string
		Match                                  bool
		Attempts                               int
		LatencyMs                              int64
		AnsweredBy, Repro                      string
	} `json:"results"`
}

func parseReport(t *testing.T, r netverifyResult) jsonReport {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("netverify -o json output is not JSON (exit %d): %v\nstdout:\n%s\nstderr:\n%s", r.code, err, r.stdout, r.stderr)
	}
	return rep
}

func testdata(name string) string { return filepath.Join(E.repo, "e2e", "testdata", name) }

func guardBefore(t *testing.T) func() {
	if !E.local {
		return func() {}
	}
	before := guardCounter(t)
	return func() {
		if after := guardCounter(t); after != before {
			t.Errorf("egress guard counter rose from %d to %d during the run: pod traffic tried to leave the machine", before, after)
		}
	}
}

func TestRunCoreScenario(t *testing.T) {
	t.Parallel()
	defer guardBefore(t)()
	res := runNetverify(t, "", "run", "-f", testdata("core.yaml"), "-o", "json")
	rep := parseReport(t, res)
	t.Logf("summary: %+v\nstderr:\n%s", rep.Summary, res.stderr)
	if E.enforces {
		if res.code != 0 || rep.Summary.Failed != 0 || rep.Summary.Errors != 0 || rep.Summary.Passed != 5 {
			t.Fatalf("enforcing cluster: exit %d, summary %+v; want exit 0, 5 passed\n%s", res.code, rep.Summary, res.stdout)
		}
		for _, r := range rep.Results {
			if r.Expected == "allowed" && r.To == "backend" && r.AnsweredBy == "" {
				t.Errorf("allowed probe %s -> %s has no answeredBy", r.From, r.To)
			}
		}
	} else {
		if res.code != 1 {
			t.Fatalf("non-enforcing cluster: exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		var mismatches, denied []string
		for _, r := range rep.Results {
			key := r.From + "->" + r.To + ":" + strconv.Itoa(r.Port)
			if r.Expected == "blocked" {
				denied = append(denied, key)
			}
			if r.Status == "fail" {
				if r.Observed != "allowed" || r.Repro == "" || !strings.Contains(r.Repro, "kubectl") {
					t.Errorf("mismatch %s: observed %s, repro %q", key, r.Observed, r.Repro)
				}
				mismatches = append(mismatches, key)
			} else if r.Status != "pass" {
				t.Errorf("%s: status %s (%s), want pass or fail", key, r.Status, r.Reason)
			}
		}
		sort.Strings(mismatches)
		sort.Strings(denied)
		if strings.Join(mismatches, ",") != strings.Join(denied, ",") {
			t.Fatalf("mismatches %v, want exactly the denied expectations %v", mismatches, denied)
		}
		// the table output names the mismatches and how to reproduce them
		tbl := runNetverify(t, "", "run", "-f", testdata("core.yaml"))
		if tbl.code != 1 || !strings.Contains(tbl.stdout, "    reproduce (namespace removed after the run; rerun with --keep=on-failure): kubectl") {
			t.Fatalf("table run: exit %d, stdout:\n%s", tbl.code, tbl.stdout)
		}
	}
	noLeftovers(t)
}

func TestImpostorIsNotAllowed(t *testing.T) {
	t.Parallel()
	defer guardBefore(t)()
	res := runNetverify(t, "", "run", "-f", testdata("impostor.yaml"), "-o", "json")
	rep := parseReport(t, res)
	if len(rep.Results) != 1 {
		t.Fatalf("want 1 result, got %+v", rep.Results)
	}
	r := rep.Results[0]
	if r.Status != "error" || r.Observed != "error" || !strings.Contains(r.Reason, "wrong-identity") || !strings.HasSuffix(r.AnsweredBy, "/impostor") {
		t.Fatalf("impostor: %+v; want status error, reason wrong-identity, answered by the impostor", r)
	}
	if res.code != 2 {
		t.Fatalf("exit %d, want 2 (a probe ended in error)", res.code)
	}
	noLeftovers(t)
}

func TestInvalidScenarioCreatesNothing(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: netverify.io/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\nspec:\n  namespaces: [{name: a}]\n  pods: [{name: p, colour: red}]\n  expect: []\n"), 0o644)
	before := kubectl(t, "get", "namespaces", "-o", "name")
	for _, sub := range []string{"validate", "run"} {
		res := runNetverify(t, "", sub, "-f", bad)
		if res.code != 2 || !strings.Contains(res.stderr, "bad.yaml") || !strings.Contains(res.stderr, "colour") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming the file and the field", sub, res.code, res.stderr)
		}
	}
	if after := kubectl(t, "get", "namespaces", "-o", "name"); after != before {
		t.Fatalf("namespaces changed:\nbefore %s\nafter %s", before, after)
	}
}

func TestInterruptLeavesNothing(t *testing.T) {
	notOnSecondNonEnforcing(t)
	t.Parallel()
	defer guardBefore(t)()
	// An expectation that never matches keeps the run probing for its budget.
	prefix := prefixFor(t)
	cmd := exec.Command(E.netverify, "--kubeconfig", E.kubeconfig, "run", "--namespace-prefix", prefix, "-f", testdata("never-matches.yaml"), "--match-budget", "5m")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// wait until the run's policies exist: it is probing now
	eventually(t, 3*time.Minute, func() string {
		out, _ := kubectlErr("get", "networkpolicies", "-A", "-l", "app.kubernetes.io/managed-by=netverify", "-o", "custom-columns=NS:.metadata.namespace", "--no-headers")
		for _, ns := range strings.Fields(out) {
			if strings.HasPrefix(ns, prefix+"-") {
				return ""
			}
		}
		return "run has not applied its policies yet"
	})
	time.Sleep(2 * time.Second) // mid-probe
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Errorf("after SIGINT: %v, want exit 2\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("netverify did not exit within 2m of SIGINT")
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
	}
	noLeftovers(t)
}

// The agnhost fallback (upstream image, one exec per probe, no identity
// check) reaches the same verdicts on the real cluster.
func TestAgnhostFallback(t *testing.T) {
	t.Parallel()
	defer guardBefore(t)()
	res := runNetverify(t, "", "run", "-f", testdata("core.yaml"), "--mode", "agnhost", "-o", "json")
	rep := parseReport(t, res)
	want, wantFailed := 0, 0
	if !E.enforces {
		want, wantFailed = 1, 3
	}
	if res.code != want || rep.Summary.Failed != wantFailed || rep.Summary.Errors != 0 {
		t.Fatalf("agnhost mode: exit %d summary %+v; want exit %d with %d failed\n%s\n%s", res.code, rep.Summary, want, wantFailed, res.stdout, res.stderr)
	}
	for _, r := range rep.Results {
		if !strings.Contains(r.Repro, "/agnhost connect") {
			t.Errorf("repro %q", r.Repro)
		}
	}
	noLeftovers(t)
}

// A scenario's ClusterNetworkPolicy is confined to the run: while a Deny-all
// Admin policy (subject: every namespace, as written) is in place, pods
// outside the run still connect; `cleanup --run-id` then removes it with
// the run's namespaces.
func TestClusterPolicyConfinedToRun(t *testing.T) {
	notOnSecondNonEnforcing(t)
	t.Parallel()
	defer guardBefore(t)()
	ns := prefixFor(t) + "-bystander"
	kubectlErr("delete", "namespace", ns, "--wait=true", "--ignore-not-found")
	kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { kubectlErr("delete", "namespace", ns, "--wait=true", "--timeout=60s") })
	apply(t, probePodManifest("server", ns, "server")+"---\n"+probePodManifest("client", ns, "client"))
	if _, err := kubectlErr("-n", ns, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"); err != nil {
		dumpNamespace(t, ns)
		t.Fatalf("bystander pods not Ready: %v", err)
	}
	serverIP := strings.TrimSpace(kubectl(t, "-n", ns, "get", "pod", "server", "-o", "jsonpath={.status.podIP}"))

	res := runNetverify(t, "", "run", "-f", testdata("cnp-deny-all.yaml"), "--keep=always", "-o", "json")
	rep := parseReport(t, res)
	want := 0
	if !E.enforces {
		want = 1
	}
	if res.code != want || len(rep.Results) != 1 {
		t.Fatalf("exit %d with %d results, want %d and 1\n%s\n%s", res.code, len(rep.Results), want, res.stdout, res.stderr)
	}
	cnps, err := clusterPolicies("netverify.io/run-id=" + rep.RunID)
	if err != nil || len(strings.Fields(cnps)) != 1 {
		t.Fatalf("kept run %s: ClusterNetworkPolicies %q (%v), want its one policy", rep.RunID, cnps, err)
	}
	t.Cleanup(func() { runNetverify(t, "", "cleanup", "--run-id", rep.RunID) })
	// the policy is in place, as the kept run left it: outside the run it
	// changes nothing, in both directions (only an enforcing cluster could
	// show otherwise)
	if E.enforces {
		if r := connect(t, ns, "client", "tcp", serverIP, 8080); r.Verdict != "allowed" || r.AnsweredBy != ns+"/server" {
			t.Errorf("bystander client → server with the run's Deny-all ClusterNetworkPolicy in place: %+v, want allowed", r)
		}
		if r := connect(t, ns, "client", "dns", "kubernetes.default.svc.cluster.local", 0); r.Verdict != "allowed" {
			t.Errorf("bystander DNS lookup with the run's Deny-all ClusterNetworkPolicy in place: %+v, want allowed", r)
		}
	}
	if res := runNetverify(t, "", "cleanup", "--run-id", rep.RunID); res.code != 0 || !strings.Contains(res.stdout, "ClusterNetworkPolicy") {
		t.Fatalf("cleanup --run-id %s: exit %d, want 0 deleting the ClusterNetworkPolicy\n%s\n%s", rep.RunID, res.code, res.stdout, res.stderr)
	}
	noLeftoversRun(t, rep.RunID)
}
