package policy

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Namespace is a namespace as policies see it: a name and labels.
//
// The engine adds the label kubernetes.io/metadata.name=<Name> when it is
// missing, as the API server does for every real namespace, so policies that
// select namespaces by name work without the caller spelling it out.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Pod is a pod as policies see it.
//
// Namespace and Name identify it. IP is its pod IP ("" when unknown: then
// it may be any address of the cluster's pod ranges, or any address at all
// when those are not known either; see WithClusterRanges and
// Engine.Decide). Ports are its containers' ports; named ports in policies
// resolve against them (a port with an empty Protocol is TCP).
// HostNetwork marks a pod that shares its node's network namespace, whose
// traffic CNIs may treat as the node's.
type Pod struct {
	Namespace   string
	Name        string
	Labels      map[string]string
	IP          string
	Ports       []corev1.ContainerPort
	HostNetwork bool
}

// String returns "namespace/name".
func (p *Pod) String() string { return p.Namespace + "/" + p.Name }

// NamedPort returns the number of p's container port called name with the
// given protocol ("" means TCP), and whether there is one.
func (p *Pod) NamedPort(name string, protocol corev1.Protocol) (int32, bool) {
	if protocol == "" {
		protocol = corev1.ProtocolTCP
	}
	for _, cport := range p.Ports {
		if cport.Name == name && containerProtocol(cport) == protocol {
			return cport.ContainerPort, true
		}
	}
	return 0, false
}

// Peer is one end of a connection. Exactly one of Pod, Node or a bare IP
// describes it:
//
//   - Pod: a pod (IP, if also set, must equal Pod.IP);
//   - Node: the node itself (IP, if set, is the node's address and is what
//     ipBlock rules are matched against);
//   - IP alone: an address. If it is the IP of a known, non-hostNetwork pod
//     (one passed to NewEngine) the peer is that pod, otherwise it is an
//     address outside the cluster's pods.
//
// Service, beside Pod and only for a destination, says the connection is
// addressed to that Service's ClusterIP and Pod is the backend it reaches.
type Peer struct {
	Pod     *Pod
	IP      string
	Node    bool
	Service *Service
}

// Service is a Service whose ClusterIP a connection is addressed to.
//
// Selectors and the destination's ingress policies see the backend pod, as
// on every implementation. The source's egress ipBlocks (and
// ClusterNetworkPolicy networks) may see the ClusterIP instead:
// implementations that apply egress policy before load balancing do, most
// (Cilium, Calico, kube-proxy set-ups) do not. So a block that may cover
// the ClusterIP makes the egress side implementation-defined where it
// changes the outcome.
type Service struct {
	Namespace, Name string
	// ClusterIP is the Service's address; "" when unknown (then it lies in
	// the cluster's Service ranges, when those are known).
	ClusterIP string
}

// String returns "svc:namespace/name".
func (s *Service) String() string { return "svc:" + s.Namespace + "/" + s.Name }

// Verdict is what the policies say about a connection.
type Verdict string

const (
	// Allowed: every conforming NetworkPolicy implementation lets it through.
	Allowed Verdict = "allowed"
	// Blocked: every conforming implementation drops it.
	Blocked Verdict = "blocked"
	// ImplementationDefined: the NetworkPolicy API leaves it to the CNI and
	// CNIs differ (see the package documentation); the Reason says why.
	ImplementationDefined Verdict = "implementation-defined"
)

// Direction is the side of a connection a policy governs: the destination's
// Ingress or the source's Egress. Its values are those of
// networkingv1.PolicyType.
type Direction = networkingv1.PolicyType

// The two directions.
const (
	Ingress Direction = networkingv1.PolicyTypeIngress
	Egress  Direction = networkingv1.PolicyTypeEgress
)

// Decision is the engine's answer for one connection.
type Decision struct {
	// Verdict is the overall answer: Blocked when either direction blocks,
	// otherwise ImplementationDefined when either direction (or the kind of
	// traffic: self, node, hostNetwork) depends on the CNI, otherwise Allowed.
	Verdict Verdict
	// Reason explains the verdict in one line, naming the policies (as
	// namespace/name and rule, e.g. "x/allow-web ingress[0]") that decided.
	Reason string
	// Egress is what the source's egress policies say, Ingress what the
	// destination's ingress policies say (an ipBlock that may cover a pod's
	// or a ClusterIP's address already makes a side ImplementationDefined),
	// before the self/node/hostNetwork rule turns a Blocked overall verdict
	// into ImplementationDefined. A side that no policy can govern (an
	// outside address, the node) is Allowed.
	Egress  Verdict
	Ingress Verdict
}

// String returns the verdict and its reason.
func (d Decision) String() string { return fmt.Sprintf("%s: %s", d.Verdict, d.Reason) }
