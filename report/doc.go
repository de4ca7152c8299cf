// Package report renders a netverify run for people and for machines.
//
// Every writer is a pure function from a *results.Report to an io.Writer:
// it reads nothing else (no clock, no environment, no terminal), so the same
// report always renders to the same bytes and the writers are tested against
// golden files in testdata/. Whether to colour the table is the caller's
// decision, passed in Options.
//
// Text from the network (a server's greeting in a Reason, a hostname in
// AnsweredBy) is printed as text, never as terminal control sequences: the
// table, Markdown and JUnit writers fold line breaks and tabs into spaces and
// show every other control character as a Go-style escape (ESC as \x1b, a
// C1 CSI as \u009b, a bidi override as \u202e, a byte that is not UTF-8 as
// \xff), which also keeps the JUnit file well-formed XML 1.0. JSON escapes
// them itself.
//
// Formats:
//
//   - table:    a kubectl-style table (SCENARIO FROM TO PORT EXPECTED
//     OBSERVED STATUS), mismatches first, at most MaxTableWidth (120)
//     columns wide: when needed, SCENARIO and then FROM and TO are
//     shortened with an ellipsis. Then one entry per mismatch, with the
//     command that reproduces it on its own indented line, then the summary
//     line, verdict first ("PASSED: …", "FAILED: …", "NOTHING CHECKED: …").
//   - wide:     the table with REASON, ATTEMPTS, LATENCY, and ANSWERED BY and
//     DECIDED BY when a row has them, never shortened.
//   - json:     the Report itself, indented.
//   - junit:    one <testsuite> per scenario, one <testcase> per expectation,
//     for CI systems.
//   - markdown: the verdict, the mismatches and all results, for PR comments
//     and job summaries.
//
// Options.OnlyFailures keeps only the failed, broken and inconclusive rows
// in table, wide and markdown; the summary still counts every result. JSON
// and JUnit, read by programs, always carry every result.
package report
