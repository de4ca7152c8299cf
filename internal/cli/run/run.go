// Package run is `netverify run`: load scenarios, run them on the cluster
// (or, with --dry-run, on a simulated one), print the report, exit with the
// verdict.
//
// The command goes complete → validate → load → run: complete fills the
// defaults that depend on other flags, validate checks every flag and
// touches nothing, load reads the scenario files and the built-in suite,
// and only run connects to a cluster. So a bad flag never costs a file
// read, and a bad flag or a bad file never costs an API call.
package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/netverify/netverify/inclusterreport"
	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/cli/rangeflags"
	"github.com/netverify/netverify/internal/version"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/policyreport"
	"github.com/netverify/netverify/report"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/netverify/netverify/simulate"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/dynamic"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// Permissions are what `netverify run` needs, cluster-wide.
var Permissions = []kube.Permission{
	{Verb: "create", Resource: "namespaces"}, {Verb: "delete", Resource: "namespaces"},
	{Verb: "get", Resource: "namespaces"}, {Verb: "patch", Resource: "namespaces"},
	{Verb: "create", Resource: "pods"}, {Verb: "list", Resource: "pods"},
	{Verb: "create", Resource: "pods", Subresource: "exec"}, {Verb: "get", Resource: "pods", Subresource: "exec"},
	{Verb: "create", Resource: "services"}, {Verb: "get", Resource: "serviceaccounts"},
	{Verb: "create", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "list", Resource: "events"},
}

// dryRunNote is printed on stderr by every --dry-run.
const dryRunNote = "dry run: observations computed from the policies by the semantics engine; nothing was created on any cluster"

// wideHint follows dryRunNote when the table has no room for the rules.
const wideHint = "dry run: -o wide shows the policy rule that decides each row"

// env is what a run takes from outside the process: the cluster connection,
// the executor of probe commands and the clock. NewCommand gives the real
// ones; tests give a simulated cluster.
type env struct {
	// Connect returns the clients of the cluster to run on
	// (kube.Flags.Connect). --dry-run never calls it.
	Connect func(ctx context.Context) (*kube.Clients, error)
	// NewExecutor returns what runs the probe program in the pods of the
	// cluster Connect returned (orchestrator.APIExecutor: pods/exec through
	// the API server).
	NewExecutor func(*kube.Clients) orchestrator.Executor
	// Clock times the run's budgets and pauses; the wall clock when nil.
	Clock orchestrator.Clock
	// Context names the kubeconfig context Connect uses, for the report;
	// "" when unknown (the in-cluster configuration). Nil: unknown.
	Context func() string
	// Getenv reads the environment (NO_COLOR); os.Getenv when nil.
	Getenv func(string) string
	// IsTerminal says whether a stream is a terminal (colour, progress);
	// the real check of an *os.File when nil.
	IsTerminal func(any) bool
}

// realEnv is the real cluster named by the kubectl-style flags.
func realEnv(kf *kube.Flags) env {
	return env{
		Connect: kf.Connect,
		NewExecutor: func(c *kube.Clients) orchestrator.Executor {
			return &orchestrator.APIExecutor{Config: c.Config, Client: c.Clientset}
		},
		Context: func() string { return contextName(kf) },
	}
}

// contextName is the kubeconfig context the flags select: --context, else
// the kubeconfig's current context; "" when there is none (in a pod).
func contextName(kf *kube.Flags) string {
	if kf.Context != nil && *kf.Context != "" {
		return *kf.Context
	}
	raw, err := kf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return ""
	}
	return raw.CurrentContext
}

