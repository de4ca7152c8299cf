package probe

import (
	"context"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

func TestProbe(t *testing.T) {
	t.Parallel()
	// blockingDialer stands for a dropped SYN: it waits out the attempt.
	blockingDialer := dialerFunc(func(ctx context.Context, network, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
	})
	failingDialer := func(err error) Dialer {
		return dialerFunc(func(context.Context, string, string) (net.Conn, error) { return nil, err })
	}
	opErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}

	tests := []struct {
		name  string
		setup func(t *testing.T) (*Prober, Request)
		want  Response // ID and Ms ignored; Detail checked as a substring
		maxMs int64    // 0: not checked
	}{
		{
			name: "tcp identity matches",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("tcp", serveTCP(t, "ns/a"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "tcp protocol upper-case, as Kubernetes spells it",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("TCP", serveTCP(t, "ns/a"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "tcp another pod answers",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("tcp", serveTCP(t, "ns/other"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonWrongIdentity, AnsweredBy: "ns/other", Detail: "expected ns/a"},
		},
		{
			name: "tcp identity without newline, then close",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveTCPWith(t, func(c net.Conn) { c.Write([]byte("ns/a")) })
				return &Prober{}, makeReq("tcp", port, withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "tcp server accepts and says nothing",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveTCPWith(t, func(c net.Conn) { c.Read(make([]byte, 1)) })
				return &Prober{GreetingWait: 300 * time.Millisecond}, makeReq("tcp", port, withIdentity("ns/a"), withTimeout(300))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonNoIdentity, Detail: "expected ns/a"},
		},
		{
			// a server starved of CPU greets late: once connected, the
			// greeting gets GreetingWait even when the timeout is shorter
			name: "tcp greeting after the timeout, within the greeting wait",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveTCPWith(t, func(c net.Conn) {
					time.Sleep(600 * time.Millisecond)
					c.Write([]byte("ns/a\n"))
				})
				return &Prober{GreetingWait: 5 * time.Second}, makeReq("tcp", port, withIdentity("ns/a"), withTimeout(200))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "tcp server accepts and closes at once",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveTCPWith(t, func(net.Conn) {})
				return &Prober{}, makeReq("tcp", port, withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonNoIdentity},
		},
		{
			name: "tcp no identity asked, silent server: allowed after the grace, not the timeout",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveTCPWith(t, func(c net.Conn) { c.Read(make([]byte, 1)) })
				return &Prober{IdentityGrace: 50 * time.Millisecond}, makeReq("tcp", port, withTimeout(5000))
			},
			want:  Response{Verdict: results.Allowed, Reason: results.ReasonConnected},
			maxMs: 2000,
		},
		{
			name: "tcp no identity asked, the answer is still reported",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("tcp", serveTCP(t, "ns/a"))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "tcp closed port is refused",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("tcp", closedPort(t, "tcp"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonRefused, Detail: "refused"},
		},
		{
			name: "tcp dial timeout",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{Dialer: blockingDialer}, makeReq("tcp", 80, withTimeout(100))
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout},
		},
		{
			name: "tcp ETIMEDOUT from the kernel",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{Dialer: failingDialer(opErr(syscall.ETIMEDOUT))}, makeReq("tcp", 80)
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout},
		},
		{
			name: "tcp no route to host",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{Dialer: failingDialer(opErr(syscall.EHOSTUNREACH))}, makeReq("tcp", 80)
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonUnreachable},
		},
		{
			name: "tcp network unreachable",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{Dialer: failingDialer(opErr(syscall.ENETUNREACH))}, makeReq("tcp", 80)
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonUnreachable},
		},
		{
			name: "tcp name does not resolve",
			setup: func(*testing.T) (*Prober, Request) {
				err := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "svc.invalid", IsNotFound: true}}
				return &Prober{Dialer: failingDialer(err)}, makeReq("tcp", 80, withHost("svc.invalid"))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: "svc.invalid"},
		},
		{
			name: "tcp name lookup times out: a broken probe, not a block",
			setup: func(*testing.T) (*Prober, Request) {
				err := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "svc", IsTimeout: true}}
				return &Prober{Dialer: failingDialer(err)}, makeReq("tcp", 80, withHost("svc"))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonDNS},
		},
		{
			name: "tcp other errno",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{Dialer: failingDialer(opErr(syscall.EADDRNOTAVAIL))}, makeReq("tcp", 80)
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "cannot assign requested address"},
		},
		{
			name: "udp identity reply",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("udp", serveUDP(t, "ns/a"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "udp another pod answers",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("udp", serveUDP(t, "ns/other"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonWrongIdentity, AnsweredBy: "ns/other"},
		},
		{
			name: "udp first datagrams lost, a resend is answered",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveUDPWith(t, func(n int) string {
					if n < 3 {
						return ""
					}
					return "ns/a"
				})
				return &Prober{UDPSends: 4}, makeReq("udp", port, withIdentity("ns/a"), withTimeout(800))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a"},
		},
		{
			name: "udp no reply times out",
			setup: func(t *testing.T) (*Prober, Request) {
				port := serveUDPWith(t, func(int) string { return "" })
				return &Prober{}, makeReq("udp", port, withIdentity("ns/a"), withTimeout(300))
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout},
		},
		{
			name: "udp closed port is refused (ICMP port unreachable)",
			setup: func(t *testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("udp", closedPort(t, "udp"), withIdentity("ns/a"))
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonRefused},
		},
		{
			name: "sctp is unsupported",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{}, makeReq("sctp", 132)
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonUnsupported, Detail: "sctp not supported"},
		},
		{
			name: "dns localhost resolves from /etc/hosts",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{Resolver: filesOnlyResolver()}, makeReq("dns", 0, withHost("localhost"))
			},
			want: Response{Verdict: results.Allowed, Reason: results.ReasonResolved, Detail: "127.0.0.1"},
		},
		{
			name: "dns NXDOMAIN is a broken probe",
			setup: func(*testing.T) (*Prober, Request) {
				r := resolverFunc(func(_ context.Context, host string) ([]string, error) {
					return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
				})
				return &Prober{Resolver: r}, makeReq("dns", 0, withHost("name.invalid"))
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: "name.invalid"},
		},
		{
			name: "dns server unanswering is blocked",
			setup: func(*testing.T) (*Prober, Request) {
				r := resolverFunc(func(_ context.Context, host string) ([]string, error) {
					return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true, IsTemporary: true}
				})
				return &Prober{Resolver: r}, makeReq("dns", 0, withHost("kubernetes.default"))
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout},
		},
		{
			name: "dns lookup outlives the timeout",
			setup: func(*testing.T) (*Prober, Request) {
				r := resolverFunc(func(ctx context.Context, _ string) ([]string, error) {
					<-ctx.Done()
					return nil, ctx.Err()
				})
				return &Prober{Resolver: r}, makeReq("dns", 0, withHost("kubernetes.default"), withTimeout(50))
			},
			want: Response{Verdict: results.Blocked, Reason: results.ReasonTimeout},
		},
		{
			name: "invalid request",
			setup: func(*testing.T) (*Prober, Request) {
				return &Prober{}, Request{ID: "r", Protocol: "icmp", Port: 70000}
			},
			want: Response{Verdict: results.Error, Reason: results.ReasonError, Detail: "invalid request"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, req := tt.setup(t)
			got := p.Probe(context.Background(), req)
			if got.ID != req.ID || got.Verdict != tt.want.Verdict || got.Reason != tt.want.Reason ||
				got.AnsweredBy != tt.want.AnsweredBy || !strings.Contains(got.Detail, tt.want.Detail) {
				t.Errorf("Probe(%s) = %+v, want %+v", req, got, tt.want)
			}
			if tt.maxMs > 0 && got.Ms > tt.maxMs {
				t.Errorf("Probe(%s) took %dms, want at most %dms", req, got.Ms, tt.maxMs)
			}
		})
	}
}

