package scenarios

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Target prefixes of Expectation.To; a target without one is a pod.
const (
	servicePrefix  = "svc:"
	dnsPrefix      = "dns:"
	ipPrefix       = "ip:"
	hostPrefix     = "host:"
	workloadPrefix = "workload:"
)

// ParseTarget parses an expectation's To (see Expectation for the grammar).
// It checks syntax only: whether a pod or Service target is declared is
// up to the scenario (see Scenario.ResolvePod). For "pod" and "svc:name",
// Namespace is left empty.
func ParseTarget(to string) (Target, error) {
	kind, rest, found := strings.Cut(to, ":")
	if !found {
		if net.ParseIP(to) != nil {
			return Target{}, fmt.Errorf("%q is not a pod reference; write %q for an address outside the scenario", to, ipPrefix+to)
		}
		ns, name, err := splitRef(to)
		if err != nil {
			return Target{}, err
		}
		return Target{Kind: TargetPod, Namespace: ns, Name: name}, nil
	}
	switch prefix := kind + ":"; prefix {
	case servicePrefix:
		ns, name, err := splitRef(rest)
		if err != nil {
			return Target{}, err
		}
		return Target{Kind: TargetService, Namespace: ns, Name: name}, nil
	case dnsPrefix, hostPrefix:
		if rest == "" {
			return Target{}, fmt.Errorf("missing name after %q", prefix)
		}
		name := strings.TrimSuffix(strings.ToLower(rest), ".")
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			return Target{}, fmt.Errorf("invalid host name %q: %s", rest, strings.Join(msgs, "; "))
		}
		k := TargetDNS
		if prefix == hostPrefix {
			k = TargetHost
		}
		return Target{Kind: k, Name: rest}, nil
	case workloadPrefix:
		ns, ref := "", rest
		if strings.Count(rest, "/") == 2 {
			ns, ref, _ = strings.Cut(rest, "/")
			if ns == "" {
				return Target{}, fmt.Errorf("invalid workload %q: want workload:NAMESPACE/KIND/NAME", to)
			}
		}
		w, err := ParseWorkloadRef(ref)
		if err != nil {
			return Target{}, fmt.Errorf("invalid workload: %w", err)
		}
		return Target{Kind: TargetWorkload, Namespace: ns, Name: w.String()}, nil
	case ipPrefix:
		if net.ParseIP(rest) == nil {
			return Target{}, fmt.Errorf("invalid IP address %q", rest)
		}
		return Target{Kind: TargetIP, Name: rest}, nil
	}
	return Target{}, fmt.Errorf("unknown target %q: want ns/pod, svc:ns/name, workload:ns/KIND/NAME, dns:NAME, ip:ADDR or host:NAME", to)
}

// String formats t the way Expectation.To writes it.
func (t Target) String() string {
	ref := t.Name
	if t.Namespace != "" {
		ref = t.Namespace + "/" + t.Name
	}
	switch t.Kind {
	case TargetService:
		return servicePrefix + ref
	case TargetDNS:
		return dnsPrefix + t.Name
	case TargetIP:
		return ipPrefix + t.Name
	case TargetHost:
		return hostPrefix + t.Name
	case TargetWorkload:
		return workloadPrefix + ref
	}
	return ref
}

// splitRef splits "ns/name" or "name"; ns is empty for the latter.
func splitRef(ref string) (ns, name string, err error) {
	ns, name, found := strings.Cut(ref, "/")
	if !found {
		ns, name = "", ref
	}
	if name == "" || (found && ns == "") || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("invalid reference %q: want \"namespace/name\" or \"name\"", ref)
	}
	return ns, name, nil
}

// qualify returns the namespace of a reference, taking the scenario's only
// namespace for one without.
func (s *Scenario) qualify(ns, name string) (string, error) {
	if ns != "" {
		return ns, nil
	}
	if only := s.onlyNamespace(); only != "" {
		return only, nil
	}
	if n := len(s.Spec.Namespaces); n > 1 {
		return "", fmt.Errorf("%q needs a namespace, as in \"namespace/%s\" (the scenario has %d namespaces)", name, name, n)
	}
	return "", fmt.Errorf("%q needs a namespace, as in \"namespace/%s\"", name, name)
}

// onlyNamespace returns the name of the scenario's namespace if it has
// exactly one, and "" otherwise.
func (s *Scenario) onlyNamespace() string {
	if len(s.Spec.Namespaces) != 1 {
		return ""
	}
	return s.Spec.Namespaces[0].Name
}

// ResolvePod returns the declared pod that ref names: "ns/pod", or "pod"
// when the scenario has one namespace. The pointer is into s.Spec.Pods.
func (s *Scenario) ResolvePod(ref string) (*Pod, error) {
	ns, name, err := splitRef(ref)
	if err != nil {
		return nil, err
	}
	return s.pod(ns, name)
}

