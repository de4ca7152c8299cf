package policy

import (
	"os"
	"strings"
	"testing"

	"github.com/netverify/netverify/scenarios"
)

const cnpScenarioFile = "../scenarios/testdata/valid/cluster-network-policies.yaml"

func loadCNPScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	data, err := os.ReadFile(cnpScenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	scs, err := scenarios.LoadBytes("cnp.yaml", data, scenarios.WithClusterPolicyCheck(CheckClusterNetworkPolicy))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return scs[0]
}

// The scenario's hand-written expectations are what the tiers decide: lint
// finds nothing, and the computed truth table agrees with them.
func TestScenarioClusterPolicies(t *testing.T) {
	t.Parallel()
	sc := loadCNPScenario(t)
	findings, err := Lint(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Errorf("lint findings: %v", findings)
	}
	computed, err := ExpectationsFromPolicies(sc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range computed {
		got[c.Expectation.From+">"+c.Expectation.To+":"+c.Expectation.Port] = *c.Expectation.Allowed
	}
	for _, e := range sc.Spec.Expect {
		key := e.From + ">" + e.To + ":" + e.Port
		if v, ok := got[key]; !ok || v != e.IsAllowed() {
			t.Errorf("%s (%s): computed %v (present %v), want %v", e.Name, key, v, ok, e.IsAllowed())
		}
	}
	// Without the ClusterNetworkPolicies, the NetworkPolicy allow stands.
	plain := *sc
	plain.Spec.ClusterNetworkPolicies = nil
	if f, err := Lint(&plain); err != nil || len(f) == 0 {
		t.Errorf("without the cluster policies lint should contradict the admin deny: %v, %v", f, err)
	}
}

func TestExplainClusterPolicies(t *testing.T) {
	t.Parallel()
	sc := loadCNPScenario(t)
	cases := []struct {
		from, to, port string
		want           []string
	}{
		{"other/client", "app/web", "80", []string{`admin policy "deny-other-to-web"`, `"deny-other"`, "Deny", "Verdict: blocked"}},
		{"other/client", "app/db", "5432", []string{`admin policy "pass-to-db"`, "Pass", "NetworkPolicies", "Verdict: blocked"}},
		{"app/db", "app/web", "80", []string{"web-allow-all", "Verdict: allowed"}},
		{"app/web", "other/client", "8080", []string{`baseline policy "baseline-deny"`, `"deny-all"`, "Verdict: blocked"}},
	}
	for _, tc := range cases {
		ex, err := Explain(sc, tc.from, tc.to, tc.port, "")
		if err != nil {
			t.Fatalf("%s → %s: %v", tc.from, tc.to, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(ex.Text, w) {
				t.Errorf("%s → %s: explanation lacks %q:\n%s", tc.from, tc.to, w, ex.Text)
			}
		}
	}
}

// Every problem of a malformed ClusterNetworkPolicy is reported at once,
// each with its path in the scenario.
func TestLoadMalformedClusterPolicy(t *testing.T) {
	t.Parallel()
	doc := `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  namespaces: [{name: app}]
  pods: [{name: a, ports: [{port: 80}]}]
  clusterNetworkPolicies:
  - metadata: {name: bad}
    spec:
      tier: Middle
      priority: 2000
      subject: {namespaces: {}}
      egress:
      - action: Block
        to: [{networks: [10.0.0.1/8]}]
        protocols: [{tcp: {destinationPort: {number: 70000}}}]
  expect:
  - {from: a, to: a, port: 80, allowed: true}
`
	_, err := scenarios.LoadBytes("bad.yaml", []byte(doc), scenarios.WithClusterPolicyCheck(CheckClusterNetworkPolicy))
	if err == nil {
		t.Fatal("loaded a malformed cluster network policy")
	}
	for _, w := range []string{
		"bad.yaml: scenario \"bad\": spec.clusterNetworkPolicies[0].spec.tier:",
		"spec.clusterNetworkPolicies[0].spec.priority:",
		"spec.clusterNetworkPolicies[0].spec.egress[0].action:",
		"spec.clusterNetworkPolicies[0].spec.egress[0].to[0].networks[0]:",
		"spec.clusterNetworkPolicies[0].spec.egress[0].protocols[0]",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}
