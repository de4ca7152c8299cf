package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/simulate"
	"github.com/spf13/cobra"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// webYAML's policy lets only the frontend reach the backend.
const webYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: web}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: frontend, labels: {app: frontend}}
  - {name: backend, labels: {app: backend}, ports: [{name: http, port: 8080}]}
  - {name: random, labels: {app: random}}
  policies:
  - metadata: {name: backend-allow-frontend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      policyTypes: [Ingress]
      ingress:
      - from: [{podSelector: {matchLabels: {app: frontend}}}]
        ports: [{port: 8080, protocol: TCP}]
  expect:
  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: random, to: backend, port: http, allowed: false}
`

// contradictingYAML expects allowed what its own policy blocks.
var contradictingYAML = strings.Replace(webYAML, "{from: random, to: backend, port: http, allowed: false}",
	"{from: random, to: backend, port: http, allowed: true}", 1)

// badYAML has an unknown field.
const badYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  namespaces: [{name: a}]
  pods: [{name: p, colour: red}]
  expect: [{from: p, to: p, port: "80", allowed: true}]
`

// writeFile writes content to name in a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// noCluster is an env whose every use fails the test: what must not touch
// a cluster runs with it.
func noCluster(t *testing.T) env {
	return env{
		Connect: func(context.Context) (*kube.Clients, error) {
			t.Error("Connect was called")
			return nil, errors.New("no cluster in this test")
		},
		NewExecutor: func(*kube.Clients) orchestrator.Executor {
			t.Error("NewExecutor was called")
			return nil
		},
	}
}

// simulatedCluster is an env that connects to a simulated cluster (tweaked
// by tweak), on virtual time, whose access reviews allow everything. The
// counter counts Connect calls.
func simulatedCluster(tweak func(*simulate.Cluster)) (env, *atomic.Int32) {
	var calls atomic.Int32
	clock := orchestrator.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sim := simulate.New()
	sim.Clock = clock
	if tweak != nil {
		tweak(sim)
	}
	allowAll(sim)
	return env{
		Connect: func(context.Context) (*kube.Clients, error) {
			calls.Add(1)
			return &kube.Clients{Clientset: sim.Client, Policies: sim.Policies, KubectlFlags: []string{"--context", "sim"}}, nil
		},
		NewExecutor: func(*kube.Clients) orchestrator.Executor { return sim },
		Clock:       clock,
		Context:     func() string { return "sim" },
	}, &calls
}

// allowAll makes the fake clientset's access reviews answer allowed (a fake
// clientset stores the first review as sent, not allowed, and refuses the
// next as already existing).
func allowAll(sim *simulate.Cluster) {
	sim.Client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = true
		return true, r, nil
	})
}

type outcome struct {
	stdout, stderr string
	code           int
	err            error
}

// execute runs `netverify run args…` through its cobra command, as the
// command line does.
func execute(t *testing.T, cmdFor func(kube.Streams) *cobra.Command, stdin string, args ...string) outcome {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := cmdFor(kube.Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&errOut)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return outcome{stdout: out.String(), stderr: errOut.String(), code: exitCode(err), err: err}
}

