package scenarios

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
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
	wantNames := []string{"cluster-network-policies", "implementation-defined", "production-in-place", "minimal", "multi-one", "multi-two", "policies", "targets"}
	wantSources := []string{
		filepath.Join("testdata", "valid", "cluster-network-policies.yaml"),
		filepath.Join("testdata", "valid", "implementation-defined.yaml"),
		filepath.Join("testdata", "valid", "in-place.yaml"),
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
		Message:  "required (or implementationDefined: WHY, for a connection the API leaves to the implementation)",
	}
	if *e != *want {
		t.Errorf("first error = %#v, want %#v", e, want)
	}
}

// TestLoadImplementationDefined checks what the loader makes of
// expectations declared implementation-defined: with both outcomes
// accepted, ImplementationDefined is the reason and Allowed is unset; with
// one, an ordinary expectation of it.
func TestLoadImplementationDefined(t *testing.T) {
	t.Parallel()
	scs, err := Load([]string{"testdata/valid/implementation-defined.yaml"}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	type settled struct {
		allowed               *bool
		implementationDefined string
		accepts               [2]bool // blocked, allowed
	}
	no := false
	want := []settled{
		{nil, "ipBlock 10.0.0.0/8 may cover the client's pod IP; Calico applies ipBlocks to pod IPs, Cilium by default does not", [2]bool{true, true}},
		{nil, "as above", [2]bool{true, true}},
		{&no, "", [2]bool{true, false}},
	}
	exps := scs[0].Spec.Expect
	if len(exps) != len(want) {
		t.Fatalf("%d expectations, want %d", len(exps), len(want))
	}
	for i, e := range exps {
		w := want[i]
		if (e.Allowed == nil) != (w.allowed == nil) || e.Allowed != nil && *e.Allowed != *w.allowed {
			t.Errorf("expect[%d]: Allowed = %v, want %v", i, e.Allowed, w.allowed)
		}
		if e.ImplementationDefined != w.implementationDefined {
			t.Errorf("expect[%d]: ImplementationDefined = %q, want %q", i, e.ImplementationDefined, w.implementationDefined)
		}
		if got := [2]bool{e.Accepts(false), e.Accepts(true)}; got != w.accepts {
			t.Errorf("expect[%d]: accepts blocked, allowed = %v, want %v", i, got, w.accepts)
		}
	}
	if e := exps[2]; e.ImplementationDefinedWhy == "" || len(e.Accept) != 1 {
		t.Errorf("expect[2]: the reason and accept list as written are gone: %+v", e)
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
	want := []string{"admin-deny", "admin-metadata", "admin-pass", "allow-dns", "backend-database", "baseline-deny",
		"cross-namespace-monitoring", "default-deny",
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

// TestLoadManyDocumentsAllocatesLinearly: 20,000 tiny documents (180 KB)
// once took ~1 GB and 18 s, each document being padded with the newlines of
// all those before it. The bounds are on allocated bytes, not on time: ten
// times the documents may take at most twelve times the memory, and each
// document at most 16 KiB (parsing one YAML document costs ~3 KiB, its six
// problems the rest).
// Not parallel: TotalAlloc counts the allocations of every goroutine.
func TestLoadManyDocumentsAllocatesLinearly(t *testing.T) {
	allocated := func(docs int) uint64 {
		data := []byte(strings.Repeat("k: v\n---\n", docs))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := LoadBytes("many.yaml", data)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatal("LoadBytes succeeded on documents that are not scenarios")
		}
		// Line numbers are still those of the file.
		want := fmt.Sprintf("many.yaml (document %d, line %d): k: unknown field", docs, 2*docs-1)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors do not contain %q", want)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(2000), allocated(20000)
	t.Logf("2,000 documents: %d KiB; 20,000: %d KiB", small>>10, large>>10)
	if large > 12*small {
		t.Errorf("20,000 documents allocated %d MiB, 2,000 %d MiB: more than linear", large>>20, small>>20)
	}
	if perDoc := large / 20000; perDoc > 16<<10 {
		t.Errorf("20,000 documents allocated %d MiB, %d bytes each, want at most 16 KiB each", large>>20, perDoc)
	}
}

// endless is an input that never ends (like /dev/zero or a stdin that is
// never closed), made of blank lines. It fails once far more than any limit
// has been read, so that a loader without one fails rather than exhausting
// memory.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	if e.read > 64<<20 {
		return 0, errors.New("endless: read 64 MiB, the loader does not bound its input")
	}
	for i := range p {
		p[i] = '\n'
	}
	e.read += len(p)
	return len(p), nil
}

func TestLoadBoundsInputSize(t *testing.T) {
	t.Parallel()
	const limit = MaxInputBytes
	if limit != 8<<20 {
		t.Errorf("MaxInputBytes = %d, want the documented 8 MiB", limit)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	// Comments only: without the limit, the error would be "no scenarios".
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", limit/2)+"#"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		_, err := Load([]string{big}, nil)
		checkError(t, err, big+": larger than 8 MiB, the limit of a scenario file; split it into several files")
	})
	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		in := &endless{}
		_, err := Load([]string{"-"}, in)
		checkError(t, err, "-: larger than 8 MiB, the limit of a scenario file; split it into several files")
		if in.read > 2*limit {
			t.Errorf("read %d bytes of stdin, want no more than the limit and a buffer", in.read)
		}
	})
	t.Run("/dev/zero", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip(err)
		}
		_, err := Load([]string{"/dev/zero"}, nil)
		checkError(t, err, "/dev/zero: larger than 8 MiB, the limit of a scenario file; split it into several files")
	})
	t.Run("directory entry", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.Symlink(big, filepath.Join(dir, "big.yaml")); err != nil {
			t.Fatal(err)
		}
		_, err := Load([]string{dir}, nil)
		checkError(t, err, filepath.Join(dir, "big.yaml")+": larger than 8 MiB, the limit of a scenario file; split it into several files")
	})
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		_, err := LoadBytes("mem.yaml", make([]byte, limit+1))
		checkError(t, err, "mem.yaml: larger than 8 MiB, the limit of a scenario file; split it into several files")
	})
}

