//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	flagCNI        = flag.String("cni", "", "local cluster mode: cilium, none, cilium-noenforce or cilium-mixed")
	flagNodes      = flag.Int("nodes", 1, "how many nodes the local cluster has (NODES)")
	flagKubeconfig = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster under test")
	flagExternal   = flag.Bool("external", false, "run against any cluster (KUBECONFIG); CNI_ENFORCES=true|false says whether it enforces policy")
)

// env describes the cluster under test.
type env struct {
	kubeconfig string
	kubectl    string
	netverify  string
	enforces   bool
	local      bool // the local cluster of e2e/cluster: guard counter available
	cni        string
	nodes      int
	repo       string
}

var E env

func TestMain(m *testing.M) {
	flag.Parse()
	_, file, _, _ := runtime.Caller(0)
	E.repo = filepath.Dir(filepath.Dir(file))
	E.kubeconfig = *flagKubeconfig
	E.netverify = filepath.Join(E.repo, "bin", "netverify")
	switch {
	case *flagExternal:
		E.kubectl = "kubectl"
		E.enforces = os.Getenv("CNI_ENFORCES") != "false"
	case *flagCNI != "":
		E.local = true
		E.cni, E.nodes = *flagCNI, *flagNodes
		E.enforces = *flagCNI == "cilium"
		E.kubectl = "/var/lib/netverify-cluster/bin/kubectl"
	default:
		fmt.Fprintln(os.Stderr, "e2e: pass -cni=MODE (local cluster) or -external; run them with `make test`")
		os.Exit(2)
	}
	if E.kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "e2e: no kubeconfig")
		os.Exit(2)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(E.repo, "bin")+"/", "./cmd/netverify")
	build.Dir, build.Stdout, build.Stderr = E.repo, os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building netverify:", err)
		os.Exit(2)
	}
	code := m.Run()
	// after the whole suite, nothing labelled as a netverify run remains
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := leftovers("")
		if err == nil && out == "" {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "e2e: netverify objects remain after the suite (%v):\n%s\n", err, out)
			code = 1
			break
		}
		time.Sleep(time.Second)
	}
	os.Exit(code)
}

// kubectl runs the cluster's kubectl and returns stdout; it fails the test
// on error unless allowFail.
func kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := kubectlErr(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, E.kubectl, append([]string{"--kubeconfig", E.kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// apply applies a manifest.
func apply(t testing.TB, manifest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, E.kubectl, "--kubeconfig", E.kubeconfig, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, manifest)
	}
}

// guardCounter reads the local cluster's egress guard drop counter.
func guardCounter(t testing.TB) int {
	t.Helper()
	out, err := exec.Command(filepath.Join(E.repo, "e2e/cluster/guard.sh"), "counter").Output()
	if err != nil {
		t.Fatalf("reading the guard counter: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("guard counter %q: %v", out, err)
	}
	return n
}

// netverifyResult is one run of the binary.
type netverifyResult struct {
	stdout, stderr string
	code           int
}

// prefixFor is the namespace prefix of a test's netverify runs, so tests
// can run in parallel and each check only its own leftovers.
func prefixFor(t testing.TB) string {
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	return fmt.Sprintf("e%08x", h.Sum32())
}

func runNetverify(t testing.TB, stdin string, args ...string) netverifyResult {
	t.Helper()
	if len(args) > 0 && args[0] == "run" {
		extra := []string{"run", "--namespace-prefix", prefixFor(t)}
		if !E.enforces && !slices.Contains(args, "--match-budget") {
			// on a non-enforcing cluster every run waits out its budget; four
			// runs in parallel retrying for the default minute load two cores
			// so much that DNS lookups time out (see docs/ci.md)
			extra = append(extra, "--match-budget", "20s")
		}
		args = append(extra, args[1:]...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, E.netverify, append([]string{"--kubeconfig", E.kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	res := netverifyResult{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running netverify: %v", err)
	}
	return res
}

// dumpNamespace prints a namespace's pods, events and logs (on failure).
func dumpNamespace(t testing.TB, ns string) {
	t.Helper()
	for _, args := range [][]string{
		{"-n", ns, "get", "pods,svc,networkpolicies", "-o", "wide"},
		{"-n", ns, "get", "events", "--sort-by=.lastTimestamp"},
		{"-n", ns, "logs", "--all-containers", "--prefix", "-l", "e2e"},
	} {
		out, _ := kubectlErr(args...)
		t.Logf("kubectl %s:\n%s", strings.Join(args, " "), out)
	}
}

// noLeftovers asserts that none of the test's runs left a namespace.
func noLeftovers(t testing.TB) { noLeftoversPrefix(t, prefixFor(t)) }

// leftovers lists netverify run namespaces whose name starts with prefix
// (every run's when prefix is empty).
// (and their ClusterNetworkPolicies, whose names start the same way).
func leftovers(prefix string) (string, error) {
	const sel = "app.kubernetes.io/managed-by=netverify,netverify.io/run-id"
	out, err := kubectlErr("get", "namespaces", "-l", sel, "-o", "name")
	if err != nil {
		return out, err
	}
	cnps, err := clusterPolicies(sel)
	if err != nil {
		return cnps, err
	}
	// probe pods in existing namespaces (in place), named <prefix>-<run id>-…
	pods, err := kubectlErr("get", "pods", "-A", "-l", "netverify.io/run-id", "-o", "name")
	if err != nil {
		return pods, err
	}
	var left []string
	for _, n := range strings.Fields(out + " " + cnps + " " + pods) {
		_, name, _ := strings.Cut(n, "/")
		if strings.HasPrefix(name, prefix) {
			left = append(left, n)
		}
	}
	return strings.Join(left, "\n"), nil
}

// clusterPolicies lists the ClusterNetworkPolicies a label selector
// selects ("" on a cluster that does not serve the kind).
func clusterPolicies(sel string) (string, error) {
	out, err := kubectlErr("get", "clusternetworkpolicies.policy.networking.k8s.io", "-l", sel, "-o", "name")
	if err != nil && strings.Contains(out, "the server doesn't have a resource type") {
		return "", nil
	}
	return out, err
}

// noLeftoversRun asserts that nothing labelled with run id remains.
func noLeftoversRun(t testing.TB, id string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := kubectlErr("get", "namespaces", "-l", "netverify.io/run-id="+id, "-o", "name")
		if err == nil {
			var cnps string
			cnps, err = clusterPolicies("netverify.io/run-id=" + id)
			out += cnps
		}
		if err == nil && strings.TrimSpace(out) == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s left objects (%v):\n%s", id, err, out)
		}
		time.Sleep(time.Second)
	}
}

func noLeftoversPrefix(t testing.TB, prefix string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := leftovers(prefix + "-")
		if err == nil && out == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("netverify objects remain (%v):\n%s", err, out)
		}
		time.Sleep(time.Second)
	}
}

// notOnSecondNonEnforcing skips t on the cilium-noenforce mode. That mode
// exists to show the checks fail on Cilium's datapath with enforcement off
// (the smoke test, the core scenario, the built-in suite, the impostor, the
// agnhost fallback and the killed run run there); what t checks beyond that
// does not depend on which non-enforcing CNI runs it and is covered on the
// none mode, so running it twice would only cost CI time (docs/ci.md).
func notOnSecondNonEnforcing(t *testing.T) {
	t.Helper()
	if *flagCNI == "cilium-noenforce" {
		t.Skip("covered on the none mode: this check does not depend on which non-enforcing CNI runs it")
	}
}
