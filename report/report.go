package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netverify/netverify/results"
)

// Output formats accepted by Write.
const (
	FormatTable    = "table"
	FormatWide     = "wide"
	FormatJSON     = "json"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
)

// Formats returns the output formats Write accepts, in the order to show them
// in help text.
func Formats() []string {
	return []string{FormatTable, FormatWide, FormatJSON, FormatJUnit, FormatMarkdown}
}

// Options tune how a report is rendered.
type Options struct {
	// Color highlights mismatches and the verdict with ANSI escape codes in
	// the table formats. The caller sets it only when the output is a
	// terminal that wants colour; other formats ignore it.
	Color bool
	// OnlyFailures leaves the passed, skipped and implementation-defined
	// rows out of the table, wide and markdown formats; their summary still
	// counts every result. JSON and JUnit, read by programs, always carry
	// every result.
	OnlyFailures bool
}

// Write renders rep to w in the given format (see Formats). It returns an
// error for an unknown format, before writing anything, and otherwise only
// the errors of w.
func Write(w io.Writer, format string, rep *results.Report, opts Options) error {
	if rep == nil {
		return errors.New("report: nil report")
	}
	switch format {
	case FormatTable:
		return writeTable(w, rep, opts, false)
	case FormatWide:
		return writeTable(w, rep, opts, true)
	case FormatJSON:
		return writeJSON(w, rep)
	case FormatJUnit:
		return writeJUnit(w, rep)
	case FormatMarkdown:
		return writeMarkdown(w, rep, opts)
	}
	return fmt.Errorf("unknown output format %q: valid formats are %s", format, strings.Join(Formats(), ", "))
}

// isMismatch reports whether a result needs a person's attention: it failed,
// its probe broke, or it could not be decided.
func isMismatch(s results.Status) bool { return s.IsMismatch() }

// summary counts rep's results. It is recomputed rather than read from
// rep.Summary so that every format agrees with the rows it prints.
func summary(rep *results.Report) results.Summary {
	return results.Summarize(rep.Results)
}

// duration is the run's wall time; a report read back from JSON only has
// DurationMs.
func duration(rep *results.Report) time.Duration {
	if rep.Duration != 0 {
		return rep.Duration
	}
	return time.Duration(rep.DurationMs) * time.Millisecond
}

// path renders "app/frontend → app/backend 8080/TCP" with the given arrow
// (and the port's name, when the expectation named it).
func path(r results.Result, arrow string) string {
	s := r.From + " " + arrow + " " + r.To
	if p := r.NamedPortString(); p != "" {
		s += " " + p
	}
	return s
}

// multiNode reports whether the results' pods ran on two nodes or more:
// then one expectation may have several results, one per node pair, and
// the writers name the nodes of each.
func multiNode(rs []results.Result) bool {
	first := ""
	for _, r := range rs {
		for _, n := range []string{r.SourceNode, r.TargetNode} {
			switch {
			case n == "":
			case first == "":
				first = n
			case n != first:
				return true
			}
		}
	}
	return false
}

// nodePair renders the nodes of a result: "node-1→node-2", the source's
// alone for an outside target (or a Service no backend of answered), "-"
// when unknown.
func nodePair(r results.Result) string {
	switch {
	case r.SourceNode == "" && r.TargetNode == "":
		return "-"
	case r.TargetNode == "":
		return r.SourceNode
	}
	return dash(r.SourceNode) + "→" + r.TargetNode
}

// onNodes is " on node-1→node-2", for a line that names a result on a run
// over several nodes ("" when its nodes are unknown).
func onNodes(r results.Result) string {
	if p := nodePair(r); p != "-" {
		return " on " + p
	}
	return ""
}

// title names a result: its scenario, and its own name when it has one.
func title(r results.Result) string {
	if r.Name == "" {
		return r.Scenario
	}
	return r.Scenario + " (" + r.Name + ")"
}

// verdictWithReason renders "allowed (connected)", or just the verdict.
func verdictWithReason(v string, reason string) string {
	if reason == "" {
		return v
	}
	return v + " (" + oneLine(reason) + ")"
}

