package report

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"

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

// Layout of the table formats.
const (
	// MaxTableWidth is the widest line of the default table: columns are
	// shortened (see fit) so that it fits a 120-column terminal or CI log.
	MaxTableWidth = 120
	// columnGap separates columns: spaces only, so the output stays easy
	// to grep.
	columnGap = "  "
	// ellipsis marks a shortened cell.
	ellipsis = "…"
)

// narrow measures display width without East Asian ambiguous widths: the
// same on every terminal and in every locale, so a rendering does not
// depend on the environment.
var narrow = &runewidth.Condition{EastAsianWidth: false}

// width is the number of terminal columns s takes.
func width(s string) int { return narrow.StringWidth(s) }

// column is one column of a table: its header and how a result fills it.
type column struct {
	header string
	cell   func(results.Result) string
}

// tableColumns returns the columns of the table or, when wide, of the wide
// table. ANSWERED BY and DECIDED BY appear only when a row has them; NODES
// (source→target node) only when the run's pods ran on two nodes or more,
// where one expectation has a row per node pair.
func tableColumns(rows []results.Result, wide, nodes bool) []column {
	port := results.Result.PortString
	if wide {
		port = results.Result.NamedPortString
	}
	cols := []column{
		{"SCENARIO", func(r results.Result) string { return r.Scenario }},
		{"FROM", func(r results.Result) string { return r.From }},
		{"TO", func(r results.Result) string { return r.To }},
		{"PORT", func(r results.Result) string { return dash(port(r)) }},
		{"EXPECTED", func(r results.Result) string { return string(r.Expected) }},
		{"OBSERVED", func(r results.Result) string { return string(r.Observed) }},
		{"STATUS", func(r results.Result) string { return string(r.Status) }},
	}
	if nodes {
		cols = append(cols, column{"NODES", nodePair})
	}
	if !wide {
		return cols
	}
	cols = append(cols,
		column{"REASON", func(r results.Result) string { return dash(r.Reason) }},
		column{"ATTEMPTS", func(r results.Result) string { return strconv.Itoa(r.Attempts) }},
		column{"LATENCY", latency},
	)
	answered, decided := false, false
	for _, r := range rows {
		answered = answered || r.AnsweredBy != ""
		decided = decided || r.DecidedBy != ""
	}
	if answered {
		cols = append(cols, column{"ANSWERED BY", func(r results.Result) string { return dash(r.AnsweredBy) }})
	}
	if decided {
		cols = append(cols, column{"DECIDED BY", func(r results.Result) string { return dash(r.DecidedBy) }})
	}
	return cols
}

// Columns of the default table that fit may shorten, and how far.
const (
	colScenario = 0
	colFrom     = 1
	colTo       = 2
	// colNodes is NODES, the last column of the default table when there
	// is one; it shrinks first, down to minNodes: the mismatch lines name
	// the nodes in full.
	colNodes = 7
	minNodes = 12
	// minScenario is as far as SCENARIO shrinks before FROM and TO do:
	// the path matters more than the scenario's name, which the mismatch
	// lines below the table and -o wide show in full.
	minScenario = 12
	// minPath is as far as FROM and TO shrink.
	minPath = 16
)

