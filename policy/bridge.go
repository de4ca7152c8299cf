package policy

// This file bridges scenarios and the engine: a scenario's namespaces, pods
// and policies as an Engine (ForScenario), its "expected from policies"
// truth table (ExpectationsFromPolicies, ScenarioExpectations), and the
// resolution of scenario references (pods, Services, ports) that lint.go and
// explain.go share.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Computed is one connection of a scenario as its policies decide it.
type Computed struct {
	// Expectation is the connection in the scenario grammar: From and To
	// are "ns/pod", Port is the port number, and Allowed is the engine's
	// answer. For an ImplementationDefined decision Allowed is the best
	// answer: how Cilium, the local cluster's CNI, resolves it (see
	// BestAnswer).
	Expectation scenarios.Expectation
	// Decision is the engine's full answer; report a connection whose
	// Verdict is ImplementationDefined as such, not as a plain pass or fail.
	Decision Decision
}

// BestAnswer turns a decision into allowed or not. Allowed and Blocked are
// themselves; an ImplementationDefined decision is answered as Cilium (the
// local cluster's CNI) answers it: a pod may always reach itself (self is
// true when source and destination are the same pod), while an ipBlock never
// matches a pod IP and the node is not matched by CIDR, so any other
// implementation-defined traffic is blocked.
func BestAnswer(d Decision, self bool) bool {
	switch d.Verdict {
	case Allowed:
		return true
	case ImplementationDefined:
		return self
	}
	return false
}

// ForScenario builds an engine from a scenario: its logical namespaces
// (with their labels and the implicit kubernetes.io/metadata.name=<logical
// name>), its pods (IP unknown, ports as container ports) and its policies,
// whose metadata.namespace is a logical namespace. The scenario should have
// been loaded (defaulted and validated) by the scenarios package. The
// engine knows nothing of the scenario's ClusterNetworkPolicies: see
// DeciderForScenario. opts are NewEngine's: pass the cluster's ranges
// (WithClusterRanges) when the scenario is to run on a known cluster.
func ForScenario(sc *scenarios.Scenario, opts ...Option) (*Engine, error) {
	m, err := newScenarioModel(sc, opts)
	if err != nil {
		return nil, err
	}
	return m.engine, nil
}

// Decider decides connections: an Engine (NetworkPolicies) or a
// TieredEngine (ClusterNetworkPolicies around NetworkPolicies).
type Decider interface {
	// Decide says whether a connection from src to dst on port/protocol is
	// allowed, with the arguments and errors of Engine.Decide.
	Decide(src, dst Peer, port int32, protocol corev1.Protocol) (Decision, error)
}

// DeciderForScenario is ForScenario that also evaluates the scenario's
// ClusterNetworkPolicies: a TieredEngine around the engine when the
// scenario has any, the engine itself otherwise.
func DeciderForScenario(sc *scenarios.Scenario, opts ...Option) (Decider, error) {
	m, err := newScenarioModel(sc, opts)
	if err != nil {
		return nil, err
	}
	if m.tiered != nil {
		return m.tiered, nil
	}
	return m.engine, nil
}

// ExpectationsFromPolicies returns the scenario's full truth table: for
// every source pod, every destination pod (the source itself included) and
// every port the destination declares, what the policies decide. The order
// is the scenario's: sources in spec.pods order, then destinations in
// spec.pods order, then the destination's ports in declaration order. Pods
// without ports are sources only. opts are NewEngine's (WithClusterRanges).
func ExpectationsFromPolicies(sc *scenarios.Scenario, opts ...Option) ([]Computed, error) {
	m, err := newScenarioModel(sc, opts)
	if err != nil {
		return nil, err
	}
	var out []Computed
	for i := range m.pods {
		src := &m.pods[i]
		for j := range m.pods {
			dst := &m.pods[j]
			for _, cport := range dst.Ports {
				proto := containerProtocol(cport)
				d, err := m.decide(Peer{Pod: src}, Peer{Pod: dst}, cport.ContainerPort, proto)
				if err != nil {
					return nil, fmt.Errorf("scenario %q: %s → %s %d/%s: %w", sc.Metadata.Name, src, dst, cport.ContainerPort, proto, err)
				}
				allowed := BestAnswer(d, i == j)
				out = append(out, Computed{
					Expectation: scenarios.Expectation{
						From:     src.String(),
						To:       dst.String(),
						Port:     strconv.Itoa(int(cport.ContainerPort)),
						Protocol: scenarios.Protocol(proto),
						Allowed:  &allowed,
					},
					Decision: d,
				})
			}
		}
	}
	return out, nil
}

