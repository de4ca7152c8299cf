package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

func TestRunBatchConcurrent(t *testing.T) {
	t.Parallel()
	tcp := serveTCP(t, "ns/a")
	udp := serveUDP(t, "ns/a")
	silent := serveUDPWith(t, func(int) string { return "" })
	closed := closedPort(t, "tcp")

	const n = 200
	var reqs []Request
	want := map[string]results.Verdict{} // ID → verdict
	for i := range n {
		id := fmt.Sprintf("r%03d", i)
		switch i % 4 {
		case 0:
			reqs = append(reqs, makeReq("tcp", tcp, withID(id), withIdentity("ns/a")))
			want[id] = results.Allowed
		case 1:
			reqs = append(reqs, makeReq("udp", udp, withID(id), withIdentity("ns/a")))
			want[id] = results.Allowed
		case 2:
			// 50 probes waiting out 400ms each: 20s one after another.
			reqs = append(reqs, makeReq("udp", silent, withID(id), withTimeout(400)))
			want[id] = results.Blocked
		case 3:
			reqs = append(reqs, makeReq("tcp", closed, withID(id)))
			want[id] = results.Blocked
		}
	}

	var out bytes.Buffer
	start := time.Now()
	if err := RunBatch(context.Background(), &Prober{}, reqs, &out, 0); err != nil {
		t.Fatalf("RunBatch: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("RunBatch took %s: requests did not run concurrently", d)
	}
	if lines := strings.Count(out.String(), "\n"); lines != n {
		t.Errorf("RunBatch wrote %d lines, want %d", lines, n)
	}
	got, err := ParseBatchOutput(out.Bytes(), reqs)
	if err != nil {
		t.Fatalf("ParseBatchOutput: %v", err)
	}
	for id, v := range want {
		if got[id].Verdict != v {
			t.Errorf("%s: got %+v, want verdict %s", id, got[id], v)
		}
	}
}

func TestRunBatchBoundsParallelism(t *testing.T) {
	t.Parallel()
	silent := serveUDPWith(t, func(int) string { return "" })
	reqs := []Request{
		makeReq("udp", silent, withID("a"), withTimeout(150)),
		makeReq("udp", silent, withID("b"), withTimeout(150)),
	}
	start := time.Now()
	if err := RunBatch(context.Background(), &Prober{}, reqs, &bytes.Buffer{}, 1); err != nil {
		t.Fatalf("RunBatch: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("2 probes of 150ms with parallel=1 took %s, want ≥ 300ms", d)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunBatchWriteError(t *testing.T) {
	t.Parallel()
	reqs := []Request{makeReq("sctp", 1, withID("a")), makeReq("sctp", 1, withID("b"))}
	err := RunBatch(context.Background(), &Prober{}, reqs, failingWriter{}, 0)
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("RunBatch to a broken writer = %v, want the write error", err)
	}
}

func TestDecodeRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{name: "array", in: `[{"id":"a","proto":"tcp","host":"h","port":80},{"id":"b","proto":"dns","host":"h"}]`, want: 2},
		{name: "empty array", in: `[]`, want: 0},
		{name: "surrounding whitespace", in: " \n[]\n", want: 0},
		{name: "unknown fields accepted (newer caller)", in: `[{"id":"a","proto":"tcp","host":"h","port":80,"future":1}]`, want: 1},
		{name: "empty input", in: ``, wantErr: "no requests"},
		{name: "truncated", in: `[{"id":"a"`, wantErr: "parsing requests"},
		{name: "object, not array", in: `{"id":"a"}`, wantErr: "parsing requests"},
		{name: "trailing data", in: `[] []`, wantErr: "after the JSON array"},
		{name: "wrong type", in: `[{"id":"a","port":"80"}]`, wantErr: "parsing requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeRequests([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecodeRequests(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("DecodeRequests(%q) = %d requests, %v; want %d", tt.in, len(got), err, tt.want)
			}
		})
	}
}
