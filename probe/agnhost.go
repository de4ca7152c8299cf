package probe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/netverify/netverify/results"
)

// AgnhostBinary is where the agnhost image (registry.k8s.io/e2e-test-images/agnhost)
// puts its program.
const AgnhostBinary = "/agnhost"

// agnhostNoIdentity is the Detail of an allowed agnhost probe.
const agnhostNoIdentity = "identity not checked (agnhost)"

// AgnhostConnectCommand is the argv that makes an agnhost pod attempt r:
// [/agnhost connect HOST:PORT --timeout=1s --protocol=tcp]. agnhost cannot
// look names up, so a dns request has no command: the result is nil and the
// caller should report it unsupported.
func AgnhostConnectCommand(r Request) []string {
	proto := strings.ToLower(r.Protocol)
	if proto == ProtocolDNS {
		return nil
	}
	return []string{AgnhostBinary, "connect", hostPort(r),
		"--timeout=" + r.Timeout().String(), "--protocol=" + proto}
}

// ParseAgnhostConnect turns the outcome of an exec of AgnhostConnectCommand
// into a Response (its ID and Ms are left for the caller to fill).
//
// agnhost connect exits 0 on success; otherwise it exits 1 and prints a line
// starting with a marker on stderr: TIMEOUT, REFUSED, DNS, OTHER (any other
// network error, "no route to host" included) or UNKNOWN (bad arguments).
// They map to blocked/timeout, blocked/refused, error/dns, and error/error.
// agnhost reads no identity, so success is allowed/connected with Detail
// "identity not checked (agnhost)".
//
// execErr is the error of the exec itself. One that carries an exit status
// (an ExitStatus() int or ExitCode() int method, as client-go's
// exec.CodeExitError and os/exec's ExitError have) is a normal exit: its
// status is used when exitCode is 0. Any other non-nil execErr means the
// command never ran to completion: error/exec.
func ParseAgnhostConnect(exitCode int, stderr string, execErr error) Response {
	if execErr != nil {
		code, ok := exitStatus(execErr)
		if !ok {
			return Response{Verdict: results.Error, Reason: results.ReasonExec, Detail: oneLine(execErr)}
		}
		if exitCode == 0 {
			exitCode = code
		}
	}
	if exitCode == 0 {
		return Response{Verdict: results.Allowed, Reason: results.ReasonConnected, Detail: agnhostNoIdentity}
	}
	detail := strings.Join(strings.Fields(stderr), " ")
	if exitCode != 1 {
		// agnhost connect only exits 0 or 1: something else ran, or crashed.
		return Response{Verdict: results.Error, Reason: results.ReasonExec,
			Detail: strings.TrimSpace(fmt.Sprintf("agnhost exited %d: %s", exitCode, detail))}
	}
	switch agnhostMarker(stderr) {
	case "TIMEOUT":
		return Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Detail: detail}
	case "REFUSED":
		return Response{Verdict: results.Blocked, Reason: results.ReasonRefused, Detail: detail}
	case "DNS":
		return Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: detail}
	default: // OTHER, UNKNOWN, or no marker at all
		if detail == "" {
			detail = "agnhost connect failed without a message"
		}
		return Response{Verdict: results.Error, Reason: results.ReasonError, Detail: detail}
	}
}

// agnhostMarker returns the marker that starts the first marked line of
// agnhost's stderr ("TIMEOUT", "TIMEOUT: …"), or "".
func agnhostMarker(stderr string) string {
	for line := range strings.Lines(stderr) {
		line = strings.TrimSpace(line)
		for _, m := range []string{"TIMEOUT", "REFUSED", "DNS", "OTHER", "UNKNOWN"} {
			if rest, ok := strings.CutPrefix(line, m); ok && (rest == "" || rest[0] == ':') {
				return m
			}
		}
	}
	return ""
}

// exitStatus finds an exit status in an exec error without reading its text.
func exitStatus(err error) (int, bool) {
	var k8s interface{ ExitStatus() int } // k8s.io/client-go/util/exec.ExitError
	if errors.As(err, &k8s) {
		return k8s.ExitStatus(), true
	}
	var osExec interface{ ExitCode() int } // *os/exec.ExitError
	if errors.As(err, &osExec) {
		return osExec.ExitCode(), true
	}
	return 0, false
}
