package probe

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
)

// Every server here binds 127.0.0.1 and every name lookup is answered by
// /etc/hosts or a fake: no test sends a packet off the machine.

// serveTCP starts a loopback TCP server answering identity and returns its port.
func serveTCP(t *testing.T, identity string) int {
	t.Helper()
	ln := listenTCP(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ServeTCP(ctx, ln, identity); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().(*net.TCPAddr).Port
}

// serveTCPWith starts a loopback TCP server that runs handle on every
// connection (and closes it afterwards) and returns its port.
func serveTCPWith(t *testing.T, handle func(net.Conn)) int {
	t.Helper()
	ln := listenTCP(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer conn.Close(); handle(conn) })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port
}

// serveUDP starts a loopback UDP server answering identity and returns its port.
func serveUDP(t *testing.T, identity string) int {
	t.Helper()
	pc := listenUDP(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ServeUDP(ctx, pc, identity); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// serveUDPWith starts a loopback UDP server that answers the nth datagram
// (from 1) with reply(n), or not at all when reply returns "".
func serveUDPWith(t *testing.T, reply func(n int) string) int {
	t.Helper()
	pc := listenUDP(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for n := 1; ; n++ {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if r := reply(n); r != "" {
				_, _ = pc.WriteTo([]byte(r), from)
			}
		}
	})
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// closedPort returns a loopback port that was just free on network.
func closedPort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		pc := listenUDP(t)
		pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	ln := listenTCP(t)
	ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on loopback: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func listenUDP(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on loopback: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// dialerFunc is a scripted Dialer.
type dialerFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// resolverFunc is a scripted Resolver.
type resolverFunc func(ctx context.Context, host string) ([]string, error)

func (f resolverFunc) LookupHost(ctx context.Context, host string) ([]string, error) {
	return f(ctx, host)
}

// filesOnlyResolver answers from /etc/hosts and fails any DNS query
// instead of sending it.
func filesOnlyResolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("tests send no DNS queries")
		},
	}
}

// makeReq builds a Request for tests: makeReq("tcp", port, withIdentity("ns/a")).
func makeReq(proto string, port int, tweaks ...func(*Request)) Request {
	r := Request{ID: "r", Protocol: proto, Host: "127.0.0.1", Port: port, TimeoutMs: 1000}
	for _, f := range tweaks {
		f(&r)
	}
	return r
}

func withIdentity(id string) func(*Request) { return func(r *Request) { r.Identity = id } }
func withHost(h string) func(*Request)      { return func(r *Request) { r.Host = h } }
func withTimeout(ms int) func(*Request)     { return func(r *Request) { r.TimeoutMs = ms } }
func withID(id string) func(*Request)       { return func(r *Request) { r.ID = id } }
