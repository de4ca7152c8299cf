// Package report renders a netverify run for people and for machines.
//
// Every writer is a pure function from a *results.Report to an io.Writer:
// it reads nothing else (no clock, no environment, no terminal), so the same
// report always renders to the same bytes and the writers are tested against
// golden files in testdata/. Whether to colour the table is the caller's
// decision, passed in Options.
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