// ScenarioExpectations returns the expectations `netverify run
// --expect=policies` probes in place of the scenario's own: the truth table
// of ExpectationsFromPolicies, in its order, as scenario expectations. Each
// has Allowed set to the engine's answer (the best answer for an
// ImplementationDefined decision, see BestAnswer) and, for an
// ImplementationDefined decision, ImplementationDefined set to the
// decision's reason, so the probe is reported as implementation-defined
// rather than as a mismatch.
//
// sc is not modified: to run the scenario with these expectations, set
// them as Spec.Expect of a copy. opts are NewEngine's: on a live run, pass
// the cluster's pod and Service ranges (WithClusterRanges), so that an
// ipBlock that provably excludes them gets an exact expectation instead of
// an implementation-defined one.
func ScenarioExpectations(sc *scenarios.Scenario, opts ...Option) ([]scenarios.Expectation, error) {
	computed, err := ExpectationsFromPolicies(sc, opts...)
	if err != nil {
		return nil, err
	}
	out := make([]scenarios.Expectation, 0, len(computed))
	for _, c := range computed {
		e := c.Expectation
		if c.Decision.Verdict == ImplementationDefined {
			e.ImplementationDefined = c.Decision.Reason
		}
		out = append(out, e)
	}
	return out, nil
}

// scenarioModel is a scenario translated for the engine.
type scenarioModel struct {
	sc     *scenarios.Scenario
	engine *Engine
	// tiered, when the scenario has ClusterNetworkPolicies, puts them in
	// their tiers around engine; decide uses it then.
	tiered     *TieredEngine
	namespaces []Namespace
	pods       []Pod // in spec.pods order
	policies   []networkingv1.NetworkPolicy
	byRef      map[string]*Pod // "ns/pod"
}

func newScenarioModel(sc *scenarios.Scenario, opts []Option) (*scenarioModel, error) {
	if sc == nil {
		return nil, fmt.Errorf("no scenario")
	}
	m := &scenarioModel{sc: sc, byRef: map[string]*Pod{}}
	only := ""
	if len(sc.Spec.Namespaces) == 1 {
		only = sc.Spec.Namespaces[0].Name
	}
	for _, ns := range sc.Spec.Namespaces {
		m.namespaces = append(m.namespaces, Namespace{Name: ns.Name, Labels: ns.Labels})
	}
	for _, sp := range sc.Spec.Pods {
		p := Pod{Namespace: sp.Namespace, Name: sp.Name, Labels: sp.Labels}
		if p.Namespace == "" {
			p.Namespace = only
		}
		for _, port := range sp.Ports {
			p.Ports = append(p.Ports, corev1.ContainerPort{
				Name:          port.Name,
				ContainerPort: port.Port,
				Protocol:      corev1.Protocol(orTCP(port.Protocol)),
			})
		}
		m.pods = append(m.pods, p)
	}
	for i := range m.pods {
		m.byRef[m.pods[i].String()] = &m.pods[i]
	}
	for _, np := range sc.Spec.Policies {
		np = *np.DeepCopy()
		if np.Namespace == "" {
			np.Namespace = only
		}
		m.policies = append(m.policies, np)
	}
	e, err := NewEngine(m.namespaces, m.pods, m.policies, opts...)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Metadata.Name, err)
	}
	m.engine = e
	if len(sc.Spec.ClusterNetworkPolicies) > 0 {
		t, err := NewTieredEngine(e, sc.Spec.ClusterNetworkPolicies)
		if err != nil {
			return nil, fmt.Errorf("scenario %q: %w", sc.Metadata.Name, err)
		}
		m.tiered = t
	}
	return m, nil
}

