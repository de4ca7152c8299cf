package report

import (
	"encoding/json"
	"io"

	"github.com/netverify/netverify/results"
)

// writeJSON writes the report as indented JSON. The summary is recomputed
// from the results, DurationMs is filled from Duration, and an empty run has
// "results": [] rather than null, so consumers need no special cases.
func writeJSON(w io.Writer, rep *results.Report) error {
	out := *rep
	out.Summary = summary(rep)
	out.DurationMs = duration(rep).Milliseconds()
	if out.Results == nil {
		out.Results = []results.Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
