package scenarios

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

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

// shapeProblem is an unknown field or a value of the wrong type.
type shapeProblem struct {
	field   string
	message string
}

// checkShape compares a document decoded into generic JSON values (numbers
// as json.Number) with the Scenario type, the way encoding/json would
// decode it but matching field names exactly and reporting every problem
// with its path, where encoding/json stops at the first without one.
//
// It rewrites numbers in intorstring fields to strings in place. fatal is
// true if a value has the wrong type, in which case the document cannot be
// decoded; unknown fields alone are not fatal.
func checkShape(tree any) (problems []shapeProblem, fatal bool) {
	c := &shapeChecker{}
	c.check(tree, reflect.TypeFor[Scenario](), nil)
	return c.problems, c.fatal
}

type shapeChecker struct {
	problems []shapeProblem
	fatal    bool
}

func (c *shapeChecker) add(p *field.Path, fatal bool, format string, args ...any) {
	c.problems = append(c.problems, shapeProblem{field: pathString(p), message: fmt.Sprintf(format, args...)})
	c.fatal = c.fatal || fatal
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
	c.add(p, true, "expected %s, got %s%s", want, jsonKind(v), hint)
}

// check checks v against t and returns v, possibly rewritten.
func (c *shapeChecker) check(v any, t reflect.Type, p *field.Path) any {
	if v == nil { // null is the zero value for every type
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == intOrStringType {
		c.intOrString(v, p) // for the check only: IntOrString keeps numbers
		return v
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return v // decoded by its own rules (metav1.Time, ...)
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			c.wrongType(p, "an object", v)
			return v
		}
		// Known fields in declaration order, which is usually the
		// order of the document, then unknown ones.
		known := map[string]bool{}
		for _, f := range jsonFields(t) {
			known[f.name] = true
			if _, ok := m[f.name]; !ok {
				continue
			}
			if f.intOrString {
				m[f.name] = c.intOrString(m[f.name], p.Child(f.name))
			} else {
				m[f.name] = c.check(m[f.name], f.typ, p.Child(f.name))
			}
		}
		for _, k := range sortedKeys(m) {
			if !known[k] {
				c.add(p.Child(k), false, "unknown field")
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			c.wrongType(p, "an object", v)
			return v
		}
		for _, k := range sortedKeys(m) {
			m[k] = c.check(m[k], t.Elem(), p.Key(k))
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			c.wrongType(p, "a list", v)
			return v
		}
		for i := range a {
			a[i] = c.check(a[i], t.Elem(), p.Index(i))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.wrongType(p, "a string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.wrongType(p, "true or false", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			c.wrongType(p, "an integer", v)
			return v
		}
		if i, err := n.Int64(); err != nil && !isIntegral(n) {
			c.wrongType(p, "an integer", v)
		} else if err != nil || reflect.New(t).Elem().OverflowInt(i) {
			c.add(p, true, "%s does not fit in a %d-bit integer", n, t.Bits())
		}
	case reflect.Interface:
		// anything goes
	default:
		c.add(p, true, "cannot decode into %s", t) // not used by Scenario
	}
	return v
}

// intOrString checks a value that may be a string or an integer and
// returns it as a string.
func (c *shapeChecker) intOrString(v any, p *field.Path) any {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		if _, err := v.Int64(); err != nil {
			c.wrongType(p, "an integer or a name", v)
		}
		return v.String()
	}
	c.wrongType(p, "an integer or a name", v)
	return v
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
