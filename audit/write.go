package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"github.com/netverify/netverify/report"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Output formats accepted by Write.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
)

// Formats returns the formats Write accepts, in the order to show them in
// help text.
func Formats() []string { return []string{FormatTable, FormatJSON, FormatJUnit, FormatMarkdown} }

// WriteOptions tune rendering.
type WriteOptions struct {
	// FailOn is the lowest severity that fails: in JUnit, findings at or
	// above it are <failure>s, those below passing test cases.
	FailOn Severity
}

// Write renders findings to w in format. It is a pure function of its
// arguments: findings are sorted (a copy; the caller's slice is untouched)
// and nothing else is read, so the same findings always give the same bytes.
// It fails for an unknown format before writing anything, and otherwise only
// with w's errors.
func Write(w io.Writer, format string, findings []Finding, opts WriteOptions) error {
	fs := append([]Finding(nil), findings...)
	Sort(fs)
	switch format {
	case FormatTable:
		return writeTable(w, fs)
	case FormatJSON:
		return writeJSON(w, fs)
	case FormatJUnit:
		return writeJUnit(w, fs, opts)
	case FormatMarkdown:
		return writeMarkdown(w, fs)
	}
	return fmt.Errorf("unknown output format %q: valid formats are %s", format, strings.Join(Formats(), ", "))
}

// summaryLine is e.g. "3 findings: 1 high, 1 medium, 0 low, 1 info".
func summaryLine(s Summary) string {
	noun := "findings"
	if s.Total == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("%d %s: %d high, %d medium, %d low, %d info", s.Total, noun, s.High, s.Medium, s.Low, s.Info)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeTable renders SEVERITY, RULE, NAMESPACE, OBJECT, MESSAGE rows and a
// summary line.
func writeTable(w io.Writer, fs []Finding) error {
	var buf bytes.Buffer
	if len(fs) == 0 {
		buf.WriteString("No findings.\n")
	} else {
		var tbuf bytes.Buffer
		t := tablewriter.NewTable(&tbuf,
			tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
				Borders:  tw.BorderNone,
				Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
			})),
			tablewriter.WithHeaderAlignment(tw.AlignLeft),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
		)
		t.Header("SEVERITY", "RULE", "NAMESPACE", "OBJECT", "MESSAGE")
		for _, f := range fs {
			if err := t.Append([]string{f.Severity.String(), f.Rule, dash(f.Namespace), f.Object, oneLine(f.Message)}); err != nil {
				return fmt.Errorf("rendering table: %w", err)
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("rendering table: %w", err)
		}
		// The last column is padded like the others; drop trailing blanks.
		sc := bufio.NewScanner(&tbuf)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			buf.WriteString(strings.TrimRight(sc.Text(), " ") + "\n")
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	buf.WriteString("\n" + summaryLine(Summarize(fs)) + "\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// jsonReport is the JSON document: counts and findings, never null.
type jsonReport struct {
	Summary  Summary   `json:"summary"`
	Findings []Finding `json:"findings"`
}

func writeJSON(w io.Writer, fs []Finding) error {
	if fs == nil {
		fs = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Summary: Summarize(fs), Findings: fs})
}

// JUnit XML, in the subset CI test reporters read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// writeJUnit writes one <testsuite> per rule (every rule, in Rules order, so
// CI shows what was checked), one <testcase> per rule × object. A test case
// fails when one of its findings is at or above opts.FailOn; one below it
// passes with the messages in <system-out>. A rule without findings has a
// single passing "no findings" case.
func writeJUnit(w io.Writer, fs []Finding, opts WriteOptions) error {
	doc := junitSuites{Name: "netverify audit"}
	byRule := map[string][]Finding{}
	for _, f := range fs {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	ids := []string{}
	known := map[string]bool{}
	for _, r := range rules {
		ids = append(ids, r.ID)
		known[r.ID] = true
	}
	for _, f := range fs { // findings of rules not in the catalogue, if any
		if !known[f.Rule] {
			ids = append(ids, f.Rule)
			known[f.Rule] = true
		}
	}
	for _, id := range ids {
		s := junitSuite{Name: id}
		class := "netverify.audit." + id
		group := byRule[id]
		if len(group) == 0 {
			s.Cases = append(s.Cases, junitCase{ClassName: class, Name: "no findings"})
		}
		var order []string
		cases := map[string][]Finding{}
		for _, f := range group {
			k := objectName(f)
			if _, ok := cases[k]; !ok {
				order = append(order, k)
			}
			cases[k] = append(cases[k], f)
		}
		for _, k := range order {
			worst := Info
			var msgs []string
			for _, f := range cases[k] {
				if f.Severity > worst {
					worst = f.Severity
				}
				msgs = append(msgs, f.Severity.String()+": "+f.Message)
			}
			c := junitCase{ClassName: class, Name: k}
			body := strings.Join(msgs, "\n")
			if worst >= opts.FailOn {
				c.Failure = &junitFailure{Message: oneLine(cases[k][0].Message), Type: worst.String(), Body: body}
				s.Failures++
			} else {
				c.SystemOut = body
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, s)
	}
	return report.WriteXML(w, doc)
}

// objectName is "namespace/kind/name", or "kind/name" for cluster-scoped
// objects.
func objectName(f Finding) string {
	if f.Namespace == "" {
		return f.Object
	}
	return f.Namespace + "/" + f.Object
}

// writeMarkdown writes a heading, the counts and a findings table, for PR
// comments and CI job summaries.
func writeMarkdown(w io.Writer, fs []Finding) error {
	var b strings.Builder
	b.WriteString("# netverify audit\n\n")
	b.WriteString("**" + summaryLine(Summarize(fs)) + "**\n\n")
	if len(fs) == 0 {
		b.WriteString("No findings.\n")
	} else {
		b.WriteString("| Severity | Rule | Namespace | Object | Message |\n")
		b.WriteString("| --- | --- | --- | --- | --- |\n")
		for _, f := range fs {
			b.WriteString("| ")
			for i, cell := range []string{f.Severity.String(), "`" + f.Rule + "`", f.Namespace, f.Object, f.Message} {
				if i > 0 {
					b.WriteString(" | ")
				}
				b.WriteString(mdCell(cell))
			}
			b.WriteString(" |\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell keeps a cell on one line and escapes the column separator.
func mdCell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }
