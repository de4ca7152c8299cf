package scenarios

import (
	networkingv1 "k8s.io/api/networking/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// APIVersion and Kind identify a scenario document.
const (
	APIVersion = "netverify.io/v1alpha1"
	Kind       = "Scenario"
)

// Scenario is one self-contained test: namespaces, pods, services and
// policies that netverify creates in fresh, run-unique namespaces, and the
// connections it expects to be allowed or blocked.
type Scenario struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`

	// Source is where the scenario was loaded from (a path, "-" for stdin,
	// or "builtin:NAME"); set by the loader, never read from YAML.
	Source string `json:"-"`
	// Builtin marks a scenario of the built-in suite (set by Builtin, never
	// read from YAML). Where the outside target of one of its checks does
	// not exist on a cluster (no metadata service on kind), the check is
	// skipped rather than inconclusive.
	Builtin bool `json:"-"`
}

// Metadata names a scenario.
type Metadata struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Spec is what a scenario declares.
type Spec struct {
	Namespaces []Namespace `json:"namespaces"`
	Pods       []Pod       `json:"pods"`
	Services   []Service   `json:"services,omitempty"`
	// Policies are ordinary networking.k8s.io/v1 NetworkPolicy manifests.
	// metadata.namespace names a logical namespace of the scenario (it may
	// be omitted when the scenario has exactly one namespace).
	Policies []networkingv1.NetworkPolicy `json:"policies,omitempty"`
	// ClusterNetworkPolicies are policy.networking.k8s.io/v1alpha2
	// ClusterNetworkPolicy manifests (cluster-scoped: no metadata.namespace).
	// Their namespace selectors match the scenario's logical namespaces, by
	// their labels and kubernetes.io/metadata.name=<logical name>. A live
	// run creates them confined to the scenario's namespaces (see package
	// orchestrator); validate, explain, lint, run --dry-run and
	// --expect=policies evaluate them.
	ClusterNetworkPolicies []cnpv1.ClusterNetworkPolicy `json:"clusterNetworkPolicies,omitempty"`
	Expect                 []Expectation                `json:"expect"`
}

// Namespace is a logical namespace; each run creates a fresh namespace with
// a run-unique name for it and carries these labels — unless Existing is
// set: then Name is a namespace of the cluster, checked in place (see
// Scenario.InPlace).
type Namespace struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// Existing names a live namespace: nothing is created in it but the
	// run's probe pods (sources only), no policy is applied there, and its
	// own NetworkPolicies are what is tested.
	Existing bool `json:"existing,omitempty"`
}

// Pod is a probe pod: it serves Ports (answering with its identity) and is
// the source of the expectations that name it in `from`.
type Pod struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"` // defaults to the only namespace
	Labels    map[string]string `json:"labels,omitempty"`
	Ports     []Port            `json:"ports,omitempty"`
	// Impersonate, for a pod in an existing namespace, names a workload
	// there ("deployment/frontend", "statefulset/db", "daemonset/agent",
	// "replicaset/legacy"): the probe pod carries its pod template's labels,
	// so the live policies treat it as one of the workload's pods. Without
	// it (and without labels) the pod carries no labels of its own.
	Impersonate string `json:"impersonate,omitempty"`
}

// Protocol is TCP, UDP or SCTP.
type Protocol string

const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// Port is a port a pod serves.
type Port struct {
	Name     string   `json:"name,omitempty"` // a named port, usable in policies and expectations
	Port     int32    `json:"port"`
	Protocol Protocol `json:"protocol,omitempty"` // defaults to TCP
}

// Service is a ClusterIP Service in front of scenario pods.
type Service struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Selector  map[string]string `json:"selector"`
	Ports     []ServicePort     `json:"ports"`
}

// ServicePort maps a Service port to a target port (number or name).
type ServicePort struct {
	Name       string   `json:"name,omitempty"`
	Port       int32    `json:"port"`
	TargetPort string   `json:"targetPort,omitempty" netverify:"intorstring"` // number or port name; defaults to Port
	Protocol   Protocol `json:"protocol,omitempty"`
}

