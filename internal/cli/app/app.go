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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/netverify/netverify/internal/cli/audit"
	"github.com/netverify/netverify/internal/cli/cleanup"
	"github.com/netverify/netverify/internal/cli/explain"
	"github.com/netverify/netverify/internal/cli/kube"
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
	return ExitCode(err, os.Stderr)
}

// Run runs the command line args (args[0] is the program name).
func Run(ctx context.Context, streams kube.Streams, args []string) error {
	root := NewRootCommand(streams, filepath.Base(args[0]))
	root.SetArgs(args[1:])
	return root.ExecuteContext(ctx)
}

// NewRootCommand builds the command tree. Invoked as kubectl-netverify it
// presents itself as the kubectl plugin `kubectl netverify`.
func NewRootCommand(streams kube.Streams, argv0 string) *cobra.Command {
	use := "netverify"
	if strings.HasPrefix(argv0, "kubectl-") {
		use = "kubectl netverify"
	}
	root := &cobra.Command{
		Use:           use,
		Short:         "Prove, live, that a cluster's NetworkPolicies are enforced",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())}
	})
	kf := kube.NewFlags()
	kf.AddTo(root.PersistentFlags())
	root.AddCommand(
		run.NewCommand(streams, kf),
		validate.NewCommand(streams),
		explain.NewCommand(streams),
		cleanup.NewCommand(streams, kf),
		audit.NewCommand(streams, kf),
		scenarioscmd.NewCommand(streams),
		versioncmd.NewCommand(streams),
	)
	return root
}

// ExitCode maps an error to the process exit code and prints it on w.
func ExitCode(err error, w io.Writer) int {
	if err == nil {
		return results.ExitOK
	}
	var ee *kube.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(w, "netverify:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(w, "netverify:", err)
	return results.ExitError
}