// policyScenario is a valid scenario whose one policy has the given
// metadata lines (YAML, indented under metadata:).
func policyScenario(metadata string) []byte {
	return []byte(`apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: pm}
spec:
  namespaces: [{name: ns}]
  pods: [{name: p, ports: [{port: 80}]}]
  policies:
    - metadata:
        name: pol
` + metadata + `
      spec: {podSelector: {}}
  expect:
    - {from: p, to: p, port: 80, allowed: true}
`)
}

// TestPolicyMetadata: a policy's metadata is passed to the cluster, so it
// may set only what a scenario needs; anything else is rejected up front.
func TestPolicyMetadata(t *testing.T) {
	t.Parallel()
	const prefix = `pm.yaml: scenario "pm": spec.policies[0].metadata.`
	const notAllowed = ": not allowed in a scenario's policy: set only name, namespace, labels and annotations"
	tests := []struct {
		name     string
		metadata string
		want     string // "" for valid
	}{
		{"labels and annotations", "        labels: {app: x}\n        annotations: {example.com/note: hi, plain: x}\n        namespace: ns", ""},
		{"finalizers", "        finalizers: [example.com/keep]", prefix + "finalizers" + notAllowed},
		{"empty finalizers", "        finalizers: []", prefix + "finalizers" + notAllowed},
		{"ownerReferences", "        ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: o, uid: u}]", prefix + "ownerReferences" + notAllowed},
		{"generateName", "        generateName: pol-", prefix + "generateName" + notAllowed},
		{"uid", "        uid: u", prefix + "uid" + notAllowed},
		{"resourceVersion", `        resourceVersion: "1"`, prefix + "resourceVersion" + notAllowed},
		{"generation", "        generation: 1", prefix + "generation" + notAllowed},
		{"selfLink", "        selfLink: /x", prefix + "selfLink" + notAllowed},
		{"creationTimestamp", `        creationTimestamp: "2024-01-01T00:00:00Z"`, prefix + "creationTimestamp" + notAllowed},
		{"deletionTimestamp", `        deletionTimestamp: "2024-01-01T00:00:00Z"`, prefix + "deletionTimestamp" + notAllowed},
		{"deletionGracePeriodSeconds", "        deletionGracePeriodSeconds: 0", prefix + "deletionGracePeriodSeconds" + notAllowed},
		{"managedFields", "        managedFields: [{manager: m}]", prefix + "managedFields" + notAllowed},
		{"invalid annotation keys", `        annotations: {"bad key!": x, -dash/x: y2, Example.COM/Upper-Case: ok}`,
			prefix + "annotations[-dash/x]: invalid annotation key: prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n" +
				prefix + "annotations[bad key!]: invalid annotation key: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"},
		{"annotations too large", "        annotations: {a: " + strings.Repeat("x", 256<<10) + "}", prefix + "annotations: total size 262145 bytes is more than 262144, the limit of the API server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadBytes("pm.yaml", policyScenario(tt.metadata))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("LoadBytes: %v", err)
				}
				return
			}
			checkError(t, err, tt.want)
		})
	}
}

