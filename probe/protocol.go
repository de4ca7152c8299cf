package probe

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
)

// Request is one connection attempt, run by the probe program inside a
// source pod. A batch is a JSON array of Requests.
type Request struct {
	// ID is echoed in the Response so the caller can match lines to probes.
	ID string `json:"id"`
	// Protocol is "tcp", "udp", "sctp" or "dns" (a lookup of Host; Port unused).
	Protocol string `json:"proto"`
	// Host is an IP address or a name resolved with the pod's resolver.
	Host string `json:"host"`
	Port int    `json:"port,omitempty"`
	// Identity, when set, is the identity the server must answer with
	// ("namespace/pod"). Empty means any answer (or none, for TCP) counts.
	Identity string `json:"identity,omitempty"`
	// TimeoutMs bounds the attempt: the connect, and the identity read (once
	// connected, that read may take up to DefaultGreetingWait). Default 1000;
	// at most MaxTimeout (600000).
	TimeoutMs int `json:"timeoutMs,omitempty"`
}

// Response is the probe program's answer for one Request: one JSON line.
type Response struct {
	ID string `json:"id"`
	// Verdict is results.Allowed, results.Blocked or results.Error
	// ("allowed", "blocked", "error" on the wire). Error means the probe
	// could not tell — DNS failed, the wrong pod answered, the exec broke —
	// and is never to be read as blocked.
	Verdict results.Verdict `json:"verdict"`
	// Reason is one of results' Reason values: the probe program sets
	// connected, resolved, timeout, refused, unreachable, dns,
	// wrong-identity, no-identity, unsupported or error; the caller side
	// adds exec and no-output.
	Reason results.Reason `json:"reason"`
	// AnsweredBy is the identity the server sent, if any.
	AnsweredBy string `json:"answeredBy,omitempty"`
	// Detail is free text (an error message, resolved addresses…).
	Detail string `json:"detail,omitempty"`
	// DecidedBy is the policy rule that decided, when the answer comes from
	// the semantics engine (the simulated executor of --dry-run) rather than
	// from the network. The probe program never sets it.
	DecidedBy string `json:"decidedBy,omitempty"`
	// Ms is how long the attempt took.
	Ms int64 `json:"ms"`
}

// Protocols, the values of Request.Protocol. The probe program also accepts
// them upper-case ("TCP", as Kubernetes spells them).
const (
	ProtocolTCP  = "tcp"
	ProtocolUDP  = "udp"
	ProtocolSCTP = "sctp"
	ProtocolDNS  = "dns"
)

// DefaultTimeout applies when Request.TimeoutMs is 0.
const DefaultTimeout = time.Second

// MaxTimeout is the longest time budget a request may have. A larger
// TimeoutMs is an invalid request: far beyond any sane probe, and from
// 9,223,372,036,855 on it overflows a time.Duration into a negative timeout
// that would expire at once and make a live server look blocked.
const MaxTimeout = 10 * time.Minute

// DefaultBinary is where the probe image puts the program.
const DefaultBinary = "/netverify-probe"

// Timeout is the request's time budget: TimeoutMs, or DefaultTimeout. Only
// meaningful for a request that Validate accepts.
func (r Request) Timeout() time.Duration {
	if r.TimeoutMs <= 0 {
		return DefaultTimeout
	}
	return time.Duration(r.TimeoutMs) * time.Millisecond
}

// Validate reports what is wrong with a request, all problems at once.
func (r Request) Validate() error {
	var errs []error
	proto := strings.ToLower(r.Protocol)
	switch proto {
	case ProtocolTCP, ProtocolUDP, ProtocolSCTP, ProtocolDNS:
	case "":
		errs = append(errs, errors.New("proto is empty (want tcp, udp, sctp or dns)"))
	default:
		errs = append(errs, fmt.Errorf("proto %q unknown (want tcp, udp, sctp or dns)", r.Protocol))
	}
	if r.Host == "" {
		errs = append(errs, errors.New("host is empty"))
	}
	if proto != ProtocolDNS && proto != "" && (r.Port < 1 || r.Port > 65535) {
		errs = append(errs, fmt.Errorf("port %d out of range 1-65535", r.Port))
	}
	if maxMs := int(MaxTimeout / time.Millisecond); r.TimeoutMs < 0 {
		errs = append(errs, fmt.Errorf("timeoutMs %d is negative", r.TimeoutMs))
	} else if r.TimeoutMs > maxMs {
		errs = append(errs, fmt.Errorf("timeoutMs %d is more than %d (%s)", r.TimeoutMs, maxMs, MaxTimeout))
	}
	return errors.Join(errs...)
}

// String is a short human form: "tcp 10.0.0.5:8080 as ns/pod".
func (r Request) String() string {
	s := strings.ToLower(r.Protocol) + " "
	if strings.EqualFold(r.Protocol, ProtocolDNS) {
		s += r.Host
	} else {
		s += hostPort(r)
	}
	if r.Identity != "" {
		s += " as " + r.Identity
	}
	return s
}

// hostPort is the request's dial address, "host:port" ("[::1]:80" for IPv6).
func hostPort(r Request) string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }
