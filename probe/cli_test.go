package probe

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

type runResult struct {
	code           int
	stdout, stderr string
}

// run runs the program in-process, the way main does.
func run(t *testing.T, ctx context.Context, stdin string, args ...string) runResult {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(ctx, Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, args)
	if err != nil && err.Error() != "" {
		errOut.WriteString("netverify-probe: " + err.Error() + "\n")
	}
	return runResult{code: ExitCode(err), stdout: out.String(), stderr: errOut.String()}
}

func TestConnectExitCodes(t *testing.T) {
	t.Parallel()
	tcp := serveTCP(t, "ns/a")
	tests := []struct {
		name       string
		req        Request
		wantCode   int
		wantReason results.Reason
		wantStderr string
	}{
		{name: "allowed", req: makeReq("tcp", tcp, withIdentity("ns/a")), wantCode: ExitAllowed, wantReason: results.ReasonConnected,
			wantStderr: "ALLOWED tcp 127.0.0.1:" + strconv.Itoa(tcp) + " as ns/a: connected, answered by ns/a"},
		{name: "blocked", req: makeReq("tcp", closedPort(t, "tcp")), wantCode: ExitBlocked, wantReason: results.ReasonRefused,
			wantStderr: "BLOCKED tcp 127.0.0.1:"},
		{name: "error", req: makeReq("tcp", tcp, withIdentity("ns/b")), wantCode: ExitFailed, wantReason: results.ReasonWrongIdentity,
			wantStderr: "ERROR tcp 127.0.0.1:" + strconv.Itoa(tcp) + " as ns/b: wrong-identity, answered by ns/a (expected ns/b)"},
		{name: "sctp skips as error/unsupported", req: makeReq("sctp", 132), wantCode: ExitFailed, wantReason: results.ReasonUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The repro argv a caller prints is exactly what is run here.
			r := run(t, context.Background(), "", ConnectCommand("", tt.req)[1:]...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("connect: exit %d, stderr %q; want exit %d, stderr containing %q", r.code, r.stderr, tt.wantCode, tt.wantStderr)
			}
			// The caller reads the result as a batch of one, by ID.
			got, err := ParseBatchOutput([]byte(r.stdout), []Request{tt.req})
			if err != nil || got[tt.req.ID].Reason != tt.wantReason || strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("connect stdout = %q → %+v (%v), want one JSON line for ID %q with reason %s", r.stdout, got, err, tt.req.ID, tt.wantReason)
			}
		})
	}
}

// Not parallel: serve reads the environment, which t.Setenv clears.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantStderr []string
	}{
		{name: "no subcommand", args: nil, wantStderr: []string{"Usage:"}},
		{name: "unknown subcommand", args: []string{"probe"}, wantStderr: []string{`unknown subcommand "probe"`}},
		{name: "batch bad JSON argument", args: []string{"batch", `[{"id":`}, wantStderr: []string{"parsing requests"}},
		{name: "batch bad JSON on stdin", args: []string{"batch", "-"}, stdin: "nope", wantStderr: []string{"parsing requests"}},
		{name: "batch empty stdin", args: []string{"batch"}, wantStderr: []string{"no requests"}},
		{name: "batch two arguments", args: []string{"batch", "[]", "[]"}, wantStderr: []string{"unexpected arguments"}},
		{name: "connect unknown flag", args: []string{"connect", "--bogus"}, wantStderr: []string{"flag provided but not defined: -bogus"}},
		{name: "connect bad request, every problem", args: []string{"connect", "--proto", "icmp", "--port", "0"},
			wantStderr: []string{`proto "icmp" unknown`, "host is empty"}},
		{name: "connect zero timeout", args: []string{"connect", "--host", "h", "--port", "1", "--timeout", "0s"}, wantStderr: []string{"--timeout must be positive and at most 10m0s, got 0s"}},
		{name: "connect timeout over the maximum", args: []string{"connect", "--host", "h", "--port", "1", "--timeout", "10m1s"},
			wantStderr: []string{"--timeout must be positive and at most 10m0s, got 10m1s"}},
		{name: "batch null", args: []string{"batch", "null"}, wantStderr: []string{"expected a JSON array of requests, got null"}},
		{name: "batch object", args: []string{"batch", "{}"}, wantStderr: []string{"expected a JSON array of requests, got an object"}},
		{name: "batch string", args: []string{"batch", `"x"`}, wantStderr: []string{"expected a JSON array of requests, got a string"}},
		{name: "batch number", args: []string{"batch", "1"}, wantStderr: []string{"expected a JSON array of requests, got a number"}},
		{name: "batch boolean", args: []string{"batch", "true"}, wantStderr: []string{"expected a JSON array of requests, got a boolean"}},
		{name: "batch null on stdin", args: []string{"batch", "-"}, stdin: " null\n", wantStderr: []string{"got null"}},
		{name: "serve nothing given", args: []string{"serve"}, wantStderr: []string{"no identity"}},
		{name: "serve bad listen", args: []string{"serve", "--identity", "ns/a", "--listen", "tcp:x,udp"},
			wantStderr: []string{`port "x"`, `"udp": want PROTO:PORT`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("POD_NAMESPACE", "")
			t.Setenv("POD_NAME", "")
			t.Setenv("NETVERIFY_LISTEN", "")
			r := run(t, context.Background(), tt.stdin, tt.args...)
			if r.code != ExitUsage || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and no stdout", r.code, r.stdout, ExitUsage)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
		})
	}
}

