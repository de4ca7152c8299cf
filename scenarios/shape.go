package scenarios

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A string field tagged `netverify:"intorstring"` also accepts a YAML
// number, so that `port: 8080` works as well as `port: http`.
const intOrStringTag = "intorstring"

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
)

// shapeProblem is an unknown field, a field not allowed, or a value of the
// wrong type.
type shapeProblem struct {
	field   string
	message string
}

// shapeResult is what checkShape found.
type shapeResult struct {
	// tree is the checked document, with values of the wrong type and
	// fields not allowed left out, and intorstring numbers made strings.
	tree     any
	problems []shapeProblem
	// dropped are the paths of the values of the wrong type left out of
	// tree: validation problems they cause are not worth reporting.
	dropped []string
	// fatal is true when the document itself is not an object: there is
	// nothing to decode.
	fatal bool
}

// allowedFields restricts the fields a scenario may set in some types it
// borrows from Kubernetes. A NetworkPolicy's metadata is sent to the
// cluster: finalizers would leave the run's namespace stuck Terminating,
// owner references would have it garbage-collected, and the rest is set by
// the API server; a scenario needs only these.
var allowedFields = map[reflect.Type]struct {
	names   []string
	message string
}{
	reflect.TypeFor[metav1.ObjectMeta](): {
		names:   []string{"name", "namespace", "labels", "annotations"},
		message: "not allowed in a scenario's policy: set only name, namespace, labels and annotations",
	},
}

// checkShape compares a document decoded into generic JSON values (numbers
// as json.Number) with the Scenario type, the way encoding/json would
// decode it but matching field names exactly and reporting every problem
// with its path, where encoding/json stops at the first without one.
//
// Unknown fields are reported and left for encoding/json to ignore. Fields
// that allowedFields does not allow and values of the wrong type are
// reported and left out of the tree, so that the rest of the document can
// be decoded and validated; a value of the wrong type is then the zero
// value. Numbers in intorstring fields are rewritten to strings in place.
func checkShape(tree any) shapeResult {
	c := &shapeChecker{}
	t := reflect.TypeFor[Scenario]()
	if _, ok := tree.(map[string]any); !ok && tree != nil {
		c.wrongType(nil, "an object", tree)
		return shapeResult{tree: tree, problems: c.problems, fatal: true}
	}
	tree, _ = c.check(tree, t, nil)
	return shapeResult{tree: tree, problems: c.problems, dropped: c.dropped}
}

type shapeChecker struct {
	problems []shapeProblem
	dropped  []string
}

func (c *shapeChecker) add(p *field.Path, format string, args ...any) {
	c.problems = append(c.problems, shapeProblem{field: pathString(p), message: fmt.Sprintf(format, args...)})
}

// bad reports a value of the wrong type at p, which the caller leaves out.
func (c *shapeChecker) bad(p *field.Path, format string, args ...any) {
	c.add(p, format, args...)
	c.dropped = append(c.dropped, pathString(p))
}

// wrongType reports that v is not the kind of value the field holds.
func (c *shapeChecker) wrongType(p *field.Path, want string, v any) {
	hint := ""
	switch v.(type) {
	case bool, json.Number:
		if want == "a string" {
			hint = "; quote it, as YAML reads y, no, on, 1.10 and the like as booleans and numbers"
		}
	}
	c.bad(p, "expected %s, got %s%s", want, jsonKind(v), hint)
}

