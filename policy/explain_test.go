package policy

import (
	"strings"
	"testing"
)

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
		verdict               Verdict
	}{
		{
			name: "allowed by both sides", from: "frontend", to: "backend", port: "http", verdict: Allowed,
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
			name: "blocked: no rule admits the source", from: "app/random", to: "app/backend", port: "8080", proto: "tcp", verdict: Blocked,
			want: []string{
				"Egress from app/random: not isolated",
				"app/backend-allow-frontend ingress[0]: no match: from [podSelector {app=frontend}] does not include app/random",
				"→ ingress blocked",
				"Verdict: blocked",
				"isolated by app/backend-allow-frontend",
			},
		},
		{
			name: "blocked by port", from: "frontend", to: "backend", port: "9090", verdict: Blocked,
			want: []string{
				"app/backend-allow-frontend ingress[0]: no match: its ports [TCP/8080] do not include TCP/9090",
				"Verdict: blocked",
			},
		},
		{
			name: "undeclared port is noted", from: "frontend", to: "backend", port: "7000", verdict: Blocked,
			want: []string{"declares no port 7000/TCP", "Verdict: blocked"},
		},
		{
			name: "self traffic", from: "backend", to: "backend", port: "8080", verdict: ImplementationDefined,
			want: []string{"Verdict: implementation-defined (on Cilium, as on the local cluster: allowed)", "connecting to itself"},
		},
		{
			name: "service: per backend on the targetPort", from: "frontend", to: "svc:web", port: "80", verdict: Allowed,
			want: []string{
				"app/frontend → svc:app/web 80/TCP (targetPort http; 1 backend(s))",
				"Backend app/backend, port 8080/TCP:",
				"  Verdict for this backend: allowed",
				"Verdict: allowed for every backend",
			},
		},
		{
			name: "ip: the except", from: "frontend", to: "ip:169.254.169.254", port: "443", verdict: Blocked,
			want: []string{
				"app/frontend → 169.254.169.254 443/TCP",
				"app/frontend-egress egress[1]: no match: to [ipBlock 0.0.0.0/0 except 169.254.169.254/32] does not include 169.254.169.254",
				"Ingress to 169.254.169.254: not a pod",
				"Verdict: blocked",
			},
		},
		{
			name: "ip: outside the except", from: "frontend", to: "ip:192.0.2.1", port: "443", verdict: Allowed,
			want: []string{"app/frontend-egress egress[1]: ALLOWS it", "Verdict: allowed"},
		},
		{
			name: "ipBlock over every address and a pod of unknown IP", from: "frontend", to: "random", port: "443", verdict: ImplementationDefined,
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
			e, err := Explain(sc, tt.from, tt.to, tt.port, tt.proto)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if e.Verdict != tt.verdict {
				t.Errorf("verdict %q, want %q", e.Verdict, tt.verdict)
			}
			got := e.Text
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

// TestExplainClusterRanges checks that explain names the ipBlock, its rule
// and the range that decide whether a pod's or a ClusterIP's unknown
// address may be covered.
func TestExplainClusterRanges(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, webScenario(`  - metadata: {name: backend-from-private}
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
`, `  - {from: frontend, to: backend, port: http, allowed: true}
`))
	tests := []struct {
		name     string
		ranges   ClusterRanges
		from, to string
		port     string
		verdict  Verdict
		want     []string
	}{
		{
			name: "pod ranges unknown", from: "random", to: "backend", port: "9090", verdict: ImplementationDefined,
			want: []string{
				"app/backend-from-private ingress[0]: depends on the CNI: ipBlock 10.0.0.0/8 (app/backend-from-private ingress[0]) may cover the pod IP of app/random (neither it nor the cluster's pod ranges are known)",
				"→ ingress implementation-defined",
			},
		},
		{
			name: "pod range covered", ranges: ClusterRanges{Pods: mustPrefixes("10.244.0.0/16")},
			from: "random", to: "backend", port: "9090", verdict: ImplementationDefined,
			want: []string{"ipBlock 10.0.0.0/8 (app/backend-from-private ingress[0]) covers the pod range 10.244.0.0/16, where the pod IP of app/random lies"},
		},
		{
			name: "pod range elsewhere", ranges: ClusterRanges{Pods: mustPrefixes("172.16.0.0/16")},
			from: "random", to: "backend", port: "9090", verdict: Blocked,
			want: []string{
				"app/backend-from-private ingress[0]: no match: from [ipBlock 10.0.0.0/8] does not include app/random (ipBlock 10.0.0.0/8 lies outside the pod range 172.16.0.0/16, where the pod IP of app/random lies)",
				"Verdict: blocked",
			},
		},
		{
			name: "a Service's ClusterIP", ranges: ClusterRanges{Pods: mustPrefixes("172.16.0.0/16"), Services: mustPrefixes("10.96.0.0/12")},
			from: "frontend", to: "svc:web", port: "80", verdict: ImplementationDefined,
			want: []string{
				"app/frontend-to-services egress[0]: depends on the CNI: ipBlock 10.96.0.0/12 (app/frontend-to-services egress[0]) covers the Service range 10.96.0.0/12, where the ClusterIP of svc:app/web lies",
				"Verdict: implementation-defined for every backend",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Explain(sc, tt.from, tt.to, tt.port, "", WithClusterRanges(tt.ranges))
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if e.Verdict != tt.verdict {
				t.Errorf("verdict %q, want %q", e.Verdict, tt.verdict)
			}
			for _, s := range tt.want {
				if !strings.Contains(e.Text, s) {
					t.Errorf("output does not contain %q:\n%s", s, e.Text)
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
				t.Errorf("Explain: err = %v, want one containing %q (output %q)", err, tt.want, out.Text)
			}
		})
	}
}

func TestSharedVerdict(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		counts map[Verdict]int
		want   Verdict
	}{
		{"no backend can answer", map[Verdict]int{}, Blocked},
		{"every backend allowed", map[Verdict]int{Allowed: 2}, Allowed},
		{"every backend blocked", map[Verdict]int{Blocked: 3}, Blocked},
		{"backends differ", map[Verdict]int{Allowed: 1, Blocked: 1}, ImplementationDefined},
	} {
		if got := sharedVerdict(tt.counts); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
