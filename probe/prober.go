package probe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netverify/netverify/results"
)

// Dialer opens connections; *net.Dialer is the real one.
type Dialer interface {
	// DialContext connects to address on network ("tcp" or "udp"),
	// resolving names as needed, and gives up when ctx is done. Errors are
	// the net package's: *net.OpError wrapping a syscall errno, a timeout
	// net.Error, or a *net.DNSError.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Resolver looks up names; *net.Resolver is the real one.
type Resolver interface {
	// LookupHost returns the addresses of host, or an error (a *net.DNSError
	// for DNS failures) when ctx is done first or the name does not resolve.
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Default tunables of a zero Prober.
const (
	// DefaultIdentityGrace is how long a TCP probe without a requested
	// identity waits for the server's greeting before reporting allowed.
	DefaultIdentityGrace = 200 * time.Millisecond
	// DefaultUDPSends is how many datagrams a UDP probe sends, spread over
	// its timeout, in case some are lost.
	DefaultUDPSends = 4
	// DefaultGreetingWait is how long a TCP probe that asks for an identity
	// waits for the server's greeting once connected, when that is longer
	// than what is left of its timeout. The connection already answered the
	// question the network was asked; the greeting only names the server,
	// and a server starved of CPU on a busy node can take seconds to send it.
	DefaultGreetingWait = 3 * time.Second
)

// udpPayload is what a UDP probe sends; serve answers any datagram.
const udpPayload = "netverify-probe"

// maxAnswer bounds how much of a server's greeting is read.
const maxAnswer = 512

// Prober runs Requests. The zero value is ready to use with the real
// network; tests replace Dialer and Resolver.
type Prober struct {
	Dialer   Dialer   // nil: &net.Dialer{}
	Resolver Resolver // nil: net.DefaultResolver
	// IdentityGrace: see DefaultIdentityGrace (used when 0).
	IdentityGrace time.Duration
	// UDPSends: see DefaultUDPSends (used when 0).
	UDPSends int
	// GreetingWait: see DefaultGreetingWait (used when 0).
	GreetingWait time.Duration
	// SearchDomains are the resolver's search domains; nil: read from
	// /etc/resolv.conf (see fullyQualified).
	SearchDomains []string
}

// resolvConf is where the pod's resolver is configured.
const resolvConf = "/etc/resolv.conf"

var (
	searchOnce    sync.Once
	searchDomains []string
)

// systemSearchDomains reads the search domains of /etc/resolv.conf once.
func systemSearchDomains() []string {
	searchOnce.Do(func() {
		b, err := os.ReadFile(resolvConf)
		if err == nil {
			searchDomains = parseSearch(string(b))
		}
	})
	return searchDomains
}

// parseSearch returns the domains of resolv.conf's last search (or domain)
// line, lower-cased and without trailing dots.
func parseSearch(conf string) []string {
	var out []string
	for _, line := range strings.Split(conf, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "search" && f[0] != "domain") {
			continue
		}
		out = out[:0:0]
		for _, d := range f[1:] {
			if d = strings.ToLower(strings.TrimSuffix(d, ".")); d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// fullyQualified returns host with a trailing dot when it already ends in
// one of the search domains (kube-dns.kube-system.svc.cluster.local in a
// pod searching svc.cluster.local), so it is looked up once as written
// instead of first with every search domain appended: in a pod (ndots:5)
// such a name otherwise costs four lookups of names that do not exist, and
// on a busy cluster those alone can exceed the probe's timeout. Other
// names, IP addresses and names that end in a dot are returned unchanged:
// a short name relies on the search list, and a name outside the cluster
// domains is left to the resolver's rules.
func (p *Prober) fullyQualified(host string) string {
	if host == "" || strings.HasSuffix(host, ".") || net.ParseIP(host) != nil {
		return host
	}
	domains := p.SearchDomains
	if domains == nil {
		domains = systemSearchDomains()
	}
	lower := strings.ToLower(host)
	for _, d := range domains {
		if strings.HasSuffix(lower, "."+d) {
			return host + "."
		}
	}
	return host
}

// Probe runs one request and reports what it saw; it never fails, a broken
// attempt is a Response with Verdict "error". The attempt is bounded by the
// request's timeout; if ctx ends first the verdict is error (interrupted),
// never blocked.
func (p *Prober) Probe(ctx context.Context, req Request) Response {
	start := time.Now()
	var resp Response
	if err := req.Validate(); err != nil {
		resp = Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "invalid request: " + oneLine(err)}
	} else {
		attemptCtx, cancel := context.WithTimeout(ctx, req.Timeout())
		req.Host = p.fullyQualified(req.Host)
		switch strings.ToLower(req.Protocol) {
		case ProtocolTCP:
			resp = p.tcp(ctx, attemptCtx, req)
		case ProtocolUDP:
			resp = p.udp(attemptCtx, req)
		case ProtocolSCTP:
			resp = Response{Verdict: results.Error, Reason: results.ReasonUnsupported, Detail: "sctp not supported by this probe build"}
		case ProtocolDNS:
			resp = p.dns(attemptCtx, req)
		}
		cancel()
		// The caller gave up (SIGTERM, exec cancelled): whatever the attempt
		// saw is not an observation of the network.
		if ctx.Err() != nil && resp.Verdict != results.Allowed {
			resp = Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "interrupted: " + ctx.Err().Error()}
		}
	}
	resp.ID = req.ID
	resp.Ms = time.Since(start).Milliseconds()
	return resp
}

func (p *Prober) dialer() Dialer {
	if p.Dialer == nil {
		return &net.Dialer{}
	}
	return p.Dialer
}

func (p *Prober) resolver() Resolver {
	if p.Resolver == nil {
		return net.DefaultResolver
	}
	return p.Resolver
}

// tcp connects within attemptCtx's timeout, then reads the greeting: until
// that timeout too, or for an identity at least GreetingWait; ctx (the
// caller's) ends both.
func (p *Prober) tcp(ctx, attemptCtx context.Context, req Request) Response {
	conn, err := p.dialer().DialContext(attemptCtx, "tcp", hostPort(req))
	if err != nil {
		return dialFailure(err)
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })() // reads end with the caller

	deadline, _ := attemptCtx.Deadline()
	if req.Identity == "" {
		grace := p.IdentityGrace
		if grace <= 0 {
			grace = DefaultIdentityGrace
		}
		if d := time.Now().Add(grace); d.Before(deadline) {
			deadline = d
		}
	} else {
		wait := p.GreetingWait
		if wait <= 0 {
			wait = DefaultGreetingWait
		}
		if d := time.Now().Add(wait); d.After(deadline) {
			deadline = d
		}
	}
	// Deadline errors are deliberate: a late or missing greeting is judged
	// below, so a failing SetReadDeadline can only make the read shorter.
	_ = conn.SetReadDeadline(deadline)
	answer, readErr := readGreeting(conn)
	return judgeAnswer(req, answer, readErr)
}

// readGreeting reads until "\n", EOF, an error or maxAnswer bytes, and
// returns what came (trimmed) with the error that ended the read early, if
// any (EOF is a normal end, not an error).
func readGreeting(conn net.Conn) (string, error) {
	buf := make([]byte, maxAnswer)
	n := 0
	for n < len(buf) {
		m, err := conn.Read(buf[n:])
		if i := bytes.IndexByte(buf[n:n+m], '\n'); i >= 0 {
			return strings.TrimSpace(string(buf[:n+i])), nil
		}
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return strings.TrimSpace(string(buf[:n])), err
		}
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// judgeAnswer turns a server's answer into a verdict for a connection that
// was established (TCP) or answered (UDP).
func judgeAnswer(req Request, answer string, readErr error) Response {
	switch {
	case req.Identity == "":
		return Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: answer}
	case answer == req.Identity:
		return Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: answer}
	case answer != "":
		return Response{Verdict: results.Error, Reason: results.ReasonWrongIdentity, AnsweredBy: answer,
			Detail: "expected " + req.Identity}
	default:
		detail := "connected, but the server sent no identity (expected " + req.Identity + ")"
		if readErr != nil {
			detail += ": " + oneLine(readErr)
		}
		return Response{Verdict: results.Error, Reason: results.ReasonNoIdentity, Detail: detail}
	}
}

