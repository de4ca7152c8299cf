// Command netverify-probe is the program inside netverify's probe pods: it
// serves the pod's identity and attempts connections on request. See package
// github.com/netverify/netverify/probe for subcommands, verdicts and exit
// codes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/netverify/netverify/probe"
)

func main() {
	// SIGTERM (pod deletion) and Ctrl-C end serve with exit 0 and interrupt
	// probes, which then report error, never blocked.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := probe.Run(ctx, probe.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:])
	stop()
	if err != nil && err.Error() != "" {
		fmt.Fprintln(os.Stderr, "netverify-probe:", err)
	}
	os.Exit(probe.ExitCode(err))
}