// decide decides a connection with the scenario's ClusterNetworkPolicies
// and NetworkPolicies when it has ClusterNetworkPolicies, with its
// NetworkPolicies alone otherwise.
func (m *scenarioModel) decide(src, dst Peer, port int32, protocol corev1.Protocol) (Decision, error) {
	if m.tiered != nil {
		return m.tiered.Decide(src, dst, port, protocol)
	}
	return m.engine.Decide(src, dst, port, protocol)
}

// resolvePod returns the engine pod for a scenario pod reference.
func (m *scenarioModel) resolvePod(ref string) (*Pod, error) {
	sp, err := m.sc.ResolvePod(ref)
	if err != nil {
		return nil, err
	}
	p := m.byRef[sp.Namespace+"/"+sp.Name]
	if p == nil {
		return nil, fmt.Errorf("pod %q is not declared", ref)
	}
	return p, nil
}

// serviceBackend is the destination peer of a connection to svc's
// ClusterIP that backend answers.
func serviceBackend(svc *scenarios.Service, backend *Pod) Peer {
	return Peer{Pod: backend, Service: &Service{Namespace: svc.Namespace, Name: svc.Name}}
}

// backends returns the pods svc selects, in spec.pods order; when only is
// not empty, just the pod it names ("pod" or "ns/pod"), if svc selects it.
func (m *scenarioModel) backends(svc *scenarios.Service, only string) []*Pod {
	if only != "" && !strings.Contains(only, "/") {
		only = svc.Namespace + "/" + only
	}
	sel := labels.SelectorFromSet(svc.Selector)
	var out []*Pod
	for i := range m.pods {
		p := &m.pods[i]
		if p.Namespace == svc.Namespace && sel.Matches(labels.Set(p.Labels)) && (only == "" || p.String() == only) {
			out = append(out, p)
		}
	}
	return out
}

// qualifiedRef returns "ns/name", or "name" when t has no namespace.
func qualifiedRef(t scenarios.Target) string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "/" + t.Name
}

// podPort resolves port (a number or one of the pod's port names) to a
// number. A number need not be declared by the pod.
func podPort(p *Pod, port string, proto corev1.Protocol) (int32, error) {
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("%d is out of range 1-65535", n)
		}
		return int32(n), nil
	}
	if n, ok := p.NamedPort(port, proto); ok {
		return n, nil
	}
	return 0, fmt.Errorf("pod %s has no %s port named %q%s", p, proto, port, portList(p))
}

func portList(p *Pod) string {
	if len(p.Ports) == 0 {
		return " (it declares no ports)"
	}
	var parts []string
	for _, cport := range p.Ports {
		s := fmt.Sprintf("%d/%s", cport.ContainerPort, containerProtocol(cport))
		if cport.Name != "" {
			s = cport.Name + "=" + s
		}
		parts = append(parts, s)
	}
	return " (it declares " + strings.Join(parts, ", ") + ")"
}

// servicePort returns the port of svc that port (a number or a name) and
// proto name.
func servicePort(svc *scenarios.Service, port string, proto corev1.Protocol) (scenarios.ServicePort, error) {
	var parts []string
	for _, sp := range svc.Ports {
		if (sp.Name == port || strconv.Itoa(int(sp.Port)) == port) && orTCP(sp.Protocol) == string(proto) {
			return sp, nil
		}
		s := fmt.Sprintf("%d/%s", sp.Port, orTCP(sp.Protocol))
		if sp.Name != "" {
			s = sp.Name + "=" + s
		}
		parts = append(parts, s)
	}
	return scenarios.ServicePort{}, fmt.Errorf("service %s/%s has no %s port %q (it has %s)", svc.Namespace, svc.Name, proto, port, strings.Join(parts, ", "))
}

func targetPort(sp scenarios.ServicePort) string {
	if sp.TargetPort == "" {
		return strconv.Itoa(int(sp.Port))
	}
	return sp.TargetPort
}

// backendPort resolves a Service port's targetPort on backend p.
func backendPort(p *Pod, sp scenarios.ServicePort, proto corev1.Protocol) (int32, bool) {
	tp := targetPort(sp)
	if n, err := strconv.Atoi(tp); err == nil {
		return int32(n), true
	}
	return p.NamedPort(tp, proto)
}

func orTCP(p scenarios.Protocol) string {
	if p == "" {
		return string(scenarios.TCP)
	}
	return strings.ToUpper(string(p))
}
