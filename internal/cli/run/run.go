// Package run is `netverify run`: load scenarios, run them on the cluster,
// print the report, exit with the verdict.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/netverify/netverify/inclusterreport"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/version"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/report"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Permissions are what `netverify run` needs, cluster-wide.
var Permissions = []kube.Permission{
	{Verb: "create", Resource: "namespaces"}, {Verb: "delete", Resource: "namespaces"},
	{Verb: "get", Resource: "namespaces"}, {Verb: "patch", Resource: "namespaces"},
	{Verb: "create", Resource: "pods"}, {Verb: "list", Resource: "pods"},
	{Verb: "create", Resource: "pods", Subresource: "exec"}, {Verb: "get", Resource: "pods", Subresource: "exec"},
	{Verb: "create", Resource: "services"},
	{Verb: "create", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "list", Resource: "events"},
}

type options struct {
	streams kube.Streams
	kf      *kube.Flags

	files             []string
	builtin           bool
	only, skip        []string
	output            string
	concurrency       int
	timeout           time.Duration
	probeTimeout      time.Duration
	matchBudget       time.Duration
	readyTimeout      time.Duration
	keep              bool
	imageProbe        string
	imageServer       string
	mode              string
	nodeSelector      map[string]string
	tolerations       []string
	pullSecrets       []string
	requests, limits  map[string]string
	namespacePrefix   string
	allowInconclusive bool
	expect            string
	reportConfigMap   string
	historySize       int
	pushgateway       string
	metadataIPs       []string
	externalTarget    string

	scs       []*scenarios.Scenario
	placement orchestrator.Placement
}