// A probe cut short by its caller (SIGTERM, a cancelled exec) reports error:
// what it saw so far says nothing about the network.
func TestProbeInterruptedIsErrorNotBlocked(t *testing.T) {
	t.Parallel()
	port := serveUDPWith(t, func(int) string { return "" })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	got := (&Prober{}).Probe(ctx, makeReq("udp", port, withTimeout(5000)))
	if got.Verdict != results.Error || !strings.Contains(got.Detail, "interrupted") {
		t.Errorf("interrupted probe = %+v, want error (interrupted)", got)
	}
	if got.Ms > 1000 {
		t.Errorf("interrupted probe took %dms, want it to stop soon after the cancel", got.Ms)
	}
}

// A timeoutMs that overflows a time.Duration once made a live server look
// blocked (a negative timeout expires at once). Now it is an invalid
// request: an error, never a verdict.
func TestProbeTimeoutTooLargeIsError(t *testing.T) {
	t.Parallel()
	port := serveTCP(t, "ns/a")
	for _, ms := range []int{9_223_372_036_855, math.MaxInt, 600_001} {
		got := (&Prober{}).Probe(context.Background(), makeReq("tcp", port, withIdentity("ns/a"), withTimeout(ms)))
		if got.Verdict != results.Error || !strings.Contains(got.Detail, "invalid request: timeoutMs") {
			t.Errorf("timeoutMs %d: got %+v, want error (invalid request: timeoutMs …)", ms, got)
		}
	}
}

