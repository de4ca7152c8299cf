//go:build e2e

package e2e

// Faults a run must survive. These tests are not parallel: they kill
// netverify, restart the API server and the CNI agent, so they run one at a
// time before the parallel tests start (go test runs a package's sequential
// tests first).

import (
	"encoding/json"
	"errors"
	"flag"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

// bgRun is a `netverify run` running in the background.
type bgRun struct {
	cmd            *exec.Cmd
	stdout, stderr strings.Builder
	done           chan struct{} // closed when it has exited
	err            error         // its Wait error, once done
}

// startRun starts `netverify run` in the background with the test's
// namespace prefix.
func startRun(t *testing.T, args ...string) *bgRun {
	t.Helper()
	args = append([]string{"--kubeconfig", E.kubeconfig, "run", "--namespace-prefix", prefixFor(t)}, args...)
	r := &bgRun{cmd: exec.Command(E.netverify, args...), done: make(chan struct{})}
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done })
	return r
}

// waitPolicies waits until the run has applied its policies; it fails at
// once when the run ended before that.
func (r *bgRun) waitPolicies(t *testing.T) {
	t.Helper()
	prefix := prefixFor(t)
	eventually(t, 3*time.Minute, func() string {
		select {
		case <-r.done:
			t.Fatalf("netverify ended before applying its policies (%v):\n%s", r.err, r.stderr.String())
		default:
		}
		out, _ := kubectlErr("get", "networkpolicies", "-A", "-l", "app.kubernetes.io/managed-by=netverify", "-o", "custom-columns=NS:.metadata.namespace", "--no-headers")
		for _, ns := range strings.Fields(out) {
			if strings.HasPrefix(ns, prefix+"-") {
				return ""
			}
		}
		return "run has not applied its policies yet"
	})
}

// exitCode waits for the run to end and returns its exit code.
func (r *bgRun) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(within):
		_ = r.cmd.Process.Kill()
		t.Fatalf("netverify did not finish within %s\n%s", within, r.stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("netverify: %v\n%s", r.err, r.stderr.String())
	return -1
}

func restart(t *testing.T, component string, down time.Duration) {
	t.Helper()
	out, err := exec.Command(filepath.Join(E.repo, "e2e/cluster/restart.sh"), component, strings.TrimSuffix(down.String(), "s")).CombinedOutput()
	if err != nil {
		t.Fatalf("restarting %s: %v\n%s", component, err, out)
	}
}

var flagAgentRestart = flag.Bool("agent-restart", true, "restart the Cilium agent mid-run (-agent-restart=false leaves it out)")

func localOnly(t *testing.T) {
	t.Helper()
	if !E.local {
		t.Skip("restarts components of the local cluster")
	}
}

// netverify SIGKILLed mid-run leaves its namespaces; `netverify cleanup`
// names the run as alive (its heartbeat is fresh) with the command that
// removes it now, and that command leaves nothing.
func TestKilledRunCleanedUp(t *testing.T) {
	defer guardBefore(t)()
	r := startRun(t, "-f", testdata("never-matches.yaml"), "--match-budget", "5m")
	r.waitPolicies(t)
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
	left, err := leftovers(prefixFor(t) + "-")
	if err != nil || left == "" {
		t.Fatalf("no namespaces left by the killed run (%v): the test proves nothing", err)
	}
	res := runNetverify(t, "", "cleanup")
	m := regexp.MustCompile(`netverify cleanup --run-id (\S+)`).FindStringSubmatch(res.stderr)
	if res.code != 0 || m == nil || !strings.Contains(res.stderr, "looks alive") {
		t.Fatalf("cleanup: exit %d; want exit 0 naming the live run and the --run-id command\n%s", res.code, res.stderr)
	}
	if res := runNetverify(t, "", "cleanup", "--run-id", m[1]); res.code != 0 {
		t.Fatalf("cleanup --run-id %s: exit %d\n%s", m[1], res.code, res.stderr)
	}
	noLeftovers(t)
}

// The API server restarted mid-run: the run ends in a tool error (exit 2)
// or in correct verdicts — never a wrong one — and cleans up once the server
// is back.
func TestAPIServerRestartMidRun(t *testing.T) {
	notOnSecondNonEnforcing(t)
	localOnly(t)
	defer guardBefore(t)()
	r := startRun(t, "-f", testdata("core.yaml"), "-o", "json")
	r.waitPolicies(t)
	restart(t, "kube-apiserver", 3*time.Second)
	eventually(t, 2*time.Minute, func() string {
		if _, err := kubectlErr("get", "--raw", "/readyz"); err != nil {
			return "API server not back: " + err.Error()
		}
		return ""
	})
	checkVerdicts(t, r.exitCode(t, 5*time.Minute), r.stdout.String(), r.stderr.String())
	noLeftovers(t)
}

// The CNI agent restarted mid-run never yields a wrong pass or fail.
func TestCNIAgentRestartMidRun(t *testing.T) {
	localOnly(t)
	if *flagCNI != "cilium" || !*flagAgentRestart {
		// On 2026-12-05 pods created after this restart could not reach
		// the cluster DNS; since CoreDNS runs two replicas with requests and
		// the agent queues endpoint creations, later tests pass (2026-12-07).
		t.Skip("the enforcing Cilium mode only (and not with -agent-restart=false)")
	}
	defer guardBefore(t)()
	r := startRun(t, "-f", testdata("core.yaml"), "-o", "json")
	r.waitPolicies(t)
	restart(t, "cilium-agent", 0)
	checkVerdicts(t, r.exitCode(t, 8*time.Minute), r.stdout.String(), r.stderr.String())
	noLeftovers(t)
	// leave the cluster as the other tests expect it: the restarted agent
	// has regenerated its endpoints and enforces new policies promptly
	if *flagCNI == "cilium" {
		if out, err := exec.Command(filepath.Join(E.repo, "e2e/cluster/canary.sh")).CombinedOutput(); err != nil {
			t.Fatalf("after the agent restart, the canary failed: %v\n%s", err, out)
		}
	}
}

// checkVerdicts accepts a tool error (exit 2) or the verdicts the cluster
// mode must give: all met on an enforcing cluster, mismatches (exit 1) on a
// non-enforcing one, and never a blocked expectation passing there.
func checkVerdicts(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if code == results.ExitError {
		t.Logf("run ended in a tool error (accepted):\n%s", stderr)
		return
	}
	want := results.ExitMismatch
	if E.enforces {
		want = results.ExitOK
	}
	if code != want {
		t.Fatalf("exit %d, want %d (or 2)\n%s\n%s", code, want, stdout, stderr)
	}
	var rep results.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	for _, r := range rep.Results {
		if !E.enforces && r.Expected == results.Blocked && r.Status == results.Pass {
			t.Errorf("non-enforcing cluster, blocked expectation passed: %+v", r)
		}
	}
}
