package policy

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/netverify/netverify/scenarios"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// loadScenario loads one scenario from YAML, failing the test when the
// loader rejects it.
func loadScenario(t *testing.T, yaml string) *scenarios.Scenario {
	t.Helper()
	scs, err := scenarios.LoadBytes("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	if len(scs) != 1 {
		t.Fatalf("LoadBytes: %d scenarios, want 1", len(scs))
	}
	return scs[0]
}

func loadBuiltin(t *testing.T) *scenarios.Scenario {
	t.Helper()
	data, err := os.ReadFile("../scenarios/builtin/frontend-backend.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return loadScenario(t, string(data))
}

// webScenario is the README's example: frontend, backend (http 8080 and
// 9090), random, a Service web → http, and a policy admitting only the
// frontend on 8080. extraPolicies and expect are YAML list items, indented
// by four spaces.
func webScenario(extraPolicies, expect string) string {
	return `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: web}
spec:
  namespaces:
  - name: app
  pods:
  - {name: frontend, labels: {app: frontend}}
  - name: backend
    labels: {app: backend}
    ports: [{name: http, port: 8080}, {port: 9090}]
  - {name: random, labels: {app: random}}
  services:
  - name: web
    selector: {app: backend}
    ports: [{port: 80, targetPort: http}]
  policies:
  - metadata: {name: backend-allow-frontend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      policyTypes: [Ingress]
      ingress:
      - from: [{podSelector: {matchLabels: {app: frontend}}}]
        ports: [{port: 8080, protocol: TCP}]
` + extraPolicies + `  expect:
` + expect
}

// row is one line of a truth table, for comparing.
type row struct {
	from, to, port, proto string
	allowed               bool
	verdict               Verdict
}

func rowsOf(cs []Computed) []row {
	var out []row
	for _, c := range cs {
		e := c.Expectation
		if e.Allowed == nil {
			out = append(out, row{from: e.From, to: e.To, port: "Allowed is nil"})
			continue
		}
		out = append(out, row{e.From, e.To, e.Port, string(e.Protocol), *e.Allowed, c.Decision.Verdict})
	}
	return out
}

func TestExpectationsFromPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []row
	}{
		{
			name: "built-in frontend-backend",
			yaml: "", // the built-in file
			want: []row{
				{"app/frontend", "app/backend", "8080", "TCP", true, Allowed},
				{"app/frontend", "app/backend", "9090", "TCP", false, Blocked},
				// self traffic the policy would block: CNIs differ, Cilium allows it
				{"app/backend", "app/backend", "8080", "TCP", true, ImplementationDefined},
				{"app/backend", "app/backend", "9090", "TCP", true, ImplementationDefined},
				{"app/random", "app/backend", "8080", "TCP", false, Blocked},
				{"app/random", "app/backend", "9090", "TCP", false, Blocked},
			},
		},
		{
			name: "two namespaces, named UDP port, egress deny",
			yaml: `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: two}
spec:
  namespaces:
  - {name: a, labels: {team: x}}
  - {name: b}
  pods:
  - {name: client, namespace: a, labels: {app: client}}
  - name: server
    namespace: b
    labels: {app: server}
    ports: [{name: dns, port: 5353, protocol: UDP}, {name: web, port: 8080}]
  - {name: jail, namespace: b, labels: {app: jail}, ports: [{port: 80}]}
  policies:
  - metadata: {name: server-from-team-x, namespace: b}
    spec:
      podSelector: {matchLabels: {app: server}}
      ingress:
      - from: [{namespaceSelector: {matchLabels: {team: x}}}]
        ports: [{port: dns, protocol: UDP}]
  - metadata: {name: jail-no-egress, namespace: b}
    spec:
      podSelector: {matchLabels: {app: jail}}
      policyTypes: [Egress]
  expect:
  - {from: a/client, to: b/server, port: dns, protocol: UDP, allowed: true}
`,
			want: []row{
				{"a/client", "b/server", "5353", "UDP", true, Allowed},
				{"a/client", "b/server", "8080", "TCP", false, Blocked},
				{"a/client", "b/jail", "80", "TCP", true, Allowed},
				// the server's ingress admits only namespace a
				{"b/server", "b/server", "5353", "UDP", true, ImplementationDefined},
				{"b/server", "b/server", "8080", "TCP", true, ImplementationDefined},
				{"b/server", "b/jail", "80", "TCP", true, Allowed},
				{"b/jail", "b/server", "5353", "UDP", false, Blocked},
				{"b/jail", "b/server", "8080", "TCP", false, Blocked},
				// jail may not send anything, not even to itself (Cilium: allowed)
				{"b/jail", "b/jail", "80", "TCP", true, ImplementationDefined},
			},
		},
		{
			name: "egress to 0.0.0.0/0 reaches pods only on CNIs that match pod IPs",
			yaml: webScenario(`  - metadata: {name: frontend-egress}
    spec:
      podSelector: {matchLabels: {app: frontend}}
      policyTypes: [Egress]
      egress:
      - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]
        ports: [{port: 8080}]
`, `  - {from: frontend, to: backend, port: http, allowed: true}
`),
			want: []row{
				// egress: the ipBlock covers the backend's IP (CNI-dependent),
				// ingress: allowed; Cilium does not match pod IPs: blocked
				{"app/frontend", "app/backend", "8080", "TCP", false, ImplementationDefined},
				// 9090 is outside the rule's ports: definitely blocked
				{"app/frontend", "app/backend", "9090", "TCP", false, Blocked},
				{"app/backend", "app/backend", "8080", "TCP", true, ImplementationDefined},
				{"app/backend", "app/backend", "9090", "TCP", true, ImplementationDefined},
				{"app/random", "app/backend", "8080", "TCP", false, Blocked},
				{"app/random", "app/backend", "9090", "TCP", false, Blocked},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sc *scenarios.Scenario
			if tt.yaml == "" {
				sc = loadBuiltin(t)
			} else {
				sc = loadScenario(t, tt.yaml)
			}
			got, err := ExpectationsFromPolicies(sc)
			if err != nil {
				t.Fatalf("ExpectationsFromPolicies: %v", err)
			}
			if rows := rowsOf(got); !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("truth table:\n got %v\nwant %v", rows, tt.want)
				for _, c := range got {
					t.Logf("%s → %s %s: %s", c.Expectation.From, c.Expectation.To, c.Expectation.Port, c.Decision)
				}
			}
			for _, c := range got {
				if c.Decision.Reason == "" {
					t.Errorf("%s → %s %s: empty reason", c.Expectation.From, c.Expectation.To, c.Expectation.Port)
				}
			}
			again, err := ExpectationsFromPolicies(sc)
			if err != nil || !reflect.DeepEqual(rowsOf(again), rowsOf(got)) {
				t.Errorf("second call differs (err %v)", err)
			}
		})
	}
}

