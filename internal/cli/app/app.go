// Package app is netverify's command line: the root command, exit codes and
// the one place the process exits.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/netverify/netverify/internal/cli/audit"
	"github.com/netverify/netverify/internal/cli/cleanup"
	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/explain"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/cli/optionscmd"
	"github.com/netverify/netverify/internal/cli/run"
	"github.com/netverify/netverify/internal/cli/scenarioscmd"
	"github.com/netverify/netverify/internal/cli/validate"
	"github.com/netverify/netverify/internal/cli/versioncmd"
	"github.com/netverify/netverify/results"
	"github.com/spf13/cobra"
)

// Main runs netverify with the process's arguments and returns the exit
// code; main is the one place that exits.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// the first signal cancels the run (its cleanup still runs); a second
	// one gets the default behaviour and ends the process at once
	context.AfterFunc(ctx, stop)
	err := Run(ctx, kube.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args)
	stop()
	return ExitCode(err, os.Stderr, cliname.FromArgv0(os.Args[0]).Display)
}

// Run runs the command line args (args[0] is the program name).
func Run(ctx context.Context, streams kube.Streams, args []string) error {
	root := NewRootCommand(streams, args[0])
	root.SetArgs(args[1:])
	return root.ExecuteContext(ctx)
}

// NewRootCommand builds the command tree. argv0 names it: invoked as
// kubectl-netverify it presents itself as the kubectl plugin `kubectl
// netverify` in every help text, example and hint (see package cliname).
func NewRootCommand(streams kube.Streams, argv0 string) *cobra.Command {
	root := &cobra.Command{
		Short: "Prove, live, that a cluster's NetworkPolicies are enforced",
		Example: `  # what the built-in suite expects, computed from its policies: no cluster needed
  ` + cliname.Placeholder + ` run --dry-run

  # prove it on the cluster of kubectl's current context
  ` + cliname.Placeholder + ` run

  # a scenario of your own, started from a built-in one
  ` + cliname.Placeholder + ` scenarios show default-deny > my-scenario.yaml
  ` + cliname.Placeholder + ` validate -f my-scenario.yaml && ` + cliname.Placeholder + ` run -f my-scenario.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cliname.FromArgv0(argv0).Apply(root)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())}
	})
	// The cluster flags work with every command but would crowd every
	// help: `netverify options` lists them instead, as kubectl does.
	kf := kube.NewFlags()
	kf.AddTo(root.PersistentFlags())
	root.SetUsageTemplate(usageTemplate)
	registerKubeCompletions(root, kf)
	root.AddCommand(
		run.NewCommand(streams, kf),
		validate.NewCommand(streams),
		explain.NewCommand(streams),
		cleanup.NewCommand(streams, kf),
		audit.NewCommand(streams, kf),
		scenarioscmd.NewCommand(streams),
		versioncmd.NewCommand(streams),
		optionscmd.NewCommand(streams, root.PersistentFlags()),
	)
	cliname.ExpandTree(root)
	return root
}

// ExitCode maps an error to the process exit code and prints it on w,
// after name (the name the user typed, see cliname.Name.Display).
func ExitCode(err error, w io.Writer, name string) int {
	if err == nil {
		return results.ExitOK
	}
	var ee *kube.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(w, "%s: %v\n", name, ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(w, "%s: %v\n", name, err)
	return results.ExitError
}
