// Package explain is `netverify explain`: say, offline, how a scenario's
// NetworkPolicies decide one connection — which policies select the source
// and the destination, which rule allows it or why none does, and the
// verdict.
package explain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/cli/rangeflags"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/spf13/cobra"
)

// options are the command's flags.
type options struct {
	file     string
	scenario string
	from     string
	to       string
	port     string
	protocol string
	ranges   rangeflags.Flags
}

// NewCommand returns `netverify explain`.
func NewCommand(streams kube.Streams) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "explain -f FILE [--scenario NAME] --from POD --to TARGET --port PORT [--protocol TCP]",
		Short: "Explain, offline, how a scenario's policies decide one connection",
		Long: `Explain, without a cluster, how a scenario's NetworkPolicies decide one
connection: which policies select the source (egress) and the destination
(ingress), which rule allows the connection or why none does, and the verdict.
When the scenario has clusterNetworkPolicies, it first names, for each side,
the ClusterNetworkPolicy tier, policy and rule that decided (or the
NetworkPolicies an Admin Pass or no match handed it to).

--from names a scenario pod ("ns/pod", or "pod" when the scenario has one
namespace); --to is a pod, "svc:NAME" (explained for each pod the Service
selects, on its targetPort) or "ip:ADDR". --port is a number or a port name.

Exit codes: 0 the connection is allowed (by every conforming CNI; for a
Service, to every backend); 1 it is not: blocked, or implementation-defined
(the verdict says why, e.g. a pod reaching itself, or backends that differ);
2 bad input (flags, file, unknown pod or port).`,
		Example: `  # why can't "random" reach the backend? (a built-in scenario, from stdin)
  ` + cliname.Placeholder + ` scenarios show frontend-backend | ` + cliname.Placeholder + ` explain -f - --from random --to backend --port 8080

  # a Service, a named port, and a UDP connection
  ` + cliname.Placeholder + ` explain -f my-scenario.yaml --from frontend --to svc:web --port http
  ` + cliname.Placeholder + ` explain -f my-scenario.yaml --from app/client --to ip:10.96.0.10 --port 53 --protocol UDP

  # in a script: is it allowed?
  if ` + cliname.Placeholder + ` explain -f my-scenario.yaml --from frontend --to backend --port 8080 >/dev/null; then echo allowed; fi`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
			}
			verdict, err := o.run(cmd.Context(), streams)
			if err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			if verdict != policy.Allowed {
				// the explanation, on stdout, says why: nothing to add
				return &kube.ExitError{Code: ExitNotAllowed}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "filename", "f", "", "scenario file, or - for stdin")
	f.StringVar(&o.scenario, "scenario", "", "scenario to explain (needed when the file holds more than one)")
	f.StringVar(&o.from, "from", "", `source pod: "ns/pod", or "pod" with one namespace`)
	f.StringVar(&o.to, "to", "", `target: "ns/pod", "pod", "svc:NAME" or "ip:ADDR"`)
	f.StringVar(&o.port, "port", "", "destination port: a number or a port name")
	f.StringVar(&o.protocol, "protocol", "TCP", "TCP, UDP or SCTP")
	o.ranges.Add(f)
	// (the flags exist: registering on them cannot fail)
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
	_ = cmd.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions([]string{"TCP", "UDP", "SCTP"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("scenario", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return scenarioNames(cmd.Context(), o.file), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// ExitNotAllowed is the exit code of an explained connection that is not
// allowed (blocked, or implementation-defined).
const ExitNotAllowed = 1

// scenarioNames are the names --scenario may take: those of the scenarios
// in file, or the built-in ones when file is unset, stdin or unreadable.
func scenarioNames(ctx context.Context, file string) []string {
	if file != "" && file != "-" {
		if scs, err := scenarios.LoadContext(ctx, []string{file}, nil, scenarios.WithClusterPolicyCheck(policy.CheckClusterNetworkPolicy)); err == nil {
			names := make([]string, len(scs))
			for i, sc := range scs {
				names[i] = sc.Metadata.Name
			}
			return names
		}
	}
	return scenarios.BuiltinNames()
}

// validate checks the flags before anything is read.
func (o *options) validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"-f", o.file}, {"--from", o.from}, {"--to", o.to}, {"--port", o.port},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("explain needs %s", strings.Join(missing, ", "))
	}
	switch strings.ToUpper(o.protocol) {
	case "TCP", "UDP", "SCTP":
	default:
		return fmt.Errorf("--protocol %q: want TCP, UDP or SCTP", o.protocol)
	}
	_, err := o.ranges.Option()
	return err
}

// run loads the scenario, prints the explanation on streams.Out and
// returns the verdict.
func (o *options) run(ctx context.Context, streams kube.Streams) (policy.Verdict, error) {
	scs, err := scenarios.LoadContext(ctx, []string{o.file}, streams.In, scenarios.WithClusterPolicyCheck(policy.CheckClusterNetworkPolicy))
	if err != nil {
		return "", err
	}
	sc, err := pick(scs, o.scenario, o.file)
	if err != nil {
		return "", err
	}
	if sc.InPlace() {
		return "", fmt.Errorf("%s: scenario %q checks existing namespaces in place: their policies are on the cluster, not in the file (`run -f` on the cluster reports the rule that decides each row)", sc.Source, sc.Metadata.Name)
	}
	opts, err := o.ranges.Option()
	if err != nil {
		return "", err
	}
	e, err := policy.Explain(sc, o.from, o.to, o.port, o.protocol, opts...)
	if err != nil {
		return "", fmt.Errorf("scenario %q: %w", sc.Metadata.Name, err)
	}
	text := e.Text
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if _, err := fmt.Fprint(streams.Out, text); err != nil {
		return "", err
	}
	return e.Verdict, nil
}

// pick returns the scenario called name, or the only one when name is "".
func pick(scs []*scenarios.Scenario, name, file string) (*scenarios.Scenario, error) {
	var names []string
	for _, sc := range scs {
		if name != "" && sc.Metadata.Name == name {
			return sc, nil
		}
		names = append(names, sc.Metadata.Name)
	}
	switch {
	case name != "":
		return nil, fmt.Errorf("no scenario named %q in %s (it has: %s)", name, file, strings.Join(names, ", "))
	case len(scs) == 1:
		return scs[0], nil
	case len(scs) == 0:
		return nil, errors.New("no scenarios in " + file)
	}
	return nil, fmt.Errorf("%s holds %d scenarios (%s): choose one with --scenario", file, len(scs), strings.Join(names, ", "))
}
