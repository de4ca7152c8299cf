package policy

import (
	"strings"
	"testing"

	"github.com/netverify/netverify/scenarios"
	networkingv1 "k8s.io/api/networking/v1"
)

// The hardening-guide "namespace isolation" policy in its two shapes.
var (
	// isolationCutsNamespace is the common mistake: it denies every source,
	// the namespace's own pods included.
	isolationCutsNamespace = makePolicy("namespace-isolation", "x", types(Ingress), ingressRules())
	// isolationKeepsNamespace admits the namespace's own pods only.
	isolationKeepsNamespace = makePolicy("namespace-isolation", "x", types(Ingress),
		ingressRules(from(nil, podsPeer(lbl{}))))
)

func TestLintIsolation(t *testing.T) {
	t.Parallel()
	w := newWorld()
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		notes    int      // how many notes
		want     []string // substrings the notes must contain
	}{
		{
			name:     "ingress: [] cuts same-namespace traffic",
			policies: []networkingv1.NetworkPolicy{isolationCutsNamespace},
			notes:    1,
			want: []string{"policy x/namespace-isolation isolates its pods for Ingress but none of its ingress rules admits the pods of its own namespace \"x\", " +
				"so it also cuts same-namespace traffic (e.g. x/a → x/b); to isolate the namespace but keep traffic inside it, use `ingress: [{from: [{podSelector: {}}]}]`"},
		},
		{
			name:     "allow-same-namespace version",
			policies: []networkingv1.NetworkPolicy{isolationKeepsNamespace},
		},
		{
			name:     "ingress absent and no policyTypes is the same mistake",
			policies: []networkingv1.NetworkPolicy{makePolicy("isolate-x", "x")},
			notes:    1,
			want:     []string{"policy x/isolate-x isolates its pods for Ingress"},
		},
		{
			name:     "names without isolat are not linted",
			policies: []networkingv1.NetworkPolicy{makePolicy("default-deny", "x", types(Ingress), ingressRules())},
		},
		{
			name: "namespaceSelector that misses the own namespace",
			policies: []networkingv1.NetworkPolicy{makePolicy("ns-isolation", "x", types(Ingress),
				ingressRules(from(nil, nsPeer(lbl{"team": "beta"}))))},
			notes: 1,
			want:  []string{"policy x/ns-isolation"},
		},
		{
			name: "namespaceSelector on the own namespace's name",
			policies: []networkingv1.NetworkPolicy{makePolicy("ns-isolation", "x", types(Ingress),
				ingressRules(from(nil, nsPeer(lbl{"kubernetes.io/metadata.name": "x"}))))},
		},
		{
			name: "a podSelector admitting some pods only",
			policies: []networkingv1.NetworkPolicy{makePolicy("ns-isolation", "x", types(Ingress),
				ingressRules(from(nil, podsPeer(lbl{"pod": "a"}))))},
			notes: 1,
			want:  []string{"policy x/ns-isolation"},
		},
		{
			name: "a rule without from admits everyone",
			policies: []networkingv1.NetworkPolicy{makePolicy("ns-isolation", "x", types(Ingress),
				ingressRules(from(ports(tcp(443)))))},
		},
		{
			name: "egress: [] cuts same-namespace egress",
			policies: []networkingv1.NetworkPolicy{makePolicy("namespace-isolation", "x", types(Ingress, Egress),
				ingressRules(from(nil, podsPeer(lbl{}))), egressRules())},
			notes: 1,
			want:  []string{"isolates its pods for Egress but none of its egress rules", "use `egress: [{to: [{podSelector: {}}]}]`"},
		},
		{
			name: "an allow-same-namespace companion restores the traffic",
			policies: []networkingv1.NetworkPolicy{
				isolationCutsNamespace,
				makePolicy("allow-same-namespace", "x", ingressRules(from(nil, podsPeer(lbl{})))),
			},
		},
		{
			name: "a companion in another namespace does not",
			policies: []networkingv1.NetworkPolicy{
				isolationCutsNamespace,
				makePolicy("allow-same-namespace", "y", ingressRules(from(nil, podsPeer(lbl{})))),
			},
			notes: 1,
			want:  []string{"policy x/namespace-isolation"},
		},
		{
			name:     "invalid policies are skipped",
			policies: []networkingv1.NetworkPolicy{makePolicy("namespace-isolation", "x", ingressRules(from(nil, cidrPeer("bad"))))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			notes := LintIsolation(tt.policies, w.namespaces, w.pods)
			if len(notes) != tt.notes {
				t.Fatalf("got %d notes, want %d: %q", len(notes), tt.notes, notes)
			}
			all := strings.Join(notes, "\n")
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("notes %q do not contain %q", notes, want)
				}
			}
		})
	}
}

// TestIsolationVariantsDecide checks the lint against the engine: the shape
// it flags really cuts same-namespace traffic, and the fix keeps it while
// still isolating the namespace.
func TestIsolationVariantsDecide(t *testing.T) {
	t.Parallel()
	w := newWorld()
	p := w.pod
	runPolicyCases(t, []policyCase{
		{
			name:     "cuts same-namespace traffic",
			policies: []networkingv1.NetworkPolicy{isolationCutsNamespace},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Blocked, reason: "isolated by x/namespace-isolation"},
				{src: p("y/a"), dst: p("x/b"), port: 80, want: Blocked},
			},
		},
		{
			name:     "keeps same-namespace traffic",
			policies: []networkingv1.NetworkPolicy{isolationKeepsNamespace},
			conns: []conn{
				{src: p("x/a"), dst: p("x/b"), port: 80, want: Allowed, reason: "allowed by x/namespace-isolation ingress[0]"},
				{src: p("y/a"), dst: p("x/b"), port: 80, want: Blocked},
				{src: ipPeer("203.0.113.9"), dst: p("x/b"), port: 80, want: Blocked},
			},
		},
	})
}

