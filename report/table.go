package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/netverify/netverify/results"
)

// ANSI SGR sequences used when Options.Color is set.
const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// writeTable renders a kubectl-style table (mismatches first), one line per
// mismatch with its reproduce command, and a summary line.
func writeTable(w io.Writer, rep *results.Report, opts Options) error {
	rep = printableReport(rep)
	var buf bytes.Buffer
	if len(rep.Results) == 0 {
		buf.WriteString("No expectations were checked.\n")
	} else {
		if err := renderTable(&buf, rep.Results, opts); err != nil {
			return fmt.Errorf("rendering table: %w", err)
		}
		if err := writeMismatchLines(&buf, rep.Results, opts); err != nil {
			return err
		}
	}
	buf.WriteString("\n" + summaryLine(summary(rep)) + " (" + runLine(rep) + ")\n")
	if rep.Enforcement != nil {
		buf.WriteString("Enforcement: " + rep.Enforcement.String() + "\n")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// renderTable writes the results table. Columns are separated by spaces only,
// so the output stays easy to grep and to read in narrow CI logs.
func renderTable(w io.Writer, rs []results.Result, opts Options) error {
	answered, decided := false, false
	for _, r := range rs {
		answered = answered || r.AnsweredBy != ""
		decided = decided || r.DecidedBy != ""
	}
	header := []any{"SCENARIO", "FROM", "TO", "PORT", "EXPECTED", "OBSERVED", "STATUS", "REASON", "ATTEMPTS"}
	if answered {
		header = append(header, "ANSWERED BY")
	}
	if decided {
		header = append(header, "DECIDED BY")
	}

	var tbuf bytes.Buffer
	t := tablewriter.NewTable(&tbuf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Settings: tw.Settings{
				Separators: tw.SeparatorsNone,
				Lines:      tw.LinesNone,
			},
		})),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
	)
	t.Header(header...)
	for _, r := range mismatchesFirst(rs) {
		row := []string{
			r.Scenario,
			r.From,
			r.To,
			dash(portString(r)),
			string(r.Expected),
			string(r.Observed),
			colorStatus(r.Status, opts),
			dash(oneLine(r.Reason)),
			strconv.Itoa(r.Attempts),
		}
		if answered {
			row = append(row, dash(r.AnsweredBy))
		}
		if decided {
			row = append(row, dash(oneLine(r.DecidedBy)))
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	// The last column is padded like the others; drop trailing blanks.
	sc := bufio.NewScanner(&tbuf)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if _, err := io.WriteString(w, strings.TrimRight(sc.Text(), " ")+"\n"); err != nil {
			return err
		}
	}
	return sc.Err()
}

// writeMismatchLines writes, for each mismatch in the original order,
//
//	✗ [fail] web: app/random → app/backend 8080/TCP: expected blocked, got ALLOWED (connected) — reproduce: kubectl exec …
func writeMismatchLines(w io.Writer, rs []results.Result, opts Options) error {
	first := true
	for _, r := range rs {
		if !isMismatch(r.Status) {
			continue
		}
		if first {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
			first = false
		}
		line := colorize("✗ ["+string(r.Status)+"]", statusColor(r.Status), opts) + " " +
			title(r) + ": " + path(r, "→") + ": " + mismatchMessage(r, true)
		if r.Repro != "" {
			line += " — reproduce: " + r.Repro
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// mismatchesFirst returns the results with fail, error and inconclusive
// first, each group in its original order.
func mismatchesFirst(rs []results.Result) []results.Result {
	out := make([]results.Result, 0, len(rs))
	for _, r := range rs {
		if isMismatch(r.Status) {
			out = append(out, r)
		}
	}
	for _, r := range rs {
		if !isMismatch(r.Status) {
			out = append(out, r)
		}
	}
	return out
}

// statusColor is the ANSI colour a status is highlighted with, or "".
func statusColor(s results.Status) string {
	switch s {
	case results.Fail, results.StatusError:
		return ansiBold + ansiRed
	case results.Inconclusive:
		return ansiBold + ansiYellow
	case results.Pass:
		return ansiGreen
	}
	return ""
}

func colorStatus(s results.Status, opts Options) string {
	return colorize(string(s), statusColor(s), opts)
}

// colorize wraps s in the given ANSI colour when colour is on.
func colorize(s, color string, opts Options) string {
	if !opts.Color || color == "" {
		return s
	}
	return color + s + ansiReset
}

// dash stands in for an empty cell, so columns stay readable.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