// NewCommand returns `netverify run`.
func NewCommand(streams kube.Streams, kf *kube.Flags) *cobra.Command {
	o := &options{streams: streams, kf: kf}
	cmd := &cobra.Command{
		Use:   "run [-f FILE|DIR|-]...",
		Short: "Run scenarios on the cluster and compare what was observed with what was expected",
		Long: `Run creates fresh namespaces, probe pods and services for each scenario,
applies its NetworkPolicies, probes every expected connection from inside the
pods, and reports a verdict per expectation. With no -f it runs the built-in suite.

Exit codes: 0 all expectations met; 1 an expectation failed (or was
inconclusive); 2 a tool or input error, or a probe that broke.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			if err := o.validate(); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, "scenario file, directory or - for stdin (repeatable)")
	f.BoolVar(&o.builtin, "builtin", false, "also run the built-in suite when -f is given")
	f.StringArrayVar(&o.only, "scenario", nil, "run only the named scenario (repeatable)")
	f.StringArrayVar(&o.skip, "skip", nil, "skip the named scenario (repeatable)")
	f.StringVarP(&o.output, "output", "o", "table", "output format: "+strings.Join(outputFormats(), "|"))
	f.IntVar(&o.concurrency, "concurrency", 16, "exec calls in flight at once")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up the whole run after this long (cleanup still runs)")
	f.DurationVar(&o.probeTimeout, "probe-timeout", time.Second, "timeout of one connection attempt")
	f.DurationVar(&o.matchBudget, "match-budget", 10*time.Second, "after policies are applied, retry a mismatching probe for this long")
	f.DurationVar(&o.readyTimeout, "ready-timeout", 2*time.Minute, "how long probe pods may take to become Ready")
	f.BoolVar(&o.keep, "keep", false, "leave the run's namespaces for debugging")
	f.StringVar(&o.imageProbe, "image-probe", version.ProbeImage(), "probe image (holds /netverify-probe; serves and probes); set it for your own registry")
	f.StringVar(&o.imageServer, "image-server", "", "with --mode agnhost: image of the server containers (default: the probe image)")
	f.StringVar(&o.mode, "mode", orchestrator.ModeBatch, "probe mode: batch (one exec per source pod per round), per-probe, or agnhost (fallback on the upstream agnhost image: no identity check, no DNS probes)")
	f.StringToStringVar(&o.nodeSelector, "node-selector", nil, "node selector for probe pods (k=v,...)")
	f.StringArrayVar(&o.tolerations, "toleration", nil, "toleration for probe pods: key[=value]:Effect (repeatable)")
	f.StringArrayVar(&o.pullSecrets, "image-pull-secret", nil, "image pull secret NAMESPACE/NAME, copied into each run namespace for probe pods (repeatable)")
	f.StringToStringVar(&o.requests, "requests", map[string]string{"cpu": "5m", "memory": "16Mi"}, "resource requests of probe pods")
	f.StringToStringVar(&o.limits, "limits", map[string]string{"memory": "64Mi"}, "resource limits of probe pods")
	f.StringVar(&o.namespacePrefix, "namespace-prefix", "nv", "prefix of the namespaces a run creates")
	f.StringVar(&o.reportConfigMap, "report-configmap", "", "also write the result and a bounded history to this ConfigMap (NAMESPACE/NAME), with a Warning Event on mismatches")
	f.IntVar(&o.historySize, "history", 20, "runs kept in the report ConfigMap's history")
	f.StringVar(&o.pushgateway, "pushgateway", "", "push netverify_* metrics to this Prometheus Pushgateway URL")
	f.StringVar(&o.expect, "expect", "scenario", "where expectations come from: scenario (hand-written) or policies (every pod pair × declared port, computed by the semantics engine)")
	f.StringSliceVar(&o.metadataIPs, "metadata-ip", []string{scenarios.MetadataIP, scenarios.MetadataIPAlibaba}, "cloud metadata addresses the built-in suite checks (one or two)")
	f.StringVar(&o.externalTarget, "external-target", scenarios.ExternalTargetIP, "outside address (TCP 443) the built-in suite's egress checks reach")
	f.BoolVar(&o.allowInconclusive, "allow-inconclusive", false, "exit 0 even when some results are inconclusive")
	return cmd
}

func (o *options) complete() error {
	var err error
	if len(o.files) > 0 {
		o.scs, err = scenarios.Load(o.files, o.streams.In)
		if err != nil {
			return err
		}
	}
	if len(o.files) == 0 || o.builtin {
		b, err := scenarios.Builtin()
		if err != nil {
			return fmt.Errorf("built-in suite: %w", err)
		}
		if err := o.substitute(b); err != nil {
			return err
		}
		o.scs = append(o.scs, b...)
	}
	seen := map[string]string{}
	for _, sc := range o.scs {
		if prev, ok := seen[sc.Metadata.Name]; ok {
			return fmt.Errorf("scenario %q is defined twice: in %s and in %s (rename one, or drop --builtin)", sc.Metadata.Name, prev, sc.Source)
		}
		seen[sc.Metadata.Name] = sc.Source
	}
	o.scs, err = filter(o.scs, o.only, o.skip)
	if err != nil {
		return err
	}
	switch o.expect {
	case "scenario":
		if err := lint(o.streams.ErrOut, o.scs); err != nil {
			return err
		}
	case "policies":
		for _, sc := range o.scs {
			computed, err := policy.ExpectationsFromPolicies(sc)
			if err != nil {
				return err
			}
			sc.Spec.Expect = sc.Spec.Expect[:0]
			for _, c := range computed {
				e := c.Expectation
				if c.Decision.Verdict == policy.ImplementationDefined {
					e.ImplementationDefined = c.Decision.Reason
				}
				sc.Spec.Expect = append(sc.Spec.Expect, e)
			}
		}
	default:
		return fmt.Errorf("--expect %q: want scenario or policies", o.expect)
	}
	if o.mode == orchestrator.ModeAgnhost && o.imageProbe == version.ProbeImage() {
		o.imageProbe = orchestrator.DefaultAgnhostImage
	}
	if o.placement.Tolerations, err = parseTolerations(o.tolerations); err != nil {
		return err
	}
	o.placement.NodeSelector = o.nodeSelector
	o.placement.ImagePullSecrets = o.pullSecrets
	if o.placement.Resources.Requests, err = parseResources("--requests", o.requests); err != nil {
		return err
	}
	if o.placement.Resources.Limits, err = parseResources("--limits", o.limits); err != nil {
		return err
	}
	return nil
}

func (o *options) validate() error {
	var errs []error
	if !contains(outputFormats(), o.output) {
		errs = append(errs, fmt.Errorf("-o %q: valid formats are %s", o.output, strings.Join(outputFormats(), ", ")))
	}
	if o.reportConfigMap != "" {
		if ns, name, ok := strings.Cut(o.reportConfigMap, "/"); !ok || ns == "" || name == "" {
			errs = append(errs, fmt.Errorf("--report-configmap %q: want NAMESPACE/NAME", o.reportConfigMap))
		}
	}
	switch o.mode {
	case orchestrator.ModeBatch, orchestrator.ModePerProbe, orchestrator.ModeAgnhost:
	default:
		errs = append(errs, fmt.Errorf("--mode %q: want batch, per-probe or agnhost", o.mode))
	}
	if o.imageServer != "" && o.mode != orchestrator.ModeAgnhost {
		errs = append(errs, errors.New("--image-server only applies with --mode agnhost (netverify's probe image both serves and probes)"))
	}
	if o.concurrency < 1 {
		errs = append(errs, errors.New("--concurrency must be at least 1"))
	}
	if o.probeTimeout <= 0 || o.matchBudget < 0 || o.timeout <= 0 {
		errs = append(errs, errors.New("--timeout and --probe-timeout must be positive"))
	}
	if len(o.scs) == 0 {
		errs = append(errs, errors.New("no scenarios to run"))
	}
	if o.namespacePrefix == "" || len(o.namespacePrefix) > 10 {
		errs = append(errs, errors.New("--namespace-prefix must be 1 to 10 characters"))
	}
	return errors.Join(errs...)
}

func (o *options) run(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	clients, err := o.kf.Connect(ctx)
	if err != nil {
		return &kube.ExitError{Code: results.ExitError, Err: err}
	}
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
	if err := kube.CheckAccess(ctx, clients.Clientset, perms); err != nil {
		return &kube.ExitError{Code: results.ExitError, Err: err}
	}
	isTTY := func(f any) bool {
		if fd, ok := f.(*os.File); ok {
			return term.IsTerminal(int(fd.Fd()))
		}
		return false
	}
	opts := orchestrator.Options{
		NamespacePrefix: o.namespacePrefix, ProbeImage: o.imageProbe, ServerImage: o.imageServer, Mode: o.mode,
		Concurrency: o.concurrency, ProbeTimeout: o.probeTimeout, MatchBudget: o.matchBudget,
		ReadyTimeout: o.readyTimeout, Keep: o.keep, Placement: o.placement,
		KubectlFlags: clients.KubectlFlags, Log: o.streams.ErrOut,
	}
	if isTTY(o.streams.ErrOut) {
		opts.Progress = o.streams.ErrOut
	}
	r := &orchestrator.Runner{
		Client: clients.Clientset,
		Exec:   &orchestrator.APIExecutor{Config: clients.Config, Client: clients.Clientset},
		Opts:   opts,
	}
	rep, _, err := r.Run(ctx, o.scs)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
			err = fmt.Errorf("run timed out after %s (everything it created was removed)", o.timeout)
		case parent.Err() != nil:
			err = errors.New("interrupted (everything the run created was removed)")
		}
		return &kube.ExitError{Code: results.ExitError, Err: err}
	}
	perr := o.publish(ctx, clients, rep)
	var werr error
	if o.output == "prometheus" {
		werr = inclusterreport.WriteMetrics(o.streams.Out, rep)
	} else {
		werr = report.Write(o.streams.Out, o.output, rep, report.Options{Color: isTTY(o.streams.Out)})
	}
	if werr != nil {
		return &kube.ExitError{Code: results.ExitError, Err: werr}
	}
	if perr != nil {
		return &kube.ExitError{Code: results.ExitError, Err: perr}
	}
	if code := rep.Summary.ExitCode(o.allowInconclusive); code != 0 {
		return &kube.ExitError{Code: code}
	}
	return nil
}

// substitute points the built-in suite's outside targets at the addresses
// given by --metadata-ip and --external-target.
func (o *options) substitute(b []*scenarios.Scenario) error {
	if n := len(o.metadataIPs); n < 1 || n > 2 {
		return fmt.Errorf("--metadata-ip: give one or two addresses, got %d", n)
	}
	repl := map[string]string{
		scenarios.MetadataIP:        o.metadataIPs[0],
		scenarios.MetadataIPAlibaba: o.metadataIPs[len(o.metadataIPs)-1],
		scenarios.ExternalTargetIP:  o.externalTarget,
	}
	for _, from := range []string{scenarios.MetadataIP, scenarios.MetadataIPAlibaba, scenarios.ExternalTargetIP} {
		if repl[from] == from {
			continue
		}
		if err := scenarios.SubstituteAddress(b, from, repl[from]); err != nil {
			return fmt.Errorf("--metadata-ip/--external-target: %w", err)
		}
	}
	return nil
}

func outputFormats() []string { return append(report.Formats(), "prometheus") }

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
	if o.pushgateway != "" {
		if err := inclusterreport.Push(ctx, o.pushgateway, "netverify", rep); err != nil {
			return fmt.Errorf("pushing metrics to %s: %w", o.pushgateway, err)
		}
	}
	return nil
}

// lint prints, before anything is created, every hand-written expectation
// the scenario's own policies contradict (with the rule that decides it),
// and policy notes such as an "isolation" policy that also cuts
// same-namespace traffic. Findings are warnings: the cluster has the last word.
func lint(w io.Writer, scs []*scenarios.Scenario) error {
	for _, sc := range scs {
		findings, err := policy.Lint(sc)
		if err != nil {
			return err
		}
		for _, f := range findings {
			fmt.Fprintf(w, "lint: %s\n", f)
		}
	}
	return nil
}

func filter(scs []*scenarios.Scenario, only, skip []string) ([]*scenarios.Scenario, error) {
	known := map[string]bool{}
	for _, s := range scs {
		known[s.Metadata.Name] = true
	}
	for _, n := range append(append([]string{}, only...), skip...) {
		if !known[n] {
			return nil, fmt.Errorf("no scenario named %q", n)
		}
	}
	var out []*scenarios.Scenario
	for _, s := range scs {
		if (len(only) == 0 || contains(only, s.Metadata.Name)) && !contains(skip, s.Metadata.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseTolerations reads key[=value]:Effect (Effect may be empty: key=value:).
func parseTolerations(in []string) ([]corev1.Toleration, error) {
	var out []corev1.Toleration
	for _, t := range in {
		kv, effect, _ := strings.Cut(t, ":")
		key, value, hasValue := strings.Cut(kv, "=")
		if key == "" {
			return nil, fmt.Errorf("--toleration %q: want key[=value]:Effect", t)
		}
		tol := corev1.Toleration{Key: key, Effect: corev1.TaintEffect(effect), Operator: corev1.TolerationOpExists}
		if hasValue {
			tol.Operator, tol.Value = corev1.TolerationOpEqual, value
		}
		switch tol.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("--toleration %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", t)
		}
		out = append(out, tol)
	}
	return out, nil
}

func parseResources(flag string, in map[string]string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for k, v := range in {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s %s=%s: %v", flag, k, v, err)
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, nil
}