func TestLintIsolationWithoutPods(t *testing.T) {
	t.Parallel()
	notes := LintIsolation([]networkingv1.NetworkPolicy{isolationCutsNamespace}, nil, nil)
	if len(notes) != 1 {
		t.Fatalf("got %q, want one note", notes)
	}
	if strings.Contains(notes[0], "(e.g.") {
		t.Errorf("note names an example without pods: %q", notes[0])
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
	// Ingress to the backend only from 10.0.0.0/8, egress from the
	// frontend only to the Service range 10.96.0.0/12: whether they match
	// pod IPs and ClusterIPs depends on the CNI and on the cluster's ranges.
	privateOnly := `  - metadata: {name: backend-from-private}
    spec:
      podSelector: {matchLabels: {app: backend}}
      ingress:
      - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
  - metadata: {name: frontend-to-services}
    spec:
      podSelector: {matchLabels: {app: frontend}}
      policyTypes: [Egress]
      egress:
      - to: [{ipBlock: {cidr: 10.96.0.0/12}}]
`
	privateExpect := `  - {from: random, to: backend, port: "9090", allowed: true}
  - {from: frontend, to: "svc:web", port: "80", allowed: true}
  - {from: random, to: backend, port: "9090", implementationDefined: ipBlock 10.0.0.0/8 and pod IPs}
  - {from: random, to: backend, port: "9090", implementationDefined: ipBlock 10.0.0.0/8 and pod IPs, accept: [allowed]}
  - {from: frontend, to: backend, port: "9090", allowed: false}
`
	elsewhere := ClusterRanges{Pods: mustPrefixes("172.16.0.0/16"), Services: mustPrefixes("172.17.0.0/16")}
	inside := ClusterRanges{Pods: mustPrefixes("10.244.0.0/16"), Services: mustPrefixes("10.96.0.0/12")}
	tests := []struct {
		name   string
		yaml   string
		ranges ClusterRanges
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
			name: "ipBlocks that may cover pod IPs and ClusterIPs: no contradiction without the ranges",
			yaml: webScenario(privateOnly, privateExpect),
		},
		{
			name:   "ipBlocks covering the known ranges: still up to the CNI",
			yaml:   webScenario(privateOnly, privateExpect),
			ranges: inside,
		},
		{
			name:   "ipBlocks outside the known ranges: definite",
			yaml:   webScenario(privateOnly, privateExpect),
			ranges: elsewhere,
			want: []finding{
				{0, []string{"app/random → app/backend 9090/TCP is expected allowed, but the policies say blocked",
					"isolated by app/backend-allow-frontend, app/backend-from-private"}},
				{1, []string{"app/frontend → svc:app/web 80/TCP is expected allowed, but the policies say blocked for its only backend",
					"backend app/backend port 8080/TCP", "egress from app/frontend: isolated by app/frontend-to-services"}},
				{2, []string{"app/random → app/backend 9090/TCP is declared implementation-defined, but the policies decide it: blocked on every implementation (check it with allowed: false)"}},
				{3, []string{"app/random → app/backend 9090/TCP is expected allowed, but the policies say blocked"}},
			},
		},
		{
			name: "implementation-defined where the policies decide",
			yaml: webScenario("", `  - {from: random, to: backend, port: "8080", implementationDefined: why not}
  - {from: frontend, to: "svc:web", port: "80", implementationDefined: why not, accept: [allowed, blocked]}
  - {from: backend, to: backend, port: "8080", implementationDefined: a pod reaching itself}
  - {from: random, to: backend, port: "8080", implementationDefined: why not, accept: [blocked]}
  - {from: frontend, to: backend, port: "8080", implementationDefined: why not, accept: [blocked]}
`),
			want: []finding{
				{0, []string{"declared implementation-defined, but the policies decide it: blocked on every implementation (check it with allowed: false)",
					"isolated by app/backend-allow-frontend"}},
				{1, []string{"app/frontend → svc:app/web 80/TCP is declared implementation-defined, but the policies decide it: allowed on every implementation for its only backend (check it with allowed: true)"}},
				// 2: self traffic is up to the CNI; 3: blocked, as accepted
				{4, []string{"app/frontend → app/backend 8080/TCP is expected blocked, but the policies say allowed"}},
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
				{-1, []string{"no expectation is blocked", "proves nothing about enforcement"}},
			},
		},
		{
			name: "policies with only allowed expectations prove nothing",
			yaml: webScenario("", `  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: frontend, to: "dns:kubernetes.default", allowed: true}
`),
			want: []finding{{-1, []string{"no expectation is blocked", "allowed: false"}}},
		},
		{
			name: "SCTP expectations are not probed, and a blocked one proves nothing",
			yaml: webScenario("", `  - {from: frontend, to: backend, port: http, allowed: true}
  - {from: random, to: "ip:192.0.2.10", port: "9999", protocol: SCTP, allowed: false}
`),
			want: []finding{
				{-1, []string{"no expectation is blocked"}},
				{1, []string{"SCTP is not probed", "skipped, not checked"}},
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
			got, err := Lint(sc, WithClusterRanges(tt.ranges))
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
