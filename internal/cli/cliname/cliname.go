// Package cliname names netverify as its user invoked it: "netverify", or
// "kubectl netverify" when it runs as a kubectl plugin (a binary named
// kubectl-netverify). Every help text, example, hint and error that tells
// the user to type a netverify command takes the name from here, so that
// under kubectl it never says `kubectl run …` (kubectl's own run) where it
// means `kubectl netverify run …`.
//
// The app sets the name once, on the root command, as cobra's display
// name; commands read it back with Of or Command at run time, and texts
// written before the name is known (Short, Long, Example) say Placeholder,
// which the app replaces in the whole tree with Expand.
package cliname

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Default is the name of the standalone binary.
const Default = "netverify"

// Placeholder stands for the command name in a command's Short, Long and
// Example texts; ExpandTree replaces it, e.g. "{{netverify}} run --dry-run"
// becomes "kubectl netverify run --dry-run" under the plugin.
const Placeholder = "{{netverify}}"

// pluginPrefix starts the name of every kubectl plugin's binary.
const pluginPrefix = "kubectl-"

// Name is how netverify was invoked.
type Name struct {
	// Binary is the executable's name ("netverify", "kubectl-netverify"):
	// cobra's root Use, and the command shell completion scripts complete.
	Binary string
	// Display is what the user types to run it ("netverify", "kubectl
	// netverify"): the start of every command line netverify prints.
	Display string
}

// FromArgv0 returns the name for a process whose args[0] is argv0. A binary
// named kubectl-NAME is the kubectl plugin `kubectl NAME`, with kubectl's
// mapping: a dash separates words and an underscore stands for a dash
// (kubectl-foo_bar is `kubectl foo-bar`). Any other binary is "netverify",
// whatever its file is called (go run, a test binary).
func FromArgv0(argv0 string) Name {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	plugin, ok := strings.CutPrefix(base, pluginPrefix)
	if !ok || plugin == "" {
		return Name{Binary: Default, Display: Default}
	}
	words := strings.ReplaceAll(strings.ReplaceAll(plugin, "-", " "), "_", "-")
	return Name{Binary: base, Display: "kubectl " + words}
}

// Apply makes root present itself as n: Use is the binary, and the display
// name (which cobra puts at the start of every command path, usage line and
// "see --help" hint) is what the user types.
func (n Name) Apply(root *cobra.Command) {
	root.Use = n.Binary
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = n.Display
}

// Of returns what the user types to run cmd's tree: "netverify" or
// "kubectl netverify" (Default for a command outside a tree the app built,
// as in a subcommand's own tests).
func Of(cmd *cobra.Command) string {
	if name, ok := cmd.Root().Annotations[cobra.CommandDisplayNameAnnotation]; ok {
		return name
	}
	return Default
}

// Command returns the command line that runs netverify with args, as the
// user invoked it: Command(cmd, "cleanup", "--run-id", id) is
// "kubectl netverify cleanup --run-id ID" under the plugin.
func Command(cmd *cobra.Command, args ...string) string {
	return strings.Join(append([]string{Of(cmd)}, args...), " ")
}

// Expand replaces Placeholder in s with name.
func Expand(s, name string) string {
	return strings.ReplaceAll(s, Placeholder, name)
}

// ExpandTree replaces Placeholder in the Short, Long and Example of root and
// of every command below it with root's display name.
func ExpandTree(root *cobra.Command) {
	name := Of(root)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.Short = Expand(c.Short, name)
		c.Long = Expand(c.Long, name)
		c.Example = Expand(c.Example, name)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