// with returns the command on e.
func with(e env) func(kube.Streams) *cobra.Command {
	return func(s kube.Streams) *cobra.Command { return newCommand(s, e) }
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *kube.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestInvalidFlagsBeforeAnyIO(t *testing.T) {
	t.Parallel()
	// a file that does not exist: were it read, the error would name it
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	cases := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"output format", []string{"-o", "yaml"}, `-o "yaml"`},
		{"mode", []string{"--mode", "parallel"}, `--mode "parallel"`},
		{"image-server without agnhost", []string{"--image-server", "x"}, "--image-server only applies with --mode agnhost"},
		{"empty image-probe", []string{"--image-probe", ""}, "--image-probe"},
		{"concurrency", []string{"--concurrency", "0"}, "--concurrency 0"},
		{"timeout", []string{"--timeout", "0s"}, "--timeout 0s: must be positive"},
		{"negative timeout", []string{"--timeout", "-1m"}, "--timeout -1m0s: must be positive"},
		{"probe-timeout", []string{"--probe-timeout", "0s"}, "--probe-timeout 0s: must be positive"},
		{"probe-timeout too long", []string{"--probe-timeout", "11m"}, "--probe-timeout 11m0s"},
		{"match-budget", []string{"--match-budget", "-1s"}, "--match-budget -1s: must be positive"},
		{"ready-timeout negative", []string{"--ready-timeout", "-1s"}, "--ready-timeout -1s: must be positive"},
		{"ready-timeout zero", []string{"--ready-timeout", "0s"}, "--ready-timeout 0s: must be positive"},
		{"history", []string{"--history", "-1"}, "--history -1"},
		{"expect", []string{"--expect", "cluster"}, `--expect "cluster"`},
		{"namespace-prefix empty", []string{"--namespace-prefix", ""}, `--namespace-prefix ""`},
		{"namespace-prefix too long", []string{"--namespace-prefix", "abcdefghijk"}, `--namespace-prefix "abcdefghijk"`},
		{"namespace-prefix upper case", []string{"--namespace-prefix", "NV"}, `--namespace-prefix "NV"`},
		{"namespace-prefix starts with a digit", []string{"--namespace-prefix", "1nv"}, `--namespace-prefix "1nv"`},
		{"namespace-prefix underscore", []string{"--namespace-prefix", "n_v"}, `--namespace-prefix "n_v"`},
		{"report-configmap without namespace", []string{"--report-configmap", "report"}, `--report-configmap "report"`},
		{"report-configmap two slashes", []string{"--report-configmap", "a/b/c"}, `--report-configmap "a/b/c"`},
		{"report-configmap bad namespace", []string{"--report-configmap", "Net_Verify/report"}, `--report-configmap "Net_Verify/report"`},
		{"report-configmap bad name", []string{"--report-configmap", "netverify/Report!"}, `--report-configmap "netverify/Report!"`},
		{"report-configmap empty name", []string{"--report-configmap", "netverify/"}, `--report-configmap "netverify/"`},
		{"pushgateway not a URL", []string{"--pushgateway", "pushgateway:9091"}, `--pushgateway "pushgateway:9091"`},
		{"pushgateway relative", []string{"--pushgateway", "/metrics"}, `--pushgateway "/metrics"`},
		{"pushgateway other scheme", []string{"--pushgateway", "ftp://gw"}, `--pushgateway "ftp://gw"`},
		{"toleration without key", []string{"--toleration", "=v:NoSchedule"}, `--toleration "=v:NoSchedule"`},
		{"toleration effect", []string{"--toleration", "k=v:Sometimes"}, `--toleration "k=v:Sometimes"`},
		{"toleration bad key", []string{"--toleration", "bad key:NoSchedule"}, `--toleration "bad key:NoSchedule"`},
		{"requests not a quantity", []string{"--requests", "cpu=lots"}, "--requests cpu=lots"},
		{"requests negative", []string{"--requests", "cpu=-5m"}, "--requests cpu=-5m: must not be negative"},
		{"limits not a quantity", []string{"--limits", "memory=big"}, "--limits memory=big"},
		{"limits negative", []string{"--limits", "memory=-1Mi"}, "--limits memory=-1Mi: must not be negative"},
		{"node-selector key", []string{"--node-selector", "bad key=v"}, "--node-selector bad key=v: key"},
		{"node-selector value", []string{"--node-selector", "zone=not ok"}, "--node-selector zone=not ok: value"},
		{"image-pull-secret", []string{"--image-pull-secret", "a/b/c"}, `--image-pull-secret "a/b/c"`},
		{"metadata-ip three", []string{"--metadata-ip", "10.0.0.1,10.0.0.2,10.0.0.3"}, "--metadata-ip: give one or two addresses, got 3"},
		{"metadata-ip not an IP", []string{"--metadata-ip", "metadata.internal"}, `--metadata-ip "metadata.internal"`},
		{"external-target not an IP", []string{"--external-target", "example.com"}, `--external-target "example.com"`},
		{"dry-run with report-configmap", []string{"--dry-run", "--report-configmap", "netverify/report"}, "--report-configmap cannot be used with --dry-run"},
		{"dry-run with pushgateway", []string{"--dry-run", "--pushgateway", "http://gw:9091"}, "--pushgateway cannot be used with --dry-run"},
		{"dry-run with keep", []string{"--dry-run", "--keep"}, "--keep cannot be used with --dry-run"},
		{"dry-run with agnhost", []string{"--dry-run", "--mode", "agnhost"}, "--mode agnhost cannot be used with --dry-run"},
		{"placement", []string{"--placement", "everywhere"}, `--placement "everywhere": want spread or scheduler`},
		{"nodes not a selector", []string{"--nodes", "pool in ("}, `--nodes "pool in (": not a label selector`},
		{"nodes with scheduler placement", []string{"--nodes", "pool=a", "--placement", "scheduler"}, "leave out --placement=scheduler"},
		{"nodes with dry-run", []string{"--nodes", "pool=a", "--dry-run"}, "--nodes cannot be used with --dry-run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := execute(t, with(noCluster(t)), "", append([]string{"-f", missing}, tc.args...)...)
			if got.code != 2 {
				t.Fatalf("exit %d (%v), want 2", got.code, got.err)
			}
			msg := errText(got.err)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error does not name the flag: want %q in\n%s", tc.want, msg)
			}
			if strings.Contains(msg, "missing.yaml") {
				t.Errorf("the scenario file was read before the flags were validated:\n%s", msg)
			}
			if got.stdout != "" {
				t.Errorf("stdout %q, want nothing", got.stdout)
			}
		})
	}
}

