package run

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/netverify/netverify/probe"

	"github.com/netverify/netverify/orchestrator"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Where expectations come from (--expect).
const (
	expectScenario = "scenario"
	expectPolicies = "policies"
)

// Where probe pods go (--placement).
const (
	placementSpread    = "spread"
	placementScheduler = "scheduler"
)

// maxPrefix bounds --namespace-prefix: run namespaces are
// <prefix>-<runid>-<n>-<logical name> and must stay within 63 characters.
const maxPrefix = 10

// validate checks every flag, reports all problems at once, and parses
// --toleration, --requests and --limits into o.placement. It reads no file
// and calls no API.
func (o *options) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if !slices.Contains(outputFormats(), o.output) {
		add("-o %q: valid formats are %s", o.output, strings.Join(outputFormats(), ", "))
	}
	switch o.mode {
	case orchestrator.ModeBatch, orchestrator.ModePerProbe, orchestrator.ModeAgnhost:
	default:
		add("--mode %q: want batch, per-probe or agnhost", o.mode)
	}
	if o.imageServer != "" && o.mode != orchestrator.ModeAgnhost {
		add("--image-server only applies with --mode agnhost (netverify's probe image both serves and probes)")
	}
	if strings.TrimSpace(o.imageProbe) == "" {
		add("--image-probe: an image reference is needed")
	}
	if !slices.Contains(orchestrator.KeepModes(), orchestrator.KeepMode(o.keep)) {
		add("--keep=%q: want always, on-failure or never (--keep alone means always)", o.keep)
	}
	if o.concurrency < 1 {
		add("--concurrency %d: must be at least 1", o.concurrency)
	}
	if o.timeout <= 0 {
		add("--timeout %s: must be positive", o.timeout)
	}
	if o.probeTimeout <= 0 || o.probeTimeout > probe.MaxTimeout {
		add("--probe-timeout %s: must be positive and at most %s", o.probeTimeout, probe.MaxTimeout)
	}
	if o.matchBudget <= 0 {
		add("--match-budget %s: must be positive", o.matchBudget)
	}
	if o.readyTimeout <= 0 {
		add("--ready-timeout %s: must be positive", o.readyTimeout)
	}
	if o.historySize < 1 {
		add("--history %d: must be at least 1", o.historySize)
	}
	switch {
	case o.allNamespaces && len(o.namespaces) > 0:
		add("--namespace and --all-namespaces: give one or the other")
	case o.zeroConfig() && o.dryRun:
		add("--namespace/--all-namespaces check live namespaces in place: --dry-run has no cluster to read them from")
	case o.zeroConfig() && o.expect == expectPolicies:
		add("--namespace/--all-namespaces already compute every row from the live policies: leave out --expect=policies")
	}
	for _, ns := range o.namespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			add("--namespace %q: not a namespace name: %s", ns, strings.Join(msgs, "; "))
		}
	}
	if o.expect != expectScenario && o.expect != expectPolicies {
		add("--expect %q: want %s or %s", o.expect, expectScenario, expectPolicies)
	}
	if err := checkPrefix(o.namespacePrefix); err != nil {
		errs = append(errs, err)
	}
	if o.reportConfigMap != "" {
		if err := checkObjectRef(o.reportConfigMap, true); err != nil {
			add("--report-configmap %q: %v", o.reportConfigMap, err)
		}
	}
	if o.pushgateway != "" {
		if u, err := url.Parse(o.pushgateway); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("--pushgateway %q: want an http:// or https:// URL, e.g. http://pushgateway.monitoring:9091", o.pushgateway)
		}
	}
	if o.dryRun {
		for _, f := range []struct {
			name string
			set  bool
		}{{"--report-configmap", o.reportConfigMap != ""}, {"--pushgateway", o.pushgateway != ""}, {"--keep", o.keep != string(orchestrator.KeepNever)}} {
			if f.set {
				add("%s cannot be used with --dry-run (a dry run touches no cluster and publishes nothing)", f.name)
			}
		}
		if o.mode == orchestrator.ModeAgnhost {
			add("--mode agnhost cannot be used with --dry-run (the simulated cluster runs only netverify's probe program)")
		}
	}

	var err error
	if o.placement.Tolerations, err = parseTolerations(o.tolerations); err != nil {
		errs = append(errs, err)
	}
	if o.placement.Resources.Requests, err = parseResources("--requests", o.requests); err != nil {
		errs = append(errs, err)
	}
	if o.placement.Resources.Limits, err = parseResources("--limits", o.limits); err != nil {
		errs = append(errs, err)
	}
	for _, k := range slices.Sorted(maps.Keys(o.nodeSelector)) {
		v := o.nodeSelector[k]
		for _, msg := range validation.IsQualifiedName(k) {
			add("--node-selector %s=%s: key: %s", k, v, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			add("--node-selector %s=%s: value: %s", k, v, msg)
		}
	}
	o.placement.NodeSelector = o.nodeSelector
	switch o.placementMode {
	case placementSpread, placementScheduler:
	default:
		add("--placement %q: want %s or %s", o.placementMode, placementSpread, placementScheduler)
	}
	o.placement.Scheduler = o.placementMode == placementScheduler
	if o.nodes != "" {
		o.placement.Nodes = o.nodes
		if _, err := labels.Parse(o.nodes); err != nil {
			add("--nodes %q: not a label selector: %v", o.nodes, err)
		}
		switch {
		case o.placement.Scheduler:
			add("--nodes chooses nodes to spread probe pods over: leave out --placement=scheduler")
		case o.dryRun:
			add("--nodes cannot be used with --dry-run (the simulated cluster has no nodes)")
		}
	}
	for _, s := range o.pullSecrets {
		if err := checkObjectRef(s, false); err != nil {
			add("--image-pull-secret %q: %v", s, err)
		}
	}
	o.placement.ImagePullSecrets = o.pullSecrets

	if n := len(o.metadataIPs); n < 1 || n > 2 {
		add("--metadata-ip: give one or two addresses, got %d", n)
	}
	for _, ip := range o.metadataIPs {
		if !isIPv4(ip) {
			add("--metadata-ip %q: not an IPv4 address", ip)
		}
	}
	if !isIPv4(o.externalTarget) {
		add("--external-target %q: not an IPv4 address", o.externalTarget)
	}
	if _, err := o.ranges.Option(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkPrefix checks --namespace-prefix: it starts every namespace name, so
// it must be the start of a DNS-1123 label.
func checkPrefix(p string) error {
	const want = "use 1 to %d lowercase letters, digits or '-', starting with a letter (it starts the run's namespace names)"
	if p == "" || len(p) > maxPrefix || p[0] < 'a' || p[0] > 'z' || len(validation.IsDNS1123Label(p+"0")) > 0 {
		return fmt.Errorf("--namespace-prefix %q: "+want, p, maxPrefix)
	}
	return nil
}

// checkObjectRef checks NAMESPACE/NAME (NAME alone too, unless nsRequired):
// exactly one '/', a namespace name and an object name.
func checkObjectRef(ref string, nsRequired bool) error {
	want := "want NAMESPACE/NAME"
	if !nsRequired {
		want = "want NAMESPACE/NAME or NAME"
	}
	parts := strings.Split(ref, "/")
	if len(parts) > 2 || (nsRequired && len(parts) != 2) {
		return errors.New(want)
	}
	var errs []string
	if len(parts) == 2 {
		for _, msg := range validation.IsDNS1123Label(parts[0]) {
			errs = append(errs, "namespace: "+msg)
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(parts[len(parts)-1]) {
		errs = append(errs, "name: "+msg)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s (%s)", want, strings.Join(errs, "; "))
	}
	return nil
}

// isIPv4 says whether s is an IPv4 address (the built-in suite's outside
// targets are /32 ipBlocks).
func isIPv4(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Is4()
}

// parseTolerations reads key[=value]:Effect (Effect may be empty: key=value:).
func parseTolerations(in []string) ([]corev1.Toleration, error) {
	var out []corev1.Toleration
	var errs []error
	for _, t := range in {
		kv, effect, _ := strings.Cut(t, ":")
		key, value, hasValue := strings.Cut(kv, "=")
		if key == "" {
			errs = append(errs, fmt.Errorf("--toleration %q: want key[=value]:Effect", t))
			continue
		}
		tol := corev1.Toleration{Key: key, Effect: corev1.TaintEffect(effect), Operator: corev1.TolerationOpExists}
		if hasValue {
			tol.Operator, tol.Value = corev1.TolerationOpEqual, value
		}
		for _, msg := range validation.IsQualifiedName(key) {
			errs = append(errs, fmt.Errorf("--toleration %q: key: %s", t, msg))
		}
		for _, msg := range validation.IsValidLabelValue(value) {
			errs = append(errs, fmt.Errorf("--toleration %q: value: %s", t, msg))
		}
		switch tol.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			errs = append(errs, fmt.Errorf("--toleration %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", t))
		}
		out = append(out, tol)
	}
	return out, errors.Join(errs...)
}

// parseResources reads a --requests or --limits map: resource names and
// quantities that are not negative.
func parseResources(flag string, in map[string]string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(in)) {
		v := in[k]
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Errorf("%s %s=%s: resource name: %s", flag, k, v, msg))
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s=%s: %v", flag, k, v, err))
			continue
		}
		if q.Sign() < 0 {
			errs = append(errs, fmt.Errorf("%s %s=%s: must not be negative", flag, k, v))
			continue
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, errors.Join(errs...)
}
