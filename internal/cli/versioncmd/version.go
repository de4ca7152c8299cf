// Package versioncmd is `netverify version`.
package versioncmd

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/version"
	"github.com/netverify/netverify/results"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Info is what `version` prints; -o json and -o yaml print it with these
// field names.
type Info struct {
	// Version is netverify's release version ("dev" for untagged builds).
	Version string `json:"version"`
	// ProbeImage is the default image of the probe pods (--image-probe).
	ProbeImage string `json:"probeImage"`
	// GoVersion is the Go toolchain it was built with.
	GoVersion string `json:"goVersion"`
	// Platform is OS/architecture, e.g. linux/amd64.
	Platform string `json:"platform"`
}

// Output formats of -o; "" is the plain text for people.
const (
	formatJSON = "json"
	formatYAML = "yaml"
)

func formats() []string { return []string{formatJSON, formatYAML} }

// Current is this build's Info.
func Current() Info {
	return Info{
		Version:    version.Version,
		ProbeImage: version.ProbeImage(),
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// NewCommand returns `netverify version`.
func NewCommand(streams kube.Streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print netverify's version and default probe image",
		Example: `  ` + cliname.Placeholder + ` version

  # for scripts: the probe image to mirror into your own registry
  ` + cliname.Placeholder + ` version -o json | jq -r .probeImage`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != formatJSON && output != formatYAML {
				return &kube.ExitError{Code: results.ExitError, Err: fmt.Errorf("-o %q: valid formats are %s (or none, for text)", output, strings.Join(formats(), ", "))}
			}
			return write(streams.Out, output, Current())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: "+strings.Join(formats(), "|")+" (default: text)")
	// (the flag exists: registering on it cannot fail)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// write prints info on w in format (a valid one; "" is text).
func write(w io.Writer, format string, info Info) error {
	switch format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	case formatYAML:
		out, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	_, err := fmt.Fprintf(w, "netverify %s (%s, %s)\nprobe image: %s\n", info.Version, info.GoVersion, info.Platform, info.ProbeImage)
	return err
}
