// Package scenarioscmd is `netverify scenarios list|show`: the built-in suite.
package scenarioscmd

import (
	"fmt"
	"text/tabwriter"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// NewCommand returns `netverify scenarios`.
func NewCommand(streams kube.Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List or show the built-in scenarios",
		Long: `The built-in suite is what "` + cliname.Placeholder + ` run" runs without -f. List names
its scenarios; show prints one as YAML, a start for a scenario of your own.`,
		Example: `  ` + cliname.Placeholder + ` scenarios list
  ` + cliname.Placeholder + ` scenarios show default-deny > my-scenario.yaml`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the built-in scenarios",
		Example: `  ` + cliname.Placeholder + ` scenarios list`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			scs, err := scenarios.Builtin()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tEXPECTATIONS\tDESCRIPTION")
			for _, s := range scs {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Metadata.Name, len(s.Spec.Expect), s.Metadata.Description)
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario as YAML",
		Example: `  # a built-in scenario, to read or to start a scenario of your own from
  ` + cliname.Placeholder + ` scenarios show frontend-backend

  # explain one of its connections
  ` + cliname.Placeholder + ` scenarios show frontend-backend | ` + cliname.Placeholder + ` explain -f - --from random --to backend --port 8080`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return scenarios.BuiltinNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			scs, err := scenarios.Builtin()
			if err != nil {
				return err
			}
			for _, s := range scs {
				if s.Metadata.Name == args[0] {
					out, err := yaml.Marshal(s)
					if err != nil {
						return err
					}
					_, err = streams.Out.Write(out)
					return err
				}
			}
			return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("no built-in scenario named %q (see '%s')", args[0], cliname.Command(cmd, "scenarios", "list"))}
		},
	})
	return cmd
}
