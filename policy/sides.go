package policy

// Which side of a denied connection its policies block it on: a node whose
// CNI agent enforces no policy lets through what is denied on its side
// (the ingress of its pods, the egress of its pods), so a run attributes
// each denied connection to the node that polices it.

import "github.com/netverify/netverify/scenarios"

// Sides says which side's policies block a connection: the destination's
// ingress, the source's egress, or both. The zero value: unknown.
type Sides struct{ Ingress, Egress bool }

// BlockedSides returns, for each expectation of sc in order, the sides
// whose policies block its connection as the scenario's own policies (and
// ClusterNetworkPolicies) decide it. For a Service target the sides are
// those that block some backend, and only when every backend is blocked.
// An expectation gets the zero Sides where the policies do not block its
// connection (allowed or implementation-defined), where it cannot be
// decided offline (dns: and host: targets, or a reference the engine
// cannot resolve), and for every expectation of a scenario checked in
// place, whose policies are the cluster's. opts are NewEngine's
// (WithClusterRanges). The error is a scenario the engine cannot model.
func BlockedSides(sc *scenarios.Scenario, opts ...Option) ([]Sides, error) {
	out := make([]Sides, len(sc.Spec.Expect))
	if sc.InPlace() {
		return out, nil
	}
	m, err := newScenarioModel(sc, opts)
	if err != nil {
		return nil, err
	}
	for i, e := range sc.Spec.Expect {
		ds, err := m.expectationDecisions(e)
		if err != nil || len(ds) == 0 {
			continue // (the loader reports bad references; the hint is just unknown)
		}
		var s Sides
		for _, d := range ds {
			b := d.blockedOn()
			if b == (Sides{}) {
				s = Sides{} // some backend is not blocked: the connection is not denied
				break
			}
			s.Ingress, s.Egress = s.Ingress || b.Ingress, s.Egress || b.Egress
		}
		out[i] = s
	}
	return out, nil
}

// blockedOn is the sides that block a decision's connection; none unless
// it is Blocked.
func (d Decision) blockedOn() Sides {
	if d.Verdict != Blocked {
		return Sides{}
	}
	return Sides{Ingress: d.Ingress == Blocked, Egress: d.Egress == Blocked}
}
