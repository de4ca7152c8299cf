package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
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

// FieldProblem is a problem an outside check (see WithClusterPolicyCheck)
// found in a value: Field is its path inside the value ("" for the whole
// value), such as "spec.egress[0].action".
type FieldProblem struct {
	Field   string
	Message string
}

// Option changes how Load, LoadBytes and LoadContext check scenarios.
type Option func(*loadOptions)

type loadOptions struct {
	cnpCheck func(*cnpv1.ClusterNetworkPolicy) []FieldProblem
}

// WithClusterPolicyCheck has the loader check every ClusterNetworkPolicy of
// a scenario with check as well, reporting each problem it returns at
// spec.clusterNetworkPolicies[I].FIELD with the others. The policy package,
// which evaluates them, provides the check
// (policy.CheckClusterNetworkPolicy); it cannot be called from here, since
// policy imports this package. Without it the loader checks only the
// policies' apiVersion, kind and metadata, and an invalid spec is reported
// when the policies are evaluated.
func WithClusterPolicyCheck(check func(*cnpv1.ClusterNetworkPolicy) []FieldProblem) Option {
	return func(o *loadOptions) { o.cnpCheck = check }
}

// MaxInputBytes is the largest scenario input (a file, or stdin) the
// loader accepts: 8 MiB, far more than any hand-written suite. Larger input
// is rejected without being read further, so that "-f /dev/zero" or a
// stdin that never ends fails at once rather than exhausting memory.
const MaxInputBytes = 8 << 20

// tooLarge is the problem with an input over MaxInputBytes.
func tooLarge(source string) error {
	return &Error{Location: source, Message: fmt.Sprintf("larger than %d MiB, the limit of a scenario file; split it into several files", MaxInputBytes>>20)}
}

// readLimited reads r to its end, or to just past MaxInputBytes: parse
// reports an input longer than that as too large.
func readLimited(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
}

// input is one file's contents and the name to report it by.
type input struct {
	source string
	data   []byte
}

// loaded is a document of an input: where it came from, the scenario name
// it declares (for the duplicate check), and the decoded scenario, nil if
// the document could not be decoded.
type loaded struct {
	location string
	name     string
	scenario *Scenario
}

// Load reads the scenarios in paths. Each path is a file, a directory (its
// *.yaml and *.yml files in name order, without descending into
// subdirectories), or "-" for stdin, which may appear once. Each file, and
// stdin, may hold at most MaxInputBytes.
//
// It returns every scenario, defaulted and validated, in the order read, or
// nil and an error reporting every problem found in every input: unreadable
// paths and directory entries, inputs that are too large, files without
// scenarios, invalid scenarios, and scenario names used more than once.
func Load(paths []string, stdin io.Reader, opts ...Option) ([]*Scenario, error) {
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
			data, err := readLimited(stdin)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading stdin: %w", err))
				continue
			}
			inputs = append(inputs, input{source: "-", data: data})
			continue
		}
		in, readErrs := readPath(path)
		errs = append(errs, readErrs...)
		inputs = append(inputs, in...)
	}
	scenarios, err := load(inputs, opts)
	if err != nil || len(errs) > 0 {
		return nil, errors.Join(append(errs, err)...)
	}
	return scenarios, nil
}

// LoadBytes is Load for one file's contents already in memory; source
// names it in errors and in Scenario.Source.
func LoadBytes(source string, data []byte, opts ...Option) ([]*Scenario, error) {
	return load([]input{{source: source, data: data}}, opts)
}

// readPath reads a file, or the *.yaml and *.yml files of a directory. It
// returns what it could read and a problem for each entry it could not: an
// unreadable entry does not stop the others from being read.
func readPath(path string) ([]input, []error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, []error{err}
	}
	if !info.IsDir() {
		data, err := readFile(path)
		if err != nil {
			return nil, []error{err}
		}
		return []input{{source: path, data: data}}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, []error{err}
	}
	var (
		inputs []input
		errs   []error
	)
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := filepath.Join(path, e.Name())
		data, err := readFile(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		inputs = append(inputs, input{source: file, data: data})
	}
	if len(inputs) == 0 && len(errs) == 0 {
		return nil, []error{fmt.Errorf("%s: no *.yaml or *.yml files in directory", path)}
	}
	return inputs, errs
}

// readFile reads a file, up to just past MaxInputBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f)
}

// load decodes, defaults and validates every input, then checks that
// scenario names are unique across all of them.
func load(inputs []input, opts []Option) ([]*Scenario, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	var (
		all  []loaded
		errs []error
	)
	for _, in := range inputs {
		l, e := parse(in, o)
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

// parse returns the documents of one input and the problems found in
// them. A document with problems is still returned, so that its name takes
// part in the duplicate check.
func parse(in input, o loadOptions) ([]loaded, []error) {
	if len(in.data) > MaxInputBytes {
		return nil, []error{tooLarge(in.source)}
	}
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
		s, name, dropped, e := decode(location, d)
		errs = append(errs, e...)
		if s != nil {
			s.Source = in.source
			setDefaults(s)
			errs = append(errs, validate(location, s, dropped, o)...)
			settleImplementationDefined(s)
			name = s.Metadata.Name
		}
		out = append(out, loaded{location: location, name: name, scenario: s})
	}
	return out, errs
}

// decode turns one YAML document into a Scenario. It reports YAML syntax
// errors, unknown fields and values of the wrong type, all with their field
// paths. A value of the wrong type is left out, so that the rest of the
// document is still decoded and validated; dropped lists the paths of the
// values left out, for validate. decode returns a nil Scenario only when
// the document could not be decoded at all (bad YAML, not an object); name
// is the document's metadata.name when it has one.
func decode(location string, d document) (s *Scenario, name string, dropped []string, errs []error) {
	data, lineShift := d.yaml()
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, "", nil, []error{&Error{Location: location, Message: yamlMessage(err, lineShift)}}
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, "", nil, []error{&Error{Location: location, Message: err.Error()}}
	}
	name = nameOf(tree)
	shape := checkShape(tree)
	for _, p := range shape.problems {
		errs = append(errs, &Error{Location: location, Scenario: name, Field: p.field, Message: p.message})
	}
	if shape.fatal {
		return nil, name, nil, errs
	}
	// checkShape has left out values of the wrong type and rewritten
	// others (numbers given for string ports), so decode the checked tree
	// rather than j.
	j, err = json.Marshal(shape.tree)
	if err == nil {
		var sc Scenario
		if err = json.Unmarshal(j, &sc); err == nil {
			return &sc, name, shape.dropped, errs
		}
	}
	return nil, name, nil, append(errs, &Error{Location: location, Scenario: name, Message: err.Error()})
}

