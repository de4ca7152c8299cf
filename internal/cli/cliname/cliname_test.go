package cliname

import (
	"testing"

	"github.com/spf13/cobra"
)

func TestFromArgv0(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		argv0 string
		want  Name
	}{
		{"netverify", Name{"netverify", "netverify"}},
		{"/usr/local/bin/netverify", Name{"netverify", "netverify"}},
		{"./app.test", Name{"netverify", "netverify"}}, // any other file name
		{"kubectl-netverify", Name{"kubectl-netverify", "kubectl netverify"}},
		{"/home/u/.krew/bin/kubectl-netverify", Name{"kubectl-netverify", "kubectl netverify"}},
		{`kubectl-netverify.exe`, Name{"kubectl-netverify", "kubectl netverify"}},
		{"kubectl-nv", Name{"kubectl-nv", "kubectl nv"}},
		{"kubectl-net-verify", Name{"kubectl-net-verify", "kubectl net verify"}},
		{"kubectl-net_verify", Name{"kubectl-net_verify", "kubectl net-verify"}},
		{"kubectl-", Name{"netverify", "netverify"}},
	} {
		if got := FromArgv0(tt.argv0); got != tt.want {
			t.Errorf("FromArgv0(%q) = %+v, want %+v", tt.argv0, got, tt.want)
		}
	}
}

func TestApplyAndExpandTree(t *testing.T) {
	t.Parallel()
	root := &cobra.Command{Use: "x", Short: "root of " + Placeholder}
	sub := &cobra.Command{Use: "cleanup", Long: "see " + Placeholder + " cleanup", Example: "  " + Placeholder + " cleanup --dry-run", Run: func(*cobra.Command, []string) {}}
	leaf := &cobra.Command{Use: "show NAME", Example: "  " + Placeholder + " scenarios show x", Run: func(*cobra.Command, []string) {}}
	group := &cobra.Command{Use: "scenarios"}
	group.AddCommand(leaf)
	root.AddCommand(sub, group)

	if got := Of(sub); got != Default {
		t.Errorf("Of before Apply = %q, want %q", got, Default)
	}
	FromArgv0("kubectl-netverify").Apply(root)
	ExpandTree(root)

	for _, tt := range []struct{ got, want string }{
		{root.Name(), "kubectl-netverify"},
		{root.Short, "root of kubectl netverify"},
		{sub.Long, "see kubectl netverify cleanup"},
		{sub.Example, "  kubectl netverify cleanup --dry-run"},
		{leaf.Example, "  kubectl netverify scenarios show x"},
		{sub.CommandPath(), "kubectl netverify cleanup"},
		{leaf.UseLine(), "kubectl netverify scenarios show NAME"},
		{Of(leaf), "kubectl netverify"},
		{Command(leaf, "cleanup", "--run-id", "r1"), "kubectl netverify cleanup --run-id r1"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
