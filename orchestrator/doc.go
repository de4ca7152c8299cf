// Package orchestrator runs scenarios on a cluster. Runner.Run takes them
// through named phases, each a function of its own:
//
//	place     spreadNodes: the eligible nodes (EligibleNodes), from the node list
//	plan      MakePlan: namespaces, pods, Services, policies and probes, before any
//	          other API call; with two or more eligible nodes every probe pod of a
//	          created namespace once per node, and probes on same-node and
//	          cross-node pairs (see pairs)
//	create    createNamespaces, createObjects: everything labelled with the run id
//	wait      waitReady: pods Ready, IPs known (prepare turns probes into requests)
//	control   control: targets of blocked expectations probed before any policy
//	apply     applyPolicies: the scenarios' NetworkPolicies, then their
//	          ClusterNetworkPolicies, each confined to its scenario's namespaces
//	probe     probe: rounds until each probe settles or the match budget runs out
//	          (a busy cluster gets up to three budgets to give each 6 observations)
//	compare   compare: one results.Result per probe
//	clean up  cleanUp: the run's ClusterNetworkPolicies, then its namespaces
//	          deleted, on every path
//
// What happened to each probe is one Outcome: Pending, Settled, Unsettled,
// Broke (an Error, never "blocked"), Skipped or Inconclusive. Rounds decide
// outcomes through a settle rule (controlRule before policies, matchRule
// after: allowed expectations settle only once the scenario's policies are
// seen in effect).
//
// The package depends on small interfaces: kubernetes.Interface for
// objects (and the network-policy-api clientset for ClusterNetworkPolicies), Executor for running the probe program inside pods and Clock for
// budgets and pauses. The real Executor streams through the API server
// (pods/exec); package simulate provides a simulated cluster whose Executor
// answers from the NetworkPolicy semantics engine (run --dry-run, and
// cluster-free tests), and VirtualClock lets a run's budgets pass without
// waiting.
package orchestrator