// TestLoadWrongTypeHidesNothing: a value of the wrong type is reported
// together with every other problem of its document, and the document still
// takes part in the duplicate-name check across files.
func TestLoadWrongTypeHidesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const valid = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: same}
spec:
  namespaces: [{name: ns}]
  pods: [{name: p, ports: [{port: 80}]}]
  expect:
    - {from: p, to: p, port: 80, allowed: true}
`
	a := write("a.yaml", valid)
	b := write("b.yaml", `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: same}
spec:
  namespaces: [{name: ns}]
  pods: [{name: p, ports: [{port: 80}]}]
  expect:
    - {from: p, to: p, port: 80, allowed: "yes"}
    - {from: p, to: db, port: 80, allowed: true}
`)
	_, err := Load([]string{a, b}, nil)
	checkError(t, err, b+`: scenario "same": spec.expect[0].allowed: expected true or false, got a string ("yes")`+"\n"+
		b+`: scenario "same": spec.expect[1].to: pod "ns/db" is not declared`+"\n"+
		b+`: scenario "same": metadata.name: duplicate scenario name; also defined in `+a)
}

// TestLoadDirectoryContinuesPastUnreadable: an entry of a directory that
// cannot be read is reported with every other problem; the other entries
// are still loaded and checked (here, for a duplicate name).
func TestLoadDirectoryContinuesPastUnreadable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "c.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A dangling symlink cannot be read even by root (chmod 000 can).
	if err := os.Symlink(filepath.Join(dir, "nonexistent"), filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	want := []string{"open " + filepath.Join(dir, "b.yaml") + ": no such file or directory"}
	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "b2.yaml")
		if err := os.WriteFile(locked, data, 0o000); err != nil {
			t.Fatal(err)
		}
		want = append(want, "open "+locked+": permission denied")
	}
	want = append(want, filepath.Join(dir, "c.yaml")+`: scenario "minimal": metadata.name: duplicate scenario name; also defined in `+filepath.Join(dir, "a.yaml"))
	_, err = Load([]string{dir}, nil)
	checkError(t, err, strings.Join(want, "\n"))
}

// TestYAMLErrorLinesCountFromTheFile: the YAML parser sees one document at
// a time, but its errors give lines of the file, the same numbers as when
// each document was padded with the lines before it.
func TestYAMLErrorLinesCountFromTheFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"syntax error, first document", "a: b: c\n", "f.yaml: yaml: mapping values are not allowed in this context"},
		{"syntax error, later document", "x: 1\n---\n# c\na:\n  b: 1\n c: 2\n",
			"f.yaml (document 1, line 1): x: unknown field\nf.yaml (document 2, line 4): yaml: line 5: did not find expected key"}, // the parser's own numbering
		{"syntax error on a later document's first line", "x: 1\n---\n\n\na: b: c\n",
			"f.yaml (document 1, line 1): x: unknown field\nf.yaml (document 2, line 5): yaml: line 5: mapping values are not allowed in this context"},
		{"duplicate key, later document", "x: 1\n---\n\na: 1\na: 2\n",
			"f.yaml (document 1, line 1): x: unknown field\nf.yaml (document 2, line 4): yaml: line 5: key \"a\" already set in map"},
		{"content on the separator line", "x: 1\n--- {a: 1, a: 2}\n",
			"f.yaml (document 1, line 1): x: unknown field\nf.yaml (document 2, line 2): yaml: line 2: key \"a\" already set in map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadBytes("f.yaml", []byte(tt.in))
			// Only the YAML errors matter here, not the validation of
			// the documents that parse.
			var lines []string
			for line := range strings.SplitSeq(fmt.Sprint(err), "\n") {
				if strings.Contains(line, "yaml:") || strings.Contains(line, "unknown field") {
					lines = append(lines, line)
				}
			}
			if got := strings.Join(lines, "\n"); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// A signal while input is still being read (a stdin that never closes)
// ends the load at once.
func TestLoadContextInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe() // never written: a stdin that never closes
	defer pw.Close()
	done := make(chan error, 1)
	go func() {
		_, err := LoadContext(ctx, []string{"-"}, pr)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted while reading -") {
			t.Fatalf("err = %v, want interrupted", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("LoadContext did not return after its context ended")
	}
}