// A negative match budget is a problem of --match-budget, not of --timeout.
func TestMatchBudgetIsItsOwnProblem(t *testing.T) {
	t.Parallel()
	got := execute(t, with(noCluster(t)), "", "--match-budget", "-1s")
	if msg := errText(got.err); got.code != 2 || strings.Contains(msg, "--timeout") || strings.Contains(msg, "--probe-timeout") {
		t.Fatalf("exit %d, error %q: want exit 2 about --match-budget only", got.code, msg)
	}
}

func TestAllFlagProblemsAtOnce(t *testing.T) {
	t.Parallel()
	got := execute(t, with(noCluster(t)), "", "-o", "yaml", "--concurrency", "0", "--match-budget", "-1s",
		"--ready-timeout", "-1s", "--namespace-prefix", "NV", "--metadata-ip", "x", "--requests", "cpu=-1")
	if got.code != 2 {
		t.Fatalf("exit %d, want 2", got.code)
	}
	for _, want := range []string{`-o "yaml"`, "--concurrency", "--match-budget", "--ready-timeout", "--namespace-prefix", "--metadata-ip", "--requests"} {
		if !strings.Contains(errText(got.err), want) {
			t.Errorf("error lacks %q:\n%v", want, got.err)
		}
	}
}

func TestValidFlagsPass(t *testing.T) {
	t.Parallel()
	e, calls := simulatedCluster(nil)
	got := execute(t, with(e), "", "--scenario", "frontend-backend",
		"--namespace-prefix", "nv-ci", "--report-configmap", "netverify/netverify-report",
		"--toleration", "node-role.kubernetes.io/control-plane:NoSchedule", "--toleration", "dedicated=probes:",
		"--node-selector", "kubernetes.io/os=linux", "--requests", "cpu=10m,memory=32Mi", "--limits", "memory=128Mi",
		"--image-pull-secret", "registry", "--match-budget", "30s", "--history", "1",
		"--metadata-ip", "169.254.169.254", "--external-target", "198.51.100.7")
	if got.code != 0 {
		t.Fatalf("exit %d (%v), want 0\nstderr: %s", got.code, got.err, got.stderr)
	}
	if calls.Load() != 1 {
		t.Errorf("Connect called %d times, want 1", calls.Load())
	}
}