func (s *Scenario) pod(ns, name string) (*Pod, error) {
	ns, err := s.qualify(ns, name)
	if err != nil {
		return nil, err
	}
	for i, p := range s.Spec.Pods {
		if p.Namespace == ns && p.Name == name {
			return &s.Spec.Pods[i], nil
		}
	}
	return nil, fmt.Errorf("pod %q is not declared", ns+"/"+name)
}

// ResolveService returns the declared Service that ref names: "ns/name", or
// "name" when the scenario has one namespace. The pointer is into
// s.Spec.Services.
func (s *Scenario) ResolveService(ref string) (*Service, error) {
	ns, name, err := splitRef(ref)
	if err != nil {
		return nil, err
	}
	return s.service(ns, name)
}

func (s *Scenario) service(ns, name string) (*Service, error) {
	ns, err := s.qualify(ns, name)
	if err != nil {
		return nil, err
	}
	for i, svc := range s.Spec.Services {
		if svc.Namespace == ns && svc.Name == name {
			return &s.Spec.Services[i], nil
		}
	}
	return nil, fmt.Errorf("service %q is not declared", ns+"/"+name)
}

// IsAllowed reports whether the connection is expected to succeed. It is
// false when Allowed is unset: for an implementation-defined expectation
// whose every outcome passes (ImplementationDefined set), and otherwise
// only for one validation rejects.
func (e Expectation) IsAllowed() bool {
	return e.Allowed != nil && *e.Allowed
}

// Accepts reports whether observing the connection allowed (or blocked)
// passes: every outcome does for an implementation-defined expectation
// (ImplementationDefined set), the expected one otherwise.
func (e Expectation) Accepts(allowed bool) bool {
	if e.ImplementationDefined != "" {
		return true
	}
	return e.Allowed != nil && *e.Allowed == allowed
}

// ResolvePort returns the port number e connects to: Port itself when it is
// a number, otherwise the number of the target pod's port, or the target
// Service's port, of that name. It returns 0 for dns: targets, which take
// no port. For a loaded scenario it fails only if e is not one of its
// expectations.
func (s *Scenario) ResolvePort(e Expectation) (int32, error) {
	t, err := ParseTarget(e.To)
	if err != nil {
		return 0, err
	}
	return s.resolvePort(t, e.Port, e.Protocol)
}

// resolvePort checks that target t serves port (a number or a name) over
// protocol, and returns its number.
func (s *Scenario) resolvePort(t Target, port string, protocol Protocol) (int32, error) {
	if t.Kind == TargetDNS {
		if port != "" {
			return 0, fmt.Errorf("not allowed for dns: targets")
		}
		return 0, nil
	}
	if port == "" {
		return 0, fmt.Errorf("required")
	}
	number, numErr := strconv.Atoi(port)
	if numErr == nil {
		if number < 1 || number > 65535 {
			return 0, fmt.Errorf("must be between 1 and 65535, got %d", number)
		}
	} else if msgs := validation.IsValidPortName(port); len(msgs) > 0 {
		return 0, fmt.Errorf("invalid port %q: want a number or a port name, which %s", port, strings.Join(msgs, "; "))
	}
	// match finds the port among a target's (name, number, protocol) triples.
	type servedPort struct {
		name     string
		number   int32
		protocol Protocol
	}
	match := func(what string, ports []servedPort) (int32, error) {
		for _, p := range ports {
			if (numErr == nil && p.number == int32(number)) || (numErr != nil && p.name == port) {
				if p.protocol == protocol {
					return p.number, nil
				}
				if numErr != nil {
					return 0, fmt.Errorf("port %q of %s is %s, not %s; set protocol: %s", port, what, p.protocol, protocol, p.protocol)
				}
			}
		}
		if numErr == nil {
			return 0, fmt.Errorf("%s does not serve %d/%s", what, number, protocol)
		}
		return 0, fmt.Errorf("%s has no port named %q", what, port)
	}
	if s.Live(t) {
		return int32(number), nil // a live target's ports are known at run time (0: a name)
	}
	switch t.Kind {
	case TargetPod:
		pod, err := s.pod(t.Namespace, t.Name)
		if err != nil {
			return 0, err
		}
		var ports []servedPort
		for _, p := range pod.Ports {
			ports = append(ports, servedPort{p.Name, p.Port, p.Protocol})
		}
		return match(fmt.Sprintf("pod %q", pod.Namespace+"/"+pod.Name), ports)
	case TargetService:
		svc, err := s.service(t.Namespace, t.Name)
		if err != nil {
			return 0, err
		}
		var ports []servedPort
		for _, p := range svc.Ports {
			ports = append(ports, servedPort{p.Name, p.Port, p.Protocol})
		}
		return match(fmt.Sprintf("service %q", svc.Namespace+"/"+svc.Name), ports)
	}
	if numErr != nil {
		return 0, fmt.Errorf("must be a number for %s: targets", t.Kind)
	}
	return int32(number), nil
}