// writeTable renders the table (mismatches first; only them with
// OnlyFailures), one entry per mismatch with its reproduce command, and the
// summary line. wide adds the columns that explain each row, and is not
// held to MaxTableWidth.
func writeTable(w io.Writer, rep *results.Report, opts Options, wide bool) error {
	rep = printableReport(rep)
	s := summary(rep)
	rows := mismatchesFirst(rep.Results)
	if opts.OnlyFailures {
		rows = mismatches(rep.Results)
	}
	var b strings.Builder
	switch {
	case len(rep.Results) == 0:
		b.WriteString("No expectations were checked.\n")
	case len(rows) == 0:
		b.WriteString("No failed, broken or inconclusive expectations.\n")
	default:
		renderTable(&b, rows, opts, wide, multiNode(rep.Results))
	}
	writeMismatches(&b, rep, opts)
	b.WriteString("\n" + colorize(s.Line(), outcomeColor(s.Outcome()), opts) + " (" + runLine(rep) + ")\n")
	if s.Total > 0 && s.NothingChecked() {
		if wide {
			b.WriteString("Every expectation was skipped (REASON says why): nothing was probed.\n")
		} else {
			b.WriteString("Every expectation was skipped (-o wide shows why): nothing was probed.\n")
		}
	}
	if rep.Enforcement != nil {
		b.WriteString("Enforcement: " + rep.Enforcement.String() + "\n")
	}
	for _, n := range rep.Nodes {
		b.WriteString("Node " + n.String() + "\n")
	}
	for _, f := range rep.Findings {
		b.WriteString("Finding: " + f + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// renderTable writes a header and one line per row, columns left-aligned
// and separated by columnGap, without trailing blanks. Unless wide, cells
// are shortened so that no line is wider than MaxTableWidth.
func renderTable(b *strings.Builder, rows []results.Result, opts Options, wide, nodes bool) {
	cols := tableColumns(rows, wide, nodes)
	cells := make([][]string, len(cols))
	widths := make([]int, len(cols))
	for i, c := range cols {
		cells[i] = make([]string, len(rows))
		widths[i] = width(c.header)
		for j, r := range rows {
			cells[i][j] = c.cell(r)
			widths[i] = max(widths[i], width(cells[i][j]))
		}
	}
	if !wide {
		natural := append([]int(nil), widths...)
		widths = fit(widths, MaxTableWidth)
		for i := range cols {
			if widths[i] < natural[i] {
				cells[i] = shortenColumn(cells[i], widths[i])
			}
		}
	}
	line := func(cell func(i int) (text, color string)) {
		var l strings.Builder
		for i := range cols {
			text, color := cell(i)
			if i > 0 {
				l.WriteString(columnGap)
			}
			l.WriteString(colorize(text, color, opts))
			if pad := widths[i] - width(text); pad > 0 && i < len(cols)-1 {
				l.WriteString(strings.Repeat(" ", pad))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(func(i int) (string, string) { return cols[i].header, "" })
	for j, r := range rows {
		line(func(i int) (string, string) {
			if cols[i].header == "STATUS" {
				return cells[i][j], statusColor(r.Status)
			}
			return cells[i][j], ""
		})
	}
}

// fit returns column widths whose table (with its gaps) is at most max
// wide, shortening as little as it can: NODES first, when there is one,
// down to minNodes; then SCENARIO, down to
// minScenario; then the wider of FROM and TO, one column at a time, down to
// minPath; then SCENARIO down to its header. The other columns hold short
// fixed words and are never shortened.
func fit(widths []int, max int) []int {
	w := append([]int(nil), widths...)
	over := len(columnGap) * (len(w) - 1)
	for _, n := range w {
		over += n
	}
	over -= max
	shrink := func(i, floor int) {
		if d := min(over, w[i]-floor); d > 0 {
			w[i] -= d
			over -= d
		}
	}
	if len(w) > colNodes {
		shrink(colNodes, minNodes)
	}
	shrink(colScenario, minScenario)
	for over > 0 {
		i := colFrom
		if w[colTo] > w[colFrom] {
			i = colTo
		}
		if w[i] <= minPath {
			break
		}
		w[i]--
		over--
	}
	shrink(colScenario, len("SCENARIO"))
	return w
}

// shortenColumn shortens every cell wider than w to w columns, ending in an
// ellipsis. Cells that would become the same though they differ
// ("namespace-isolation" and "namespace-isolation-allow-same-namespace")
// keep their end instead, with the ellipsis in the middle.
func shortenColumn(cells []string, w int) []string {
	sources := map[string]map[string]bool{} // shortened → the cells it stands for
	for _, c := range cells {
		if width(c) > w {
			s := shortenEnd(c, w)
			if sources[s] == nil {
				sources[s] = map[string]bool{}
			}
			sources[s][c] = true
		}
	}
	out := make([]string, len(cells))
	for i, c := range cells {
		switch {
		case width(c) <= w:
			out[i] = c
		case len(sources[shortenEnd(c, w)]) > 1:
			out[i] = shortenMiddle(c, w)
		default:
			out[i] = shortenEnd(c, w)
		}
	}
	return out
}

// shortenEnd keeps the start of s: at most w columns, the last an ellipsis.
func shortenEnd(s string, w int) string {
	if width(s) <= w {
		return s
	}
	return head(s, w-width(ellipsis)) + ellipsis
}

// shortenMiddle keeps both ends of s: at most w columns, with an ellipsis
// in the middle.
func shortenMiddle(s string, w int) string {
	if width(s) <= w {
		return s
	}
	keep := w - width(ellipsis)
	return head(s, keep-keep/2) + ellipsis + tail(s, keep/2)
}

// head is the longest start of s at most w columns wide.
func head(s string, w int) string {
	n := 0
	for i, r := range s {
		if n += narrow.RuneWidth(r); n > w {
			return s[:i]
		}
	}
	return s
}

// tail is the longest end of s at most w columns wide.
func tail(s string, w int) string {
	rs := []rune(s)
	n := 0
	for i := len(rs) - 1; i >= 0; i-- {
		if n += narrow.RuneWidth(rs[i]); n > w {
			return string(rs[i+1:])
		}
	}
	return s
}

// writeMismatches writes, for each mismatch in the original order, what
// went wrong and, on its own indented line, the command that reproduces it:
//
//	✗ [fail] web: app/random → app/backend 8080/TCP: expected blocked, got ALLOWED (connected)
//	    reproduce: kubectl exec …
func writeMismatches(b *strings.Builder, rep *results.Report, opts Options) {
	first := true
	multi := multiNode(rep.Results)
	for _, r := range rep.Results {
		if !isMismatch(r.Status) {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		where := path(r, "→")
		if multi {
			where += onNodes(r)
		}
		b.WriteString(colorize("✗ ["+string(r.Status)+"]", statusColor(r.Status), opts) + " " +
			title(r) + ": " + where + ": " + mismatchMessage(r, true) + "\n")
		if r.Repro != "" {
			b.WriteString("    " + reproLabel(rep) + ": " + r.Repro + "\n")
		}
	}
}

// latency renders how long a result's probe took to settle, or "-" when
// nothing was probed.
func latency(r results.Result) string {
	if r.Attempts == 0 {
		return "-"
	}
	d := time.Duration(r.LatencyMs) * time.Millisecond
	if d < time.Second {
		return strconv.FormatInt(r.LatencyMs, 10) + "ms"
	}
	return d.String()
}

// mismatchesFirst returns the results with fail, error and inconclusive
// first, each group in its original order.
func mismatchesFirst(rs []results.Result) []results.Result {
	out := mismatches(rs)
	for _, r := range rs {
		if !isMismatch(r.Status) {
			out = append(out, r)
		}
	}
	return out
}

// mismatches returns the fail, error and inconclusive results, in order.
func mismatches(rs []results.Result) []results.Result {
	out := make([]results.Result, 0, len(rs))
	for _, r := range rs {
		if isMismatch(r.Status) {
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

// outcomeColor is the ANSI colour of the summary line.
func outcomeColor(o results.Outcome) string {
	switch o {
	case results.OutcomePassed:
		return ansiBold + ansiGreen
	case results.OutcomeFailed, results.OutcomeError:
		return ansiBold + ansiRed
	}
	return ansiBold + ansiYellow
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
