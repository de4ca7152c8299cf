package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netverify/netverify/results"
)

// hostile is text a server under test controls (its greeting ends up in a
// probe's Reason, its hostname in AnsweredBy): terminal escapes (colour,
// clear screen, window title), a carriage return that would overwrite the
// line, NUL, BEL, DEL, a C1 CSI, a bidi override, a non-character and an
// invalid UTF-8 byte.
const hostile = "x\x1b[31mred\x1b[2J\x1b]0;pwned\x07\rover\x00nul\x7f\u009b1m\u202eevil\uffff\xff|y"

// hostileReport is fixtureReport with hostile text in every string a writer
// prints.
func hostileReport() *results.Report {
	rep := fixtureReport()
	rep.RunID += hostile
	rep.Context = "kind" + hostile
	rep.Version = "v1" + hostile
	for i := range rep.Results {
		r := &rep.Results[i]
		r.Scenario += hostile
		r.From += hostile
		r.To += hostile
		r.PortName += hostile
		r.Reason += hostile
		r.AnsweredBy += hostile
		r.DecidedBy = "team/deny-all" + hostile
		if r.Name != "" {
			r.Name += hostile
		}
		if r.Repro != "" {
			r.Repro += hostile
		}
	}
	rep.Enforcement = &results.Enforcement{Observed: 1, MedianMs: 10, MaxMs: 20, Slowest: "web: a → b" + hostile}
	return rep
}

// rawControls returns, once each, the control characters, invalid UTF-8 bytes and bidi
// controls in out other than its line breaks.
func rawControls(out []byte) []string {
	var bad []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			bad = append(bad, s)
		}
	}
	for i := 0; i < len(out); {
		r, w := utf8.DecodeRune(out[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			add("invalid byte")
		case r == '\n':
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x202e, r == 0xffff:
			add(fmt.Sprintf("%U", r))
		}
		i += w
	}
	return bad
}

func TestHostileTextIsEscaped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		opts   Options
	}{
		{FormatTable, Options{}},
		{FormatTable, Options{Color: true}},
		{FormatMarkdown, Options{}},
	} {
		name := tc.format
		if tc.opts.Color {
			name += "_color"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := render(t, tc.format, hostileReport(), tc.opts)
			clean := out
			if tc.opts.Color {
				// The writer's own SGR sequences are allowed; nothing else.
				for _, sgr := range []string{ansiBold, ansiRed, ansiYellow, ansiGreen, ansiReset} {
					clean = bytes.ReplaceAll(clean, []byte(sgr), nil)
				}
			}
			if bad := rawControls(clean); len(bad) > 0 {
				t.Errorf("output has raw control characters %q", bad)
			}
			// Hostile text cannot add or remove lines.
			base := render(t, tc.format, fixtureReportWithDecidedBy(), tc.opts)
			if got, want := bytes.Count(out, []byte("\n")), bytes.Count(base, []byte("\n")); got != want {
				t.Errorf("output has %d lines, want %d as without hostile text:\n%s", got, want, out)
			}
			// Control characters are shown, not dropped.
			if !bytes.Contains(out, []byte(`x\x1b[31mred\x1b[2J\x1b]0;pwned\x07 over\x00nul\x7f\u009b1m\u202eevil\uffff\xff`)) {
				t.Errorf("output does not show the control characters as escapes:\n%s", out)
			}
		})
	}
}

// fixtureReportWithDecidedBy is fixtureReport with the columns hostileReport
// fills, so both render the same number of lines.
func fixtureReportWithDecidedBy() *results.Report {
	rep := fixtureReport()
	for i := range rep.Results {
		rep.Results[i].DecidedBy = "team/deny-all"
	}
	rep.Enforcement = &results.Enforcement{Observed: 1, MedianMs: 10, MaxMs: 20, Slowest: "web: a → b"}
	return rep
}

func TestHostileTextJUnitIsWellFormed(t *testing.T) {
	t.Parallel()
	out := render(t, FormatJUnit, hostileReport(), Options{})
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JUnit output is not well-formed XML: %v", err)
	}
	// Decode every token too: Unmarshal skips what the struct does not name.
	d := xml.NewDecoder(bytes.NewReader(out))
	for {
		if _, err := d.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("JUnit output is not well-formed XML: %v", err)
			}
			break
		}
	}
	if bad := rawControls(out); len(bad) > 0 {
		t.Errorf("JUnit output has characters XML 1.0 forbids or discourages %q", bad)
	}
	if doc.Tests != 7 || doc.Failures != 2 || doc.Errors != 1 {
		t.Errorf("totals = tests %d failures %d errors %d, want 7 2 1", doc.Tests, doc.Failures, doc.Errors)
	}
	if len(doc.Suites) == 0 || !strings.Contains(doc.Suites[0].Name, `\x1b[31m`) {
		t.Errorf("suite name does not show the escape: %+v", doc.Suites)
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"app/backend-7c9d8", "app/backend-7c9d8"},
		{"a → b, café, \ufffd", "a → b, café, \ufffd"}, // printable Unicode, an encoded U+FFFD
		{"a\tb", "a b"},
		{"a\r\n  b\n", "a b"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00bel\x07del\x7f", `nul\x00bel\x07del\x7f`},
		{"csi\u009b line\u2028 rlo\u202e nonchar\uffff", `csi\u009b line\u2028 rlo\u202e nonchar\uffff`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
		{`already\x1b`, `already\x1b`},
	}
	for _, tc := range tests {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPrintableReportCoversEveryField guards printableReport against a
// string field added to results.Result later and not made printable.
func TestPrintableReportCoversEveryField(t *testing.T) {
	t.Parallel()
	var r results.Result
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Kind() == reflect.String {
			v.Field(i).SetString("\x1b")
		}
	}
	rep := printableReport(&results.Report{RunID: "\x1b", Results: []results.Result{r}, Enforcement: &results.Enforcement{Slowest: "\x1b"}})
	got := reflect.ValueOf(rep.Results[0])
	for i := 0; i < got.NumField(); i++ {
		if f := got.Field(i); f.Kind() == reflect.String && f.String() != `\x1b` {
			t.Errorf("Result.%s = %q after printableReport, want %q", got.Type().Field(i).Name, f.String(), `\x1b`)
		}
	}
	if rep.RunID != `\x1b` || rep.Enforcement.Slowest != `\x1b` {
		t.Errorf("RunID %q, Enforcement.Slowest %q not made printable", rep.RunID, rep.Enforcement.Slowest)
	}
}