// TestTruthTableAgreesWithBuiltinExpectations checks the built-in
// scenario's hand-written expectations against the computed table.
func TestTruthTableAgreesWithBuiltinExpectations(t *testing.T) {
	t.Parallel()
	sc := loadBuiltin(t)
	table, err := ExpectationsFromPolicies(sc)
	if err != nil {
		t.Fatal(err)
	}
	computed := map[string]bool{}
	for _, c := range table {
		e := c.Expectation
		computed[fmt.Sprintf("%s %s %s/%s", e.From, e.To, e.Port, e.Protocol)] = *e.Allowed
	}
	for i, e := range sc.Spec.Expect {
		key := fmt.Sprintf("%s %s %s/%s", e.From, e.To, e.Port, e.Protocol)
		got, ok := computed[key]
		if !ok {
			t.Errorf("expect[%d] %s: not in the truth table", i, key)
		} else if got != e.IsAllowed() {
			t.Errorf("expect[%d] %s: computed %v, scenario says %v", i, key, got, e.IsAllowed())
		}
	}
}

func TestForScenario(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: ns-label}
spec:
  namespaces:
  - {name: a}
  - {name: b, labels: {env: prod}}
  pods:
  - {name: x, namespace: a, labels: {app: x}}
  - {name: srv, namespace: b, labels: {app: srv}, ports: [{name: web, port: 8080}]}
  policies:
  - metadata: {name: srv-from-a, namespace: b}
    spec:
      podSelector: {}
      ingress:
      - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}]
        ports: [{port: web}]
  expect:
  - {from: a/x, to: b/srv, port: web, allowed: true}
