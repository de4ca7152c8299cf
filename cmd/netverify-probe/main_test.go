package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
)

// buildProbe builds the program as the image does: static, stripped.
func buildProbe(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	bin := filepath.Join(t.TempDir(), "netverify-probe")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback port that was just free on network.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServe runs `serve` on loopback and waits for its start line.
func startServe(t *testing.T, bin, identity, listen string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--identity", identity, "--host", "127.0.0.1", "--listen", listen)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	started := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), "serving identity") {
				started <- sc.Text()
				break
			}
		}
		if len(started) == 0 {
			started <- "EXITED: " + strings.Join(seen, " | ")
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case line := <-started:
		if strings.HasPrefix(line, "EXITED") {
			t.Fatalf("serve did not start: %s", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve printed no start line within 10s")
	}
	return cmd
}

func TestBinaryEndToEnd(t *testing.T) {
	bin := buildProbe(t)

	t.Run("static", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("binary has an ELF interpreter: not static")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("binary needs shared libraries %v", libs)
		}
	})

	tcpA, udpA, tcpB := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "tcp")
	serveA := startServe(t, bin, "ns/a", fmt.Sprintf("tcp:%d,udp:%d,sctp:132", tcpA, udpA))
	startServe(t, bin, "ns/b", fmt.Sprintf("tcp:%d", tcpB))
	closed := freePort(t, "tcp")

	t.Run("batch", func(t *testing.T) {
		type want struct {
			verdict results.Verdict
			reason  results.Reason
		}
		var reqs []probe.Request
		wants := map[string]want{}
		add := func(r probe.Request, w want) {
			r.ID = strconv.Itoa(len(reqs))
			reqs = append(reqs, r)
			wants[r.ID] = w
		}
		for range 40 {
			add(probe.Request{Protocol: "tcp", Host: "127.0.0.1", Port: tcpA, Identity: "ns/a"}, want{"allowed", "connected"})
			add(probe.Request{Protocol: "udp", Host: "127.0.0.1", Port: udpA, Identity: "ns/a"}, want{"allowed", "connected"})
			add(probe.Request{Protocol: "tcp", Host: "127.0.0.1", Port: tcpB, Identity: "ns/a"}, want{"error", "wrong-identity"})
			add(probe.Request{Protocol: "tcp", Host: "127.0.0.1", Port: closed}, want{"blocked", "refused"})
			add(probe.Request{Protocol: "sctp", Host: "127.0.0.1", Port: 132}, want{"error", "unsupported"})
		}
		// localhost comes from /etc/hosts: no query leaves the machine.
		add(probe.Request{Protocol: "dns", Host: "localhost"}, want{"allowed", "resolved"})

		argv := probe.BatchCommand(bin, reqs)
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("batch: %v\n%s", err, stderr.String())
		}
		if n := strings.Count(stdout.String(), "\n"); n != len(reqs) {
			t.Errorf("batch printed %d lines, want %d", n, len(reqs))
		}
		got, err := probe.ParseBatchOutput(stdout.Bytes(), reqs)
		if err != nil {
			t.Fatal(err)
		}
		for id, w := range wants {
			if got[id].Verdict != w.verdict || got[id].Reason != w.reason {
				t.Errorf("request %s (%s): got %+v, want %s/%s", id, reqs[mustAtoi(id)], got[id], w.verdict, w.reason)
			}
		}
	})

	t.Run("batch bad input exits 3", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			args   []string
			stdin  io.Reader
			stderr string
		}{
			{"bad JSON", []string{"-"}, strings.NewReader("[{"), "parsing requests"},
			{"null", []string{"null"}, nil, "expected a JSON array of requests, got null"},
			{"object", []string{"{}"}, nil, "got an object"},
			{"string", []string{`"x"`}, nil, "got a string"},
			{"number", []string{"1"}, nil, "got a number"},
			{"stdin that never ends", []string{"-"}, endlessSpaces{}, "more than 4 MiB"},
		} {
			cmd := exec.Command(bin, append([]string{"batch"}, tt.args...)...)
			cmd.Stdin = tt.stdin
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := exitCode(err); code != probe.ExitUsage || stdout.Len() != 0 || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("batch with %s: exit %d, stdout %q, stderr %q; want exit %d, no output, %q", tt.name, code, stdout.String(), stderr.String(), probe.ExitUsage, tt.stderr)
			}
		}
	})

	t.Run("batch timeoutMs overflowing a duration is an error, not blocked", func(t *testing.T) {
		req := probe.Request{ID: "x", Protocol: "tcp", Host: "127.0.0.1", Port: tcpA, Identity: "ns/a", TimeoutMs: 9_223_372_036_855}
		argv := probe.BatchCommand(bin, []probe.Request{req})
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatalf("batch: %v", err)
		}
		got, err := probe.ParseBatchOutput(out, []probe.Request{req})
		if err != nil || got["x"].Verdict != results.Error {
			t.Errorf("batch with timeoutMs %d: %+v, %v; want verdict error", req.TimeoutMs, got["x"], err)
		}
	})

	t.Run("connect exit codes", func(t *testing.T) {
		for _, tt := range []struct {
			req  probe.Request
			want int
		}{
			{probe.Request{Protocol: "tcp", Host: "127.0.0.1", Port: tcpA, Identity: "ns/a"}, 0},
			{probe.Request{Protocol: "tcp", Host: "127.0.0.1", Port: closed}, 1},
			{probe.Request{Protocol: "tcp", Host: "127.0.0.1", Port: tcpB, Identity: "ns/a"}, 2},
		} {
			argv := probe.ConnectCommand(bin, tt.req)
			out, err := exec.Command(argv[0], argv[1:]...).Output()
			if code := exitCode(err); code != tt.want || strings.Count(string(out), "\n") != 1 {
				t.Errorf("%q: exit %d, stdout %q; want exit %d and one line", argv, code, out, tt.want)
			}
		}
	})

	t.Run("serve exits 0 on SIGTERM", func(t *testing.T) {
		if err := serveA.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- serveA.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after SIGTERM: %v, want exit 0", err)
			}
		case <-time.After(2 * time.Second):
			t.Error("serve still running 2s after SIGTERM")
		}
	})

	t.Run("serve on a busy port exits non-zero naming it", func(t *testing.T) {
		out, err := exec.Command(bin, "serve", "--identity", "ns/c", "--host", "127.0.0.1",
			"--listen", fmt.Sprintf("udp:%d,tcp:%d", freePort(t, "udp"), tcpB)).CombinedOutput()
		want := fmt.Sprintf("cannot listen on tcp port %d", tcpB)
		if code := exitCode(err); code == 0 || !strings.Contains(string(out), want) {
			t.Errorf("serve on busy port: exit %d, output %q; want non-zero and %q", code, out, want)
		}
	})
}

// endlessSpaces is a stdin that never ends.
type endlessSpaces struct{}

func (endlessSpaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