// mismatchMessage says what went wrong, e.g. "expected blocked, got allowed
// (connected)". upper writes the observed verdict in capitals, the way the
// table's trailer lines shout it.
func mismatchMessage(r results.Result, upper bool) string {
	got := string(r.Observed)
	if upper {
		got = strings.ToUpper(got)
	}
	return "expected " + string(r.Expected) + ", got " + verdictWithReason(got, r.Reason)
}

// reproLabel introduces a reproduce command: it says when the run's
// namespaces, and so the pod the command execs into, are gone.
func reproLabel(rep *results.Report) string {
	if rep.Kept {
		return "reproduce"
	}
	return "reproduce (namespace removed after the run; rerun with --keep=on-failure)"
}

// runLine renders "run <id>, context <name>, <duration>", leaving out what
// is unknown.
func runLine(rep *results.Report) string {
	var parts []string
	if rep.RunID != "" {
		parts = append(parts, "run "+rep.RunID)
	}
	if rep.Context != "" {
		parts = append(parts, "context "+rep.Context)
	}
	// Whole milliseconds, as in DurationMs, so a report read back from JSON
	// prints the same.
	parts = append(parts, duration(rep).Truncate(time.Millisecond).String())
	return strings.Join(parts, ", ")
}

// oneLine folds line breaks into spaces so free text cannot break a row.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")
}

// printableReport returns a copy of rep whose every printed string is
// printable (see printable). The table, Markdown and JUnit writers render
// this copy; JSON needs none (encoding/json escapes control characters).
func printableReport(rep *results.Report) *results.Report {
	c := *rep
	c.Version = printable(rep.Version)
	c.RunID = printable(rep.RunID)
	c.Context = printable(rep.Context)
	if rep.Enforcement != nil {
		e := *rep.Enforcement
		e.Slowest = printable(e.Slowest)
		c.Enforcement = &e
	}
	c.Nodes = make([]results.NodeSummary, len(rep.Nodes))
	for i, n := range rep.Nodes {
		n.Node = printable(n.Node)
		c.Nodes[i] = n
	}
	c.Findings = make([]string, len(rep.Findings))
	for i, f := range rep.Findings {
		c.Findings[i] = printable(f)
	}
	c.Results = make([]results.Result, len(rep.Results))
	for i, r := range rep.Results {
		r.Scenario = printable(r.Scenario)
		r.Name = printable(r.Name)
		r.From = printable(r.From)
		r.To = printable(r.To)
		r.PortName = printable(r.PortName)
		r.Protocol = printable(r.Protocol)
		r.Expected = results.Verdict(printable(string(r.Expected)))
		r.Observed = results.Verdict(printable(string(r.Observed)))
		r.Status = results.Status(printable(string(r.Status)))
		r.Reason = printable(r.Reason)
		r.AnsweredBy = printable(r.AnsweredBy)
		r.SourceNode, r.TargetNode = printable(r.SourceNode), printable(r.TargetNode)
		r.PolicedBy = results.PolicedBy(printable(string(r.PolicedBy)))
		r.DecidedBy = printable(r.DecidedBy)
		r.Repro = printable(r.Repro)
		c.Results[i] = r
	}
	return &c
}

// printable keeps text that came from the network (a server's greeting in
// Reason, a hostname in AnsweredBy, …) from acting on a terminal or breaking
// a table, a Markdown row or an XML document. Line breaks fold into single
// spaces (oneLine) and a tab becomes a space; every other control character
// is shown as a Go-style escape, so a reader sees what the server sent:
// C0 controls and DEL as \x1b, \x00, \x07, \x7f; C1 controls, Unicode
// line/paragraph separators, bidirectional-text controls and the
// non-characters U+FFFE/U+FFFF (which XML 1.0 forbids) as \u009b, \u202e,
// \uffff; a byte that is not UTF-8 as \xff. A backslash already in the text
// is left as it is.
func printable(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+w])
		}
		i += w
	}
	return b.String()
}

// needsEscape reports whether printable shows r as an escape.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	case r == 0x2028, r == 0x2029, r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}
