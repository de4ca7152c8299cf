package policy

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
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

// TestExpectationsFromPoliciesIsDecide checks that the truth table is
// Engine.Decide's answer, unchanged, for every connection: the bridge adds
// no semantics of its own.
func TestExpectationsFromPoliciesIsDecide(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, webScenario(`  - metadata: {name: frontend-egress}
    spec:
      podSelector: {matchLabels: {app: frontend}}
      policyTypes: [Egress]
      egress:
      - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]
`, `  - {from: frontend, to: backend, port: http, allowed: true}
`))
	e, err := ForScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	table, err := ExpectationsFromPolicies(sc)
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*Pod{}
	for _, sp := range sc.Spec.Pods {
		p := &Pod{Namespace: sp.Namespace, Name: sp.Name, Labels: sp.Labels}
		for _, port := range sp.Ports {
			p.Ports = append(p.Ports, corev1.ContainerPort{Name: port.Name, ContainerPort: port.Port, Protocol: corev1.Protocol(port.Protocol)})
		}
		pods[p.String()] = p
	}
	sawID := false
	for _, c := range table {
		x := c.Expectation
		port, err := strconv.Atoi(x.Port)
		if err != nil {
			t.Fatal(err)
		}
		want, err := e.Decide(Peer{Pod: pods[x.From]}, Peer{Pod: pods[x.To]}, int32(port), corev1.Protocol(x.Protocol))
		if err != nil {
			t.Fatal(err)
		}
		if c.Decision != want {
			t.Errorf("%s → %s %s: table says %v\nDecide says %v", x.From, x.To, x.Port, c.Decision, want)
		}
		sawID = sawID || x.From != x.To && want.Verdict == ImplementationDefined
	}
	if !sawID {
		t.Error("no implementation-defined connection between two pods: the ipBlock 0.0.0.0/0 case is not exercised")
	}
}

func TestScenarioExpectations(t *testing.T) {
	t.Parallel()
	type row struct {
		from, to, port string
		allowed        bool
		implDefined    string // a substring of ImplementationDefined; "" when it must be empty
	}
	privateOnly := `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: private-only}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: client, labels: {app: client}}
  - {name: web, labels: {app: web}, ports: [{port: 8080}]}
  policies:
  - metadata: {name: web-from-private}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
      - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
  expect:
  - {from: client, to: web, port: "8080", allowed: false}
`
	tests := []struct {
		name   string
		yaml   string
		ranges ClusterRanges
		want   []row
	}{
		{
			name: "an ipBlock that may cover pod IPs, ranges unknown",
			yaml: privateOnly,
			want: []row{
				{"app/client", "app/web", "8080", false, "ipBlock 10.0.0.0/8 (app/web-from-private ingress[0]) may cover the pod IP of app/client"},
				{"app/web", "app/web", "8080", true, "app/web connecting to itself"},
			},
		},
		{
			name:   "an ipBlock covering the known pod range",
			yaml:   privateOnly,
			ranges: ClusterRanges{Pods: mustPrefixes("10.244.0.0/16")},
			want: []row{
				{"app/client", "app/web", "8080", false, "covers the pod range 10.244.0.0/16"},
				{"app/web", "app/web", "8080", true, "app/web connecting to itself"},
			},
		},
		{
			name:   "an ipBlock outside the known pod range",
			yaml:   privateOnly,
			ranges: ClusterRanges{Pods: mustPrefixes("172.16.0.0/16")},
			want: []row{
				{"app/client", "app/web", "8080", false, ""},
				{"app/web", "app/web", "8080", true, "app/web connecting to itself"},
			},
		},
		{
			name: "default deny and an allow rule",
			yaml: `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: deny-and-allow}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: client, labels: {app: client}}
  - {name: web, labels: {app: web}, ports: [{port: 8080}, {port: 9090}]}
  - {name: db, labels: {app: db}, ports: [{port: 5432}]}
  policies:
  - metadata: {name: default-deny}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
  - metadata: {name: db-from-web}
    spec:
      podSelector: {matchLabels: {app: db}}
      ingress:
      - from: [{podSelector: {matchLabels: {app: web}}}]
        ports: [{port: 5432}]
  - metadata: {name: web-8080-only}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
      - ports: [{port: 8080}]
  expect:
  - {from: web, to: db, port: "5432", allowed: true}
  - {from: client, to: db, port: "5432", allowed: false}
`,
			want: []row{
				{"app/client", "app/web", "8080", true, ""},
				{"app/client", "app/web", "9090", false, ""},
				{"app/client", "app/db", "5432", false, ""},
				{"app/web", "app/web", "8080", true, ""},
				// self traffic the policy would block: Cilium allows it
				{"app/web", "app/web", "9090", true, "app/web connecting to itself"},
				{"app/web", "app/db", "5432", true, ""},
				{"app/db", "app/web", "8080", true, ""},
				{"app/db", "app/web", "9090", false, ""},
				{"app/db", "app/db", "5432", true, "app/db connecting to itself"},
			},
		},
		{
			name: "built-in frontend-backend",
			yaml: "",
			want: []row{
				{"app/frontend", "app/backend", "8080", true, ""},
				{"app/frontend", "app/backend", "9090", false, ""},
				{"app/backend", "app/backend", "8080", true, "connecting to itself"},
				{"app/backend", "app/backend", "9090", true, "connecting to itself"},
				{"app/random", "app/backend", "8080", false, ""},
				{"app/random", "app/backend", "9090", false, ""},
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
			before := *sc
			before.Spec.Expect = append([]scenarios.Expectation(nil), sc.Spec.Expect...)
			got, err := ScenarioExpectations(sc, WithClusterRanges(tt.ranges))
			if err != nil {
				t.Fatalf("ScenarioExpectations: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d expectations, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.From != w.from || g.To != w.to || g.Port != w.port || g.Protocol != scenarios.TCP || g.Allowed == nil || *g.Allowed != w.allowed {
					t.Errorf("expectation %d: got %s → %s %s/%s allowed %v, want %s → %s %s/TCP allowed %v",
						i, g.From, g.To, g.Port, g.Protocol, deref(g.Allowed), w.from, w.to, w.port, w.allowed)
				}
				switch {
				case w.implDefined == "" && g.ImplementationDefined != "":
					t.Errorf("expectation %d (%s → %s %s): ImplementationDefined = %q, want none", i, g.From, g.To, g.Port, g.ImplementationDefined)
				case w.implDefined != "" && !strings.Contains(g.ImplementationDefined, w.implDefined):
					t.Errorf("expectation %d (%s → %s %s): ImplementationDefined = %q, want one containing %q", i, g.From, g.To, g.Port, g.ImplementationDefined, w.implDefined)
				}
			}
			if !reflect.DeepEqual(*sc, before) {
				t.Errorf("ScenarioExpectations modified the scenario:\n got %+v\nwant %+v", sc.Spec.Expect, before.Spec.Expect)
			}
		})
	}

	if _, err := ScenarioExpectations(nil); err == nil {
		t.Error("ScenarioExpectations(nil): no error")
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
