package scenarios

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// builtinFS holds the built-in suite, one scenario per file, each file
// named after its scenario.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin loads the built-in suite. Each scenario has Builtin set and the
// Source "builtin:FILE". The suite is checked by the package's tests, so an error
// means a broken build.
func Builtin() ([]*Scenario, error) {
	files, err := fs.Glob(builtinFS, "builtin/*.yaml") // sorted
	if err != nil {
		return nil, err
	}
	inputs := make([]input, len(files))
	for i, f := range files {
		data, err := builtinFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		inputs[i] = input{source: "builtin:" + path.Base(f), data: data}
	}
	scs, err := load(inputs, nil)
	for _, sc := range scs {
		sc.Builtin = true
	}
	return scs, err
}

// BuiltinNames returns the names of the built-in scenarios, sorted.
func BuiltinNames() []string {
	files, _ := fs.Glob(builtinFS, "builtin/*.yaml") // the pattern is valid
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(path.Base(f), ".yaml")
	}
	return names
}
