package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Error is one problem found while loading scenarios. Load and LoadBytes
// return every Error they find, joined with errors.Join.
type Error struct {
	// Location is the file ("-" for stdin, "builtin:FILE" for the built-in
	// suite), followed by " (document N, line L)" when the file holds more
	// than one document.
	Location string
	// Scenario is the scenario's metadata.name, when known.
	Scenario string
	// Field is the path of the offending field, such as "spec.expect[2].to";
	// empty when the problem is with the whole document or file.
	Field string
	// Message says what is wrong.
	Message string
}

// Error formats e as `LOCATION: scenario "NAME": FIELD: MESSAGE`, leaving
// out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Location)
	if e.Scenario != "" {
		fmt.Fprintf(&b, ": scenario %q", e.Scenario)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// input is one file's contents and the name to report it by.
type input struct {
	source string
	data   []byte
}

// loaded is a decoded scenario and where it came from.
type loaded struct {
	location string
	scenario *Scenario
}

// Load reads the scenarios in paths. Each path is a file, a directory (its
// *.yaml and *.yml files in name order, without descending into
// subdirectories), or "-" for stdin, which may appear once.
//
// It returns every scenario, defaulted and validated, in the order read, or
// nil and an error reporting every problem found in every input: unreadable
// paths, files without scenarios, invalid scenarios, and scenario names
// used more than once.
func Load(paths []string, stdin io.Reader) ([]*Scenario, error) {
	if len(paths) == 0 {
		return nil, errors.New("no scenario files given")
	}
	var (
		inputs   []input
		errs     []error
		sawStdin bool
	)
	for _, path := range paths {
		if path == "-" {
			if sawStdin {
				errs = append(errs, errors.New(`"-" (stdin) given more than once`))
				continue
			}
			sawStdin = true
			if stdin == nil {
				errs = append(errs, errors.New(`"-": no standard input`))
				continue
			}
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading stdin: %w", err))
				continue
			}
			inputs = append(inputs, input{source: "-", data: data})
			continue
		}
		in, err := readPath(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		inputs = append(inputs, in...)
	}
	scenarios, err := load(inputs)
	if err != nil || len(errs) > 0 {
		return nil, errors.Join(append(errs, err)...)
	}
	return scenarios, nil
}

// LoadBytes is Load for one file's contents already in memory; source
// names it in errors and in Scenario.Source.
func LoadBytes(source string, data []byte) ([]*Scenario, error) {
	return load([]input{{source: source, data: data}})
}

// readPath reads a file, or the *.yaml and *.yml files of a directory.
func readPath(path string) ([]input, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return []input{{source: path, data: data}}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, err
	}
	var inputs []input
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := filepath.Join(path, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, input{source: file, data: data})
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml or *.yml files in directory", path)
	}
	return inputs, nil
}

// load decodes, defaults and validates every input, then checks that
// scenario names are unique across all of them.
func load(inputs []input) ([]*Scenario, error) {
	var (
		all  []loaded
		errs []error
	)
	for _, in := range inputs {
		l, e := parse(in)
		all = append(all, l...)
		errs = append(errs, e...)
	}
	errs = append(errs, checkDuplicateNames(all)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	scenarios := make([]*Scenario, len(all))
	for i, l := range all {
		scenarios[i] = l.scenario
	}
	return scenarios, nil
}

// parse returns the scenarios of one input and the problems found in them.
// A scenario with problems is still returned, so that its name takes part
// in the duplicate check.
func parse(in input) ([]loaded, []error) {
	docs := splitDocuments(in.data)
	if len(docs) == 0 {
		return nil, []error{&Error{Location: in.source, Message: "no scenarios found"}}
	}
	var (
		out  []loaded
		errs []error
	)
	for _, d := range docs {
		location := in.source
		if len(docs) > 1 {
			location = fmt.Sprintf("%s (document %d, line %d)", in.source, d.index, d.line)
		}
		s, e := decode(location, d.data)
		errs = append(errs, e...)
		if s == nil {
			continue
		}
		s.Source = in.source
		setDefaults(s)
		errs = append(errs, validate(location, s)...)
		out = append(out, loaded{location: location, scenario: s})
	}
	return out, errs
}

// decode turns one YAML document into a Scenario. It reports YAML syntax
// errors, unknown fields and values of the wrong type, all with their field
// paths. It returns a nil Scenario when the document could not be decoded
// at all; unknown fields alone do not prevent decoding, so that validation
// can report its findings too.
func decode(location string, data []byte) (*Scenario, []error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, []error{&Error{Location: location, Message: yamlMessage(err)}}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, []error{&Error{Location: location, Message: err.Error()}}
	}
	name := nameOf(tree)
	problems, fatal := checkShape(tree)
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = &Error{Location: location, Scenario: name, Field: p.field, Message: p.message}
	}
	if fatal {
		return nil, errs
	}
	// checkShape may have rewritten values (numbers given for string
	// ports), so decode the checked tree rather than j.
	j, err = json.Marshal(tree)
	if err == nil {
		var s Scenario
		if err = json.Unmarshal(j, &s); err == nil {
			return &s, errs
		}
	}
	return nil, append(errs, &Error{Location: location, Scenario: name, Message: err.Error()})
}

// nameOf returns metadata.name from an undecoded document, if it is there.
func nameOf(tree any) string {
	doc, _ := tree.(map[string]any)
	md, _ := doc["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}

// yamlMessage shortens the errors of sigs.k8s.io/yaml, which repeat what
// the location already says and span several lines.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return strings.ReplaceAll(msg, "\n  ", "; ")
}

// checkDuplicateNames reports each scenario whose name an earlier one
// already uses.
func checkDuplicateNames(all []loaded) []error {
	var errs []error
	first := map[string]string{} // name -> location
	for _, l := range all {
		name := l.scenario.Metadata.Name
		if name == "" {
			continue
		}
		if prev, ok := first[name]; ok {
			errs = append(errs, &Error{
				Location: l.location,
				Scenario: name,
				Field:    "metadata.name",
				Message:  "duplicate scenario name; also defined in " + prev,
			})
			continue
		}
		first[name] = l.location
	}
	return errs
}

// document is one non-empty YAML document of a file.
type document struct {
	index int // 1-based, counting non-empty documents only
	line  int // the file line of the document's first line of content
	// data is the document preceded by as many newlines as the file has
	// lines before it, so that YAML errors carry line numbers of the file.
	data []byte
}

// splitDocuments splits a file at its "---" lines, dropping documents that
// hold nothing but blank lines and comments.
func splitDocuments(data []byte) []document {
	lines := strings.SplitAfter(string(data), "\n")
	var docs []document
	start := 0 // the current document's first line
	flush := func(end int) {
		for i := start; i < end; i++ {
			if t := strings.TrimSpace(lines[i]); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
				docs = append(docs, document{
					index: len(docs) + 1,
					line:  i + 1,
					data:  []byte(strings.Repeat("\n", start) + strings.Join(lines[start:end], "")),
				})
				return
			}
		}
	}
	for i, line := range lines {
		rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "---")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		flush(i)
		start = i + 1
		if t := strings.TrimSpace(rest); t != "" && !strings.HasPrefix(t, "#") {
			start = i // "--- {...}": the separator line carries content
		}
	}
	flush(len(lines))
	return docs
}
