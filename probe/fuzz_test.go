package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

// The fuzz tests run their seeds under plain `go test`; fuzz longer with
//
//	go test -run='^$' -fuzz=FuzzDecodeRequests -fuzztime=10s ./probe
//
// (and FuzzParseBatchOutput, FuzzParseConnect). None of them touches the
// network.

// FuzzDecodeRequests: a batch is one JSON array of requests, nothing else;
// whatever it decodes to survives a round trip through BatchCommand.
func FuzzDecodeRequests(f *testing.F) {
	for _, seed := range []string{
		`[{"id":"a","proto":"tcp","host":"h","port":80,"timeoutMs":1000}]`,
		`[{"id":"b","proto":"dns","host":"example.com"}]`,
		`[]`, ` [ ] `, `null`, `{}`, `"x"`, `1`, `true`, `[] []`, `[{"id":`, `[{"port":"80"}]`,
		`[null]`, `[{"timeoutMs":9223372036855}]`, "\xff", ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, err := DecodeRequests(data)
		if err != nil {
			if reqs != nil {
				t.Errorf("DecodeRequests(%q) returned %d requests with error %v", data, len(reqs), err)
			}
			return
		}
		if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '[' {
			t.Fatalf("DecodeRequests(%q) accepted what is not a JSON array", data)
		}
		again, err := DecodeRequests([]byte(BatchCommand("", reqs)[2]))
		if err != nil || len(again) != len(reqs) {
			t.Fatalf("round trip of %d requests: %d, %v", len(reqs), len(again), err)
		}
		for i := range reqs {
			if again[i] != reqs[i] {
				t.Errorf("request %d: %+v after a round trip, was %+v", i, again[i], reqs[i])
			}
		}
	})
}

// FuzzParseBatchOutput: output that is not Response lines is an error;
// otherwise every request has exactly one Response with a known verdict.
func FuzzParseBatchOutput(f *testing.F) {
	ok, _ := json.Marshal(Response{ID: "a", Verdict: results.Allowed, Reason: results.ReasonConnected, Ms: 3})
	for _, seed := range []struct{ stdout, ids string }{
		{string(ok) + "\n", "a"},
		{string(ok) + "\n", "a,b"},
		{`{"id":"a","verdict":"blocked","reason":"timeout","ms":1000}` + "\n\n", "a"},
		{`{"id":"a","verdict":"maybe"}`, "a"},
		{"not json\n", "a"},
		{`{"id":1}`, "a"},
		{"", ""},
		{"\r\n \t", "x,,y"},
	} {
		f.Add([]byte(seed.stdout), seed.ids)
	}
	f.Fuzz(func(t *testing.T, stdout []byte, ids string) {
		var reqs []Request
		for id := range strings.SplitSeq(ids, ",") {
			reqs = append(reqs, Request{ID: id})
		}
		got, err := ParseBatchOutput(stdout, reqs)
		if err != nil {
			if got != nil {
				t.Errorf("ParseBatchOutput returned results with error %v", err)
			}
			return
		}
		for _, r := range reqs {
			resp, ok := got[r.ID]
			if !ok {
				t.Fatalf("no response for request %q", r.ID)
			}
			if resp.ID != r.ID {
				t.Errorf("response for %q has ID %q", r.ID, resp.ID)
			}
			switch resp.Verdict {
			case results.Allowed, results.Blocked, results.Error:
			default:
				t.Errorf("response for %q has verdict %q", r.ID, resp.Verdict)
			}
		}
		if len(got) > len(reqs) {
			t.Errorf("%d responses for %d requests", len(got), len(reqs))
		}
	})
}

// FuzzParseConnect: connect's flags give a valid request or a usage error
// (never a panic, never a request the prober would refuse), and the repro
// argv of a parsed request (ConnectCommand) parses back to it.
func FuzzParseConnect(f *testing.F) {
	for _, seed := range []string{
		"--proto tcp --host 10.0.0.1 --port 80 --identity ns/a --timeout 1s --id x",
		"--proto dns --host example.com",
		"--proto UDP --host ::1 --port 53 --timeout 10m",
		"--host h --port 1 --timeout 10m1s",
		"--host h --port 1 --timeout 2562047h",
		"--host h --port 1 --timeout -1s",
		"--port 0 --proto icmp",
		"--bogus",
		"-h",
		"--host h --port 1 extra",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		o, err := parseConnect(Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, args)
		if err != nil {
			if code := ExitCode(err); code != ExitUsage && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("parseConnect(%q): exit %d (%v), want a usage error", args, code, err)
			}
			return
		}
		if err := o.req.Validate(); err != nil {
			t.Fatalf("parseConnect(%q) accepted an invalid request: %v", args, err)
		}
		if o.timeout <= 0 || o.timeout > MaxTimeout || o.req.Timeout() <= 0 || o.req.Timeout() > MaxTimeout {
			t.Fatalf("parseConnect(%q): timeout %s, request timeout %s; want within (0, %s]", args, o.timeout, o.req.Timeout(), MaxTimeout)
		}
		back, err := parseConnect(Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, ConnectCommand("", o.req)[2:])
		if err != nil {
			t.Fatalf("repro argv %q of %q does not parse: %v", ConnectCommand("", o.req), args, err)
		}
		want := o.req
		want.Protocol = strings.ToLower(want.Protocol)
		if want.Protocol == ProtocolDNS {
			want.Port = 0 // not in the argv of a lookup
		}
		if want.ID == "" {
			want.ID = "connect" // --id "" is left out, and defaults
		}
		if back.req != want {
			t.Errorf("repro argv of %+v parses to %+v", want, back.req)
		}
		if back.timeout != time.Duration(o.req.TimeoutMs)*time.Millisecond {
			t.Errorf("repro timeout %s, want %dms", back.timeout, o.req.TimeoutMs)
		}
	})
}
