// Package audit reads a cluster's configuration — namespaces, pods,
// Services, NetworkPolicies, ClusterNetworkPolicies and the policy kinds of
// other APIs — and reports what weakens network isolation. It is the engine of `netverify audit`: it
// only gets and lists, creates nothing, and needs no probe pods. Where `netverify
// run` proves what the CNI enforces, the audit says what the configuration
// asks for, and where that is likely not what was meant.
//
// Run(ctx, clients, opts) returns Findings, each with a stable rule id,
// a Severity (info < low < medium < high), the namespace and object
// ("kind/name") and a one-line message. Write renders them as a table, JSON,
// JUnit or Markdown; the writers are pure and tested against golden files.
//
// Namespace-scoped rules skip Options.ExcludeNamespaces (by default
// kube-system, kube-public, kube-node-lease and netverify), namespaces of
// netverify runs (label netverify.io/run-id) and namespaces being deleted.
// Pods that have finished (Succeeded, Failed) are ignored. Findings about
// pods are reported once per controller — "deployment/web" (a ReplicaSet
// named <deployment>-<pod-template-hash>), "statefulset/db", … — counting
// the replicas, or on the pod itself when nothing controls it.
//
// # ClusterNetworkPolicies
//
// ClusterNetworkPolicies (policy.networking.k8s.io/v1alpha2) are read with
// the typed client of sigs.k8s.io/network-policy-api and evaluated with
// the NetworkPolicies by policy.TieredEngine: the Admin tier by priority
// (Accept allows whatever NetworkPolicies say, Deny blocks, Pass hands over
// to them), then NetworkPolicies, then the Baseline tier for pods no
// NetworkPolicy isolates, then allow. The rules about allowed and denied
// traffic below (default denies, DNS, the metadata service) follow that
// order, and their messages quote the engine's account naming the tier,
// policy, priority and rule that decided. Where the API leaves the answer
// to the implementation (policies of equal priority that could both match,
// networks of one family and a pod whose address is not known, domain
// names, node labels) the message says it depends on the implementation.
// A cluster that does not serve the resource has none, and the findings
// are those of the NetworkPolicies alone; a list the server refuses (RBAC)
// or fails, a version other than v1alpha2 only, and a policy the engine
// rejects are audit-incomplete findings.
//
// # Rules
//
// Namespaces:
//
//   - namespace-no-networkpolicy (medium): no NetworkPolicy at all, and no
//     ClusterNetworkPolicy denies any of the traffic the default-deny rules
//     probe. Every pod accepts and sends anything. (The two default-deny
//     rules below are then not reported: they say the same.)
//   - namespace-no-default-deny-ingress (medium), namespace-no-default-deny-egress
//     (low): there are policies, but none with podSelector {} whose
//     policyTypes include the direction and none of whose rules allows
//     everything (a rule with no peers and no ports). Any such policy counts,
//     rules or not: selecting every pod, it isolates them all, so what its
//     rules allow are exceptions to a default deny. Also reported when such
//     a policy exists but another podSelector {} policy allows everything in
//     that direction, voiding it. With ClusterNetworkPolicies, each pod and
//     a stand-in without labels for pods to come is judged by traffic no
//     rule names — from (ingress) or to (egress) a pod of another namespace
//     and, for egress, to an outside address (192.0.2.1, and 2001:db8::1
//     when pods have IPv6 addresses), on TCP and UDP ports 1 and 65535: an
//     Admin Deny of it, or a Baseline Deny for pods no NetworkPolicy
//     isolates, is a default deny; an Admin Accept of it voids any default
//     deny and is reported naming the policy. Reported per direction (also
//     in a namespace without NetworkPolicies) once a ClusterNetworkPolicy
//     denies some of that traffic.
//   - namespace-egress-blocks-dns (medium): some pod's egress is restricted
//     but DNS to the cluster DNS pods (those the Service kube-system/kube-dns
//     selects, or pods labelled k8s-app=kube-dns) on port 53 is not allowed
//     over UDP and TCP (TCP carries answers too large for UDP). Decided with
//     the policy engine (package policy), so any rule form counts: a peer
//     with namespaceSelector kubernetes.io/metadata.name=kube-system or {},
//     optionally with podSelector k8s-app=kube-dns, with ports 53 UDP and TCP
//     or no ports. ipBlocks do not count (whether they match pod IPs depends on
//     the CNI). A namespace without pods is judged by a stand-in pod without
//     labels. An Admin Accept restores DNS; an Admin Deny, or a Baseline
//     Deny for pods no NetworkPolicy isolates, cuts it (the DNS pod is judged
//     without its IP, so ClusterNetworkPolicy networks of one family only
//     give "depends on the implementation").
//   - namespace-metadata-reachable (medium): pods that no egress policy
//     selects can reach the cloud metadata service (Options.MetadataIPs,
//     default 169.254.169.254 and 100.100.100.200; TCP port 80) and, on a
//     cloud, the node's credentials. An Admin Deny, or a Baseline Deny, of
//     an address satisfies the rule for the pods its subject covers; an
//     Admin Accept of one is reported for every pod it covers, isolated or
//     not.
//
// NetworkPolicies:
//
//   - networkpolicy-allows-metadata (high): an egress rule that allows TCP
//     port 80 reaches a metadata address: an ipBlock whose cidr contains it
//     and no except does, or a rule with no `to` (every destination). An
//     address an Admin Deny blocks for every pod the policy selects (or,
//     when it selects none, for a pod without labels its podSelector
//     matches) is left out. A Baseline Deny does not count: the policy
//     isolates its pods, so the Baseline tier never sees them.
//   - networkpolicy-selects-no-pods (low): a non-empty podSelector matches no
//     pod of the namespace: a typo, or a policy ahead of its workload.
//   - networkpolicy-namespace-selector-matches-nothing (low): a non-empty
//     namespaceSelector of an ingress or egress peer matches no namespace.
//   - networkpolicy-partial-egress-deny (info): policyTypes includes Egress,
//     there are no egress rules, and the podSelector is not {}: all egress of
//     some pods is denied, DNS included. Often meant as a namespace-wide
//     default deny.
//
// Pods:
//
//   - pod-host-network (high): hostNetwork: true. The pod's traffic is the
//     node's; most CNIs apply no NetworkPolicy to it.
//   - pod-host-port (low): a container publishes a hostPort in the NodePort
//     range 30000-32767.
//   - pod-host-port-outside-nodeport-range (medium): a hostPort outside that
//     range, where node services listen. One finding per port: a port is
//     reported by exactly one of the two rules.
//   - pod-custom-dns (low): dnsPolicy Default or None, hostNetwork with
//     ClusterFirst (which falls back to the node's resolver), or a dnsConfig.
//     ClusterFirstWithHostNet is cluster DNS and not reported.
//   - pod-missing-app-label (info): neither "app" nor
//     "app.kubernetes.io/name" is set, so policies cannot select the pod by
//     application.
//
// Services:
//
//   - service-nodeport (low): type NodePort, published on every node.
//   - service-external-ips (high): spec.externalIPs is set. Nodes route
//     those addresses to the Service, so whoever may create Services can
//     intercept any address (CVE-2020-8554).
//   - service-loadbalancer-in-dev-namespace (medium): type LoadBalancer in a
//     namespace matching Options.DevNamespacePattern (default
//     `(^|-)(dev|test|sandbox)(-|$)`).
//
// Other policy APIs:
//
//   - unmodeled-policy-kind (medium): one finding per object of a policy
//     kind that netverify's engine does not model: AdminNetworkPolicy and
//     BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1, the
//     predecessors of ClusterNetworkPolicy), CiliumNetworkPolicy and
//     CiliumClusterwideNetworkPolicy (cilium.io), Calico NetworkPolicy and
//     GlobalNetworkPolicy (projectcalico.org, or crd.projectcalico.org when
//     Calico's API server does not serve them). Kinds are found by discovery
//     and listed with the dynamic client; a kind the server does not serve
//     is not an error.
//   - audit-incomplete (low): a part of the audit could not be done, e.g. a
//     served policy kind or the ClusterNetworkPolicies could not be listed
//     (RBAC), or the engine rejected a namespace's policies or a
//     ClusterNetworkPolicy. The message says what to check by hand.
package audit
