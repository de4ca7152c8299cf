package scenarios

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz tests run their seeds under plain `go test`; fuzz longer with
//
//	go test -run='^$' -fuzz=FuzzLoadBytes -fuzztime=10s ./scenarios
//
// (and FuzzSplitDocuments).

// addFileSeeds adds the test files and the built-in suite as seeds.
func addFileSeeds(f *testing.F) {
	for _, pattern := range []string{"testdata/*/*.yaml", "testdata/*/*.yml", "builtin/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, seed := range []string{"", "---", "--- {a: 1}\n---\n", "null", "[]", "a: b: c", "\xff\xfe", "&a [*a, *a]"} {
		f.Add([]byte(seed))
	}
}

// FuzzLoadBytes: the loader never panics; it returns scenarios or
// problems, never both; every problem is an *Error that says where it is
// and what is wrong; and what it accepts is named, sourced and unique.
func FuzzLoadBytes(f *testing.F) {
	addFileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		scs, err := LoadBytes("fuzz.yaml", data)
		if err != nil {
			if scs != nil {
				t.Fatalf("LoadBytes returned %d scenarios with an error", len(scs))
			}
			for _, e := range leaves(err) {
				var le *Error
				if !errors.As(e, &le) {
					t.Fatalf("problem %q (%T) is not an *Error", e, e)
				}
				if le.Message == "" || !strings.HasPrefix(le.Location, "fuzz.yaml") {
					t.Errorf("problem %#v does not say where it is and what is wrong", le)
				}
			}
			return
		}
		if len(scs) == 0 {
			t.Fatal("LoadBytes succeeded without scenarios")
		}
		names := map[string]bool{}
		for _, s := range scs {
			if s.Metadata.Name == "" || names[s.Metadata.Name] || s.Source != "fuzz.yaml" {
				t.Errorf("accepted scenario %q from %q (duplicate: %t)", s.Metadata.Name, s.Source, names[s.Metadata.Name])
			}
			names[s.Metadata.Name] = true
			if len(s.Spec.Namespaces) == 0 || len(s.Spec.Expect) == 0 {
				t.Errorf("accepted scenario %q without namespaces or expectations", s.Metadata.Name)
			}
			for _, e := range s.Spec.Expect {
				if (e.Allowed == nil) == (e.ImplementationDefined == "") {
					t.Errorf("accepted scenario %q with an expectation with neither or both of allowed and implementation-defined", s.Metadata.Name)
				}
			}
		}
	})
}

// leaves flattens errors.Join trees.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// FuzzSplitDocuments: documents are numbered in order, start on lines of
// the file in increasing order, and are parts of the file.
func FuzzSplitDocuments(f *testing.F) {
	addFileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		prev := 0
		for i, d := range splitDocuments(data) {
			if d.index != i+1 {
				t.Errorf("document %d has index %d", i+1, d.index)
			}
			if d.line <= prev || d.line > lines {
				t.Errorf("document %d starts on line %d, after %d, in a file of %d lines", d.index, d.line, prev, lines)
			}
			prev = d.line
			if d.first < 0 || d.first >= d.line || !bytes.Contains(data, d.data) {
				t.Errorf("document %d (line %d, from line %d) is not a part of the file: %q", d.index, d.line, d.first+1, d.data)
			}
		}
	})
}
