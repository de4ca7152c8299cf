package probe

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netverify/netverify/results"
)

func TestAgnhostConnectCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Protocol: "tcp", Host: "10.0.0.5", Port: 8080}, "/agnhost connect 10.0.0.5:8080 --timeout=1s --protocol=tcp"},
		{Request{Protocol: "UDP", Host: "fd00::5", Port: 53, TimeoutMs: 500}, "/agnhost connect [fd00::5]:53 --timeout=500ms --protocol=udp"},
		{Request{Protocol: "sctp", Host: "svc.ns", Port: 132, TimeoutMs: 2000}, "/agnhost connect svc.ns:132 --timeout=2s --protocol=sctp"},
		{Request{Protocol: "dns", Host: "kubernetes.default"}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(AgnhostConnectCommand(tt.req), " "); got != tt.want {
			t.Errorf("AgnhostConnectCommand(%s) = %q, want %q", tt.req, got, tt.want)
		}
	}
}

// k8sExitError has the method of client-go's exec.ExitError.
type k8sExitError struct{ code int }

func (e k8sExitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.code)
}
func (e k8sExitError) ExitStatus() int { return e.code }

// osExitError has the method of *os/exec.ExitError.
type osExitError struct{ code int }

func (e osExitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
func (e osExitError) ExitCode() int { return e.code }

func TestParseAgnhostConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		exitCode int
		stderr   string
		execErr  error
		want     Response // Detail checked as a substring
	}{
		{name: "success", want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, Detail: "identity not checked (agnhost)"}},
		{name: "tcp timeout", exitCode: 1, stderr: "TIMEOUT\n", want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout}},
		{name: "udp timeout with message", exitCode: 1, stderr: "TIMEOUT: read udp 10.0.0.4:3->10.0.0.5:53: i/o timeout\n",
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Detail: "i/o timeout"}},
		{name: "refused", exitCode: 1, stderr: "REFUSED\n", want: Response{Verdict: results.Blocked, Reason: results.ReasonRefused}},
		{name: "udp refused with message", exitCode: 1, stderr: "REFUSED: read udp: connection refused\n", want: Response{Verdict: results.Blocked, Reason: results.ReasonRefused}},
		{name: "dns", exitCode: 1, stderr: "DNS: lookup svc.invalid: no such host\n", want: Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: "no such host"}},
		{name: "other", exitCode: 1, stderr: "OTHER: dial tcp 10.0.0.5:80: connect: no route to host\n", want: Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "no route to host"}},
		{name: "unknown", exitCode: 1, stderr: "UNKNOWN: missing port in address\n", want: Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "missing port"}},
		{name: "no marker", exitCode: 1, stderr: "Error: unknown flag: --bogus\n", want: Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "unknown flag"}},
		{name: "no marker, no message", exitCode: 1, want: Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "without a message"}},
		{name: "marker only at a line start counts", exitCode: 1, stderr: "OTHER: lookup TIMEOUT.example\n", want: Response{Verdict: results.Error, Reason: results.ReasonError}},
		{name: "marker word inside another word does not count", exitCode: 1, stderr: "DNSSEC failure\n", want: Response{Verdict: results.Error, Reason: results.ReasonError}},
		{name: "exit code from a client-go exit error", stderr: "TIMEOUT\n", execErr: fmt.Errorf("exec in pod: %w", k8sExitError{1}),
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout}},
		{name: "exit code from an os/exec exit error", stderr: "REFUSED\n", execErr: osExitError{1},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonRefused}},
		{name: "exit 0 reported through an exit error", execErr: k8sExitError{0}, want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected}},
		{name: "agnhost missing from the image", exitCode: 127, stderr: "exec: /agnhost: not found\n", execErr: k8sExitError{127},
			want: Response{Verdict: results.Error, Reason: results.ReasonExec, Detail: "exited 127"}},
		{name: "exec transport error", execErr: errors.New("error dialing backend: EOF"),
			want: Response{Verdict: results.Error, Reason: results.ReasonExec, Detail: "error dialing backend"}},
		{name: "transport error wins over a marker", exitCode: 1, stderr: "TIMEOUT\n", execErr: errors.New("pod not found"),
			want: Response{Verdict: results.Error, Reason: results.ReasonExec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseAgnhostConnect(tt.exitCode, tt.stderr, tt.execErr)
			if got.Verdict != tt.want.Verdict || got.Reason != tt.want.Reason || !strings.Contains(got.Detail, tt.want.Detail) {
				t.Errorf("ParseAgnhostConnect(%d, %q, %v) = %+v, want %+v", tt.exitCode, tt.stderr, tt.execErr, got, tt.want)
			}
		})
	}
}
