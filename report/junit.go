package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
)

// JUnit XML, in the subset Jenkins, GitLab and GitHub test reporters read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// writeJUnit writes one <testsuite> per scenario, in the order scenarios first
// appear, and one <testcase> per result. Times come from the results'
// latencies; the only timestamp is the report's own start time.
func writeJUnit(w io.Writer, rep *results.Report) error {
	rep = printableReport(rep) // XML 1.0 forbids most control characters, even escaped
	doc := junitSuites{Name: "netverify", Suites: []junitSuite{}}
	index := map[string]int{}
	var props []junitProperty
	for _, p := range []junitProperty{{"runId", rep.RunID}, {"context", rep.Context}, {"version", rep.Version}} {
		if p.Value != "" {
			props = append(props, p)
		}
	}
	var timestamp string
	if !rep.Started.IsZero() {
		timestamp = rep.Started.UTC().Format(time.RFC3339)
	}
	latency := map[string]int64{}
	multi := multiNode(rep.Results)
	for _, r := range rep.Results {
		i, ok := index[r.Scenario]
		if !ok {
			i = len(doc.Suites)
			index[r.Scenario] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.Scenario, Timestamp: timestamp, Properties: props})
		}
		s := &doc.Suites[i]
		c := junitCase{
			ClassName: "netverify." + r.Scenario,
			Name:      junitCaseName(r, multi),
			Time:      seconds(r.LatencyMs),
		}
		switch r.Status {
		case results.Fail:
			c.Failure = &junitProblem{Message: mismatchMessage(r, false), Body: junitDetails(rep, r)}
			s.Failures++
		case results.Inconclusive:
			c.Failure = &junitProblem{Message: "inconclusive: " + mismatchMessage(r, false), Type: "inconclusive", Body: junitDetails(rep, r)}
			s.Failures++
		case results.StatusError:
			c.Error = &junitProblem{Message: mismatchMessage(r, false), Body: junitDetails(rep, r)}
			s.Errors++
		case results.Skipped:
			c.Skipped = &junitSkipped{Message: "skipped" + reasonSuffix(r.Reason)}
			s.Skipped++
		case results.ImplementationDefined:
			c.Skipped = &junitSkipped{Message: "implementation-defined: observed " + verdictWithReason(string(r.Observed), r.Reason)}
			s.Skipped++
		}
		s.Tests++
		latency[r.Scenario] += r.LatencyMs
		s.Cases = append(s.Cases, c)
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Time = seconds(latency[s.Name])
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	doc.Time = seconds(duration(rep).Milliseconds())

	return WriteXML(w, doc)
}

// WriteXML writes v as an indented XML document with its header, as JUnit
// readers expect (shared by netverify's JUnit writers).
func WriteXML(w io.Writer, v any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitCaseName is e.g. "app/frontend -> app/backend 8080/TCP expect allowed",
// prefixed by the expectation's own name when it has one; on a run over
// several nodes the node pair follows the path ("… 8080/TCP on
// node-1→node-2 expect allowed"), so that the cases of one expectation's
// node pairs keep unique names.
func junitCaseName(r results.Result, multi bool) string {
	p := path(r, "->")
	if multi {
		p += onNodes(r)
	}
	name := p + " expect " + string(r.Expected)
	if r.Name != "" {
		name = r.Name + ": " + name
	}
	return name
}

// junitDetails is the body of a <failure> or <error>: what was observed and
// how to repeat it.
func junitDetails(rep *results.Report, r results.Result) string {
	lines := []string{
		"observed: " + verdictWithReason(string(r.Observed), r.Reason),
		"attempts: " + strconv.Itoa(r.Attempts),
	}
	if r.AnsweredBy != "" {
		lines = append(lines, "answered by: "+r.AnsweredBy)
	}
	if r.SourceNode != "" || r.TargetNode != "" {
		nodes := "nodes: " + nodePair(r)
		if r.PolicedBy != "" {
			nodes += " (policed by " + string(r.PolicedBy) + ")"
		}
		lines = append(lines, nodes)
	}
	if r.Repro != "" {
		lines = append(lines, reproLabel(rep)+": "+r.Repro)
	}
	return strings.Join(lines, "\n")
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// seconds renders milliseconds as JUnit's decimal seconds.
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}
