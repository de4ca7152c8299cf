// Package validate is `netverify validate`: load and check scenario files
// offline, touching no cluster.
package validate

import (
	"errors"
	"fmt"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/cli/rangeflags"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/spf13/cobra"
)

// NewCommand returns `netverify validate`.
func NewCommand(streams kube.Streams) *cobra.Command {
	var (
		files  []string
		ranges rangeflags.Flags
	)
	cmd := &cobra.Command{
		Use:   "validate -f FILE|DIR|- ...",
		Short: "Check scenario files offline (exit 2 with every problem when invalid)",
		Long: `Validate loads scenario files as run would, without a cluster: unknown
fields, missing or wrong values and duplicate names are reported all at
once, each with its file and scenario. It also lints the expectations
against the scenario's own policies and warns (on stderr) where they
contradict each other.

Exit codes: 0 valid; 2 invalid (or unreadable).`,
		Example: `  # check one file, every file of a directory, or stdin
  ` + cliname.Placeholder + ` validate -f my-scenario.yaml
  ` + cliname.Placeholder + ` validate -f scenarios/ -f more.yaml
  ` + cliname.Placeholder + ` scenarios show frontend-backend | ` + cliname.Placeholder + ` validate -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return &kube.ExitError{Code: results.ExitError, Err: errors.New("validate needs at least one -f")}
			}
			opts, err := ranges.Option()
			if err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			scs, err := scenarios.LoadContext(cmd.Context(), files, streams.In, scenarios.WithClusterPolicyCheck(policy.CheckClusterNetworkPolicy))
			if err != nil {
				return &kube.ExitError{Code: results.ExitError, Err: err}
			}
			n, notes := 0, 0
			for _, s := range scs {
				n += len(s.Spec.Expect)
				if s.InPlace() {
					continue // the live policies are checked on the cluster (run)
				}
				findings, err := policy.Lint(s, opts...)
				if err != nil {
					return &kube.ExitError{Code: results.ExitError, Err: err}
				}
				for _, f := range findings {
					fmt.Fprintf(streams.ErrOut, "lint: %s\n", f)
					notes++
				}
			}
			if notes > 0 {
				fmt.Fprintf(streams.ErrOut, "%d lint finding(s): expectations the policies contradict are likely to fail on an enforcing cluster\n", notes)
			}
			fmt.Fprintf(streams.Out, "%d scenario(s), %d expectation(s): valid\n", len(scs), n)
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "scenario file, directory or - for stdin (repeatable)")
	ranges.Add(cmd.Flags())
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml") // the flag exists
	return cmd
}
