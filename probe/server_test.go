package probe

import (
	"context"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

func TestParseEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []Endpoint
		wantErr []string
	}{
		{in: "tcp:8080,tcp:9090,udp:53,sctp:132", want: []Endpoint{{"tcp", 8080}, {"tcp", 9090}, {"udp", 53}, {"sctp", 132}}},
		{in: " TCP:80 , UDP:80 ,", want: []Endpoint{{"tcp", 80}, {"udp", 80}}},
		{in: "", wantErr: []string{"no ports"}},
		{in: "8080,icmp:1,tcp:x,tcp:70000,tcp:81,tcp:81",
			wantErr: []string{`"8080": want PROTO:PORT`, `protocol "icmp" unknown`, `port "x"`, `port "70000"`, `"tcp:81": listed twice`}},
	}
	for _, tt := range tests {
		got, err := ParseEndpoints(tt.in)
		if len(tt.wantErr) > 0 {
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("ParseEndpoints(%q) error = %v, want it to mention %q", tt.in, err, w)
				}
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseEndpoints(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// logLines is a Server.Log that hands each line to a channel.
type logLines struct {
	mu    sync.Mutex
	lines chan string
	all   strings.Builder
}

func newLogLines() *logLines { return &logLines{lines: make(chan string, 100)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	for line := range strings.Lines(string(p)) {
		l.lines <- strings.TrimSpace(line)
	}
	return len(p), nil
}

// waitFor returns the first line containing s, failing after 5s.
func (l *logLines) waitFor(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case line := <-l.lines:
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			t.Fatalf("no log line containing %q in %q", s, l.String())
		}
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

func TestServerServesAndStops(t *testing.T) {
	t.Parallel()
	tcp, udp := closedPort(t, "tcp"), closedPort(t, "udp")
	log := newLogLines()
	srv := &Server{Identity: "ns/a", Host: "127.0.0.1", Log: log,
		Endpoints: []Endpoint{{"tcp", tcp}, {"udp", udp}, {"sctp", 132}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	log.waitFor(t, "sctp unsupported, port 132 not served")
	log.waitFor(t, `serving identity "ns/a"`)
	for _, req := range []Request{makeReq("tcp", tcp, withIdentity("ns/a")), makeReq("udp", udp, withIdentity("ns/a"))} {
		if got := (&Prober{}).Probe(context.Background(), req); got.Verdict != results.Allowed {
			t.Errorf("Probe(%s) = %+v, want allowed", req, got)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancel")
	}
	if got := (&Prober{}).Probe(context.Background(), makeReq("tcp", tcp)); got.Verdict != results.Blocked {
		t.Errorf("after stop, Probe = %+v, want blocked (port closed)", got)
	}
}

func TestServerBindFailureNamesThePort(t *testing.T) {
	t.Parallel()
	busy := listenTCP(t)
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := closedPort(t, "udp")
	srv := &Server{Identity: "ns/a", Host: "127.0.0.1",
		Endpoints: []Endpoint{{"udp", free}, {"tcp", busyPort}}}
	err := srv.Run(context.Background()) // returns at once: nothing is served
	if err == nil || !strings.Contains(err.Error(), "cannot listen on tcp port "+strconv.Itoa(busyPort)) {
		t.Fatalf("Run with a busy port = %v, want it to name tcp port %d", err, busyPort)
	}
	// The endpoint that did bind was released.
	if got := (&Prober{}).Probe(context.Background(), makeReq("udp", free, withTimeout(300))); got.Verdict == results.Allowed {
		t.Errorf("udp port %d still served after a failed start: %+v", free, got)
	}
}
