package policy

import (
	"reflect"
	"testing"
)

// The side that blocks: the backend's ingress policy, the random pod's
// egress policy (to the metadata address and to the backend, where the
// backend's ingress blocks too), nothing for what is allowed, and a
// Service target by its backends.
func TestBlockedSides(t *testing.T) {
	sc := loadScenario(t, webScenario(`  - metadata: {name: random-egress}
    spec:
      podSelector: {matchLabels: {app: random}}
      policyTypes: [Egress]
      egress:
      - to: [{podSelector: {matchLabels: {app: frontend}}}]
`, `  - {from: frontend, to: backend, port: 9090, allowed: false}
  - {from: random, to: ip:169.254.169.254, port: 80, allowed: false}
  - {from: random, to: backend, port: 8080, allowed: false}
  - {from: frontend, to: backend, port: 8080, allowed: true}
  - {from: frontend, to: svc:web, port: 80, allowed: true}
  - {from: random, to: svc:web, port: 80, allowed: false}
  - {from: frontend, to: dns:kubernetes.default, allowed: true}
`))
	got, err := BlockedSides(sc)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sides{
		{Ingress: true},
		{Egress: true},
		{Ingress: true, Egress: true},
		{}, {}, // allowed
		{Ingress: true, Egress: true},
		{}, // dns: not decided offline
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BlockedSides =\n %v\nwant\n %v", got, want)
	}
}
