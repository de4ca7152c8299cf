package app

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netverify/netverify/internal/cli/cliname"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/scenarios"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// commands returns the path (as args, without the program) of every
// command of the tree, root included.
func commands(t *testing.T, argv0 string) [][]string {
	t.Helper()
	root := NewRootCommand(kube.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, argv0)
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(root, nil)
	if len(paths) < 10 {
		t.Fatalf("the tree has only %d commands: %v", len(paths), paths)
	}
	return paths
}

// kubeFlagNames are the kubectl-style cluster flags.
func kubeFlagNames() []string {
	fs := pflag.NewFlagSet("kube", pflag.ContinueOnError)
	kube.NewFlags().AddTo(fs)
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// The cluster flags are left out of every command's help, which points at
// `options` instead; `options` lists them all, and they still work.
func TestGlobalOptions(t *testing.T) {
	names := kubeFlagNames()
	if len(names) < 15 || !slices.Contains(names, "kubeconfig") || !slices.Contains(names, "certificate-authority") {
		t.Fatalf("kube flags %v", names)
	}
	for _, path := range commands(t, "netverify") {
		t.Run("help of "+strings.Join(append([]string{"netverify"}, path...), " "), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "", append(path, "--help")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, n := range names {
				// a flag's line in a flag list: "      --kubeconfig string"
				if regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(n) + `\b`).MatchString(stdout) {
					t.Errorf("help lists --%s:\n%s", n, stdout)
				}
			}
			hint := `Use "netverify options" for a list of global command-line options (applies to all commands).`
			if !strings.HasSuffix(stdout, hint+"\n") {
				t.Errorf("help does not end with %q:\n%s", hint, stdout)
			}
		})
	}

	t.Run("options lists them", func(t *testing.T) {
		stdout, _, code := runCLI(t, "", "options")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		for _, n := range names {
			if !regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(n) + ` `).MatchString(stdout) {
				t.Errorf("options does not list --%s:\n%s", n, stdout)
			}
		}
	})

	t.Run("they still parse, after the command too", func(t *testing.T) {
		t.Setenv("KUBECONFIG", "")
		_, stderr, code := runCLI(t, "", "run", "--kubeconfig", "/nonexistent/kc", "--context", "x")
		if code != 2 || !strings.Contains(stderr, "--kubeconfig /nonexistent/kc") || strings.Contains(stderr, "unknown flag") {
			t.Errorf("run --kubeconfig: exit %d, stderr %q; want the kubeconfig reported missing", code, stderr)
		}
		stdout, stderr, code := runCLI(t, "", "validate", "--certificate-authority", "ca.crt", "-f", "../../../examples/frontend-backend.yaml")
		if code != 0 || !strings.Contains(stdout, "valid") {
			t.Errorf("validate --certificate-authority: exit %d, %q %q", code, stdout, stderr)
		}
	})
}

// Every command's help shows examples, the root's included. run's are its
// own package's (and tested there): its owner adds them.
func TestEveryCommandHasExamples(t *testing.T) {
	root := NewRootCommand(kube.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, "netverify")
	n := 0
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Name() == "run" && c.HasParent() {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no examples", c.CommandPath())
		}
		for _, line := range strings.Split(c.Example, "\n") {
			if line != "" && !strings.HasPrefix(line, "  ") {
				t.Errorf("%q: example line %q is not indented as cobra's help expects", c.CommandPath(), line)
			}
		}
	}
	walk(root)
	if n < 10 {
		t.Errorf("checked %d commands, want at least 10", n)
	}
}