func TestBatchInputs(t *testing.T) {
	t.Parallel()
	tcp := serveTCP(t, "ns/a")
	reqs := []Request{makeReq("tcp", tcp, withID("a"), withIdentity("ns/a")), makeReq("sctp", 1, withID("b"))}
	arg := BatchCommand("", reqs)[2]
	for name, args := range map[string]struct {
		argv  []string
		stdin string
	}{
		"argument":       {[]string{"batch", arg}, ""},
		"stdin with -":   {[]string{"batch", "-"}, arg},
		"stdin, no arg":  {[]string{"batch"}, arg},
		"bounded to one": {[]string{"batch", "--parallel", "1", arg}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := run(t, context.Background(), args.stdin, args.argv...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("batch: exit %d, stderr %q; want 0 and silence", r.code, r.stderr)
			}
			got, err := ParseBatchOutput([]byte(r.stdout), reqs)
			if err != nil || got["a"].Verdict != results.Allowed || got["b"].Reason != results.ReasonUnsupported {
				t.Errorf("batch output %q → %+v, %v", r.stdout, got, err)
			}
		})
	}
}

func TestServeFromEnvironment(t *testing.T) {
	tcp, udp := closedPort(t, "tcp"), closedPort(t, "udp")
	t.Setenv("POD_NAMESPACE", "ns")
	t.Setenv("POD_NAME", "pod-a")
	t.Setenv("NETVERIFY_LISTEN", "tcp:"+strconv.Itoa(tcp)+",udp:"+strconv.Itoa(udp))
	log := newLogLines()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: log}, []string{"serve", "--host", "127.0.0.1"})
	}()
	log.waitFor(t, `serving identity "ns/pod-a"`)
	for _, req := range []Request{makeReq("tcp", tcp, withIdentity("ns/pod-a")), makeReq("udp", udp, withIdentity("ns/pod-a"))} {
		if got := (&Prober{}).Probe(context.Background(), req); got.Verdict != results.Allowed {
			t.Errorf("Probe(%s) = %+v, want allowed", req, got)
		}
	}
	cancel() // what SIGTERM does in main
	select {
	case err := <-done:
		if code := ExitCode(err); code != 0 {
			t.Errorf("serve after SIGTERM: exit %d (%v), want 0", code, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("serve did not stop within 2s")
	}
}

func TestServeBindFailureExitCode(t *testing.T) {
	t.Parallel()
	busy := listenTCP(t).Addr().String()
	port := busy[strings.LastIndex(busy, ":")+1:]
	r := run(t, context.Background(), "", "serve", "--identity", "ns/a", "--host", "127.0.0.1", "--listen", "tcp:"+port)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "cannot listen on tcp port "+port) {
		t.Errorf("serve on a busy port: exit %d, stderr %q; want exit %d naming tcp port %s", r.code, r.stderr, ExitFailed, port)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	if r := run(t, context.Background(), "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "netverify-probe dev ") {
		t.Errorf("version: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := run(t, context.Background(), "", "connect", "-h"); r.code != 0 || !strings.Contains(r.stderr, "-identity") {
		t.Errorf("connect -h: exit %d, stderr %q", r.code, r.stderr)
	}
}

// A pod that only sends probes serves no port: serve idles until stopped.
func TestServeWithoutPortsIdles(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ns")
	t.Setenv("POD_NAME", "client")
	t.Setenv("NETVERIFY_LISTEN", "")
	log := newLogLines()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: log}, []string{"serve"})
	}()
	log.waitFor(t, "serves no ports")
	select {
	case err := <-done:
		t.Fatalf("serve without ports returned early: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if code := ExitCode(err); code != 0 {
			t.Errorf("exit %d (%v), want 0", code, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("serve did not stop within 2s")
	}
}

// endless is a stdin that is never closed and always has more: batch must
// stop reading at its limit. It fails once far more than the limit has been
// read, so that a batch without one fails rather than exhausting memory.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	if e.read > 64<<20 {
		return 0, errors.New("endless: read 64 MiB, batch does not bound its input")
	}
	for i := range p {
		p[i] = ' '
	}
	e.read += len(p)
	return len(p), nil
}

func TestBatchStdinIsBounded(t *testing.T) {
	t.Parallel()
	const limit = 4 << 20
	in := &endless{}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Streams{In: in, Out: &out, ErrOut: &errOut}, []string{"batch", "-"})
	want := "requests on stdin: more than 4 MiB, the limit of a batch"
	if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), want) || out.Len() != 0 {
		t.Errorf("batch - with endless stdin: exit %d, %v, stdout %q; want exit %d, %q", ExitCode(err), err, out.String(), ExitUsage, want)
	}
	if in.read > 2*limit {
		t.Errorf("read %d bytes of stdin, want no more than the limit and a buffer", in.read)
	}
}