func (p *Prober) udp(ctx context.Context, req Request) Response {
	conn, err := p.dialer().DialContext(ctx, "udp", hostPort(req))
	if err != nil {
		return dialFailure(err)
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })() // reads end with ctx

	deadline, _ := ctx.Deadline()
	sends := p.UDPSends
	if sends <= 0 {
		sends = DefaultUDPSends
	}
	interval := max(time.Until(deadline)/time.Duration(sends), 10*time.Millisecond)
	buf := make([]byte, maxAnswer)
	for {
		if _, err := conn.Write([]byte(udpPayload)); err != nil {
			// A previous datagram's ICMP port unreachable can surface here.
			return dialFailure(err)
		}
		wait := time.Now().Add(interval)
		if wait.After(deadline) {
			wait = deadline
		}
		_ = conn.SetReadDeadline(wait) // a failure only shortens the wait
		n, err := conn.Read(buf)
		if err == nil {
			return judgeAnswer(req, strings.TrimSpace(string(buf[:n])), nil)
		}
		if !isTimeout(err) || !time.Now().Before(deadline) || ctx.Err() != nil {
			return dialFailure(err)
		}
	}
}

func (p *Prober) dns(ctx context.Context, req Request) Response {
	addrs, err := p.resolver().LookupHost(ctx, req.Host)
	if err == nil {
		return Response{Verdict: results.Allowed, Reason: results.ReasonResolved, Detail: strings.Join(addrs, ",")}
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: oneLine(err)}
	case errors.As(err, &dnsErr) && (dnsErr.IsTimeout || dnsErr.IsTemporary):
		return Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Detail: oneLine(err)}
	case errors.As(err, &dnsErr):
		return Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: oneLine(err)}
	case isTimeout(err):
		return Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Detail: oneLine(err)}
	default:
		return Response{Verdict: results.Error, Reason: results.ReasonError, Detail: oneLine(err)}
	}
}

// dialFailure classifies a failed dial, write or UDP read.
func dialFailure(err error) Response {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		// Checked first: a DNS timeout is a broken name, not a blocked port.
		return Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: oneLine(err)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Response{Verdict: results.Blocked, Reason: results.ReasonRefused, Detail: oneLine(err)}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Response{Verdict: results.Blocked, Reason: results.ReasonUnreachable, Detail: oneLine(err)}
	case isTimeout(err):
		return Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Detail: oneLine(err)}
	default:
		return Response{Verdict: results.Error, Reason: results.ReasonError, Detail: oneLine(err)}
	}
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ETIMEDOUT) ||
		errors.As(err, &netErr) && netErr.Timeout()
}

// oneLine keeps a JSON Detail on one line (errors.Join uses newlines).
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