// check checks v against t and returns v, possibly rewritten, and whether
// to keep it: false when it has the wrong type (and has been reported).
func (c *shapeChecker) check(v any, t reflect.Type, p *field.Path) (any, bool) {
	if v == nil { // null is the zero value for every type
		return nil, true
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == intOrStringType {
		_, ok := c.intOrString(v, p) // for the check only: IntOrString keeps numbers
		return v, ok
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// Decoded by its own rules (metav1.Time, ...): try them.
		j, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(j)
		}
		if err != nil {
			c.bad(p, "invalid value: %v", err)
			return v, false
		}
		return v, true
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			c.wrongType(p, "an object", v)
			return v, false
		}
		allowed, restricted := allowedFields[t]
		// Known fields in declaration order, which is usually the
		// order of the document, then unknown ones.
		known := map[string]bool{}
		for _, f := range jsonFields(t) {
			known[f.name] = true
			fv, ok := m[f.name]
			if !ok {
				continue
			}
			if restricted && !slices.Contains(allowed.names, f.name) {
				c.add(p.Child(f.name), "%s", allowed.message)
				delete(m, f.name)
				continue
			}
			keep := true
			if f.intOrString {
				m[f.name], keep = c.intOrString(fv, p.Child(f.name))
			} else {
				m[f.name], keep = c.check(fv, f.typ, p.Child(f.name))
			}
			if !keep {
				delete(m, f.name)
			}
		}
		for _, k := range sortedKeys(m) {
			if !known[k] {
				c.add(p.Child(k), "unknown field")
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			c.wrongType(p, "an object", v)
			return v, false
		}
		for _, k := range sortedKeys(m) {
			var keep bool
			if m[k], keep = c.check(m[k], t.Elem(), p.Key(k)); !keep {
				delete(m, k)
			}
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			c.wrongType(p, "a list", v)
			return v, false
		}
		for i := range a {
			var keep bool
			// An element of the wrong type becomes the zero value,
			// so that the paths of the others stay those of the file.
			if a[i], keep = c.check(a[i], t.Elem(), p.Index(i)); !keep {
				a[i] = nil
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.wrongType(p, "a string", v)
			return v, false
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.wrongType(p, "true or false", v)
			return v, false
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			c.wrongType(p, "an integer", v)
			return v, false
		}
		if i, err := n.Int64(); err != nil && !isIntegral(n) {
			c.wrongType(p, "an integer", v)
			return v, false
		} else if err != nil || reflect.New(t).Elem().OverflowInt(i) {
			c.bad(p, "%s does not fit in a %d-bit integer", n, t.Bits())
			return v, false
		}
	case reflect.Interface:
		// anything goes
	default:
		c.bad(p, "cannot decode into %s", t) // not used by Scenario
		return v, false
	}
	return v, true
}

// intOrString checks a value that may be a string or an integer and
// returns it as a string, and whether to keep it.
func (c *shapeChecker) intOrString(v any, p *field.Path) (any, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		if _, err := v.Int64(); err != nil {
			c.wrongType(p, "an integer or a name", v)
			return v, false
		}
		return v.String(), true
	}
	c.wrongType(p, "an integer or a name", v)
	return v, false
}

// isIntegral reports whether n is written as an integer (however large).
func isIntegral(n json.Number) bool {
	return !strings.ContainsAny(n.String(), ".eE")
}

// jsonKind names the kind of a generic JSON value for messages.
func jsonKind(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("a string (%q)", v)
	case json.Number:
		return "a number (" + v.String() + ")"
	case bool:
		return fmt.Sprintf("a boolean (%t)", v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name        string
	typ         reflect.Type
	required    bool // no omitempty: the schema requires it
	intOrString bool // tagged `netverify:"intorstring"`
}

// jsonFields lists the fields of struct type t under their JSON names,
// flattening embedded structs that have no JSON name of their own (such as
// metav1.TypeMeta), as encoding/json does.
func jsonFields(t reflect.Type) []jsonField {
	var fields []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			fields = append(fields, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, jsonField{
			name:        name,
			typ:         f.Type,
			required:    !slices.ContainsFunc(strings.Split(opts, ","), isOmitOption),
			intOrString: f.Tag.Get("netverify") == intOrStringTag,
		})
	}
	return fields
}

func isOmitOption(opt string) bool { return opt == "omitempty" || opt == "omitzero" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// pathString is p.String(), but empty for the document itself.
func pathString(p *field.Path) string {
	if p == nil {
		return ""
	}
	return p.String()
}
