package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/netverify/netverify/results"
)

// writeMarkdown writes GitHub-flavoured Markdown: a heading, the verdict
// and counts, a "Mismatches" section with reproduce commands (when there
// are any) and the full results table (left out with OnlyFailures).
func writeMarkdown(w io.Writer, rep *results.Report, opts Options) error {
	rep = printableReport(rep)
	var b strings.Builder
	b.WriteString("# netverify results\n\n")
	fmt.Fprintf(&b, "**%s** (%s)\n", summary(rep).Line(), runLine(rep))
	if len(rep.Nodes) > 0 {
		b.WriteString("\n## Nodes\n\n")
		for _, n := range rep.Nodes {
			b.WriteString("- " + mdCell(n.String()) + "\n")
		}
	}

	// on a run over several nodes an expectation has a row per node
	// pair: a Nodes column tells them apart
	multi := multiNode(rep.Results)
	withNodes := func(cells []string, r *results.Result, at int) []string {
		if !multi {
			return cells
		}
		nodes := "Nodes"
		if r != nil {
			nodes = nodePair(*r)
		}
		return append(cells[:at:at], append([]string{nodes}, cells[at:]...)...)
	}
	bad := mismatches(rep.Results)
	if len(bad) > 0 {
		b.WriteString("\n## Mismatches\n\n")
		header := withNodes([]string{"Status", "Scenario", "From", "To", "Port", "Expected", "Observed", "Reason", "Reproduce"}, nil, 5)
		mdRow(&b, header...)
		mdRule(&b, len(header))
		repro := false
		for _, r := range bad {
			mdRow(&b, withNodes([]string{"**" + string(r.Status) + "**", title(r), r.From, r.To, r.NamedPortString(),
				string(r.Expected), string(r.Observed), r.Reason, codeSpan(r.Repro)}, &r, 5)...)
			repro = repro || r.Repro != ""
		}
		if repro && !rep.Kept {
			b.WriteString("\nThe run's namespaces were removed after the run: to use these commands, rerun with `--keep=on-failure`.\n")
		}
	}

	switch {
	case opts.OnlyFailures && len(bad) == 0 && len(rep.Results) > 0:
		b.WriteString("\nNo failed, broken or inconclusive expectations.\n")
	case opts.OnlyFailures && len(rep.Results) > 0:
	case len(rep.Results) == 0:
		b.WriteString("\n## Results\n\nNo expectations were checked.\n")
	default:
		b.WriteString("\n## Results\n\n")
		header := withNodes([]string{"Scenario", "From", "To", "Port", "Expected", "Observed", "Status", "Reason", "Attempts", "Answered by"}, nil, 4)
		mdRow(&b, header...)
		mdRule(&b, len(header))
		for _, r := range rep.Results {
			mdRow(&b, withNodes([]string{title(r), r.From, r.To, r.NamedPortString(), string(r.Expected), string(r.Observed),
				string(r.Status), r.Reason, strconv.Itoa(r.Attempts), r.AnsweredBy}, &r, 4)...)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdRow writes one table row, escaping each cell. Code spans are escaped too:
// GitHub splits cells on "|" even inside backticks unless it is escaped.
func mdRow(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdCell(c) + " |")
	}
	b.WriteString("\n")
}

func mdRule(b *strings.Builder, n int) {
	b.WriteString("|" + strings.Repeat(" --- |", n) + "\n")
}

// mdCell keeps a cell on one line and escapes the column separator.
func mdCell(s string) string {
	s = oneLine(s)
	return strings.ReplaceAll(s, "|", `\|`)
}

// codeSpan wraps s in enough backticks that backticks inside it survive.
func codeSpan(s string) string {
	if s == "" {
		return ""
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
