package versioncmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/version"
	"sigs.k8s.io/yaml"
)

func runVersion(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := NewCommand(kube.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestVersionOutput(t *testing.T) {
	t.Parallel()
	want := Info{
		Version:    version.Version,
		ProbeImage: version.ProbeImage(),
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
	for _, tt := range []struct {
		format    string
		unmarshal func([]byte, any) error
	}{
		{"json", json.Unmarshal},
		{"yaml", func(b []byte, v any) error { return yaml.UnmarshalStrict(b, v) }},
	} {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			out, err := runVersion(t, "-o", tt.format)
			if err != nil {
				t.Fatal(err)
			}
			var got Info
			if err := tt.unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("-o %s printed %q: %v", tt.format, out, err)
			}
			if got != want {
				t.Errorf("-o %s: %+v, want %+v", tt.format, got, want)
			}
			if !strings.HasPrefix(got.ProbeImage, "netverify/probe:") || got.Platform == "/" || got.Version == "" {
				t.Errorf("-o %s: incomplete %+v", tt.format, got)
			}
		})
	}
	t.Run("json field names", func(t *testing.T) {
		t.Parallel()
		out, _ := runVersion(t, "-o", "json")
		var fields map[string]string
		if err := json.Unmarshal([]byte(out), &fields); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"version", "probeImage", "goVersion", "platform"} {
			if fields[k] == "" {
				t.Errorf("-o json has no %q: %s", k, out)
			}
		}
	})
	t.Run("text", func(t *testing.T) {
		t.Parallel()
		out, err := runVersion(t)
		if err != nil || !strings.Contains(out, "probe image: "+want.ProbeImage) || !strings.Contains(out, want.Platform) {
			t.Errorf("text: %q, %v", out, err)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		t.Parallel()
		out, err := runVersion(t, "-o", "xml")
		var ee *kube.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), `-o "xml"`) || out != "" {
			t.Errorf("-o xml: %v, stdout %q; want exit 2 naming the format", err, out)
		}
	})
}