func TestLoadingErrorsBeforeConnecting(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yaml", badYAML)
	web := writeFile(t, "web.yaml", webYAML)
	builtinName := writeFile(t, "builtin.yaml", strings.Replace(webYAML, "{name: web}", "{name: frontend-backend}", 1))
	cases := []struct {
		name  string
		args  []string
		stdin string
		want  []string
	}{
		{"bad scenario file", []string{"-f", bad}, "", []string{"bad.yaml", "colour"}},
		{"bad scenario on stdin", []string{"-f", "-"}, badYAML, []string{"colour"}},
		{"missing file", []string{"-f", filepath.Join(t.TempDir(), "nope.yaml")}, "", []string{"nope.yaml"}},
		{"defined twice", []string{"-f", builtinName, "--builtin"}, "", []string{`scenario "frontend-backend" is defined twice`, "builtin.yaml", "--builtin"}},
		{"unknown --scenario", []string{"--scenario", "nope"}, "", []string{`no scenario named "nope"`}},
		{"unknown --skip", []string{"-f", web, "--skip", "nope"}, "", []string{`no scenario named "nope"`}},
		{"everything skipped", []string{"-f", web, "--skip", "web"}, "", []string{"no scenarios to run"}},
		{"bad file with --dry-run", []string{"--dry-run", "-f", bad}, "", []string{"bad.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := execute(t, with(noCluster(t)), tc.stdin, tc.args...)
			if got.code != 2 {
				t.Fatalf("exit %d (%v), want 2", got.code, got.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(errText(got.err), w) {
					t.Errorf("error lacks %q: %v", w, got.err)
				}
			}
			if got.stdout != "" {
				t.Errorf("stdout %q, want nothing", got.stdout)
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	contradicting := writeFile(t, "contradicting.yaml", contradictingYAML)
	web := writeFile(t, "web.yaml", webYAML)
	cases := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr []string
	}{
		{name: "built-in suite", code: 0,
			inStdout: []string{"allow-dns", "PASSED: 39 of 41 expectations passed, 2 skipped"},
			inStderr: []string{wideHint}},
		{name: "built-in suite, wide", args: []string{"-o", "wide"}, code: 0,
			inStdout: []string{"DECIDED BY", "frontend-backend", "allowed by", "PASSED: "}},
		{name: "built-in suite, expectations from the policies", args: []string{"--expect", "policies", "-o", "wide"}, code: 0,
			inStdout: []string{"DECIDED BY", "PASSED: "}},
		{name: "own scenario", args: []string{"-f", web}, code: 0,
			inStdout: []string{"web", "PASSED: 2 of 2 expectations passed"}},
		{name: "expectation contradicting the policy", args: []string{"-f", contradicting}, code: 1,
			inStdout: []string{"✗ [fail]", "app/random → app/backend", "expected allowed, got BLOCKED"},
			inStderr: []string{"lint:"}},
		{name: "per-probe mode", args: []string{"-f", web, "--mode", "per-probe"}, code: 0,
			inStdout: []string{"PASSED: 2 of 2 expectations passed"}},
		{name: "markdown", args: []string{"-f", web, "-o", "markdown"}, code: 0,
			inStdout: []string{"| Status |"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := execute(t, with(noCluster(t)), "", append([]string{"--dry-run"}, tc.args...)...)
			if got.code != tc.code {
				t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", got.code, got.err, tc.code, got.stdout, got.stderr)
			}
			for _, w := range tc.inStdout {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, got.stdout)
				}
			}
			for _, w := range append([]string{dryRunNote}, tc.inStderr...) {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stdout, "kubectl exec") {
				t.Errorf("a dry run has no pod to exec into, but stdout has a repro line:\n%s", got.stdout)
			}
		})
	}
}

// --dry-run needs no kubeconfig: through the real command, with one that
// does not exist, it still runs; without --dry-run the same flags fail on
// the kubeconfig.
func TestDryRunNeedsNoKubeconfig(t *testing.T) {
	t.Parallel()
	kubeconfig := filepath.Join(t.TempDir(), "missing-kubeconfig")
	real := func(s kube.Streams) *cobra.Command {
		kf := kube.NewFlags()
		*kf.KubeConfig = kubeconfig
		return NewCommand(s, kf)
	}
	if got := execute(t, real, "", "--dry-run", "--scenario", "default-deny", "-o", "wide"); got.code != 0 || !strings.Contains(got.stdout, "DECIDED BY") {
		t.Errorf("--dry-run: exit %d (%v), stdout:\n%s", got.code, got.err, got.stdout)
	}
	if got := execute(t, real, "", "--scenario", "default-deny"); got.code != 2 || !strings.Contains(errText(got.err), "missing-kubeconfig") {
		t.Errorf("without --dry-run: exit %d (%v), want 2 naming the kubeconfig", got.code, got.err)
	}
}

func TestDryRunJSON(t *testing.T) {
	t.Parallel()
	got := execute(t, with(noCluster(t)), "", "--dry-run", "-o", "json")
	if got.code != 0 {
		t.Fatalf("exit %d (%v)\n%s", got.code, got.err, got.stderr)
	}
	var rep struct {
		Summary struct{ Total, Passed, Failed int }
		Results []struct {
			Scenario, To, Status, DecidedBy, Repro string
		}
	}
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, got.stdout)
	}
	if rep.Summary.Total == 0 || rep.Summary.Total != len(rep.Results) || rep.Summary.Failed != 0 {
		t.Errorf("summary %+v for %d results", rep.Summary, len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Repro != "" {
			t.Errorf("%s → %s: repro %q in a dry run", r.Scenario, r.To, r.Repro)
		}
		// every result names the rule that decided it, or was skipped
		if r.DecidedBy == "" && r.Status != "skipped" {
			t.Errorf("%s → %s: status %s without decidedBy", r.Scenario, r.To, r.Status)
		}
	}
}

// A full run, as on a cluster: through the injected connection and
// executor, with the access check, on a simulated cluster.
func TestRunOnInjectedCluster(t *testing.T) {
	t.Parallel()
	web := writeFile(t, "web.yaml", webYAML)
	ignoring := func(c *simulate.Cluster) { c.IgnorePolicies = true }
	cases := []struct {
		name     string
		tweak    func(*simulate.Cluster)
		args     []string
		code     int
		inStdout []string
	}{
		{name: "built-in suite", code: 0, inStdout: []string{"PASSED: 39 of 41 expectations passed, 2 skipped"}},
		{name: "built-in suite, JSON", args: []string{"-o", "json"}, code: 0, inStdout: []string{`"failed": 0`}},
		{name: "a CNI that ignores policies", tweak: ignoring, code: 1,
			inStdout: []string{"expected blocked, got ALLOWED"}},
		{name: "own scenario on a CNI that ignores policies", tweak: ignoring, args: []string{"-f", web}, code: 1,
			inStdout: []string{"app/random → app/backend",
				"\n    reproduce (namespace removed after the run; rerun with --keep=on-failure): kubectl --context sim exec"}},
		{name: "expectations from the policies", args: []string{"--expect", "policies", "-f", web}, code: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, calls := simulatedCluster(tc.tweak)
			got := execute(t, with(e), "", tc.args...)
			if got.code != tc.code {
				t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", got.code, got.err, tc.code, got.stdout, got.stderr)
			}
			for _, w := range tc.inStdout {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, got.stdout)
				}
			}
			if calls.Load() != 1 {
				t.Errorf("Connect called %d times, want 1", calls.Load())
			}
			if strings.Contains(got.stderr, dryRunNote) {
				t.Errorf("a real run printed the dry-run note")
			}
		})
	}
}

