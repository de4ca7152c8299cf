// Package audit is `netverify audit`: read the cluster's configuration and
// report what weakens network isolation (package audit does the work), then
// exit with the verdict.
package audit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	core "github.com/netverify/netverify/audit"
	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/results"
	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	cnpclientset "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
)

// Permissions are what `netverify audit` needs, cluster-wide. It reads only.
// Listing ClusterNetworkPolicies and the policy kinds of other APIs
// (Cilium, Calico, AdminNetworkPolicy) is not required: when it is refused,
// the audit says so in an audit-incomplete finding.
var Permissions = []kube.Permission{
	{Verb: "get", Resource: "namespaces"}, {Verb: "list", Resource: "namespaces"},
	{Verb: "get", Resource: "pods"}, {Verb: "list", Resource: "pods"},
	{Verb: "get", Resource: "services"}, {Verb: "list", Resource: "services"},
	{Verb: "get", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "list", Group: "networking.k8s.io", Resource: "networkpolicies"},
}

// connectFunc returns the clients to audit with.
type connectFunc func(ctx context.Context) (core.Clients, error)

type options struct {
	streams kube.Streams
	connect connectFunc

	output      string
	failOn      string
	exclude     []string
	devPattern  string
	metadataIPs []string
	timeout     time.Duration

	failOnSeverity core.Severity
	opts           core.Options
}

// NewCommand returns `netverify audit`.
func NewCommand(streams kube.Streams, kf *kube.Flags) *cobra.Command {
	return newCommand(streams, func(ctx context.Context) (core.Clients, error) {
		clients, err := kf.Connect(ctx)
		if err != nil {
			return core.Clients{}, err
		}
		dyn, err := dynamic.NewForConfig(clients.RequestConfig())
		if err != nil {
			return core.Clients{}, err
		}
		cnps, err := cnpclientset.NewForConfig(clients.RequestConfig())
		if err != nil {
			return core.Clients{}, err
		}
		return core.Clients{Kube: clients.Clientset, Dynamic: dyn, ClusterPolicies: cnps.PolicyV1alpha2()}, nil
	})
}

func newCommand(streams kube.Streams, connect connectFunc) *cobra.Command {
	o := &options{streams: streams, connect: connect}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Report configuration that weakens network isolation (read-only)",
		Long: `Audit reads the cluster's namespaces, pods, Services, NetworkPolicies and
ClusterNetworkPolicies (and the policy kinds of other APIs:
AdminNetworkPolicy, Cilium, Calico) and reports what weakens network
isolation: namespaces without a default deny, egress that blocks DNS or
reaches the cloud metadata service, hostNetwork pods, hostPorts, NodePort
and externalIPs Services, policies that select nothing, and more.
ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2) are evaluated
with the NetworkPolicies: an Admin Deny or a Baseline Deny can satisfy a
finding, an Admin Accept can cause one. It creates nothing and needs only
get and list.
Every rule is described in the documentation of package audit.

Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 an error
(no cluster, missing RBAC, bad flags).`,
		Example: `  # audit the current context's cluster
  ` + cliname.Placeholder + ` audit

  # in CI: fail on medium findings too, JUnit for the test report
  ` + cliname.Placeholder + ` audit --fail-on medium -o junit > audit.xml

  # another cluster, every namespace (none excluded)
  ` + cliname.Placeholder + ` audit --context prod --exclude-namespace= -o json | jq '.findings | length'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.opts.Command = cliname.Of(cmd)
			o.complete()
			if err := o.validate(); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", core.FormatTable, "output format: "+strings.Join(core.Formats(), "|"))
	f.StringVar(&o.failOn, "fail-on", core.High.String(), "exit 1 when a finding has at least this severity: info, low, medium or high")
	f.StringArrayVar(&o.exclude, "exclude-namespace", core.DefaultExcludeNamespaces(),
		"skip this namespace (repeatable; giving it replaces the default list, --exclude-namespace= audits every namespace)")
	f.StringVar(&o.devPattern, "dev-namespace-pattern", core.DefaultDevNamespacePattern, "regular expression matching development namespaces, where LoadBalancer Services are reported")
	f.StringArrayVar(&o.metadataIPs, "metadata-ip", core.DefaultMetadataIPs(), "cloud metadata address egress must not reach (repeatable; giving it replaces the default list)")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long")
	severities := []string{}
	for _, s := range core.Severities() {
		severities = append(severities, s.String())
	}
	// (the flags exist: registering on them cannot fail)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(core.Formats(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(severities, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// complete fills what the flags leave open: empty --exclude-namespace
// values are dropped, so --exclude-namespace= means none.
func (o *options) complete() {
	exclude := []string{}
	for _, ns := range o.exclude {
		if ns = strings.TrimSpace(ns); ns != "" {
			exclude = append(exclude, ns)
		}
	}
	o.opts.ExcludeNamespaces = exclude
	o.opts.MetadataIPs = o.metadataIPs
}

// validate checks every flag before any API call and reports all problems
// at once.
func (o *options) validate() error {
	var errs []error
	if !contains(core.Formats(), o.output) {
		errs = append(errs, fmt.Errorf("-o %q: valid formats are %s", o.output, strings.Join(core.Formats(), ", ")))
	}
	sev, err := core.ParseSeverity(o.failOn)
	if err != nil {
		errs = append(errs, fmt.Errorf("--fail-on: %w", err))
	}
	o.failOnSeverity = sev
	re, err := regexp.Compile(o.devPattern)
	if err != nil {
		errs = append(errs, fmt.Errorf("--dev-namespace-pattern: %w", err))
	}
	o.opts.DevNamespacePattern = re
	if len(o.metadataIPs) == 0 {
		errs = append(errs, errors.New("--metadata-ip: at least one address is needed"))
	}
	for _, ip := range o.metadataIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, fmt.Errorf("--metadata-ip %q: not an IP address", ip))
		}
	}
	if o.timeout <= 0 {
		errs = append(errs, errors.New("--timeout must be positive"))
	}
	return errors.Join(errs...)
}

func (o *options) run(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	fail := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
			err = fmt.Errorf("audit timed out after %s: %w", o.timeout, err)
		}
		return &kube.ExitError{Code: results.ExitError, Err: err}
	}
	clients, err := o.connect(ctx)
	if err != nil {
		return fail(err)
	}
	if err := kube.CheckAccess(ctx, clients.Kube, Permissions); err != nil {
		return fail(err)
	}
	fs, err := core.Run(ctx, clients, o.opts)
	if err != nil {
		return fail(err)
	}
	if err := core.Write(o.streams.Out, o.output, fs, core.WriteOptions{FailOn: o.failOnSeverity}); err != nil {
		return fail(err)
	}
	n := 0
	for _, f := range fs {
		if f.Severity >= o.failOnSeverity {
			n++
		}
	}
	if n > 0 {
		noun := "findings"
		if n == 1 {
			noun = "finding"
		}
		return &kube.ExitError{Code: results.ExitMismatch, Err: fmt.Errorf("%d %s at or above --fail-on %s", n, noun, o.failOnSeverity)}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