type options struct {
	streams kube.Streams
	env     env
	ranges  rangeflags.Flags // --pod-cidr, --service-cidr

	files             []string
	builtin           bool
	only, skip        []string
	output            string
	dryRun            bool
	concurrency       int
	timeout           time.Duration
	probeTimeout      time.Duration
	matchBudget       time.Duration
	readyTimeout      time.Duration
	keep              string
	imageProbe        string
	imageServer       string
	mode              string
	nodeSelector      map[string]string
	nodes             string // --nodes: a label selector of the nodes to spread probe pods over
	placementMode     string // --placement: spread or scheduler
	tolerations       []string
	pullSecrets       []string
	requests, limits  map[string]string
	namespacePrefix   string
	allowInconclusive bool
	allowSkipped      bool
	onlyFailures      bool
	expect            string
	reportConfigMap   string
	historySize       int
	pushgateway       string
	metadataIPs       []string
	externalTarget    string
	namespaces        []string // -n: check these existing namespaces in place (zero-config)
	allNamespaces     bool     // -A
	excludeNamespaces []string
	findings          []string // of the live policies (zero-config), for the report
	policyReports     bool

	cleanupCommand string // how the user runs cleanup (under kubectl: kubectl netverify cleanup)

	// filled by validate (parsed flags) and load (the scenarios to run)
	placement orchestrator.Placement
	scs       []*scenarios.Scenario
}

// NewCommand returns `netverify run`.
func NewCommand(streams kube.Streams, kf *kube.Flags) *cobra.Command {
	return newCommand(streams, realEnv(kf))
}

