package audit

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// fixtureFindings has every severity, a cluster-scoped finding, two findings
// on one rule × object, cells that need escaping, and is out of order.
func fixtureFindings() []Finding {
	return []Finding{
		newFinding(RulePolicySelectsNoPods, "shop", "networkpolicy/typo", "podSelector app=wbe matches no pod in namespace shop (a typo?): the policy protects nothing"),
		newFinding(RuleHostNetwork, "shop", "deployment/agent", "uses hostNetwork: it shares its node's network, and NetworkPolicies do not apply to its traffic on most CNIs (2 pods: agent-6b7c8d9f5-aaaaa, agent-6b7c8d9f5-bbbbb)"),
		newFinding(RuleMissingAppLabel, "batch", "pod/debug", `has neither an "app" nor an "app.kubernetes.io/name" label: policies cannot select it by application`),
		newFinding(RulePolicyAllowsMetadata, "shop", "networkpolicy/all-out", "egress[0] has no `to`: it allows every destination, the metadata service 169.254.169.254, 100.100.100.200 included"),
		newFinding(RuleUnmodeledPolicyKind, "", "ciliumclusterwidenetworkpolicy.cilium.io/host-fw", "CiliumClusterwideNetworkPolicy (cilium.io/v2) applies cluster-wide, but netverify's policy engine models only networking.k8s.io/v1 NetworkPolicies"),
		newFinding(RuleNoNetworkPolicy, "batch", "namespace/batch", "no NetworkPolicy: every pod accepts and sends any traffic"),
		newFinding(RuleHostPortOutsideNodePorts, "shop", "pod/legacy", "container a | b publishes hostPort 8080/TCP (container port 8080) on its node's addresses"),
		newFinding(RuleHostPortOutsideNodePorts, "shop", "pod/legacy", "container a | b publishes hostPort 8443/TCP (container port 8443) on its node's addresses"),
		newFinding(RuleServiceNodePort, "shop", "service/web", "type NodePort publishes 80/TCP as node port 30080 on every node's addresses"),
	}
}

func render(t *testing.T, format string, fs []Finding, opts WriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, fs, opts); err != nil {
		t.Fatalf("Write(%q): %v", format, err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/<name>.golden, or rewrites it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run 'go test ./audit -update' to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run 'go test ./audit -update' if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", file, got, want)
	}
}

func TestGolden(t *testing.T) {
	for _, f := range Formats() {
		t.Run(f, func(t *testing.T) {
			checkGolden(t, f, render(t, f, fixtureFindings(), WriteOptions{FailOn: Medium}))
			checkGolden(t, "empty_"+f, render(t, f, nil, WriteOptions{FailOn: High}))
		})
	}
}

func TestWriteIsDeterministicAndLeavesInputAlone(t *testing.T) {
	t.Parallel()
	in := fixtureFindings()
	for _, f := range Formats() {
		a := render(t, f, in, WriteOptions{})
		b := render(t, f, fixtureFindings(), WriteOptions{})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings differ", f)
		}
	}
	if in[0].Rule != RulePolicySelectsNoPods {
		t.Error("Write reordered the caller's slice")
	}
}

func TestUnknownFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := Write(&buf, "yaml", fixtureFindings(), WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) || buf.Len() != 0 {
		t.Fatalf("Write(yaml) = %v, wrote %q; want an error and nothing written", err, buf.String())
	}
}

func TestJSONShape(t *testing.T) {
	t.Parallel()
	var doc struct {
		Summary  map[string]int      `json:"summary"`
		Findings []map[string]string `json:"findings"`
	}
	if err := json.Unmarshal(render(t, FormatJSON, fixtureFindings(), WriteOptions{}), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"total": 9, "high": 2, "medium": 4, "low": 2, "info": 1}
	for k, v := range want {
		if doc.Summary[k] != v {
			t.Errorf("summary.%s = %d, want %d (%v)", k, doc.Summary[k], v, doc.Summary)
		}
	}
	if len(doc.Findings) != 9 {
		t.Fatalf("%d findings, want 9", len(doc.Findings))
	}
	f := doc.Findings[0]
	for _, k := range []string{"rule", "severity", "namespace", "object", "message"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding has no %q field: %v", k, f)
		}
	}
	if f["severity"] != "high" {
		t.Errorf("first finding severity %q, want high (sorted, as text)", f["severity"])
	}
	var back struct{ Findings []Finding }
	if err := json.Unmarshal(render(t, FormatJSON, fixtureFindings(), WriteOptions{}), &back); err != nil || back.Findings[0].Severity != High {
		t.Errorf("findings do not read back: %v %+v", err, back.Findings)
	}
	if out := render(t, FormatJSON, nil, WriteOptions{}); !bytes.Contains(out, []byte(`"findings": []`)) {
		t.Errorf("no findings should be [], got %s", out)
	}
}

func TestJUnitFailsAtOrAboveFailOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failOn   Severity
		failures int
	}{{High, 2}, {Medium, 5}, {Low, 7}, {Info, 8}} {
		var doc junitSuites
		if err := xml.Unmarshal(render(t, FormatJUnit, fixtureFindings(), WriteOptions{FailOn: tc.failOn}), &doc); err != nil {
			t.Fatalf("not XML: %v", err)
		}
		// 19 rules: 8 with one rule × object case each (two findings share
		// pod/legacy), 11 with a "no findings" case.
		if doc.Failures != tc.failures || doc.Tests != 19 {
			t.Errorf("fail-on %s: tests %d failures %d, want 19 and %d", tc.failOn, doc.Tests, doc.Failures, tc.failures)
		}
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	if !(Info < Low && Low < Medium && Medium < High) {
		t.Fatal("severities out of order")
	}
	for _, s := range Severities() {
		got, err := ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", strings.ToUpper(s.String()), got, err)
		}
	}
	if _, err := ParseSeverity("critical"); err == nil {
		t.Error("ParseSeverity(critical): want an error")
	}
	if !AtOrAbove(fixtureFindings(), High) || AtOrAbove([]Finding{newFinding(RuleMissingAppLabel, "a", "pod/x", "")}, Low) {
		t.Error("AtOrAbove is wrong")
	}
	if s := summaryLine(Summarize(fixtureFindings()[:1])); s != "1 finding: 0 high, 0 medium, 1 low, 0 info" {
		t.Errorf("summary line %q", s)
	}
}

func TestRulesAreDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if !strings.Contains(string(doc), r.ID) {
			t.Errorf("rule %s is not documented in doc.go", r.ID)
		}
		if !strings.Contains(string(doc), r.ID+" ("+r.Severity.String()+")") && !strings.Contains(string(doc), r.ID+"\n//     ("+r.Severity.String()+")") {
			t.Errorf("doc.go does not give rule %s its severity %s", r.ID, r.Severity)
		}
	}
}