func TestMissingPermissions(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sim := simulate.New()
	sim.Clock = clock
	sim.Client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = r.Spec.ResourceAttributes.Resource != "configmaps"
		return true, r, nil
	})
	e := env{
		Connect: func(context.Context) (*kube.Clients, error) { return &kube.Clients{Clientset: sim.Client}, nil },
		NewExecutor: func(*kube.Clients) orchestrator.Executor {
			t.Error("NewExecutor called without the permissions")
			return sim
		},
		Clock: clock,
	}
	got := execute(t, with(e), "", "--report-configmap", "netverify/report")
	if got.code != 2 || !strings.Contains(errText(got.err), "missing RBAC permissions") ||
		!strings.Contains(errText(got.err), "create configmaps in namespace netverify") {
		t.Fatalf("exit %d (%v), want 2 naming the missing permissions", got.code, got.err)
	}
	nss, err := sim.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nss.Items) != 1 { // kube-system only
		t.Errorf("%d namespaces after a refused run, want only kube-system", len(nss.Items))
	}
}

func TestExpectPoliciesLeavesScenariosAlone(t *testing.T) {
	t.Parallel()
	o := &options{streams: kube.Streams{In: strings.NewReader(webYAML), ErrOut: &bytes.Buffer{}},
		files: []string{"-"}, expect: expectScenario}
	if err := o.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	orig := o.scs[0]
	before := len(orig.Spec.Expect)
	out, err := fromPolicies(o.scs)
	if err != nil {
		t.Fatal(err)
	}
	if out[0] == orig || len(orig.Spec.Expect) != before {
		t.Errorf("fromPolicies changed its input: %d expectations, had %d", len(orig.Spec.Expect), before)
	}
	if len(out[0].Spec.Expect) <= before {
		t.Errorf("%d expectations from the policies, want more than the %d hand-written", len(out[0].Spec.Expect), before)
	}
}

