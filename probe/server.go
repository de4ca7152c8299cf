package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Endpoint is one port the server answers on.
type Endpoint struct {
	Protocol string // tcp, udp or sctp
	Port     int    // 0 lets the kernel pick (tests only)
}

func (e Endpoint) String() string { return e.Protocol + ":" + strconv.Itoa(e.Port) }

// ParseEndpoints parses a --listen value: "tcp:8080,udp:53,sctp:132".
// Protocols are case-insensitive; every problem is reported at once.
func ParseEndpoints(s string) ([]Endpoint, error) {
	var (
		eps  []Endpoint
		errs []error
		seen = map[Endpoint]bool{}
	)
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		proto, portStr, ok := strings.Cut(item, ":")
		proto = strings.ToLower(proto)
		if !ok {
			errs = append(errs, fmt.Errorf("%q: want PROTO:PORT, e.g. tcp:8080", item))
			continue
		}
		if proto != ProtocolTCP && proto != ProtocolUDP && proto != ProtocolSCTP {
			errs = append(errs, fmt.Errorf("%q: protocol %q unknown (want tcp, udp or sctp)", item, proto))
			continue
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 0 || port > 65535 {
			errs = append(errs, fmt.Errorf("%q: port %q is not a number in 0-65535", item, portStr))
			continue
		}
		ep := Endpoint{Protocol: proto, Port: port}
		if seen[ep] && port != 0 {
			errs = append(errs, fmt.Errorf("%q: listed twice", item))
			continue
		}
		seen[ep] = true
		eps = append(eps, ep)
	}
	if len(eps) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no ports to listen on"))
	}
	return eps, errors.Join(errs...)
}

// Server answers every connection or datagram on its endpoints with its
// identity.
type Server struct {
	Identity  string
	Endpoints []Endpoint
	// Host is the address to bind; "" means all addresses (IPv4 and IPv6).
	Host string
	// Log receives the start line and problems; nil discards them.
	Log io.Writer
}

// Run binds every endpoint, then serves until ctx is done and returns nil.
// If any TCP or UDP endpoint cannot be bound, nothing is served and the
// error names the port. SCTP endpoints are logged as unsupported and skipped.
func (s *Server) Run(ctx context.Context) error {
	logw := s.Log
	if logw == nil {
		logw = io.Discard
	}
	var (
		closers []io.Closer
		serves  []func()
		bound   []string
		errs    []error
	)
	lc := net.ListenConfig{}
	for _, ep := range s.Endpoints {
		addr := net.JoinHostPort(s.Host, strconv.Itoa(ep.Port))
		switch ep.Protocol {
		case ProtocolTCP:
			ln, err := lc.Listen(ctx, "tcp", addr)
			if err != nil {
				errs = append(errs, bindError(ep, err))
				continue
			}
			closers = append(closers, ln)
			serves = append(serves, func() { ServeTCP(ctx, ln, s.Identity) })
			bound = append(bound, "tcp:"+ln.Addr().String())
		case ProtocolUDP:
			pc, err := lc.ListenPacket(ctx, "udp", addr)
			if err != nil {
				errs = append(errs, bindError(ep, err))
				continue
			}
			closers = append(closers, pc)
			serves = append(serves, func() { ServeUDP(ctx, pc, s.Identity) })
			bound = append(bound, "udp:"+pc.LocalAddr().String())
		case ProtocolSCTP:
			fmt.Fprintf(logw, "netverify-probe: sctp unsupported, port %d not served\n", ep.Port)
		default:
			errs = append(errs, fmt.Errorf("%s: protocol unknown", ep))
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, c := range closers {
			c.Close()
		}
		return err
	}
	fmt.Fprintf(logw, "netverify-probe: serving identity %q on %s\n", s.Identity, strings.Join(bound, " "))

	var wg sync.WaitGroup
	for _, serve := range serves {
		wg.Go(serve)
	}
	<-ctx.Done()
	for _, c := range closers {
		c.Close()
	}
	wg.Wait()
	return nil
}

func bindError(ep Endpoint, err error) error {
	msg := fmt.Sprintf("cannot listen on %s port %d: %v", ep.Protocol, ep.Port, err)
	if errors.Is(err, syscall.EACCES) && ep.Port < 1024 {
		msg += " (ports below 1024 need CAP_NET_BIND_SERVICE or the pod sysctl net.ipv4.ip_unprivileged_port_start=0)"
	}
	return errors.New(msg)
}

// ServeTCP accepts connections on ln until ctx is done or ln is closed;
// each gets identity and "\n", then is closed. ServeTCP closes ln when ctx
// is done.
func ServeTCP(ctx context.Context, ln net.Listener, identity string) {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	greeting := []byte(identity + "\n")
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			if !backOff(ctx) {
				return
			}
			continue
		}
		wg.Go(func() {
			defer conn.Close()
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = conn.Write(greeting) // a client gone early is its own problem
		})
	}
}

// ServeUDP answers every datagram on pc with identity until ctx is done or
// pc is closed. ServeUDP closes pc when ctx is done.
func ServeUDP(ctx context.Context, pc net.PacketConn, identity string) {
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	reply := []byte(identity)
	buf := make([]byte, 64*1024)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			if !backOff(ctx) {
				return
			}
			continue
		}
		_, _ = pc.WriteTo(reply, from) // UDP: a lost reply is the client's timeout
	}
}

// backOff pauses after an unexpected accept or read error (out of file
// descriptors and the like) so the loop keeps serving without spinning. It
// reports false when ctx is done.
func backOff(ctx context.Context) bool {
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