`)
	e, err := ForScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	x := &Pod{Namespace: "a", Name: "x", Labels: map[string]string{"app": "x"}}
	y := &Pod{Namespace: "b", Name: "srv", Labels: map[string]string{"app": "srv"}}
	if !e.Isolated(y, Ingress) || e.Isolated(x, Ingress) {
		t.Errorf("Isolated: y %v (want true), x %v (want false)", e.Isolated(y, Ingress), e.Isolated(x, Ingress))
	}
	// The named port "web" needs y's container ports; the namespace name
	// label is implicit.
	y.Ports = nil
	d, err := e.Decide(Peer{Pod: x}, Peer{Pod: y}, 8080, "")
	if err != nil || d.Verdict != Blocked {
		t.Errorf("without ports: %v, %v; want blocked (the named port does not resolve)", d, err)
	}
	table, err := ExpectationsFromPolicies(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(table) != 2 || *table[0].Expectation.Allowed != true || table[0].Decision.Verdict != Allowed {
		t.Errorf("table = %v, want a/x → b/srv 8080 allowed first", rowsOf(table))
	}

	bad := loadScenario(t, webScenario("", "  - {from: frontend, to: backend, port: http, allowed: true}\n"))
	bad.Spec.Policies[0].Spec.Ingress[0].From[0].PodSelector.MatchExpressions = append(
		bad.Spec.Policies[0].Spec.Ingress[0].From[0].PodSelector.MatchExpressions,
		metav1.LabelSelectorRequirement{Key: "app", Operator: "Bogus"})
	if _, err := ForScenario(bad); err == nil || !strings.Contains(err.Error(), `scenario "web"`) {
		t.Errorf("ForScenario with an invalid selector: err = %v, want one naming the scenario", err)
	}
}

func TestLint(t *testing.T) {
	t.Parallel()
	type finding struct {
		index    int
		contains []string
	}
	egressAnywhereButMetadata := `  - metadata: {name: frontend-egress}
    spec:
      podSelector: {matchLabels: {app: frontend}}
      policyTypes: [Egress]
      egress:
      - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]
`
	tests := []struct {
		name   string
		yaml   string
		want   []finding
		noneOK bool
	}{
		{
			name: "built-in scenario agrees with its policy",
			yaml: "",
		},
		{
			name: "correct expectations",
			yaml: webScenario("", `  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: random, to: backend, port: "8080", allowed: false}
  - {from: frontend, to: backend, port: "9090", allowed: false}
`),
		},
		{
			name: "expectation contradicts the policy",
			yaml: webScenario("", `  - {from: frontend, to: backend, port: http, allowed: true}
  - {name: random gets in, from: random, to: backend, port: "8080", allowed: true}
  - {from: frontend, to: backend, port: "8080", allowed: false}
`),
			want: []finding{
				{1, []string{`"random gets in"`, "app/random → app/backend 8080/TCP", "expected allowed", "policies say blocked",
					"isolated by app/backend-allow-frontend"}},
				{2, []string{"app/frontend → app/backend 8080/TCP", "expected blocked", "policies say allowed",
					"allowed by app/backend-allow-frontend ingress[0]"}},
			},
		},
		{
			name: "self traffic is implementation-defined, never a contradiction",
			yaml: webScenario("", `  - {from: backend, to: backend, port: http, allowed: false}
  - {from: backend, to: backend, port: "9090", allowed: true}
`),
		},
		{
			name: "service targets resolve to backends and targetPort",
			yaml: webScenario("", `  - {from: frontend, to: "svc:web", port: "80", allowed: true}
  - {from: frontend, to: "svc:web", port: "80", backend: backend, allowed: true}
  - {from: random, to: "svc:web", port: "80", allowed: false}
  - {from: random, to: "svc:web", port: "80", allowed: true}
  - {from: frontend, to: "svc:app/web", port: "80", allowed: false}
`),
			want: []finding{
				{3, []string{"app/random → svc:app/web 80/TCP", "expected allowed", "blocked for its only backend",
					"backend app/backend port 8080/TCP", "isolated by app/backend-allow-frontend"}},
				{4, []string{"app/frontend → svc:app/web 80/TCP", "expected blocked", "allowed for its only backend",
					"app/backend-allow-frontend ingress[0]"}},
			},
		},
		{
			name: "service with backends that disagree is no contradiction",
			yaml: `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: mixed}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: random, labels: {app: random}}
  - {name: backend, labels: {app: backend, tier: be}, ports: [{port: 8080}]}
  - {name: open, labels: {app: open, tier: be}, ports: [{port: 8080}]}
  services:
  - {name: any, selector: {tier: be}, ports: [{port: 8080}]}
  policies:
  - metadata: {name: backend-allow-frontend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}]}]
  expect:
  - {from: random, to: "svc:any", port: "8080", allowed: true}
  - {from: random, to: "svc:any", port: "8080", allowed: false}
  - {from: random, to: "svc:any", port: "8080", backend: backend, allowed: true}
  - {from: random, to: "svc:any", port: "8080", backend: open, allowed: true}
  - {from: backend, to: "svc:any", port: "8080", backend: random, allowed: true}
