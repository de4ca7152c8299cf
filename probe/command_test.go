package probe

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/netverify/netverify/results"
)

func TestBatchCommand(t *testing.T) {
	t.Parallel()
	reqs := []Request{{ID: "a", Protocol: "tcp", Host: "10.0.0.5", Port: 8080, Identity: "ns/b"}}
	got := BatchCommand("", reqs)
	want := []string{"/netverify-probe", "batch", `[{"id":"a","proto":"tcp","host":"10.0.0.5","port":8080,"identity":"ns/b"}]`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BatchCommand = %q, want %q", got, want)
	}
	if got := BatchCommand("/bin/p", nil); !reflect.DeepEqual(got, []string{"/bin/p", "batch", "[]"}) {
		t.Errorf("BatchCommand(nil) = %q", got)
	}
	// The argument decodes back into the same requests.
	back, err := DecodeRequests([]byte(BatchCommand("", reqs)[2]))
	if err != nil || !reflect.DeepEqual(back, reqs) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, reqs)
	}
}

func TestConnectCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{
			name: "tcp with identity",
			req:  Request{ID: "p3", Protocol: "tcp", Host: "10.0.0.5", Port: 8080, Identity: "ns/b", TimeoutMs: 1500},
			want: "/netverify-probe connect --proto tcp --host 10.0.0.5 --port 8080 --identity ns/b --timeout 1.5s --id p3",
		},
		{
			name: "udp, default timeout, Kubernetes casing",
			req:  Request{Protocol: "UDP", Host: "fd00::5", Port: 53},
			want: "/netverify-probe connect --proto udp --host fd00::5 --port 53 --timeout 1s",
		},
		{
			name: "dns has no port",
			req:  Request{Protocol: "dns", Host: "kubernetes.default"},
			want: "/netverify-probe connect --proto dns --host kubernetes.default --timeout 1s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(ConnectCommand("", tt.req), " "); got != tt.want {
				t.Errorf("ConnectCommand = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChunkRequests(t *testing.T) {
	t.Parallel()
	var reqs []Request
	for range 1000 {
		reqs = append(reqs, Request{ID: "some-scenario/from-a/to-b:8080", Protocol: "tcp", Host: "10.244.123.45", Port: 8080, Identity: "netverify-x/pod-b"})
	}
	if len(BatchCommand("", reqs)[2]) <= MaxBatchArgBytes {
		t.Fatal("test batch too small to need chunking")
	}
	chunks := ChunkRequests(reqs, 0)
	total := 0
	for i, c := range chunks {
		if n := len(BatchCommand("", c)[2]); n > MaxBatchArgBytes {
			t.Errorf("chunk %d is %d bytes, over %d", i, n, MaxBatchArgBytes)
		}
		total += len(c)
	}
	if len(chunks) < 2 || total != len(reqs) {
		t.Errorf("ChunkRequests: %d chunks holding %d requests, want ≥ 2 holding %d", len(chunks), total, len(reqs))
	}
	if got := ChunkRequests(nil, 0); got != nil {
		t.Errorf("ChunkRequests(nil) = %v, want nil", got)
	}
}

func TestParseBatchOutput(t *testing.T) {
	t.Parallel()
	reqs := []Request{{ID: "a"}, {ID: "b"}}
	line := func(r Response) string {
		b, _ := json.Marshal(r)
		return string(b) + "\n"
	}
	allowedA := Response{ID: "a", Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: "ns/a", Ms: 3}
	blockedB := Response{ID: "b", Verdict: results.Blocked, Reason: results.ReasonTimeout, Ms: 1000}
	noOutput := func(id string) Response {
		return Response{ID: id, Verdict: results.Error, Reason: results.ReasonNoOutput, Detail: "the probe program printed no result for this request"}
	}

	tests := []struct {
		name    string
		stdout  string
		want    map[string]Response
		wantErr string
	}{
		{
			name:   "all present, any order",
			stdout: line(blockedB) + line(allowedA),
			want:   map[string]Response{"a": allowedA, "b": blockedB},
		},
		{
			name:   "one missing",
			stdout: line(allowedA),
			want:   map[string]Response{"a": allowedA, "b": noOutput("b")},
		},
		{
			name:   "empty output",
			stdout: "",
			want:   map[string]Response{"a": noOutput("a"), "b": noOutput("b")},
		},
		{
			name:   "unknown IDs and blank lines ignored, CRLF tolerated",
			stdout: "\n" + line(Response{ID: "zz", Verdict: results.Allowed}) + strings.TrimSuffix(line(allowedA), "\n") + "\r\n" + line(blockedB),
			want:   map[string]Response{"a": allowedA, "b": blockedB},
		},
		{
			name:    "garbage line",
			stdout:  line(allowedA) + "panic: runtime error\n",
			wantErr: "line 2 is not a response",
		},
		{
			name:    "truncated last line",
			stdout:  line(allowedA) + `{"id":"b","verd`,
			wantErr: "line 2 is not a response",
		},
		{
			name:    "unknown verdict",
			stdout:  line(Response{ID: "a", Verdict: "maybe"}),
			wantErr: `unknown verdict "maybe"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBatchOutput([]byte(tt.stdout), reqs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseBatchOutput error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBatchOutput: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseBatchOutput =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
