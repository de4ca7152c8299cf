//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// The built-in suite passes on an enforcing cluster; on a non-enforcing one
// every scenario's denied expectations are failures.
func TestBuiltinSuite(t *testing.T) {
	t.Parallel()
	defer guardBefore(t)()
	res := runNetverify(t, "", "run", "-o", "json")
	rep := parseReport(t, res)
	t.Logf("summary %+v", rep.Summary)
	scenarios := map[string]bool{}
	for _, r := range rep.Results {
		scenarios[r.Scenario] = true
		key := fmt.Sprintf("%s: %s -> %s %d/%s", r.Scenario, r.From, r.To, r.Port, r.Protocol)
		if r.Protocol == "SCTP" {
			if r.Status != "skipped" || r.Reason == "" {
				t.Errorf("%s: %s (%s); want skipped with a reason (no SCTP here)", key, r.Status, r.Reason)
			}
			continue
		}
		switch {
		case E.enforces && r.Status != "pass":
			t.Errorf("%s: %s, observed %s (%s)\n  %s", key, r.Status, r.Observed, r.Reason, r.Repro)
		case !E.enforces && r.Expected == "blocked" && (r.Status != "fail" || r.Observed != "allowed"):
			t.Errorf("%s: expected blocked, status %s observed %s (%s); want a failure", key, r.Status, r.Observed, r.Reason)
		case !E.enforces && r.Expected == "allowed" && r.Status != "pass":
			t.Errorf("%s: expected allowed, status %s (%s)", key, r.Status, r.Reason)
		}
	}
	if len(scenarios) < 10 {
		t.Errorf("only %d built-in scenarios ran", len(scenarios))
	}
	want := 0
	if !E.enforces {
		want = 1
	}
	if res.code != want {
		t.Fatalf("exit %d, want %d\n%s", res.code, want, res.stderr)
	}
	noLeftovers(t)
}

// Pointed at an address that answers nothing, the built-in metadata checks
// are skipped, while the same check in a user's scenario is inconclusive.
func TestMetadataTargetMissing(t *testing.T) {
	notOnSecondNonEnforcing(t)
	t.Parallel()
	if !E.local {
		t.Skip("needs the local cluster's blackholed address")
	}
	defer guardBefore(t)()
	res := runNetverify(t, "", "run", "--scenario", "metadata-blocked", "--metadata-ip", "203.0.113.99", "-o", "json")
	rep := parseReport(t, res)
	for _, r := range rep.Results {
		if r.To == "ip:203.0.113.99" && (r.Status != "skipped" || !strings.Contains(r.Reason, "does not answer")) {
			t.Errorf("built-in %s: %s (%s), want skipped", r.To, r.Status, r.Reason)
		}
	}
	if E.enforces && res.code != 0 {
		t.Errorf("built-in metadata scenario with a missing target: exit %d, want 0", res.code)
	}
	res = runNetverify(t, "", "run", "-f", testdata("metadata-user.yaml"), "-o", "json")
	rep = parseReport(t, res)
	if r := rep.Results[0]; r.Status != "inconclusive" || !strings.Contains(r.Reason, "unreachable without policy") {
		t.Errorf("user metadata check: %s (%s), want inconclusive", r.Status, r.Reason)
	}
	if rep.Summary.Inconclusive != 1 || res.code != 1 {
		t.Errorf("summary %+v exit %d; want 1 inconclusive and exit 1", rep.Summary, res.code)
	}
	if res := runNetverify(t, "", "run", "-f", testdata("metadata-user.yaml"), "--allow-inconclusive", "-o", "json"); E.enforces && res.code != 0 {
		t.Errorf("--allow-inconclusive: exit %d, want 0", res.code)
	}
	noLeftovers(t)
}

// With expectations computed by the semantics engine over the built-in
// suite, the enforcing cluster agrees everywhere: zero mismatches, and what
// the API leaves to the CNI (a pod reaching itself) is reported as such.
func TestExpectPoliciesAgreesWithEnforcingCluster(t *testing.T) {
	t.Parallel()
	if !E.enforces {
		t.Skip("the engine's verdicts are what an enforcing CNI does")
	}
	defer guardBefore(t)()
	res := runNetverify(t, "", "run", "--expect=policies", "-o", "json")
	rep := parseReport(t, res)
	t.Logf("summary %+v", rep.Summary)
	for _, r := range rep.Results {
		if r.Status == "fail" || r.Status == "error" || r.Status == "inconclusive" {
			t.Errorf("%s: %s -> %s %d/%s: engine says %s, cluster %s (%s)", r.Scenario, r.From, r.To, r.Port, r.Protocol, r.Expected, r.Observed, r.Reason)
		}
		if r.Status == "implementation-defined" && r.From != r.To {
			t.Errorf("%s: %s -> %s implementation-defined: %s", r.Scenario, r.From, r.To, r.Reason)
		}
	}
	if rep.Summary.Passed < 40 || res.code != 0 {
		t.Fatalf("exit %d summary %+v", res.code, rep.Summary)
	}
	noLeftovers(t)
}
