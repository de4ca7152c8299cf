package app

import (
	"maps"
	"slices"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/report"
	"github.com/netverify/netverify/scenarios"
	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// runCompletions are the values shell completion offers for `run`'s flags,
// by flag name. Package run declares the flags; their completions are
// registered here, after the tree is built, for those run leaves without
// one.
func runCompletions() map[string][]string {
	return map[string][]string{
		"scenario": scenarios.BuiltinNames(),
		"skip":     scenarios.BuiltinNames(),
		"output":   append(report.Formats(), "prometheus"),
		"mode":     {orchestrator.ModeBatch, orchestrator.ModePerProbe, orchestrator.ModeAgnhost},
		"expect":   {"scenario", "policies"},
		"keep":     {"always", "on-failure", "never"},
	}
}

// registerRunCompletions registers runCompletions on root's run command.
// A flag that run does not have, that takes no value (a bool, as --keep was
// before it took a policy) or whose completion run registered itself is
// left alone.
func registerRunCompletions(root *cobra.Command) {
	cmd, _, err := root.Find([]string{"run"})
	if err != nil || cmd == root {
		return
	}
	for name, values := range runCompletions() {
		registerValues(cmd, name, values)
	}
	// (an error means run has no -f: nothing to mark)
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
}

// registerValues makes shell completion offer values for cmd's flag name,
// when the flag takes a value and has no completion yet.
func registerValues(cmd *cobra.Command, name string, values []string) {
	f := cmd.Flags().Lookup(name)
	if f == nil || f.Value.Type() == "bool" {
		return // absent, or a switch: no value to complete
	}
	if _, ok := cmd.GetFlagCompletionFunc(name); ok {
		return
	}
	// (an error means registered meanwhile: run's own completion wins)
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// registerKubeCompletions makes shell completion offer the contexts,
// clusters and users of the kubeconfig (the one --kubeconfig or KUBECONFIG
// names) for --context, --cluster and --user, as kubectl does.
func registerKubeCompletions(root *cobra.Command, kf *kube.Flags) {
	from := func(names func(*clientcmdapi.Config) []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			raw, err := kf.ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return names(&raw), cobra.ShellCompDirectiveNoFileComp
		}
	}
	// (errors mean kube.Flags lacks the flag: nothing to complete)
	_ = root.RegisterFlagCompletionFunc("context", from(func(c *clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(c.Contexts)) }))
	_ = root.RegisterFlagCompletionFunc("cluster", from(func(c *clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(c.Clusters)) }))
	_ = root.RegisterFlagCompletionFunc("user", from(func(c *clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(c.AuthInfos)) }))
}
