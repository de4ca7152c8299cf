package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const schemaFile = "../docs/scenario.schema.json"

// TestSchema fails if docs/scenario.schema.json is not what Schema
// generates; regenerate it with: go test ./scenarios -run TestSchema -update
func TestSchema(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	checkGolden(t, schemaFile, string(got))
}

// TestSchemaAcceptsFiles checks every document of the examples, the
// built-in suite and the valid test files against the schema.
func TestSchemaAcceptsFiles(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	var files []string
	for _, dir := range []string{"../examples", "builtin", "testdata/valid"} {
		files = append(files, globYAML(t, dir)...)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range splitDocuments(data) {
				if errs := validateSchema(schema, yamlValue(t, d.data), ""); len(errs) > 0 {
					t.Errorf("document %d: %s", d.index, strings.Join(errs, "\n"))
				}
			}
		})
	}
}

// TestSchemaRejects checks that the schema, and the validator in this
// test, catch what they should.
func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	valid, err := os.ReadFile("testdata/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"wrong apiVersion", "netverify.io/v1alpha1", "v1", []string{`apiVersion: "v1" is not one of ["netverify.io/v1alpha1"]`}},
		{"unknown field", "  name: minimal", "  name: minimal\n  nmae: x", []string{`metadata: unknown property "nmae"`}},
		{"missing required", "  name: minimal", "  nmae: minimal", []string{`metadata: missing required property "name"`, `metadata: unknown property "nmae"`}},
		{"neither allowed nor implementationDefined", "      allowed: false\n", "", []string{`spec.expect[0]: matches 0 of the 2 oneOf schemas, want exactly 1`}},
		{"both allowed and implementationDefined", "      allowed: false\n", "      allowed: false\n      implementationDefined: why\n", []string{`spec.expect[0]: matches 2 of the 2 oneOf schemas, want exactly 1`}},
		{"implementationDefined and accept", "      allowed: false\n", "      implementationDefined: why\n      accept: [blocked]\n", nil},
		{"accept without implementationDefined", "      allowed: false\n", "      allowed: false\n      accept: [blocked]\n", []string{`spec.expect[0]: "accept" requires "implementationDefined"`}},
		{"bad outcome", "      allowed: false\n", "      implementationDefined: why\n      accept: [dropped]\n", []string{`spec.expect[0].accept[0]: "dropped" is not one of ["allowed","blocked"]`}},
		{"empty accept", "      allowed: false\n", "      implementationDefined: why\n      accept: []\n", []string{`spec.expect[0].accept: 0 items, want at least 1`}},
		{"duplicate outcome", "      allowed: false\n", "      implementationDefined: why\n      accept: [allowed, allowed]\n", []string{`spec.expect[0].accept: items are not unique`}},
		{"bad protocol", "{name: http, port: 80}", "{name: http, port: 80, protocol: ICMP}", []string{`spec.pods[1].ports[0].protocol: "ICMP" is not one of ["TCP","UDP","SCTP"]`}},
		{"wrong type", "port: http", "port: [http]", []string{`spec.expect[0].port: got array, want ["integer","string"]`}},
		{"label value type", "{app: server}", "{app: [server]}", []string{`spec.pods[1].labels.app: got array, want "string"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(string(valid), tt.old, tt.new, 1)
			got := validateSchema(schema, yamlValue(t, []byte(doc)), "")
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

func yamlValue(t *testing.T, data []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// validateSchema checks v against the subset of JSON Schema that Schema
// generates: type, enum, properties, required, additionalProperties,
// items, minItems, uniqueItems, oneOf (of required lists) and
// dependentRequired. It returns one message per problem, prefixed with the
// path.
func validateSchema(schema map[string]any, v any, path string) []string {
	at := func(format string, args ...any) string {
		msg := fmt.Sprintf(format, args...)
		if path == "" {
			return msg
		}
		return path + ": " + msg
	}
	if want, ok := schema["type"]; ok && !typeMatches(want, v) {
		w, _ := json.Marshal(want)
		return []string{at("got %s, want %s", jsonType(v), w)}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		e, _ := json.Marshal(enum)
		return []string{at("%q is not one of %s", v, e)}
	}
	var errs []string
	if oneOf, ok := schema["oneOf"].([]any); ok {
		n := 0
		for _, alt := range oneOf {
			if len(validateSchema(alt.(map[string]any), v, "")) == 0 {
				n++
			}
		}
		if n != 1 {
			errs = append(errs, at("matches %d of the %d oneOf schemas, want exactly 1", n, len(oneOf)))
		}
	}
	switch v := v.(type) {
	case map[string]any:
		if deps, ok := schema["dependentRequired"].(map[string]any); ok {
			for _, k := range sortedKeys(deps) {
				if _, ok := v[k]; !ok {
					continue
				}
				for _, r := range deps[k].([]any) {
					if _, ok := v[r.(string)]; !ok {
						errs = append(errs, at("%q requires %q", k, r))
					}
				}
			}
		}
		props, _ := schema["properties"].(map[string]any)
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if _, ok := v[r.(string)]; !ok {
				errs = append(errs, at("missing required property %q", r))
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := k
			if path != "" {
				child = path + "." + k
			}
			if s, ok := props[k].(map[string]any); ok {
				errs = append(errs, validateSchema(s, v[k], child)...)
				continue
			}
			switch extra := schema["additionalProperties"].(type) {
			case bool:
				if !extra {
					errs = append(errs, at("unknown property %q", k))
				}
			case map[string]any:
				errs = append(errs, validateSchema(extra, v[k], child)...)
			}
		}
	case []any:
		if min, ok := schema["minItems"].(float64); ok && float64(len(v)) < min {
			errs = append(errs, at("%d items, want at least %v", len(v), min))
		}
		if unique, _ := schema["uniqueItems"].(bool); unique {
			for i := range v {
				if slices.ContainsFunc(v[:i], func(w any) bool { return reflect.DeepEqual(w, v[i]) }) {
					errs = append(errs, at("items are not unique"))
					break
				}
			}
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, item := range v {
				errs = append(errs, validateSchema(items, item, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func typeMatches(want, v any) bool {
	if list, ok := want.([]any); ok {
		return slices.ContainsFunc(list, func(w any) bool { return typeMatches(w, v) })
	}
	got := jsonType(v)
	return got == want || (want == "number" && got == "integer")
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
