package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/netverify/netverify/results"
)

// MaxBatchArgBytes is the largest batch BatchCommand should be given, as
// JSON: Linux refuses a single exec argument over 128 KiB (MAX_ARG_STRLEN),
// and this leaves room. ChunkRequests splits larger batches.
const MaxBatchArgBytes = 100 * 1024

// BatchCommand is the argv that runs reqs in a probe pod:
// [binary batch JSON]. binary defaults to DefaultBinary. Keep the JSON under
// MaxBatchArgBytes (see ChunkRequests).
func BatchCommand(binary string, reqs []Request) []string {
	if binary == "" {
		binary = DefaultBinary
	}
	if reqs == nil {
		reqs = []Request{}
	}
	data, _ := json.Marshal(reqs) // strings and ints: cannot fail
	return []string{binary, "batch", string(data)}
}

// ChunkRequests splits reqs, in order, into batches whose JSON fits in
// maxBytes (MaxBatchArgBytes when maxBytes < 1). A single request larger
// than maxBytes gets a batch of its own.
func ChunkRequests(reqs []Request, maxBytes int) [][]Request {
	if maxBytes < 1 {
		maxBytes = MaxBatchArgBytes
	}
	var (
		chunks [][]Request
		cur    []Request
		size   = 2 // "[]"
	)
	for _, r := range reqs {
		data, _ := json.Marshal(r)
		n := len(data) + 1 // and a comma
		if len(cur) > 0 && size+n > maxBytes {
			chunks = append(chunks, cur)
			cur, size = nil, 2
		}
		cur = append(cur, r)
		size += n
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}

// ConnectCommand is the argv of the single-probe form of r, for repro lines:
// [binary connect --proto tcp --host H --port P --identity NS/POD --timeout 1s --id ID].
// --id is there when r.ID is set, so that ParseBatchOutput(stdout,
// []Request{r}) finds the result. Its exit code is 0 allowed, 1 blocked,
// 2 error, 3 bad usage.
func ConnectCommand(binary string, r Request) []string {
	if binary == "" {
		binary = DefaultBinary
	}
	proto := strings.ToLower(r.Protocol)
	argv := []string{binary, "connect", "--proto", proto, "--host", r.Host}
	if proto != ProtocolDNS {
		argv = append(argv, "--port", strconv.Itoa(r.Port))
	}
	if r.Identity != "" {
		argv = append(argv, "--identity", r.Identity)
	}
	argv = append(argv, "--timeout", r.Timeout().String())
	if r.ID != "" {
		argv = append(argv, "--id", r.ID)
	}
	return argv
}

// ParseBatchOutput reads the stdout of a batch: one JSON Response per line.
// Every request gets a Response in the map, keyed by ID: those missing from
// the output get Verdict error, Reason no-output. Lines for IDs not in reqs
// are ignored. A line that is not a Response (or has an unknown verdict) is
// an error: the output cannot be trusted.
func ParseBatchOutput(stdout []byte, reqs []Request) (map[string]Response, error) {
	want := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		want[r.ID] = true
	}
	out := make(map[string]Response, len(reqs))
	for i, line := range bytes.Split(stdout, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var resp Response
		if err := json.Unmarshal(line, &resp); err != nil {
			return nil, fmt.Errorf("probe output line %d is not a response: %w: %q", i+1, err, truncate(line, 120))
		}
		switch resp.Verdict {
		case results.Allowed, results.Blocked, results.Error:
		default:
			return nil, fmt.Errorf("probe output line %d: unknown verdict %q", i+1, resp.Verdict)
		}
		if want[resp.ID] {
			out[resp.ID] = resp
		}
	}
	for _, r := range reqs {
		if _, ok := out[r.ID]; !ok {
			out[r.ID] = Response{ID: r.ID, Verdict: results.Error, Reason: results.ReasonNoOutput,
				Detail: "the probe program printed no result for this request"}
		}
	}
	return out, nil
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