`,
			want: []finding{
				{2, []string{"expected allowed", "blocked for the expected backend", "backend app/backend port 8080/TCP"}},
				// 4: random is not behind the Service: no policy question
			},
		},
		{
			name: "ip: target checks the source's egress ipBlock and its except",
			yaml: webScenario(egressAnywhereButMetadata, `  - {from: frontend, to: "ip:169.254.169.254", port: "80", allowed: false}
  - {from: frontend, to: "ip:192.0.2.10", port: "443", allowed: true}
  - {from: frontend, to: "ip:169.254.169.254", port: "80", allowed: true}
  - {from: frontend, to: "ip:192.0.2.10", port: "443", allowed: false}
  - {from: random, to: "ip:169.254.169.254", port: "80", allowed: true}
  - {from: frontend, to: "host:example.com", port: "443", allowed: true}
  - {from: frontend, to: "dns:kubernetes.default", allowed: true}
  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: frontend, to: backend, port: http, allowed: false}
`),
			want: []finding{
				{2, []string{"app/frontend → ip:169.254.169.254 80/TCP", "expected allowed", "policies say blocked",
					"isolated by app/frontend-egress"}},
				{3, []string{"app/frontend → ip:192.0.2.10 443/TCP", "expected blocked", "policies say allowed",
					"allowed by app/frontend-egress egress[0]"}},
				// 4: random is not isolated for egress; 5, 6: address unknown offline;
				// 7, 8: the ipBlock covers the backend's IP: CNI-dependent
			},
		},
		{
			name: "isolation note on a policy that cuts same-namespace traffic",
			yaml: webScenario(`  - metadata: {name: namespace-isolation}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
      ingress: []
`, `  - {from: frontend, to: backend, port: http, allowed: true}
`),
			want: []finding{
				{-1, []string{"policy app/namespace-isolation", "cuts same-namespace traffic"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sc *scenarios.Scenario
			if tt.yaml == "" {
				sc = loadBuiltin(t)
			} else {
				sc = loadScenario(t, tt.yaml)
			}
			got, err := Lint(sc)
			if err != nil {
				t.Fatalf("Lint: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Lint: %d findings, want %d:\n%v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				f := got[i]
				if f.Index != w.index || f.Scenario != sc.Metadata.Name {
					t.Errorf("finding %d: scenario %q index %d, want %q %d", i, f.Scenario, f.Index, sc.Metadata.Name, w.index)
				}
				for _, s := range w.contains {
					if !strings.Contains(f.Message, s) {
						t.Errorf("finding %d: %q\ndoes not contain %q", i, f.Message, s)
					}
				}
			}
		})
	}
}

func TestFindingString(t *testing.T) {
	t.Parallel()
	if got, want := (Finding{Scenario: "s", Index: 2, Message: "m"}).String(), `scenario "s": spec.expect[2]: m`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Finding{Scenario: "s", Index: -1, Message: "m"}).String(), `scenario "s": m`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, webScenario(`  - metadata: {name: frontend-egress}
    spec:
      podSelector: {matchLabels: {app: frontend}}
      policyTypes: [Egress]
      egress:
      - to: [{podSelector: {matchLabels: {app: backend}}}]
      - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]
        ports: [{port: 443}]