// A live run of a scenario with clusterNetworkPolicies creates them
// confined to the scenario's own namespaces, under run-unique names, checks
// every expectation, and leaves none behind.
func TestLiveClusterPolicies(t *testing.T) {
	t.Parallel()
	file := "../../../scenarios/testdata/valid/cluster-network-policies.yaml"
	var created []cnpv1.ClusterNetworkPolicy
	var mu sync.Mutex
	e, _ := simulatedCluster(func(c *simulate.Cluster) {
		c.Policies.PrependReactor("create", "clusternetworkpolicies", func(a k8stesting.Action) (bool, runtime.Object, error) {
			mu.Lock()
			defer mu.Unlock()
			if ca, ok := a.(k8stesting.CreateActionImpl); !ok || !slices.Contains(ca.GetCreateOptions().DryRun, metav1.DryRunAll) {
				created = append(created, *a.(k8stesting.CreateAction).GetObject().(*cnpv1.ClusterNetworkPolicy).DeepCopy())
			}
			return false, nil, nil
		})
		e := c // (the tweak's cluster, to check what is left)
		t.Cleanup(func() {
			left, err := e.Policies.PolicyV1alpha2().ClusterNetworkPolicies().List(context.Background(), metav1.ListOptions{})
			if err != nil || len(left.Items) != 0 {
				t.Errorf("%d ClusterNetworkPolicies left after the run (%v)", len(left.Items), err)
			}
		})
	})
	got := execute(t, with(e), "", "-f", file)
	if got.code != 0 {
		t.Fatalf("exit %d (%v), want 0\nstdout:\n%s\nstderr:\n%s", got.code, got.err, got.stdout, got.stderr)
	}
	if len(created) != 3 {
		t.Fatalf("%d ClusterNetworkPolicies created, want the scenario's 3", len(created))
	}
	for _, c := range created {
		id := c.Labels[orchestrator.LabelRunID]
		if id == "" || !strings.HasPrefix(c.Name, "nv-"+id+"-1-") || c.Annotations[orchestrator.AnnotationScenarioPolicy] == "" {
			t.Errorf("ClusterNetworkPolicy %q (labels %v): want the run's name, label and the scenario's name", c.Name, c.Labels)
		}
		sel := c.Spec.Subject.Namespaces
		if c.Spec.Subject.Pods != nil {
			sel = &c.Spec.Subject.Pods.NamespaceSelector
		}
		confined := false
		for _, r := range sel.MatchExpressions {
			if r.Key == corev1.LabelMetadataName && r.Operator == metav1.LabelSelectorOpIn &&
				slices.Equal(r.Values, []string{"nv-" + id + "-1-app", "nv-" + id + "-1-other"}) {
				confined = true
			}
		}
		if !confined {
			t.Errorf("ClusterNetworkPolicy %q: subject %+v is not confined to the scenario's namespaces", c.Name, c.Spec.Subject)
		}
	}
}

