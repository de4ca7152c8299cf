package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
)

// Output formats accepted by Write.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
)

// Formats returns the output formats Write accepts, in the order to show them
// in help text.
func Formats() []string {
	return []string{FormatTable, FormatJSON, FormatJUnit, FormatMarkdown}
}

// Options tune how a report is rendered.
type Options struct {
	// Color highlights mismatches with ANSI escape codes in the table format.
	// The caller sets it only when the output is a terminal; other formats
	// ignore it.
	Color bool
}

// Write renders rep to w in the given format ("table", "json", "junit" or
// "markdown"). It returns an error for an unknown format, before writing
// anything, and otherwise only the errors of w.
func Write(w io.Writer, format string, rep *results.Report, opts Options) error {
	if rep == nil {
		return errors.New("report: nil report")
	}
	switch format {
	case FormatTable:
		return writeTable(w, rep, opts)
	case FormatJSON:
		return writeJSON(w, rep)
	case FormatJUnit:
		return writeJUnit(w, rep)
	case FormatMarkdown:
		return writeMarkdown(w, rep)
	}
	return fmt.Errorf("unknown output format %q: valid formats are %s", format, strings.Join(Formats(), ", "))
}

// isMismatch reports whether a result needs a person's attention: it failed,
// its probe broke, or it could not be decided.
func isMismatch(s results.Status) bool {
	return s == results.Fail || s == results.StatusError || s == results.Inconclusive
}

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

// portString renders "8080/TCP", or just the port when there is no protocol.
func portString(r results.Result) string {
	switch {
	case r.Protocol == "":
		return r.Port
	case r.Port == "":
		return r.Protocol
	}
	return r.Port + "/" + r.Protocol
}

// path renders "app/frontend → app/backend 8080/TCP" with the given arrow.
func path(r results.Result, arrow string) string {
	s := r.From + " " + arrow + " " + r.To
	if p := portString(r); p != "" {
		s += " " + p
	}
	return s
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

// summaryLine renders the counts: "6 expectations: 1 passed, 1 failed, …".
func summaryLine(s results.Summary) string {
	noun := "expectations"
	if s.Total == 1 {
		noun = "expectation"
	}
	return fmt.Sprintf("%d %s: %d passed, %d failed, %d errors, %d inconclusive, %d skipped, %d implementation-defined",
		s.Total, noun, s.Passed, s.Failed, s.Errors, s.Inconclusive, s.Skipped, s.ImplementationDefined)
}

// runLine renders "run <id>, <duration>", leaving out what is unknown.
func runLine(rep *results.Report) string {
	var parts []string
	if rep.RunID != "" {
		parts = append(parts, "run "+rep.RunID)
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
