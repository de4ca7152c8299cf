package app

import (
	"maps"
	"slices"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

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