// Invoked as kubectl-netverify, every help text, example and hint says
// `kubectl netverify …`, never a bare `kubectl run` (kubectl's own run) or
// a bare `netverify …`, which is not installed under that name.
func TestPluginNames(t *testing.T) {
	paths := commands(t, "kubectl-netverify")
	var subs []string // every command's name
	for _, p := range paths {
		if len(p) > 0 && !slices.Contains(subs, p[len(p)-1]) {
			subs = append(subs, p[len(p)-1])
		}
	}
	// "kubectl run", or "netverify run" not after "kubectl ", for any command name
	kubectlSub := regexp.MustCompile(`\bkubectl (` + strings.Join(subs, "|") + `)\b`)
	bareSub := regexp.MustCompile(`(^|[^-\w])(\w*) ?netverify (` + strings.Join(subs, "|") + `)\b`)
	for _, path := range paths {
		t.Run(strings.Join(append([]string{"kubectl-netverify"}, path...), " "), func(t *testing.T) {
			stdout, stderr, code := runAs(t, "kubectl-netverify", "", append(path, "--help")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if strings.Contains(stdout, cliname.Placeholder) {
				t.Errorf("help has an unexpanded %s:\n%s", cliname.Placeholder, stdout)
			}
			if m := kubectlSub.FindString(stdout); m != "" {
				t.Errorf("help says %q, which is kubectl's own command:\n%s", m, stdout)
			}
			for _, m := range bareSub.FindAllStringSubmatch(stdout, -1) {
				if m[2] != "kubectl" {
					t.Errorf("help says %q without kubectl:\n%s", strings.TrimSpace(m[0]), stdout)
				}
			}
			if want := "kubectl netverify " + strings.Join(path, " "); !strings.Contains(stdout, "Usage:\n  "+strings.TrimSpace(want)) {
				t.Errorf("usage does not start with %q:\n%s", want, stdout)
			}
			if !strings.Contains(stdout, `Use "kubectl netverify options"`) {
				t.Errorf("no options hint under the plugin name:\n%s", stdout)
			}
		})
	}

	// errors and hints printed at run time
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing-kubeconfig"))
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"flag error", []string{"run", "--frobnicate"}, []string{"kubectl netverify: unknown flag: --frobnicate", "see 'kubectl netverify run --help'"}},
		{"nested flag error", []string{"scenarios", "show", "--frobnicate"}, []string{"see 'kubectl netverify scenarios show --help'"}},
		{"unknown built-in", []string{"scenarios", "show", "nope"}, []string{"see 'kubectl netverify scenarios list'"}},
		{"explain without flags", []string{"explain"}, []string{"see 'kubectl netverify explain --help'"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runAs(t, "kubectl-netverify", "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

// complete asks the tree, as the shell does, for the completions of the
// last argument of args.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	stdout, stderr, code := runCLI(t, "", append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %q: exit %d, %s", args, code, stderr)
	}
	var got []string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, ":") { // the directive ends the list
			return got
		}
		name, _, _ := strings.Cut(line, "\t") // a description may follow
		got = append(got, name)
	}
	t.Fatalf("__complete %q printed no directive: %q", args, stdout)
	return nil
}

func TestCompletion(t *testing.T) {
	builtins := scenarios.BuiltinNames()
	if len(builtins) < 5 {
		t.Fatalf("built-in names %v", builtins)
	}
	dir := t.TempDir()
	two := filepath.Join(dir, "two.yaml")
	example, err := os.ReadFile("../../../examples/frontend-backend.yaml")
	if err != nil {
		t.Fatal(err)
	}
	second := strings.Replace(string(example), "name: frontend-backend-example", "name: second", 1)
	if err := os.WriteFile(two, []byte(string(example)+"\n---\n"+second), 0o644); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- {name: c1, cluster: {server: "https://192.0.2.1:6443"}}
users:
- {name: u1, user: {}}
contexts:
- {name: prod, context: {cluster: c1, user: u1}}
- {name: kind-kind, context: {cluster: c1, user: u1}}
current-context: prod
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string // exactly, in order (the shell keeps those that start with what was typed)
	}{
		{"run --scenario", []string{"run", "--scenario", ""}, builtins},
		{"run --skip", []string{"run", "--skip", ""}, builtins},
		{"run --output", []string{"run", "--output", ""}, []string{"table", "wide", "json", "junit", "markdown", "prometheus"}},
		{"run -o", []string{"run", "-o", ""}, []string{"table", "wide", "json", "junit", "markdown", "prometheus"}},
		{"run --mode", []string{"run", "--mode", ""}, []string{"batch", "per-probe", "agnhost"}},
		{"run --expect", []string{"run", "--expect", ""}, []string{"scenario", "policies"}},
		{"explain --scenario without -f: the built-in ones", []string{"explain", "--scenario", ""}, builtins},
		{"explain --scenario of the file", []string{"explain", "-f", two, "--scenario", ""}, []string{"frontend-backend-example", "second"}},
		{"explain --protocol", []string{"explain", "--protocol", ""}, []string{"TCP", "UDP", "SCTP"}},
		{"audit -o", []string{"audit", "-o", ""}, []string{"table", "json", "junit", "markdown"}},
		{"audit --fail-on", []string{"audit", "--fail-on", ""}, []string{"high", "medium", "low", "info"}},
		{"version -o", []string{"version", "-o", ""}, []string{"json", "yaml"}},
		{"scenarios show", []string{"scenarios", "show", ""}, builtins},
		{"scenarios show takes one name", []string{"scenarios", "show", "udp", ""}, nil},
		{"--context from the kubeconfig", []string{"run", "--kubeconfig", kubeconfig, "--context", ""}, []string{"kind-kind", "prod"}},
		{"--user from the kubeconfig", []string{"audit", "--kubeconfig", kubeconfig, "--user", ""}, []string{"u1"}},
		{"global flags still complete by name", []string{"run", "--kubec"}, []string{"--kubeconfig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := complete(t, tt.args...); !slices.Equal(got, tt.want) {
				t.Errorf("__complete %q = %q, want %q", tt.args, got, tt.want)
			}
		})
	}

	// --keep alone means always, so its value must be attached: --keep=.
	if got, want := complete(t, "run", "--keep="), []string{"always", "on-failure", "never"}; !slices.Equal(got, want) {
		t.Errorf("run --keep= completes %q, want %q", got, want)
	}
}