// On a cluster that does not serve ClusterNetworkPolicy, scenarios that
// declare some are skipped with the reason and nothing is created for them;
// the others run.
func TestClusterPoliciesNotServed(t *testing.T) {
	t.Parallel()
	file := "../../../scenarios/testdata/valid/cluster-network-policies.yaml"
	var sim *simulate.Cluster
	e, _ := simulatedCluster(func(c *simulate.Cluster) { c.Client.Resources = nil; sim = c })
	got := execute(t, with(e), webYAML, "-f", file, "-f", "-", "-o", "json")
	var rep results.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("exit %d (%v): %v\n%s\n%s", got.code, got.err, err, got.stdout, got.stderr)
	}
	skipped, ran := 0, 0
	for _, r := range rep.Results {
		switch {
		case r.Scenario == "cluster-network-policies":
			skipped++
			if r.Status != results.Skipped || !strings.Contains(r.Reason, "does not serve ClusterNetworkPolicy") {
				t.Errorf("%s → %s: %s (%s), want skipped: the kind is not served", r.From, r.To, r.Status, r.Reason)
			}
		case r.Status == results.Pass:
			ran++
		}
	}
	if skipped != 5 || ran == 0 {
		t.Errorf("%d results of the ClusterNetworkPolicy scenario (want 5 skipped), %d others passed (want some)", skipped, ran)
	}
	for _, a := range sim.Client.Actions() {
		if ca, ok := a.(k8stesting.CreateAction); ok && a.GetResource().Resource == "namespaces" {
			if ns := ca.GetObject().(*corev1.Namespace); ns.Labels[orchestrator.LabelScenario] == "cluster-network-policies" {
				t.Errorf("namespace %s created for a skipped scenario", ns.Name)
			}
		}
	}
}

