package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/netverify/netverify/results"
)

// writeMarkdown writes GitHub-flavoured Markdown: a heading, the counts, a
// "Mismatches" section with reproduce commands (when there are any) and the
// full results table.
func writeMarkdown(w io.Writer, rep *results.Report) error {
	rep = printableReport(rep)
	var b strings.Builder
	b.WriteString("# netverify results\n\n")
	fmt.Fprintf(&b, "**%s** (%s)\n", summaryLine(summary(rep)), runLine(rep))

	var mismatches []results.Result
	for _, r := range rep.Results {
		if isMismatch(r.Status) {
			mismatches = append(mismatches, r)
		}
	}
	if len(mismatches) > 0 {
		b.WriteString("\n## Mismatches\n\n")
		mdRow(&b, "Status", "Scenario", "From", "To", "Port", "Expected", "Observed", "Reason", "Reproduce")
		mdRule(&b, 9)
		for _, r := range mismatches {
			mdRow(&b, "**"+string(r.Status)+"**", title(r), r.From, r.To, portString(r),
				string(r.Expected), string(r.Observed), r.Reason, codeSpan(r.Repro))
		}
	}

	b.WriteString("\n## Results\n\n")
	if len(rep.Results) == 0 {
		b.WriteString("No expectations were checked.\n")
	} else {
		mdRow(&b, "Scenario", "From", "To", "Port", "Expected", "Observed", "Status", "Reason", "Attempts", "Answered by")
		mdRule(&b, 10)
		for _, r := range rep.Results {
			mdRow(&b, title(r), r.From, r.To, portString(r), string(r.Expected), string(r.Observed),
				string(r.Status), r.Reason, strconv.Itoa(r.Attempts), r.AnsweredBy)
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