`, `  - {from: frontend, to: backend, port: http, allowed: true}
`))
	tests := []struct {
		name                  string
		from, to, port, proto string
		want                  []string
		notWant               []string
	}{
		{
			name: "allowed by both sides", from: "frontend", to: "backend", port: "http",
			want: []string{
				"app/frontend → app/backend 8080/TCP",
				"Egress from app/frontend: isolated by 1 policy",
				"policy app/frontend-egress selects it (podSelector {app=frontend})",
				"app/frontend-egress egress[0]: ALLOWS it",
				"app/frontend-egress egress[1]: no match: its ports [TCP/443] do not include TCP/8080",
				"Ingress to app/backend: isolated by 1 policy",
				"app/backend-allow-frontend ingress[0]: ALLOWS it",
				"Verdict: allowed",
			},
		},
		{
			name: "blocked: no rule admits the source", from: "app/random", to: "app/backend", port: "8080", proto: "tcp",
			want: []string{
				"Egress from app/random: not isolated",
				"app/backend-allow-frontend ingress[0]: no match: from [podSelector {app=frontend}] does not include app/random",
				"→ ingress blocked",
				"Verdict: blocked",
				"isolated by app/backend-allow-frontend",
			},
		},
		{
			name: "blocked by port", from: "frontend", to: "backend", port: "9090",
			want: []string{
				"app/backend-allow-frontend ingress[0]: no match: its ports [TCP/8080] do not include TCP/9090",
				"Verdict: blocked",
			},
		},
		{
			name: "undeclared port is noted", from: "frontend", to: "backend", port: "7000",
			want: []string{"declares no port 7000/TCP", "Verdict: blocked"},
		},
		{
			name: "self traffic", from: "backend", to: "backend", port: "8080",
			want: []string{"Verdict: implementation-defined (on Cilium, as on the local cluster: allowed)", "connecting to itself"},
		},
		{
			name: "service: per backend on the targetPort", from: "frontend", to: "svc:web", port: "80",
			want: []string{
				"app/frontend → svc:app/web 80/TCP (targetPort http; 1 backend(s))",
				"Backend app/backend, port 8080/TCP:",
				"  Verdict for this backend: allowed",
				"Verdict: allowed for every backend",
			},
		},
		{
			name: "ip: the except", from: "frontend", to: "ip:169.254.169.254", port: "443",
			want: []string{
				"app/frontend → 169.254.169.254 443/TCP",
				"app/frontend-egress egress[1]: no match: to [ipBlock 0.0.0.0/0 except 169.254.169.254/32] does not include 169.254.169.254",
				"Ingress to 169.254.169.254: not a pod",
				"Verdict: blocked",
			},
		},
		{
			name: "ip: outside the except", from: "frontend", to: "ip:192.0.2.1", port: "443",
			want: []string{"app/frontend-egress egress[1]: ALLOWS it", "Verdict: allowed"},
		},
		{
			name: "ipBlock over every address and a pod of unknown IP", from: "frontend", to: "random", port: "443",
			want: []string{
				"app/frontend-egress egress[1]: depends on the CNI: ipBlock 0.0.0.0/0 except 169.254.169.254/32",
				"→ egress implementation-defined",
				"Verdict: implementation-defined (on Cilium, as on the local cluster: blocked)",
			},
			notWant: []string{"declares no port 443/TCP\n\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Explain(sc, tt.from, tt.to, tt.port, tt.proto)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("output does not contain %q:\n%s", s, got)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(got, s) {
					t.Errorf("output contains %q:\n%s", s, got)
				}
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, webScenario("", "  - {from: frontend, to: backend, port: http, allowed: true}\n"))
	tests := []struct {
		name, from, to, port, proto string
		want                        string
	}{
		{"unknown source", "nobody", "backend", "8080", "", `from: pod "app/nobody" is not declared`},
		{"unknown destination", "frontend", "app/nobody", "8080", "", `to: pod "app/nobody" is not declared`},
		{"unknown service", "frontend", "svc:nope", "80", "", `to: service "app/nope" is not declared`},
		{"bad target", "frontend", "10.0.0.1", "80", "", `write "ip:10.0.0.1"`},
		{"dns target", "frontend", "dns:kubernetes.default", "53", "", "dns targets cannot be explained offline"},
		{"unknown named port", "frontend", "backend", "grpc", "", `no TCP port named "grpc"`},
		{"named port of another protocol", "frontend", "backend", "http", "UDP", `no UDP port named "http"`},
		{"unknown service port", "frontend", "svc:web", "81", "", `service app/web has no TCP port "81" (it has 80/TCP)`},
		{"ip port must be a number", "frontend", "ip:192.0.2.1", "https", "", "not a port number"},
		{"no port", "frontend", "backend", "", "", "a port is required"},
		{"bad protocol", "frontend", "backend", "8080", "ICMP", `unknown protocol "ICMP"`},
		{"port out of range", "frontend", "backend", "70000", "", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := Explain(sc, tt.from, tt.to, tt.port, tt.proto)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Explain: err = %v, want one containing %q (output %q)", err, tt.want, out)
			}
		})
	}
}
