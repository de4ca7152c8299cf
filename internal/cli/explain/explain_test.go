package explain

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netverify/netverify/internal/cli/kube"
)

const webYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: web}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: frontend, labels: {app: frontend}}
  - {name: backend, labels: {app: backend}, ports: [{name: http, port: 8080}, {port: 9090}]}
  - {name: random, labels: {app: random}}
  services:
  - {name: web, selector: {app: backend}, ports: [{port: 80, targetPort: http}]}
  policies:
  - metadata: {name: backend-allow-frontend}
    spec:
      podSelector: {matchLabels: {app: backend}}
      policyTypes: [Ingress]
      ingress:
      - from: [{podSelector: {matchLabels: {app: frontend}}}]
        ports: [{port: 8080, protocol: TCP}]
  expect:
  - {from: frontend, to: backend, port: http, allowed: true}
`

const otherYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: other}
spec:
  namespaces: [{name: b}]
  pods:
  - {name: client}
  - {name: server, ports: [{port: 53, protocol: UDP}]}
  policies:
  - metadata: {name: deny-all}
    spec: {podSelector: {}}
  expect:
  - {from: client, to: server, port: "53", protocol: UDP, allowed: false}
`

// runExplain runs the command with args and returns its output and exit
// code (0 on success, the ExitError's code otherwise, -1 for any other
// error).
func runExplain(t *testing.T, stdin string, args ...string) (stdout string, code int, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand(kube.Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(&errOut)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.Execute()
	if err == nil {
		return out.String(), 0, nil
	}
	var ee *kube.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.Code, err
	}
	return out.String(), -1, err
}

func TestExplainCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	one := filepath.Join(dir, "one.yaml")
	two := filepath.Join(dir, "two.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	for path, data := range map[string]string{
		one: webYAML,
		two: webYAML + "---\n" + otherYAML,
		bad: strings.Replace(webYAML, "name: web}", "name: web, colour: red}", 1),
	} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []string // in stdout, or in the error when wantCode is 2
	}{
		{
			name:     "blocked, naming the policy: exit 1",
			args:     []string{"-f", one, "--from", "random", "--to", "backend", "--port", "8080"},
			wantCode: 1,
			want:     []string{"app/random → app/backend 8080/TCP", "policy app/backend-allow-frontend selects it", "Verdict: blocked"},
		},
		{
			name:     "implementation-defined (a pod reaching itself): exit 1",
			args:     []string{"-f", one, "--from", "backend", "--to", "backend", "--port", "8080"},
			wantCode: 1,
			want:     []string{"Verdict: implementation-defined"},
		},
		{
			name: "named port and a Service",
			args: []string{"-f", one, "--from", "app/frontend", "--to", "svc:web", "--port", "80"},
			want: []string{"Backend app/backend, port 8080/TCP", "app/backend-allow-frontend ingress[0]: ALLOWS it", "Verdict: allowed for every backend"},
		},
		{
			name:  "stdin",
			args:  []string{"-f", "-", "--from", "frontend", "--to", "backend", "--port", "http"},
			stdin: webYAML,
			want:  []string{"Verdict: allowed"},
		},
		{
			name:     "a scenario chosen among several, UDP",
			args:     []string{"-f", two, "--scenario", "other", "--from", "client", "--to", "server", "--port", "53", "--protocol", "udp"},
			wantCode: 1,
			want:     []string{"b/client → b/server 53/UDP", "policy b/deny-all selects it", "no ingress rules", "Verdict: blocked"},
		},
		{
			name:     "several scenarios and no --scenario",
			args:     []string{"-f", two, "--from", "client", "--to", "server", "--port", "53"},
			wantCode: 2,
			want:     []string{"holds 2 scenarios (web, other): choose one with --scenario"},
		},
		{
			name:     "unknown scenario",
			args:     []string{"-f", one, "--scenario", "nope", "--from", "frontend", "--to", "backend", "--port", "8080"},
			wantCode: 2,
			want:     []string{`no scenario named "nope"`, "it has: web"},
		},
		{
			name:     "unknown pod",
			args:     []string{"-f", one, "--from", "frontend", "--to", "nobody", "--port", "8080"},
			wantCode: 2,
			want:     []string{`scenario "web"`, `pod "app/nobody" is not declared`},
		},
		{
			name:     "missing flags",
			args:     []string{"-f", one, "--to", "backend"},
			wantCode: 2,
			want:     []string{"explain needs --from, --port", "see 'explain --help'"},
		},
		{
			name:     "no flags at all",
			args:     nil,
			wantCode: 2,
			want:     []string{"explain needs -f, --from, --to, --port"},
		},
		{
			name:     "bad protocol",
			args:     []string{"-f", one, "--from", "frontend", "--to", "backend", "--port", "8080", "--protocol", "icmp"},
			wantCode: 2,
			want:     []string{`--protocol "icmp"`},
		},
		{
			name:     "invalid scenario file",
			args:     []string{"-f", bad, "--from", "frontend", "--to", "backend", "--port", "8080"},
			wantCode: 2,
			want:     []string{"bad.yaml", "colour"},
		},
		{
			name:     "missing file",
			args:     []string{"-f", filepath.Join(dir, "missing.yaml"), "--from", "frontend", "--to", "backend", "--port", "8080"},
			wantCode: 2,
			want:     []string{"missing.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, code, err := runExplain(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d (err %v), want %d; stdout:\n%s", code, err, tt.wantCode, out)
			}
			text := out
			switch tt.wantCode {
			case 1:
				var ee *kube.ExitError
				if !errors.As(err, &ee) || ee.Err != nil {
					t.Errorf("a connection not allowed ends with %v, want an exit code and no message", err)
				}
			case 2:
				text = err.Error()
				if out != "" {
					t.Errorf("stdout on error: %q", out)
				}
			}
			for _, s := range tt.want {
				if !strings.Contains(text, s) {
					t.Errorf("%q does not contain %q", text, s)
				}
			}
		})
	}
}

const blockYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: block}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: client}
  - {name: server, ports: [{port: 80}]}
  policies:
  - metadata: {name: from-ten}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
      ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]
  expect:
  - {from: client, to: server, port: 80, allowed: false}
`

// --pod-cidr makes an ipBlock that misses the pod ranges exact; without it,
// or with a range the block covers, the API leaves it to the CNI. A bad
// range is exit 2 naming the flag.
func TestExplainPodCIDR(t *testing.T) {
	t.Parallel()
	args := []string{"-f", "-", "--from", "client", "--to", "server", "--port", "80"}
	for _, tc := range []struct {
		extra []string
		code  int
		want  string
	}{
		{nil, 1, "Verdict: implementation-defined"},
		{[]string{"--pod-cidr", "10.244.0.0/16"}, 1, "Verdict: implementation-defined"},
		{[]string{"--pod-cidr", "172.16.0.0/16,172.17.0.0/16"}, 1, "Verdict: blocked"},
		{[]string{"--pod-cidr", "172.16.0.0/33"}, 2, "--pod-cidr"},
		{[]string{"--service-cidr", "nope"}, 2, "--service-cidr"},
	} {
		out, code, err := runExplain(t, blockYAML, append(append([]string{}, args...), tc.extra...)...)
		text := out
		if err != nil {
			text += err.Error()
		}
		if code != tc.code || !strings.Contains(text, tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d with %q", tc.extra, code, text, tc.code, tc.want)
		}
	}
}
