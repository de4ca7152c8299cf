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

// DecodeRequests parses a batch: one JSON array of Requests, nothing after
// it. Unknown fields are accepted, so an older probe image keeps working
// with a newer caller; invalid requests are not an error here, they are
// answered with an error Response by Prober.Probe.
func DecodeRequests(data []byte) ([]Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var reqs []Request
	if err := dec.Decode(&reqs); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no requests: expected a JSON array of requests")
		}
		return nil, fmt.Errorf("parsing requests: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parsing requests: unexpected data after the JSON array")
	}
	return reqs, nil
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