func TestRequestValidateTimeout(t *testing.T) {
	t.Parallel()
	for ms, wantErr := range map[int]string{
		0:                 "",
		1:                 "",
		600_000:           "",
		600_001:           "timeoutMs 600001 is more than 600000 (10m0s)",
		9_223_372_036_855: "timeoutMs 9223372036855 is more than 600000 (10m0s)",
		math.MaxInt:       "is more than 600000",
		-1:                "timeoutMs -1 is negative",
	} {
		err := makeReq("tcp", 80, withTimeout(ms)).Validate()
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("Validate with timeoutMs %d = %v, want %q", ms, err, wantErr)
		}
	}
}

func TestParseSearch(t *testing.T) {
	t.Parallel()
	conf := "nameserver 10.96.0.10\nsearch app.svc.cluster.local svc.cluster.local. Cluster.Local\noptions ndots:5\n"
	got := parseSearch(conf)
	want := []string{"app.svc.cluster.local", "svc.cluster.local", "cluster.local"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("parseSearch = %q, want %q", got, want)
	}
	if got := parseSearch("search a\nsearch b c\n"); strings.Join(got, ",") != "b,c" {
		t.Errorf("the last search line wins: got %q", got)
	}
}

// A name that already ends in a search domain is looked up once, as
// written: not first with every search domain appended (ndots:5).
func TestProbeLooksUpClusterNamesAsWritten(t *testing.T) {
	t.Parallel()
	var asked []string
	var mu sync.Mutex
	r := resolverFunc(func(_ context.Context, host string) ([]string, error) {
		mu.Lock()
		asked = append(asked, host)
		mu.Unlock()
		return []string{"10.96.0.10"}, nil
	})
	p := &Prober{Resolver: r, SearchDomains: []string{"app.svc.cluster.local", "svc.cluster.local", "cluster.local"}}
	for host, want := range map[string]string{
		"kube-dns.kube-system.svc.cluster.local":  "kube-dns.kube-system.svc.cluster.local.",
		"Kube-DNS.kube-system.SVC.cluster.local":  "Kube-DNS.kube-system.SVC.cluster.local.",
		"kube-dns.kube-system.svc.cluster.local.": "kube-dns.kube-system.svc.cluster.local.",
		"kubernetes.default":                      "kubernetes.default", // relies on the search list
		"example.com":                             "example.com",
		"cluster.local":                           "cluster.local",
	} {
		asked = nil
		resp := p.Probe(context.Background(), makeReq("dns", 0, withHost(host)))
		if resp.Verdict != results.Allowed {
			t.Fatalf("%s: %+v", host, resp)
		}
		if len(asked) != 1 || asked[0] != want {
			t.Errorf("%s: looked up %q, want %q", host, asked, want)
		}
	}
}
