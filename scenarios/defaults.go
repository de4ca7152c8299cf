package scenarios

import (
	"strconv"
	"strings"
)

// setDefaults fills in what a scenario may leave out: the namespace of
// pods, Services and policies when there is only one, TCP for every
// protocol, a Service's targetPort from its port, and the namespace of
// "pod" and "svc:name" references when there is only one. It never fails;
// validate reports what is still missing or wrong. Policies are otherwise
// left as written: Kubernetes defaults their policyTypes and protocols.
func setDefaults(s *Scenario) {
	only := s.onlyNamespace()
	for i := range s.Spec.Pods {
		p := &s.Spec.Pods[i]
		if p.Namespace == "" {
			p.Namespace = only
		}
		for j := range p.Ports {
			defaultProtocol(&p.Ports[j].Protocol)
		}
	}
	for i := range s.Spec.Services {
		svc := &s.Spec.Services[i]
		if svc.Namespace == "" {
			svc.Namespace = only
		}
		for j := range svc.Ports {
			sp := &svc.Ports[j]
			defaultProtocol(&sp.Protocol)
			if sp.TargetPort == "" && sp.Port != 0 {
				sp.TargetPort = strconv.Itoa(int(sp.Port))
			}
		}
	}
	for i := range s.Spec.Policies {
		if s.Spec.Policies[i].Namespace == "" {
			s.Spec.Policies[i].Namespace = only
		}
	}
	for i := range s.Spec.Expect {
		e := &s.Spec.Expect[i]
		defaultProtocol(&e.Protocol)
		if only == "" {
			continue
		}
		if e.From != "" && !strings.Contains(e.From, "/") {
			e.From = only + "/" + e.From
		}
		if t, err := ParseTarget(e.To); err == nil && (t.Kind == TargetPod || t.Kind == TargetService || t.Kind == TargetWorkload) && t.Namespace == "" {
			t.Namespace = only
			e.To = t.String()
		}
	}
}

func defaultProtocol(p *Protocol) {
	if *p == "" {
		*p = TCP
	}
}

// settleImplementationDefined turns each expectation declared
// implementation-defined into what the rest of netverify reads (see
// Expectation.Accept): with one accepted outcome, an ordinary expectation
// of it (Allowed); with both, ImplementationDefined set to the reason. It
// runs on a validated scenario.
func settleImplementationDefined(s *Scenario) {
	for i := range s.Spec.Expect {
		e := &s.Spec.Expect[i]
		if e.ImplementationDefinedWhy == "" || e.Allowed != nil {
			continue
		}
		allowed, blocked := len(e.Accept) == 0, len(e.Accept) == 0
		for _, o := range e.Accept {
			allowed = allowed || o == OutcomeAllowed
			blocked = blocked || o == OutcomeBlocked
		}
		if allowed && blocked {
			e.ImplementationDefined = strings.TrimSpace(e.ImplementationDefinedWhy)
			continue
		}
		e.Allowed = &allowed
	}
}
