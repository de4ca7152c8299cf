package scenarios

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files: testdata/invalid/*.err and docs/scenario.schema.json")

func TestLoadValid(t *testing.T) {
	t.Parallel()
	files := globYAML(t, "testdata/valid")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			got, err := Load([]string{file}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(got) == 0 {
				t.Fatal("Load returned no scenarios")
			}
			for _, s := range got {
				if s.Source != file {
					t.Errorf("Source = %q, want %q", s.Source, file)
				}
				if s.Builtin {
					t.Errorf("scenario %q from a file has Builtin set", s.Metadata.Name)
				}
			}
		})
	}
}

// TestLoadInvalid loads each testdata/invalid/NAME.yaml and compares the
// whole error text with NAME.err.
func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	for _, file := range globYAML(t, "testdata/invalid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			got, err := Load([]string{file}, nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if got != nil {
				t.Errorf("Load returned %d scenarios along with the error", len(got))
			}
			golden := strings.TrimSuffix(file, filepath.Ext(file)) + ".err"
			checkGolden(t, golden, err.Error()+"\n")
		})
	}
}

func TestLoadDirectory(t *testing.T) {
	t.Parallel()
	got, err := Load([]string{"testdata/valid"}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var names, sources []string
	for _, s := range got {
		names = append(names, s.Metadata.Name)
		sources = append(sources, s.Source)
	}
	wantNames := []string{"minimal", "multi-one", "multi-two", "policies", "targets"}
	wantSources := []string{
		filepath.Join("testdata", "valid", "minimal.yaml"),
		filepath.Join("testdata", "valid", "multi-doc.yml"),
		filepath.Join("testdata", "valid", "multi-doc.yml"),
		filepath.Join("testdata", "valid", "policies.yaml"),
		filepath.Join("testdata", "valid", "targets.yaml"),
	}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("names = %q, want %q", names, wantNames)
	}
	if !reflect.DeepEqual(sources, wantSources) {
		t.Errorf("sources = %q, want %q", sources, wantSources)
	}
}

func TestLoadStdin(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		got, err := Load([]string{"-", "testdata/valid/targets.yaml"}, strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if len(got) != 2 || got[0].Source != "-" || got[0].Metadata.Name != "minimal" {
			t.Errorf("got %d scenarios, first %q from %q; want minimal from \"-\" first", len(got), got[0].Metadata.Name, got[0].Source)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		bad := strings.Replace(string(data), "allowed: false", "allowed: maybe", 1)
		_, err := Load([]string{"-"}, strings.NewReader(bad))
		want := `-: scenario "minimal": spec.expect[0].allowed: expected true or false, got a string ("maybe")`
		checkError(t, err, want)
	})
}

func TestLoadDuplicateAcrossFiles(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"testdata/duplicate/a.yaml", "testdata/duplicate/b.yaml"}, nil)
	want := `testdata/duplicate/b.yaml (document 2, line 11): scenario "same": metadata.name: duplicate scenario name; also defined in testdata/duplicate/a.yaml`
	checkError(t, err, want)
}

func TestLoadInputErrors(t *testing.T) {
	t.Parallel()
	emptyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(emptyDir, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"no paths", nil, "no scenario files given"},
		{"missing file", []string{"testdata/nope.yaml"}, "stat testdata/nope.yaml: no such file or directory"},
		{"no yaml in directory", []string{emptyDir}, emptyDir + ": no *.yaml or *.yml files in directory"},
		{"stdin twice", []string{"-", "-"}, `"-" (stdin) given more than once` + "\n" + `-: no scenarios found`},
		{
			"every input reported",
			[]string{"testdata/nope.yaml", "testdata/invalid/empty.yaml"},
			"stat testdata/nope.yaml: no such file or directory\ntestdata/invalid/empty.yaml: no scenarios found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tt.paths, strings.NewReader(""))
			if got != nil {
				t.Errorf("Load returned %d scenarios along with the error", len(got))
			}
			checkError(t, err, tt.want)
		})
	}
}

func TestLoadErrorsAreStructured(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"testdata/invalid/missing-allowed.yaml"}, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%v, *Error) = false", err)
	}
	want := &Error{
		Location: "testdata/invalid/missing-allowed.yaml",
		Scenario: "missing-allowed",
		Field:    "spec.expect[1].allowed",
		Message:  "required",
	}
	if *e != *want {
		t.Errorf("first error = %#v, want %#v", e, want)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := LoadBytes("defaults.yaml", []byte(`
apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: defaults}
spec:
  namespaces: [{name: app}]
  pods:
    - {name: a, labels: {app: a}, ports: [{name: http, port: 80}, {port: 53, protocol: UDP}]}
  services:
    - {name: svc, selector: {app: a}, ports: [{name: plain, port: 80}, {name: named, port: 8080, targetPort: http}]}
  policies:
    - metadata: {name: pol}
      spec: {podSelector: {}}
  expect:
    - {from: a, to: a, port: 80, allowed: true}
    - {from: a, to: "svc:svc", port: 80, allowed: true}
    - {from: app/a, to: app/a, port: 53, protocol: UDP, allowed: false}
    - {from: a, to: "dns:example.com", allowed: true}
`))
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	s := got[0]
	if s.Source != "defaults.yaml" {
		t.Errorf("Source = %q", s.Source)
	}
	pod := s.Spec.Pods[0]
	if pod.Namespace != "app" || pod.Ports[0].Protocol != TCP || pod.Ports[1].Protocol != UDP {
		t.Errorf("pod = %+v, want namespace app and protocols TCP, UDP", pod)
	}
	svc := s.Spec.Services[0]
	wantPorts := []ServicePort{
		{Name: "plain", Port: 80, TargetPort: "80", Protocol: TCP},
		{Name: "named", Port: 8080, TargetPort: "http", Protocol: TCP},
	}
	if svc.Namespace != "app" || !reflect.DeepEqual(svc.Ports, wantPorts) {
		t.Errorf("service = %+v, want namespace app and ports %+v", svc, wantPorts)
	}
	pol := s.Spec.Policies[0]
	if pol.Namespace != "app" || pol.Spec.PolicyTypes != nil {
		t.Errorf("policy namespace = %q, policyTypes = %q; want app and none", pol.Namespace, pol.Spec.PolicyTypes)
	}
	var refs []string
	for _, e := range s.Spec.Expect {
		refs = append(refs, e.From+" "+e.To+" "+e.Port+" "+string(e.Protocol))
	}
	wantRefs := []string{
		"app/a app/a 80 TCP",
		"app/a svc:app/svc 80 TCP",
		"app/a app/a 53 UDP",
		"app/a dns:example.com  TCP",
	}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Errorf("expectations (from to port protocol) = %q, want %q", refs, wantRefs)
	}
}

func TestSplitDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantLines []int
	}{
		{"empty", "", nil},
		{"comments only", "# a\n---\n  # b\n---\n", nil},
		{"one", "a: 1\n", []int{1}},
		{"leading separator", "---\n# c\n\na: 1\n", []int{4}},
		{"two", "a: 1\n---\nb: 2\n", []int{1, 3}},
		{"separator with comment", "a: 1\n--- # next\nb: 2\n...\n", []int{1, 3}},
		{"content on separator line", "a: 1\n--- {b: 2}\n", []int{1, 2}},
		{"not a separator", "a: |\n  ---x\n", []int{1}},
		{"crlf", "a: 1\r\n---\r\nb: 2\r\n", []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var lines []int
			for i, d := range splitDocuments([]byte(tt.in)) {
				if d.index != i+1 {
					t.Errorf("document %d has index %d", i+1, d.index)
				}
				lines = append(lines, d.line)
			}
			if !reflect.DeepEqual(lines, tt.wantLines) {
				t.Errorf("document lines = %v, want %v", lines, tt.wantLines)
			}
		})
	}
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	got, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	names := BuiltinNames()
	if len(got) != len(names) {
		t.Fatalf("Builtin returned %d scenarios for %d files %q; want one per file", len(got), len(names), names)
	}
	for i, s := range got {
		if s.Metadata.Name != names[i] || s.Source != "builtin:"+names[i]+".yaml" {
			t.Errorf("scenario %q from %q; want each file named after its scenario", s.Metadata.Name, s.Source)
		}
		if !s.Builtin {
			t.Errorf("scenario %q: Builtin not set", s.Metadata.Name)
		}
	}
	want := []string{"allow-dns", "backend-database", "cross-namespace-monitoring", "default-deny",
		"egress-restriction", "frontend-backend", "metadata-blocked", "namespace-isolation-allow-same-namespace",
		"namespace-isolation", "sctp", "udp"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("BuiltinNames() = %q, want %q", names, want)
	}
	// every built-in scenario shows both sides: something allowed and something denied
	for _, s := range got {
		var allowed, denied int
		for _, e := range s.Spec.Expect {
			if e.IsAllowed() {
				allowed++
			} else {
				denied++
			}
		}
		if allowed == 0 || denied == 0 {
			t.Errorf("built-in %q has %d allowed and %d denied expectations; want both", s.Metadata.Name, allowed, denied)
		}
	}
}

func TestBuiltinFrontendBackend(t *testing.T) {
	t.Parallel()
	got, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	var s *Scenario
	for _, x := range got {
		if x.Metadata.Name == "frontend-backend" {
			s = x
		}
	}
	var expect []string
	for _, e := range s.Spec.Expect {
		port, err := s.ResolvePort(e)
		if err != nil {
			t.Fatalf("ResolvePort(%+v): %v", e, err)
		}
		verdict := "blocked"
		if e.IsAllowed() {
			verdict = "allowed"
		}
		expect = append(expect, e.From+" -> "+e.To+":"+strconv.Itoa(int(port))+" "+verdict)
	}
	want := []string{
		"app/frontend -> app/backend:8080 allowed",
		"app/random -> app/backend:8080 blocked",
		"app/frontend -> app/backend:9090 blocked",
	}
	if !reflect.DeepEqual(expect, want) {
		t.Errorf("expectations = %q, want %q", expect, want)
	}
}

func TestExamples(t *testing.T) {
	t.Parallel()
	got, err := Load([]string{"../examples"}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(got) == 0 {
		t.Fatal("no examples")
	}
}

// globYAML returns the *.yaml and *.yml files of dir.
func globYAML(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no YAML files in %s", dir)
	}
	return files
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("mismatch with %s (run with -update to accept)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func checkError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want:\n%s", want)
	}
	if err.Error() != want {
		t.Errorf("got error:\n%s\nwant:\n%s", err, want)
	}
}
