package app

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runAs(t, "netverify", stdin, args...)
}

// runAs runs the command line args as the program argv0 ("netverify",
// "kubectl-netverify").
func runAs(t *testing.T, argv0, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), kube.Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, append([]string{argv0}, args...))
	code = ExitCode(err, &errOut, cliname.FromArgv0(argv0).Display)
	return out.String(), errOut.String(), code
}

const badScenario = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  namespaces: [{name: a}]
  pods: [{name: p, colour: red}]
  expect: [{from: p, to: p, port: "80", allowed: true}]
`

func TestExitCodesOfBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(badScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	// a kubeconfig that points nowhere: none of these may get as far as using it
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing-kubeconfig"))
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStderr []string
	}{
		{"validate names file and field", []string{"validate", "-f", bad}, "", 2, []string{"bad.yaml", "colour", "unknown field"}},
		{"run rejects bad scenario before any cluster call", []string{"run", "-f", bad}, "", 2, []string{"bad.yaml", "colour"}},
		{"validate from stdin", []string{"validate", "-f", "-"}, badScenario, 2, []string{"colour"}},
		{"validate needs -f", []string{"validate"}, "", 2, []string{"needs at least one -f"}},
		{"unknown flag", []string{"run", "--frobnicate"}, "", 2, []string{"unknown flag"}},
		{"unknown output format", []string{"run", "-o", "yaml"}, "", 2, []string{`-o "yaml"`}},
		{"unknown scenario", []string{"run", "--scenario", "nope"}, "", 2, []string{`no scenario named "nope"`}},
		{"missing kubeconfig", []string{"run"}, "", 2, []string{"missing-kubeconfig", "no such file"}},
		{"missing --kubeconfig", []string{"--kubeconfig", "/nonexistent/kc", "run"}, "", 2, []string{"/nonexistent/kc"}},
		{"cleanup without cluster", []string{"cleanup", "--dry-run"}, "", 2, []string{"missing-kubeconfig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing on stdout for an error", stdout)
			}
		})
	}
}

func TestValidateValid(t *testing.T) {
	stdout, stderr, code := runCLI(t, "", "validate", "-f", "../../../examples/frontend-backend.yaml")
	if code != 0 || !strings.Contains(stdout, "valid") {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestScenariosListAndShow(t *testing.T) {
	stdout, _, code := runCLI(t, "", "scenarios", "list")
	if code != 0 || !strings.Contains(stdout, "frontend-backend") {
		t.Fatalf("list: exit %d %q", code, stdout)
	}
	stdout, _, code = runCLI(t, "", "scenarios", "show", "frontend-backend")
	if code != 0 || !strings.Contains(stdout, "apiVersion: netverify.io/v1alpha1") {
		t.Fatalf("show: exit %d %q", code, stdout)
	}
	if _, stderr, code := runCLI(t, "", "scenarios", "show", "nope"); code != 2 || !strings.Contains(stderr, "nope") {
		t.Fatalf("show nope: exit %d %q", code, stderr)
	}
}

func TestVersionAndPluginName(t *testing.T) {
	stdout, _, code := runCLI(t, "", "version")
	if code != 0 || !strings.Contains(stdout, "probe image: netverify/probe:") {
		t.Fatalf("version: %d %q", code, stdout)
	}
	root := NewRootCommand(kube.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, "/home/u/.krew/bin/kubectl-netverify")
	// the binary's name for shell completion scripts, kubectl's for people
	if root.Name() != "kubectl-netverify" || root.CommandPath() != "kubectl netverify" {
		t.Fatalf("as a kubectl plugin, Name %q and CommandPath %q", root.Name(), root.CommandPath())
	}
}

// SIGTERM (here: the context ending) while input is still being read — a
// stdin that never closes — ends every command that reads scenarios, exit 2.
func TestSignalWhileReadingInput(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing-kubeconfig"))
	for _, args := range [][]string{
		{"run", "-f", "-"},
		{"run", "--dry-run", "-f", "-"},
		{"validate", "-f", "-"},
		{"explain", "-f", "-", "--from", "a", "--to", "b", "--port", "80"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			pr, pw := io.Pipe() // never written, never closed
			defer pw.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var errOut bytes.Buffer
			done := make(chan int, 1)
			go func() {
				err := Run(ctx, kube.Streams{In: pr, Out: io.Discard, ErrOut: &errOut}, append([]string{"netverify"}, args...))
				done <- ExitCode(err, io.Discard, cliname.Default)
			}()
			time.Sleep(50 * time.Millisecond) // let it block on the read
			cancel()
			select {
			case code := <-done:
				if code != 2 {
					t.Errorf("exit %d, want 2", code)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("still reading input 30s after the signal")
			}
		})
	}
}

// explain exits 0 when the connection is allowed, 1 when it is not, 2 on
// bad input; the explanation is on stdout either way.
func TestExplainExitCodes(t *testing.T) {
	const file = "../../../examples/frontend-backend.yaml"
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout, or stderr for exit 2
	}{
		{"allowed", []string{"--from", "web/web", "--to", "svc:backend/api", "--port", "80"}, 0, "Verdict: allowed for every backend"},
		{"blocked", []string{"--from", "web/web", "--to", "backend/db", "--port", "5432"}, 1, "Verdict: blocked"},
		{"bad input", []string{"--from", "web/nobody", "--to", "backend/db", "--port", "5432"}, 2, `"web/nobody"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "", append([]string{"explain", "-f", file}, tt.args...)...)
			out := stdout
			if tt.wantCode == 2 {
				out = stderr
			}
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
			if tt.wantCode == 1 && stderr != "" {
				t.Errorf("a blocked connection printed %q on stderr: the exit code is the answer", stderr)
			}
		})
	}
}
