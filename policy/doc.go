// Package policy computes, without a cluster, what networking.k8s.io/v1
// NetworkPolicies say about a connection: allowed, blocked, or
// implementation-defined (the API leaves it to the CNI, and CNIs differ).
// It is netverify's "expected from policies" side: it backs `run
// --expect=policies` (ScenarioExpectations), `explain` (Explain), the lint
// of scenario expectations in `validate` and `run` (Lint), the simulated
// executor behind `run --dry-run`, which answers probes from an Engine
// instead of a cluster, and the DNS and metadata checks of `audit`.
//
// An Engine is built once from namespaces, pods and policies (NewEngine) and
// answers Decide(src, dst, port, protocol) with a Decision whose Reason
// names the policies and rules that decided. Decide holds all of the
// semantics below; what is built on it (truth tables, lint, explanations)
// adds none of its own, BestAnswer only picks Cilium's answer for an
// ImplementationDefined verdict. LintIsolation flags the common "namespace
// isolation" policy that also cuts same-namespace traffic.
//
// Files: types.go (Namespace, Pod, Peer, Service, Verdict, Decision),
// compile.go (policies with the API defaults applied and parsed), engine.go
// (Engine, Decide), ranges.go (ClusterRanges, the cluster's pod and Service
// ranges the engine may be given, and the address arithmetic), bridge.go (a scenario as an Engine and its truth table:
// ForScenario, ExpectationsFromPolicies, ScenarioExpectations), lint.go
// (Lint, LintIsolation) and explain.go (Explain); cnp_compile.go and
// cnp_engine.go add ClusterNetworkPolicies (TieredEngine, below).
//
// # Semantics (networking.k8s.io/v1)
//
// Policy types. When spec.policyTypes is empty, a policy is an Ingress
// policy, and also an Egress policy only if spec.egress is non-empty. So a
// policy with only egress rules and no policyTypes also isolates its pods
// for ingress, with no ingress rules: it denies all their ingress.
//
// Isolation. A policy applies to the pods its spec.podSelector selects in
// the policy's own namespace (an empty selector selects all of them). A pod
// selected by no policy of a direction is not isolated in that direction:
// everything is allowed. A pod selected by at least one is isolated: only
// what some rule of some selecting policy allows gets through. Rules are
// ORed, within a policy and across policies; nothing denies explicitly.
//
// Rules. A rule matches when the traffic matches its ports and one of its
// peers (from for ingress, to for egress). Peers are ORed. An absent or
// empty from/to matches every source/destination, outside addresses
// included, so `ingress: [{}]` allows everything while `ingress: []` (no
// rules) allows nothing. Absent or empty ports match every port of every
// protocol.
//
// Peers.
//   - podSelector alone: pods of the policy's namespace matching it;
//   - namespaceSelector alone: every pod of the namespaces matching it;
//   - both in one peer: pods matching podSelector in namespaces matching
//     namespaceSelector (AND), unlike two peers, one with each (OR);
//   - an empty selector {} matches everything: namespaceSelector {} is every
//     namespace, podSelector {} every pod;
//   - ipBlock: addresses in cidr and in none of except (e.g. 0.0.0.0/0
//     except 169.254.169.254/32 reaches everything but the metadata
//     service). Selectors never match outside addresses.
//
// Namespaces carry the kubernetes.io/metadata.name label, as on a real API
// server, even when the caller's Namespace omits it.
//
// Ports. protocol defaults to TCP; TCP, UDP and SCTP are distinct. port is a
// number, a range (port to endPort, numeric ports only) or a name. A named
// port is resolved against the destination pod's container ports — the
// selected pod for ingress, the destination pod for egress — so one rule
// can mean different numbers for different pods; a named port never
// matches an outside address. A port with a protocol but no number matches
// every port of that protocol.
//
// Both directions. A connection between two pods needs the source's egress
// and the destination's ingress to allow it. To an outside address only the
// source's egress counts; from one, only the destination's ingress.
//
// # Implementation-defined traffic
//
// The API leaves some traffic to the CNI. Decide never guesses there: when
// the outcome depends on it, the verdict is ImplementationDefined and the
// reason says why. When every reading gives Allowed, the verdict is Allowed.
//
//   - A pod connecting to itself (via its pod IP) when a policy would block
//     it. Kubernetes' own e2e netpol suite ignores loopback results for this
//     reason (kubernetes/kubernetes#95879), and so does cyclonus.
//   - An ipBlock (cidr minus its excepts) that may cover another pod's IP.
//     Pod IPs are ephemeral and the API says ipBlocks are meant for outside
//     addresses; some CNIs (Calico, for one; Cilium with
//     --policy-cidr-match-mode=pods) match pod IPs against ipBlocks, others
//     do not. The upstream e2e tests that build ipBlocks from pod IPs
//     expect a match. The engine evaluates the rule both ways: if another
//     rule allows the traffic anyway, or it is blocked either way, the
//     answer is definite.
//   - Whether a block may cover a pod's IP: a known IP (Pod.IP) is in it or
//     not. An unknown one (a scenario's pods before they run) lies in the
//     cluster's pod ranges when the engine has them (WithClusterRanges,
//     ClusterRanges.Pods): a block that excludes every range (by its cidr
//     or its excepts) does not match, exactly; one that overlaps a range
//     may, and is implementation-defined even when it covers them all.
//     Without the ranges the IP may be any address but those no pod has
//     (loopback, link-local, multicast, "this network", broadcast), so
//     every other block may cover it: 10.0.0.0/8 and 0.0.0.0/0 alike, while
//     169.254.169.254/32 never does.
//   - An egress ipBlock that may cover the ClusterIP of the Service the
//     connection is addressed to (Peer.Service). Implementations that apply
//     egress policy before load balancing see the ClusterIP, most (Cilium,
//     Calico, kube-proxy) see the backend pod. The ClusterIP, when not
//     given, lies in ClusterRanges.Services, or anywhere when those are
//     unknown, as for pod IPs. Selectors match the backend pod either way.
//   - Traffic from or to the node (Peer.Node), and of hostNetwork pods. The
//     API documents hostNetwork behaviour as undefined, between two
//     readings: the pod is treated like any pod, or its traffic is the
//     node's (selectors do not match it and its own policies do not apply;
//     the more common reading). Many CNIs always let a node reach the pods
//     on it (kubelet probes).
//
// # ClusterNetworkPolicy tiers (policy.networking.k8s.io/v1alpha2)
//
// A TieredEngine (NewTieredEngine) wraps an Engine with
// ClusterNetworkPolicies, as defined by sigs.k8s.io/network-policy-api
// v0.3.0. Each side of a connection (the source's egress, the destination's
// ingress) goes through the tiers in order, and the connection needs both:
//
//  1. Admin tier. Policies by spec.priority, lowest number first (0-1000),
//     and within a policy its rules in order: the first rule that matches
//     decides. Accept allows the side and skips everything below; Deny
//     blocks it; Pass skips the rest of the Admin tier.
//  2. NetworkPolicies, as Engine.Decide evaluates them: when one isolates
//     the pod for the direction, its answer is final.
//  3. Baseline tier, evaluated like the Admin tier; Pass there goes on to
//     the default.
//  4. The default: allowed.
//
// A policy's subject is the pods of the namespaces its namespaces selector
// matches, or the pods matching pods.podSelector in the namespaces matching
// pods.namespaceSelector; hostNetwork pods are never subjects, and a policy
// with no rules in a direction leaves that direction alone. A rule matches
// when the traffic matches one of its protocols entries (none: every port
// of every protocol) and one of its peers. Peers: namespaces and pods
// (never hostNetwork pods, never outside addresses or the node), and for
// egress also networks (CIDRs, which match pod and node addresses too, so
// denying 0.0.0.0/0 denies pod-to-pod traffic), nodes and domainNames.
// Protocols entries: a TCP, UDP or SCTP destination port number or range
// (start to end, inclusive), or destinationNamedPort, resolved against the
// destination pod's container ports with the traffic's protocol. A peer
// that sets no field makes the rule fail closed, as the API asks: an Accept
// rule then matches nothing, a Deny or Pass rule denies all traffic.
//
// Implementation-defined. Where the API leaves the outcome to the
// implementation, every reading is evaluated; when they agree, the verdict
// is theirs ("every reading gives …"), otherwise the side is
// ImplementationDefined and the Reason lists each reading:
//
//   - Policies of one tier with equal priority that could both match: the
//     API lets an implementation apply any of them.
//   - domainNames (Accept rules only): they match the addresses the names
//     resolve to in the pod's own DNS lookups, which the engine does not
//     see. They are taken not to match a pod unless a name could lie under
//     the cluster domain (cluster.local), as with headless services.
//   - nodes with a non-empty selector: node labels are not known to the
//     engine (an empty selector matches every node and hostNetwork pod).
//   - networks and a pod (or node) of unknown IP: its address lies in the
//     cluster's pod ranges when known (for a node, or without the ranges,
//     anywhere a pod or node may be, as for ipBlocks); networks that cover
//     all of that match it, networks that cover none of it do not, and
//     others may (networks do match pod IPs, so covering the whole pod
//     range is a definite match: 10.0.0.0/8 over pods in 10.244.0.0/16).
//   - networks and the ClusterIP of the Service a connection is addressed
//     to: the ClusterIP reading and the backend reading must agree, as for
//     NetworkPolicy ipBlocks.
//
// The caveats of NetworkPolicies hold for every tier: self, node and
// hostNetwork traffic that is not allowed is ImplementationDefined, and so
// is, in the NetworkPolicy tier, an ipBlock that may cover a pod's IP or a
// ClusterIP.
//
// # Cilium, as on the local cluster
//
// netverify's local cluster runs Cilium, which resolves the cases above so:
//
//   - A pod can always reach itself, whatever the policies say.
//   - An ipBlock matches no pod IP by default, not even 0.0.0.0/0: Cilium
//     matches pods by identity (labels), and CIDR rules only select the
//     "world" outside the cluster. With --policy-cidr-match-mode=pods (Helm:
//     policyCIDRMatchMode) CIDR rules also select pod IPs.
//   - Service traffic is load-balanced at the socket, before policy: an
//     ipBlock sees the backend, never the ClusterIP.
//   - The node's own addresses are classified as the "host" entity (and
//     other nodes as "remote-node"), not as a CIDR: an ipBlock covering a
//     node IP does not allow traffic to or from that node. By default
//     (--allow-localhost=auto) the local host may reach its own pods, for
//     kubelet probes.
//   - hostNetwork pods have the host identity, so pod selectors do not match
//     them and their own policies do not apply.
//
// So on the local cluster an ImplementationDefined verdict for self traffic
// shows up as allowed, and one for an ipBlock matching a pod IP as blocked
// unless another rule allows the traffic.
package policy