// Expectation is one connection and whether it should be allowed.
//
// From names a scenario pod: "ns/pod", or "pod" when the scenario has one
// namespace. To names the target:
//
//	ns/pod  or pod        a scenario pod (its identity is checked)
//	svc:ns/name           a scenario Service (ClusterIP; the backend that answered is recorded)
//	dns:name              a DNS lookup of name through the pod's resolver (allowed = it resolved)
//	ip:ADDR               an address outside the scenario (e.g. 169.254.169.254)
//	host:NAME             a host name outside the scenario, resolved in the pod
//	workload:ns/KIND/NAME a workload of an existing namespace (one of its
//	                      running pods, by pod IP): deployment/NAME, …
//
// In an existing namespace (Namespace.Existing), svc:ns/name names a live
// Service (it is not declared), by its ClusterIP; its backends are not
// probe pods, so who answered is not checked.
//
// The loader rewrites the short forms "pod" and "svc:name" to "ns/pod" and
// "svc:ns/name", so From and To of a loaded scenario always carry the
// namespace. Port may be written as a YAML number or a string.
type Expectation struct {
	Name     string   `json:"name,omitempty"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	Port     string   `json:"port,omitempty" netverify:"intorstring"` // number or named port; required except for dns: targets
	Protocol Protocol `json:"protocol,omitempty"`
	// Backend, for svc: targets only, names the scenario pod ("pod" or
	// "ns/pod") that must answer; by default any scenario pod the Service
	// selects may. An answer from anyone else is an error (wrong-identity).
	Backend string `json:"backend,omitempty"`
	// Allowed says what the connection must do: true succeed (and reach the
	// named target), false be blocked. In YAML it is required, unless the
	// expectation is declared implementation-defined
	// (ImplementationDefinedWhy), and then not allowed: Accept says what
	// passes, and the loader may set Allowed from it.
	Allowed *bool `json:"allowed,omitempty"`
	// ImplementationDefinedWhy, written `implementationDefined: WHY` in place
	// of allowed, declares that the API leaves this connection to the
	// implementation (an ipBlock covering pod IPs, a pod reaching itself…)
	// and says why.
	ImplementationDefinedWhy string `json:"implementationDefined,omitempty"`
	// Accept, only beside implementationDefined, lists the outcomes that
	// pass: [allowed, blocked] (the default when left out) or one of them.
	//
	// When both pass, the loader sets ImplementationDefined to the reason
	// and leaves Allowed unset: the probe is reported as
	// implementation-defined with what was observed. When one passes, the
	// loader sets Allowed to it: the probe is an ordinary check of that
	// outcome (pass or fail), the reason only documents it.
	Accept []Outcome `json:"accept,omitempty"`

	// ImplementationDefined (never read from YAML) says why the API leaves
	// this connection to the CNI, for a connection whose every outcome
	// passes: such probes are reported as implementation-defined with what
	// was observed, never as mismatches. The loader sets it from
	// implementationDefined (see Accept); `run --expect=policies` sets it
	// from the engine's reason, with Allowed set to the engine's best answer.
	ImplementationDefined string `json:"-"`
	// Note, set by a run (never read from YAML), is added to the probe's
	// reason: e.g. that the cluster's own ClusterNetworkPolicies decide the
	// connection rather than the scenario's policies.
	Note string `json:"-"`
	// DecidedBy, set by a run (never read from YAML), is the policy rule
	// that decides the expectation when the semantics engine computed it
	// (a zero-config run): reported with the observation.
	DecidedBy string `json:"-"`
	// NoControl, set by a run (never read from YAML), says why the
	// connection has no control probe: the cluster's own policies, in
	// effect before the run, already decide it.
	NoControl string `json:"-"`
}

// Outcome is what a probe may observe of a connection, in an expectation's
// accept list.
type Outcome string

const (
	OutcomeAllowed Outcome = "allowed"
	OutcomeBlocked Outcome = "blocked"
)

// TargetKind says what an expectation's To names.
type TargetKind string

const (
	TargetPod     TargetKind = "pod"
	TargetService TargetKind = "service"
	TargetDNS     TargetKind = "dns"
	TargetIP      TargetKind = "ip"
	TargetHost    TargetKind = "host"
	// TargetWorkload: a workload of an existing namespace; Name is
	// "KIND/NAME".
	TargetWorkload TargetKind = "workload"
)

// Target is a parsed expectation target.
type Target struct {
	Kind      TargetKind
	Namespace string // logical namespace for pod and service targets
	Name      string // pod, service or DNS/host name; the address for ip
}
