package scenarios

import (
	"testing"
)

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		to      string
		want    Target
		wantErr string
	}{
		{to: "app/db", want: Target{Kind: TargetPod, Namespace: "app", Name: "db"}},
		{to: "db", want: Target{Kind: TargetPod, Name: "db"}},
		{to: "svc:app/api", want: Target{Kind: TargetService, Namespace: "app", Name: "api"}},
		{to: "svc:api", want: Target{Kind: TargetService, Name: "api"}},
		{to: "dns:kubernetes.default.svc.cluster.local.", want: Target{Kind: TargetDNS, Name: "kubernetes.default.svc.cluster.local."}},
		{to: "ip:169.254.169.254", want: Target{Kind: TargetIP, Name: "169.254.169.254"}},
		{to: "ip:fd00::1", want: Target{Kind: TargetIP, Name: "fd00::1"}},
		{to: "host:Example.COM", want: Target{Kind: TargetHost, Name: "Example.COM"}},
		{to: "workload:prod/deployment/db", want: Target{Kind: TargetWorkload, Namespace: "prod", Name: "deployment/db"}},
		{to: "workload:statefulset/db", want: Target{Kind: TargetWorkload, Name: "statefulset/db"}},
		{to: "workload:prod/job/db", wantErr: `invalid workload: "job/db": kind "job" is not deployment, statefulset, daemonset or replicaset`},
		{to: "workload:/deployment/db", wantErr: `invalid workload "workload:/deployment/db": want workload:NAMESPACE/KIND/NAME`},
		{to: "workload:db", wantErr: `invalid workload: "db": want KIND/NAME, e.g. deployment/frontend`},
		{to: "", wantErr: `invalid reference "": want "namespace/name" or "name"`},
		{to: "a/b/c", wantErr: `invalid reference "a/b/c": want "namespace/name" or "name"`},
		{to: "svc:a/", wantErr: `invalid reference "a/": want "namespace/name" or "name"`},
		{to: "10.0.0.1", wantErr: `"10.0.0.1" is not a pod reference; write "ip:10.0.0.1" for an address outside the scenario`},
		{to: "ip:nope", wantErr: `invalid IP address "nope"`},
		{to: "tcp:x", wantErr: `unknown target "tcp:x": want ns/pod, svc:ns/name, workload:ns/KIND/NAME, dns:NAME, ip:ADDR or host:NAME`},
		{to: "host:a_b", wantErr: `invalid host name "a_b": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTarget(tt.to)
			if tt.wantErr != "" {
				checkError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseTarget = %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.to {
				t.Errorf("String() = %q, want %q", got.String(), tt.to)
			}
		})
	}
}

// twoNamespaces is a small scenario built in code, without the loader.
func twoNamespaces() *Scenario {
	return &Scenario{Spec: Spec{
		Namespaces: []Namespace{{Name: "a"}, {Name: "b"}},
		Pods: []Pod{
			{Name: "x", Namespace: "a", Ports: []Port{{Name: "http", Port: 80, Protocol: TCP}, {Name: "dns", Port: 53, Protocol: UDP}}},
			{Name: "x", Namespace: "b"},
		},
		Services: []Service{{Name: "s", Namespace: "a", Ports: []ServicePort{{Name: "web", Port: 8080, Protocol: TCP}}}},
	}}
}

func TestResolvePod(t *testing.T) {
	t.Parallel()
	s := twoNamespaces()
	tests := []struct {
		ref, wantNS, wantErr string
	}{
		{ref: "a/x", wantNS: "a"},
		{ref: "b/x", wantNS: "b"},
		{ref: "x", wantErr: `"x" needs a namespace, as in "namespace/x" (the scenario has 2 namespaces)`},
		{ref: "a/y", wantErr: `pod "a/y" is not declared`},
		{ref: "/x", wantErr: `invalid reference "/x": want "namespace/name" or "name"`},
	}
	for _, tt := range tests {
		got, err := s.ResolvePod(tt.ref)
		if tt.wantErr != "" {
			checkError(t, err, tt.wantErr)
			continue
		}
		if err != nil || got.Namespace != tt.wantNS || got != &s.Spec.Pods[map[string]int{"a": 0, "b": 1}[tt.wantNS]] {
			t.Errorf("ResolvePod(%q) = %+v, %v; want a pointer to the pod in %q", tt.ref, got, err, tt.wantNS)
		}
	}
	one := &Scenario{Spec: Spec{Namespaces: []Namespace{{Name: "a"}}, Pods: []Pod{{Name: "x", Namespace: "a"}}}}
	if got, err := one.ResolvePod("x"); err != nil || got.Name != "x" {
		t.Errorf("ResolvePod(x) with one namespace = %+v, %v", got, err)
	}
}

func TestResolvePort(t *testing.T) {
	t.Parallel()
	s := twoNamespaces()
	tests := []struct {
		to, port string
		protocol Protocol
		want     int32
		wantErr  string
	}{
		{to: "a/x", port: "80", protocol: TCP, want: 80},
		{to: "a/x", port: "http", protocol: TCP, want: 80},
		{to: "a/x", port: "dns", protocol: UDP, want: 53},
		{to: "svc:a/s", port: "web", protocol: TCP, want: 8080},
		{to: "svc:a/s", port: "8080", protocol: TCP, want: 8080},
		{to: "ip:10.0.0.1", port: "443", protocol: TCP, want: 443},
		{to: "dns:example.com", want: 0},
		{to: "a/x", port: "53", protocol: TCP, wantErr: `pod "a/x" does not serve 53/TCP`},
		{to: "a/x", port: "dns", protocol: TCP, wantErr: `port "dns" of pod "a/x" is UDP, not TCP; set protocol: UDP`},
		{to: "b/x", port: "http", protocol: TCP, wantErr: `pod "b/x" has no port named "http"`},
		{to: "svc:a/s", port: "80", protocol: TCP, wantErr: `service "a/s" does not serve 80/TCP`},
		{to: "host:example.com", port: "https", protocol: TCP, wantErr: `must be a number for host: targets`},
		{to: "a/x", port: "", protocol: TCP, wantErr: `required`},
		{to: "a/x", port: "0", protocol: TCP, wantErr: `must be between 1 and 65535, got 0`},
		{to: "a/y", port: "80", protocol: TCP, wantErr: `pod "a/y" is not declared`},
		{to: "dns:example.com", port: "53", wantErr: `not allowed for dns: targets`},
	}
	for _, tt := range tests {
		got, err := s.ResolvePort(Expectation{From: "a/x", To: tt.to, Port: tt.port, Protocol: tt.protocol})
		if tt.wantErr != "" {
			checkError(t, err, tt.wantErr)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolvePort(to %s, port %q) = %d, %v; want %d", tt.to, tt.port, got, err, tt.want)
		}
	}
}

func TestIsAllowed(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, tt := range []struct {
		allowed *bool
		want    bool
	}{{&yes, true}, {&no, false}, {nil, false}} {
		if got := (Expectation{Allowed: tt.allowed}).IsAllowed(); got != tt.want {
			t.Errorf("IsAllowed() with Allowed %v = %v, want %v", tt.allowed, got, tt.want)
		}
	}
}
