package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultParallel bounds how many requests of a batch run at once.
const DefaultParallel = 256

// MaxBatchStdinBytes is the most a batch read from stdin ("batch -") may
// hold: 4 MiB, some 40 times the largest batch BatchCommand passes as an
// argument (MaxBatchArgBytes). More is a usage error, found without reading
// further, so that a stdin that never ends cannot exhaust memory.
const MaxBatchStdinBytes = 4 << 20

// DecodeRequests parses a batch: one JSON array of Requests, nothing after
// it. Anything else, null included, is an error. Unknown fields are
// accepted, so an older probe image keeps working with a newer caller;
// invalid requests are not an error here, they are answered with an error
// Response by Prober.Probe.
func DecodeRequests(data []byte) ([]Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no requests: expected a JSON array of requests")
		}
		return nil, fmt.Errorf("parsing requests: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parsing requests: unexpected data after the JSON array")
	}
	if raw[0] != '[' { // a valid JSON value: raw is not empty
		return nil, fmt.Errorf("parsing requests: expected a JSON array of requests, got %s", jsonKind(raw[0]))
	}
	var reqs []Request
	if err := json.Unmarshal(raw, &reqs); err != nil {
		return nil, fmt.Errorf("parsing requests: %w", err)
	}
	return reqs, nil
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// RunBatch probes every request with p (a zero Prober when nil), at most
// parallel at once (DefaultParallel when parallel < 1), and writes one JSON
// Response per line to w as each completes. Lines are written whole, never
// interleaved. Verdicts are not errors: the error is only about w (the
// first write failure), returned after every probe has finished.
func RunBatch(ctx context.Context, p *Prober, reqs []Request, w io.Writer, parallel int) error {
	if parallel < 1 {
		parallel = DefaultParallel
	}
	if p == nil {
		p = &Prober{}
	}
	var (
		mu       sync.Mutex
		writeErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, parallel)
	)
	for _, req := range reqs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			// A Response holds only strings and ints: Marshal cannot fail.
			line, err := json.Marshal(p.Probe(ctx, req))
			line = append(line, '\n')
			mu.Lock()
			defer mu.Unlock()
			if err == nil && writeErr == nil {
				_, err = w.Write(line)
			}
			if err != nil && writeErr == nil {
				writeErr = fmt.Errorf("writing results: %w", err)
			}
		})
	}
	wg.Wait()
	return writeErr
}
