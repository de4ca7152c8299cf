// Package versioncmd is `netverify version`.
package versioncmd

import (
	"fmt"
	"runtime"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/version"
	"github.com/spf13/cobra"
)

// NewCommand returns `netverify version`.
func NewCommand(streams kube.Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print netverify's version and default probe image",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(streams.Out, "netverify %s (%s, %s/%s)\nprobe image: %s\n",
				version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, version.ProbeImage())
			return nil
		},
	}
}