// nameOf returns metadata.name from an undecoded document, if it is there.
func nameOf(tree any) string {
	doc, _ := tree.(map[string]any)
	md, _ := doc["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}

// yamlLine matches the line numbers in the errors of sigs.k8s.io/yaml
// (go.yaml.in/yaml/v2): "yaml: line N: …" for syntax errors, and
// "\n  line N: …" for each of its "unmarshal errors".
var yamlLine = regexp.MustCompile(`(^yaml: |\n  )line ([0-9]+):`)

// yamlMessage shortens the errors of sigs.k8s.io/yaml, which repeat what
// the location already says and span several lines, and adds shift to the
// line numbers in them, which count from the start of the document, so
// that they count from the start of the file.
func yamlMessage(err error, shift int) string {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	if shift != 0 {
		msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
			sub := yamlLine.FindStringSubmatch(m)
			n, err := strconv.Atoi(sub[2])
			if err != nil {
				return m
			}
			return sub[1] + "line " + strconv.Itoa(n+shift) + ":"
		})
	}
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return strings.ReplaceAll(msg, "\n  ", "; ")
}

// checkDuplicateNames reports each scenario whose name an earlier one
// already uses. Documents with other problems take part too.
func checkDuplicateNames(all []loaded) []error {
	var errs []error
	first := map[string]string{} // name -> location
	for _, l := range all {
		if l.name == "" {
			continue
		}
		if prev, ok := first[l.name]; ok {
			errs = append(errs, &Error{
				Location: l.location,
				Scenario: l.name,
				Field:    "metadata.name",
				Message:  "duplicate scenario name; also defined in " + prev,
			})
			continue
		}
		first[l.name] = l.location
	}
	return errs
}

// document is one non-empty YAML document of a file.
type document struct {
	index int // 1-based, counting non-empty documents only
	line  int // the file line of the document's first line of content
	// data is the document: its lines of the file, from the one after the
	// previous "---" (or the separator line itself when it carries
	// content), which is line first+1 of the file.
	data  []byte
	first int
}

// yaml returns the document for the YAML parser, and what to add to the
// line numbers of the parser's errors to get lines of the file.
//
// Documents were once preceded by as many newlines as the file has lines
// before them, so that the parser counted lines of the file; that made
// loading quadratic in the number of documents. One newline is enough: it
// makes the parser number every line of the document (it leaves out the
// number of an error on the first line it is given), and the shift does
// the rest.
func (d document) yaml() (data []byte, lineShift int) {
	if d.first == 0 {
		return d.data, 0
	}
	return append([]byte{'\n'}, d.data...), d.first - 1
}

// splitDocuments splits a file at its "---" lines, dropping documents that
// hold nothing but blank lines and comments. It takes time and memory
// linear in the size of the file.
func splitDocuments(data []byte) []document {
	// lineStart[i] is the offset of line i (0-based); a last entry marks
	// the end of the data.
	lineStart := []int{0}
	for i, c := range data {
		if c == '\n' && i+1 < len(data) {
			lineStart = append(lineStart, i+1)
		}
	}
	lineStart = append(lineStart, len(data))
	nLines := len(lineStart) - 1
	if len(data) == 0 {
		nLines = 0
	}
	line := func(i int) []byte { return data[lineStart[i]:lineStart[i+1]] }

	var docs []document
	start := 0 // the current document's first line
	flush := func(end int) {
		for i := start; i < end; i++ {
			t := bytes.TrimSpace(line(i))
			if len(t) == 0 || t[0] == '#' || string(t) == "---" {
				continue
			}
			docs = append(docs, document{
				index: len(docs) + 1,
				line:  i + 1,
				data:  data[lineStart[start]:lineStart[end]],
				first: start,
			})
			return
		}
	}
	for i := range nLines {
		rest, ok := bytes.CutPrefix(bytes.TrimRight(line(i), "\r\n"), []byte("---"))
		if !ok || (len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		flush(i)
		start = i + 1
		if t := bytes.TrimSpace(rest); len(t) > 0 && t[0] != '#' {
			start = i // "--- {...}": the separator line carries content
		}
	}
	flush(nLines)
	return docs
}

// LoadContext is Load that gives up when ctx ends (Ctrl-C, SIGTERM) while
// input is still being read — a FIFO or a stdin that never closes would
// otherwise hold the process. The abandoned read ends with the process.
func LoadContext(ctx context.Context, paths []string, stdin io.Reader, opts ...Option) ([]*Scenario, error) {
	type loaded struct {
		scs []*Scenario
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		scs, err := Load(paths, stdin, opts...)
		done <- loaded{scs, err}
	}()
	select {
	case l := <-done:
		return l.scs, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("interrupted while reading %s: %w", strings.Join(paths, ", "), ctx.Err())
	}
}