// The cluster's own ClusterNetworkPolicies: a scenario's priorities move off
// theirs, and a connection one of them decides is checked as it decides it,
// with a reason naming it — a guardrail is not a CNI failure.
func TestClusterOwnClusterPolicies(t *testing.T) {
	t.Parallel()
	guard := &cnpv1.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "platform-deny-client"},
		Spec: cnpv1.ClusterNetworkPolicySpec{
			Tier: cnpv1.AdminTier, Priority: 10,
			Subject: cnpv1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
			Ingress: []cnpv1.ClusterNetworkPolicyIngressRule{{Name: "no-client", Action: cnpv1.ClusterNetworkPolicyRuleActionDeny,
				From: []cnpv1.ClusterNetworkPolicyIngressPeer{{Pods: &cnpv1.NamespacedPod{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}}}}},
		},
	}
	var created []cnpv1.ClusterNetworkPolicy
	var mu sync.Mutex
	e, _ := simulatedCluster(func(c *simulate.Cluster) {
		if _, err := c.Policies.PolicyV1alpha2().ClusterNetworkPolicies().Create(context.Background(), guard, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		c.Policies.PrependReactor("create", "clusternetworkpolicies", func(a k8stesting.Action) (bool, runtime.Object, error) {
			mu.Lock()
			defer mu.Unlock()
			if ca, ok := a.(k8stesting.CreateActionImpl); !ok || !slices.Contains(ca.GetCreateOptions().DryRun, metav1.DryRunAll) {
				created = append(created, *a.(k8stesting.CreateAction).GetObject().(*cnpv1.ClusterNetworkPolicy).DeepCopy())
			}
			return false, nil, nil
		})
	})
	const yaml = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: guarded}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: web, labels: {app: web}, ports: [{port: 80}]}
  - {name: client, labels: {app: client}}
  - {name: other}
  clusterNetworkPolicies:
  - metadata: {name: accept-other}
    spec:
      tier: Admin
      priority: 10
      subject: {namespaces: {}}
      ingress: [{name: other, action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}}]}]
  expect:
  - {from: client, to: web, port: 80, allowed: true}
  - {from: other, to: web, port: 80, allowed: true}
`
	got := execute(t, with(e), yaml, "-f", "-", "-o", "json")
	var rep results.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("exit %d (%v): %v\n%s\n%s", got.code, got.err, err, got.stdout, got.stderr)
	}
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	if len(created) != 1 || created[0].Spec.Priority != 11 {
		t.Errorf("created %+v, want accept-other at Admin priority 11 (10 is the cluster's own)", created)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want 2", len(rep.Results))
	}
	r := rep.Results[0] // client → web: the cluster's guardrail
	if r.Status != results.Pass || r.Expected != results.Blocked ||
		!strings.Contains(r.Reason, "the cluster's own ClusterNetworkPolicies decide") || !strings.Contains(r.Reason, "platform-deny-client") {
		t.Errorf("client → web: %s, expected %s (%s); want a pass, blocked by the cluster's policy, saying so", r.Status, r.Expected, r.Reason)
	}
	if r := rep.Results[1]; r.Status != results.Pass || strings.Contains(r.Reason, "cluster's own") {
		t.Errorf("other → web: %s (%s); want a plain pass", r.Status, r.Reason)
	}
	if !strings.Contains(got.stderr, `note: scenario "guarded": the cluster's own ClusterNetworkPolicies decide 1 of its 2 connections`) {
		t.Errorf("no note on stderr:\n%s", got.stderr)
	}
}

// --dry-run evaluates a scenario's clusterNetworkPolicies: its expectations
// (an Admin Deny over a NetworkPolicy allow, Pass, Baseline Deny) all pass,
// and -o wide names the deciding policy, tier and rule.
func TestDryRunClusterPolicies(t *testing.T) {
	t.Parallel()
	file := "../../../scenarios/testdata/valid/cluster-network-policies.yaml"
	for _, args := range [][]string{{"-o", "wide"}, {"-o", "wide", "--expect", "policies"}} {
		got := execute(t, with(noCluster(t)), "", append([]string{"--dry-run", "-f", file}, args...)...)
		if got.code != 0 {
			t.Fatalf("%v: exit %d (%v), want 0\nstdout:\n%s\nstderr:\n%s", args, got.code, got.err, got.stdout, got.stderr)
		}
		for _, w := range []string{`admin policy "deny-other-to-web"`, `"deny-other": Deny`, `baseline policy "baseline-deny"`, "PASSED: "} {
			if !strings.Contains(got.stdout, w) {
				t.Errorf("%v: stdout lacks %q:\n%s", args, w, got.stdout)
			}
		}
	}
}
