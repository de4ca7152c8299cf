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
//   - table:    a kubectl-style table, mismatches first, then one line per
//     mismatch with the command that reproduces it, then a summary line.
//   - json:     the Report itself, indented.
//   - junit:    one <testsuite> per scenario, one <testcase> per expectation,
//     for CI systems.
//   - markdown: a summary, the mismatches and all results, for PR comments
//     and job summaries.
package report
