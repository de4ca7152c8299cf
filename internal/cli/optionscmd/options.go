// Package optionscmd is `netverify options`: the global command-line
// options (the kubectl-style cluster flags), which every command accepts
// but no command's help lists (the app's usage template leaves them out),
// as `kubectl options` does for kubectl.
package optionscmd

import (
	"fmt"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// NewCommand returns `netverify options`, which lists the flags of global:
// the root command's persistent flags, which every command accepts.
func NewCommand(streams kube.Streams, global *pflag.FlagSet) *cobra.Command {
	return &cobra.Command{
		Use:   "options",
		Short: "List the global command-line options (kubeconfig, context, …), which apply to all commands",
		Long: `Options lists the command-line options every command accepts: the
kubectl-style flags that choose the cluster and the credentials
(--kubeconfig, --context, --as, --request-timeout, …). They are left out of
each command's own help. Without them, commands use the kubeconfig that
KUBECONFIG or ~/.kube/config names, at its current context, as kubectl does.`,
		Example: `  # list the global options
  ` + cliname.Placeholder + ` options

  # they go before or after the command
  ` + cliname.Placeholder + ` --context kind-kind run
  ` + cliname.Placeholder + ` audit --kubeconfig ./prod.kubeconfig --context prod`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(streams.Out, "The following options can be passed to any command:\n\n%s", global.FlagUsages())
			return err
		},
	}
}