func newCommand(streams kube.Streams, e env) *cobra.Command {
	o := &options{streams: streams, env: e}
	cmd := &cobra.Command{
		Use:   "run [-f FILE|DIR|-]...",
		Short: "Run scenarios on the cluster and compare what was observed with what was expected",
		Long: `Run creates fresh namespaces, probe pods and services for each scenario,
applies its NetworkPolicies, probes every expected connection from inside the
pods, and reports a verdict per expectation. With no -f it runs the built-in suite.

With --dry-run the same pipeline runs on a simulated cluster whose answers
are computed from the policies by the semantics engine: the expected table
(-o wide adds the rule that decides each row). It needs no cluster and
creates nothing.

Output (-o): table, at most 120 columns wide, mismatches first, then one
entry per mismatch with the kubectl exec command that reproduces it, then the
verdict (PASSED, FAILED, ERROR, INCONCLUSIVE or NOTHING CHECKED) and the
counts; wide adds each row's reason, attempts, latency and the pod that
answered; json, junit and markdown are for programs, CI and PR comments.
--only-failures trims table, wide and markdown to the failed, broken and
inconclusive rows; json and junit always carry every result.

The run's namespaces are deleted at the end, so the reproduce commands only
work with --keep=on-failure (keep them when something failed) or --keep
(always); remove them later with '` + cliname.Placeholder + ` cleanup'.

Exit codes: 0 all expectations met; 1 an expectation failed (or was
inconclusive), or nothing was checked (every expectation skipped) unless
--allow-skipped; 2 a tool or input error, or a probe that broke.`,
		Example: `  # Run the built-in suite on the current kubectl context
  ` + cliname.Placeholder + ` run

  # Check a live namespace in place: its own policies on its own workloads
  ` + cliname.Placeholder + ` run -n production -o wide

  # Run your own scenarios (a file, a directory, or - for stdin)
  ` + cliname.Placeholder + ` run -f scenarios/

  # See what the policies should allow, without a cluster
  ` + cliname.Placeholder + ` run --dry-run -f scenarios/ -o wide

  # Only some built-in scenarios; show only what went wrong
  ` + cliname.Placeholder + ` run --scenario default-deny,egress-restriction --only-failures

  # Machine-readable: the failed and broken expectations, and how to reproduce them
  ` + cliname.Placeholder + ` run -o json | jq '.results[] | select(.status == "fail" or .status == "error") | {scenario, from, to, port, reason, repro}'

  # In CI: JUnit for the test report, the namespaces kept when something fails
  ` + cliname.Placeholder + ` run -f scenarios/ -o junit --keep=on-failure > netverify.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && slices.Contains(orchestrator.KeepModes(), orchestrator.KeepMode(args[0])) && cmd.Flags().Changed("keep") {
				return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("unexpected argument %q: write --keep=%s (--keep alone means always)", args[0], args[0])}
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.cleanupCommand = cliname.Command(cmd, "cleanup")
			o.complete()
			if err := o.validate(); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			if err := o.load(cmd.Context()); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, "scenario file, directory or - for stdin (repeatable)")
	f.BoolVar(&o.builtin, "builtin", false, "also run the built-in suite when -f is given")
	f.StringSliceVar(&o.only, "scenario", nil, "run only the named scenarios (comma-separated, repeatable)")
	f.StringSliceVar(&o.skip, "skip", nil, "skip the named scenarios (comma-separated, repeatable)")
	f.StringArrayVarP(&o.namespaces, "namespace", "n", nil, "check this existing namespace in place: its live policies on its own workloads, every row computed by the semantics engine (repeatable; no built-in suite unless --builtin)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "check every namespace in place (but --exclude-namespace and netverify's own)")
	f.StringArrayVar(&o.excludeNamespaces, "exclude-namespace", []string{"kube-system", "kube-public", "kube-node-lease"}, "with --all-namespaces: leave this namespace out (repeatable)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(outputFormats(), "|"))
	f.BoolVar(&o.onlyFailures, "only-failures", false, "table, wide and markdown show only failed, broken and inconclusive rows (the summary still counts all); no effect on json and junit")
	f.BoolVar(&o.dryRun, "dry-run", false, "run on a simulated cluster: the table expected from the policies (-o wide adds the deciding rule); no cluster needed, nothing created")
	f.IntVar(&o.concurrency, "concurrency", 16, "exec calls in flight at once")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up the whole run after this long (cleanup still runs)")
	f.DurationVar(&o.probeTimeout, "probe-timeout", time.Second, "timeout of one connection attempt")
	f.DurationVar(&o.matchBudget, "match-budget", orchestrator.DefaultMatchBudget, "after policies are applied, retry a mismatching probe for this long: how long the CNI may take to enforce (slow enforcement is reported, not failed)")
	f.DurationVar(&o.readyTimeout, "ready-timeout", 2*time.Minute, "how long the wait for Ready probe pods may go without one becoming Ready (a slow but progressing cluster is waited for)")
	f.StringVar(&o.keep, "keep", string(orchestrator.KeepNever), "leave the run's namespaces for debugging and the reproduce commands: always, on-failure (when an expectation failed, broke or was inconclusive) or never; --keep alone means always")
	f.Lookup("keep").NoOptDefVal = string(orchestrator.KeepAlways)
	f.StringVar(&o.imageProbe, "image-probe", version.ProbeImage(), "probe image (holds /netverify-probe; serves and probes); set it for your own registry")
	f.StringVar(&o.imageServer, "image-server", "", "with --mode agnhost: image of the server containers (default: the probe image)")
	f.StringVar(&o.mode, "mode", orchestrator.ModeBatch, "probe mode: batch (one exec per source pod per round), per-probe, or agnhost (fallback on the upstream agnhost image: no identity check, no DNS probes)")
	f.StringToStringVar(&o.nodeSelector, "node-selector", nil, "node selector for probe pods (k=v,...)")
	f.StringVar(&o.nodes, "nodes", "", "label selector of the nodes to spread probe pods over (e.g. pool=blue, or kubernetes.io/hostname=node-2 for one node); it must match an eligible node")
	f.StringVar(&o.placementMode, "placement", placementSpread, "spread: every probe pod once per eligible node (Ready, schedulable, matching --node-selector and --nodes, taints tolerated), probes on same-node and cross-node pairs; scheduler: one pod each, placed by the scheduler")
	f.StringArrayVar(&o.tolerations, "toleration", nil, "toleration for probe pods: key[=value]:Effect (repeatable)")
	f.StringArrayVar(&o.pullSecrets, "image-pull-secret", nil, "image pull secret NAMESPACE/NAME, copied into each run namespace for probe pods (repeatable)")
	f.StringToStringVar(&o.requests, "requests", map[string]string{"cpu": "5m", "memory": "16Mi"}, "resource requests of probe pods")
	f.StringToStringVar(&o.limits, "limits", map[string]string{"memory": "64Mi"}, "resource limits of probe pods")
	f.StringVar(&o.namespacePrefix, "namespace-prefix", "nv", "prefix of the namespaces a run creates")
	f.StringVar(&o.reportConfigMap, "report-configmap", "", "also write the result and a bounded history to this ConfigMap (NAMESPACE/NAME), with a Warning Event on mismatches")
	f.IntVar(&o.historySize, "history", 20, "runs kept in the report ConfigMap's history")
	f.BoolVar(&o.policyReports, "policy-reports", false, "write the in-place results into each checked namespace as policy reports (openreports.io Report and wgpolicyk8s.io PolicyReport, those the cluster serves), replacing the previous run's")
	f.StringVar(&o.pushgateway, "pushgateway", "", "push netverify_* metrics to this Prometheus Pushgateway URL")
	f.StringVar(&o.expect, "expect", expectScenario, "where expectations come from: scenario (hand-written) or policies (every pod pair × declared port, computed by the semantics engine)")
	f.StringSliceVar(&o.metadataIPs, "metadata-ip", []string{scenarios.MetadataIP, scenarios.MetadataIPAlibaba}, "cloud metadata addresses the built-in suite checks (one or two)")
	f.StringVar(&o.externalTarget, "external-target", scenarios.ExternalTargetIP, "outside address (TCP 443) the built-in suite's egress checks reach")
	o.ranges.Add(f)
	f.BoolVar(&o.allowInconclusive, "allow-inconclusive", false, "exit 0 even when some results are inconclusive")
	f.BoolVar(&o.allowSkipped, "allow-skipped", false, "exit 0 even when nothing was checked (no expectation, or every one skipped)")
	registerCompletions(cmd)
	return cmd
}

// registerCompletions makes shell completion offer the values run's flags
// take, and only YAML files for -f.
func registerCompletions(cmd *cobra.Command) {
	keep := make([]string, 0, len(orchestrator.KeepModes()))
	for _, m := range orchestrator.KeepModes() {
		keep = append(keep, string(m))
	}
	for name, values := range map[string][]string{
		"scenario":  scenarios.BuiltinNames(),
		"skip":      scenarios.BuiltinNames(),
		"output":    outputFormats(),
		"mode":      {orchestrator.ModeBatch, orchestrator.ModePerProbe, orchestrator.ModeAgnhost},
		"expect":    {expectScenario, expectPolicies},
		"keep":      keep,
		"placement": {placementSpread, placementScheduler},
	} {
		// (an error means the flag is missing: a programming error the
		// completion test catches)
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
}

// complete fills the defaults that depend on other flags: --mode agnhost
// probes from the agnhost image unless --image-probe names another.
func (o *options) complete() {
	if o.mode == orchestrator.ModeAgnhost && o.imageProbe == version.ProbeImage() {
		o.imageProbe = orchestrator.DefaultAgnhostImage
	}
}

// target is the cluster a run runs on: clients for its objects, the
// executor of the probe program in its pods, the clock of its budgets.
type target struct {
	clients *kube.Clients
	exec    orchestrator.Executor
	clock   orchestrator.Clock // nil: the wall clock
	// noClusterPolicies says why scenarios with ClusterNetworkPolicies are
	// skipped (orchestrator.Options.NoClusterPolicies).
	noClusterPolicies string
	// ranges gives the engine the cluster's pod and Service ranges, as far
	// as they are known.
	ranges policy.Option
	// live is what in-place scenarios name on the cluster.
	live *inplace.Facts
	// clusterPolicies are the cluster's own ClusterNetworkPolicies (when
	// served and readable).
	clusterPolicies []cnpv1.ClusterNetworkPolicy
}

// connect returns the real cluster, once it has checked that the run may do
// there all it needs to.
func (o *options) connect(ctx context.Context) (target, error) {
	clients, err := o.env.Connect(ctx)
	if err != nil {
		return target{}, err
	}
	if err := kube.CheckAccess(ctx, clients.Clientset, o.permissions()); err != nil {
		return target{}, err
	}
	t := target{clients: clients, exec: o.env.NewExecutor(clients), clock: o.env.Clock}
	if o.ranges.Set() {
		// the user's word (e.g. the CNI's pools) over what the cluster says
		opts, _ := o.ranges.Option() // validate checked them
		t.ranges = opts[0]
		if err := o.prepareClusterPolicies(ctx, &t); err != nil {
			return target{}, err
		}
		return t, o.prepareInPlace(ctx, &t)
	}
	ranges, notes := clusterRanges(ctx, clients.Clientset)
	t.ranges = policy.WithClusterRanges(ranges)
	if o.expect == expectPolicies || o.zeroConfig() {
		// the expectations again, now that the cluster says where its pods
		// and Services are
		for _, n := range notes {
			fmt.Fprintf(o.streams.ErrOut, "note: %s: ipBlocks that may cover such addresses are implementation-defined\n", n)
		}
		if o.scs, err = fromPolicies(o.scs, t.ranges); err != nil {
			return target{}, err
		}
	}
	if err := o.prepareClusterPolicies(ctx, &t); err != nil {
		return target{}, err
	}
	return t, o.prepareInPlace(ctx, &t)
}

// permissions are Permissions plus what --report-configmap and
// --image-pull-secret add.
func (o *options) permissions() []kube.Permission {
	perms := append([]kube.Permission{}, Permissions...)
	if o.reportConfigMap != "" {
		ns, _, _ := strings.Cut(o.reportConfigMap, "/")
		for _, verb := range []string{"get", "create", "update"} {
			perms = append(perms, kube.Permission{Verb: verb, Resource: "configmaps", Namespace: ns})
		}
		perms = append(perms, kube.Permission{Verb: "create", Resource: "events", Namespace: ns})
	}
	for _, s := range o.pullSecrets {
		if ns, name, ok := strings.Cut(s, "/"); ok {
			perms = append(perms, kube.Permission{Verb: "get", Resource: "secrets", Namespace: ns, Name: name},
				kube.Permission{Verb: "create", Resource: "secrets"})
		}
	}
	return perms
}

// simulated returns a cluster without a cluster (--dry-run): the simulated
// cluster answers probes from the policies, on virtual time, so budgets
// cost nothing. It serves ClusterNetworkPolicies and has none of its own.
func simulated() target {
	clock := orchestrator.NewVirtualClock(time.Now())
	sim := simulate.New()
	sim.Clock = clock
	return target{clients: &kube.Clients{Clientset: sim.Client, Policies: sim.Policies}, exec: sim, clock: clock}
}

func (o *options) run(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	fail := func(err error) error { return &kube.ExitError{Code: results.ExitError, Err: err} }

	var t target
	if o.dryRun {
		fmt.Fprintln(o.streams.ErrOut, dryRunNote)
		if o.output == report.FormatTable {
			fmt.Fprintln(o.streams.ErrOut, wideHint)
		}
		t = simulated()
	} else {
		var err error
		if t, err = o.connect(ctx); err != nil {
			return fail(err)
		}
	}
	rep, _, err := o.runner(t).Run(ctx, o.scs)
	if err != nil {
		left := "everything it created was removed"
		if orchestrator.KeepMode(o.keep) == orchestrator.KeepAlways {
			left = "its namespaces were left: --keep"
		}
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil:
			// the run's own --timeout, not a deadline inside it (cleanup's)
			err = fmt.Errorf("run timed out after %s (%s)", o.timeout, left)
		case parent.Err() != nil:
			err = fmt.Errorf("interrupted (%s)", left)
		}
		return fail(err)
	}
	rep.Version = version.Version
	rep.Findings = o.findings
	if !o.dryRun && o.env.Context != nil {
		rep.Context = o.env.Context()
	}
	rep.ExitCode = rep.Summary.Exit(results.ExitPolicy{AllowInconclusive: o.allowInconclusive, AllowSkipped: o.allowSkipped})
	var perr error
	if o.dryRun {
		for i := range rep.Results {
			rep.Results[i].Repro = "" // there is no pod to exec into
		}
		rep.Enforcement = nil // nothing was enforced
	} else {
		if perr = o.publish(ctx, t.clients, rep); perr != nil {
			rep.ExitCode = results.ExitError
		}
	}
	if err := o.write(rep); err != nil {
		return fail(err)
	}
	// (a table on the terminal already shows it: once is enough there)
	shown := (o.output == report.FormatTable || o.output == report.FormatWide) && o.isTerminal(o.streams.Out) && o.isTerminal(o.streams.ErrOut)
	if e := rep.Enforcement; e != nil && e.Slow && !shown {
		fmt.Fprintf(o.streams.ErrOut, "warning: slow enforcement: %s\n", e)
	}
	if perr != nil {
		return fail(perr)
	}
	if rep.ExitCode != 0 {
		return &kube.ExitError{Code: rep.ExitCode}
	}
	return nil
}

// runner is the orchestrator's Runner for the flags, on t.
func (o *options) runner(t target) *orchestrator.Runner {
	opts := orchestrator.Options{
		NamespacePrefix: o.namespacePrefix, ProbeImage: o.imageProbe, ServerImage: o.imageServer, Mode: o.mode,
		Concurrency: o.concurrency, ProbeTimeout: o.probeTimeout, MatchBudget: o.matchBudget,
		ReadyTimeout: o.readyTimeout, Keep: orchestrator.KeepMode(o.keep), Placement: o.placement,
		KubectlFlags: t.clients.KubectlFlags, Log: o.streams.ErrOut, CleanupCommand: o.cleanupCommand,
		NoClusterPolicies: t.noClusterPolicies, Live: t.live,
	}
	if t.ranges != nil {
		opts.EngineOptions = []policy.Option{t.ranges}
	}
	if o.dryRun {
		// the simulated cluster pulls no image: there is no secret to copy
		opts.Placement.ImagePullSecrets = nil
	}
	if o.isTerminal(o.streams.ErrOut) {
		opts.Progress = o.streams.ErrOut
	}
	return &orchestrator.Runner{Client: t.clients.Clientset, Policies: t.clients.Policies, Exec: t.exec, Opts: opts, Clock: t.clock}
}

// write prints the report on stdout in the -o format.
func (o *options) write(rep *results.Report) error {
	if o.output == "prometheus" {
		return inclusterreport.WriteMetrics(o.streams.Out, rep)
	}
	return report.Write(o.streams.Out, o.output, rep, report.Options{Color: o.color(), OnlyFailures: o.onlyFailures})
}

// color says whether to colour stdout: only on a terminal, and never when
// NO_COLOR is set to anything but the empty string (no-color.org).
func (o *options) color() bool {
	getenv := o.env.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return o.isTerminal(o.streams.Out) && getenv("NO_COLOR") == ""
}

func (o *options) isTerminal(w any) bool {
	if o.env.IsTerminal != nil {
		return o.env.IsTerminal(w)
	}
	return isTerminal(w)
}

// publish writes the in-cluster report (ConfigMap, Warning Event on
// mismatches) and pushes metrics, when asked to.
func (o *options) publish(ctx context.Context, clients *kube.Clients, rep *results.Report) error {
	if o.reportConfigMap != "" {
		ns, name, _ := strings.Cut(o.reportConfigMap, "/")
		if err := inclusterreport.WriteConfigMap(ctx, clients.Clientset, ns, name, rep, inclusterreport.Options{HistorySize: o.historySize}); err != nil {
			return fmt.Errorf("writing the report ConfigMap %s: %w", o.reportConfigMap, err)
		}
		if !inclusterreport.Succeeded(rep) {
			if err := inclusterreport.EmitMismatchEvent(ctx, clients.Clientset, ns, name, rep); err != nil {
				return fmt.Errorf("emitting the mismatch Event: %w", err)
			}
		}
	}
	if o.policyReports && clients.Config != nil {
		dyn, err := dynamic.NewForConfig(clients.RequestConfig())
		if err != nil {
			return fmt.Errorf("policy reports: %w", err)
		}
		written, warnings, err := policyreport.Write(ctx, dyn, clients.Clientset.Discovery(), rep, policyreport.Options{})
		for _, w := range warnings {
			fmt.Fprintf(o.streams.ErrOut, "warning: policy reports: %s\n", w)
		}
		if err != nil {
			return fmt.Errorf("writing policy reports: %w", err)
		}
		for _, w := range written {
			fmt.Fprintf(o.streams.ErrOut, "wrote %s\n", w)
		}
	}
	if o.pushgateway != "" {
		if err := inclusterreport.Push(ctx, o.pushgateway, "netverify", rep); err != nil {
			return fmt.Errorf("pushing metrics to %s: %w", o.pushgateway, err)
		}
	}
	return nil
}

func outputFormats() []string { return append(report.Formats(), "prometheus") }

func isTerminal(w any) bool {
	if f, ok := w.(*os.File); ok {
		return term.IsTerminal(int(f.Fd()))
	}
	return false
}
