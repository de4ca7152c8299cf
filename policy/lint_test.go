package policy

import (
	"strings"
	"testing"

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
