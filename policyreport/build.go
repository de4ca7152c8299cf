package policyreport

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
	orv1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Format is a kind of policy report.
type Format string

// Formats.
const (
	// OpenReports is openreports.io/v1alpha1 Report.
	OpenReports Format = "openreports"
	// PolicyReport is wgpolicyk8s.io/v1alpha2 PolicyReport.
	PolicyReport Format = "policyreport"
)

// AllFormats are the formats Write writes when Options.Formats is empty.
var AllFormats = []Format{OpenReports, PolicyReport}

type formatInfo struct {
	gvr  schema.GroupVersionResource
	kind string
}

var formatInfos = map[Format]formatInfo{
	OpenReports:  {schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}, "Report"},
	PolicyReport: {schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}, "PolicyReport"},
}

// GroupVersionResource is the format's resource, e.g.
// openreports.io/v1alpha1, Resource=reports. It panics on an unknown format.
func (f Format) GroupVersionResource() schema.GroupVersionResource { return f.info().gvr }

// Kind is the format's kind: Report or PolicyReport. It panics on an unknown
// format.
func (f Format) Kind() string { return f.info().kind }

func (f Format) info() formatInfo {
	i, ok := formatInfos[f]
	if !ok {
		panic(fmt.Sprintf("policyreport: unknown format %q", string(f)))
	}
	return i
}

// Validate reports whether f is a known format.
func (f Format) Validate() error {
	if _, ok := formatInfos[f]; !ok {
		return fmt.Errorf("unknown policy report format %q (want %s or %s)", string(f), OpenReports, PolicyReport)
	}
	return nil
}

// Results of a report entry: the values both APIs allow.
const (
	ResultPass  = "pass"
	ResultFail  = "fail"
	ResultWarn  = "warn" // never written: see the package documentation
	ResultError = "error"
	ResultSkip  = "skip"
)

// Constants of the objects and entries this package writes.
const (
	// DefaultName names the report object in each namespace.
	DefaultName = "netverify"
	// Source is the source of every report and entry.
	Source = "netverify"
	// Category is the category of every entry.
	Category = "NetworkPolicy"
	// LabelManagedBy (value ManagedBy) marks the objects netverify writes;
	// Write updates only objects that carry it.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "netverify"
	// LabelReportedRunID is the id of the run a report reports. It is not
	// netverify.io/run-id: `netverify cleanup` deletes by that one.
	LabelReportedRunID = "netverify.io/reported-run-id"
)

// Property keys of an entry.
const (
	PropFrom      = "from"
	PropTo        = "to"
	PropPort      = "port"
	PropExpected  = "expected"
	PropObserved  = "observed"
	PropStatus    = "status" // netverify's own status: pass, fail, …, implementation-defined
	PropRunID     = "runID"
	PropDecidedBy = "decidedBy"
)

// Options tune Build and Write. The zero value writes both formats, each
// object named DefaultName.
type Options struct {
	// Name names the report object in every namespace (DefaultName when
	// empty). Give two scheduled suites different names so that each
	// replaces only its own report.
	Name string
	// Formats are the formats Write writes, each only if the cluster serves
	// it; AllFormats when empty.
	Formats []Format
}

func (o Options) name() string {
	if o.Name == "" {
		return DefaultName
	}
	return o.Name
}

// formats returns the requested formats and whether they were chosen
// explicitly.
func (o Options) formats() ([]Format, bool) {
	if len(o.Formats) == 0 {
		return AllFormats, false
	}
	return o.Formats, true
}

// Validate checks the options before anything is written: the name must be a
// DNS subdomain, every format known and named once.
func (o Options) Validate() error {
	var problems []string
	if errs := validation.IsDNS1123Subdomain(o.name()); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("report name %q: %s", o.name(), strings.Join(errs, "; ")))
	}
	seen := map[Format]bool{}
	for _, f := range o.Formats {
		if err := f.Validate(); err != nil {
			problems = append(problems, err.Error())
		} else if seen[f] {
			problems = append(problems, fmt.Sprintf("policy report format %q given twice", string(f)))
		}
		seen[f] = true
	}
	if len(problems) > 0 {
		return fmt.Errorf("policy report options: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Namespaces returns the namespaces rep has results for: every namespace
// named in a result's Live, sorted, each once.
func Namespaces(rep *results.Report) []string {
	var nss []string
	for _, r := range rep.Results {
		for _, ns := range r.Live {
			if ns != "" && !slices.Contains(nss, ns) {
				nss = append(nss, ns)
			}
		}
	}
	slices.Sort(nss)
	return nss
}

// Build returns the report objects of format f for rep: one per namespace
// (see Namespaces), in namespace order, none when no result was checked in
// place. It reads nothing but its arguments.
func Build(rep *results.Report, f Format, opts Options) ([]*unstructured.Unstructured, error) {
	if rep == nil {
		return nil, fmt.Errorf("building policy reports: no report")
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, ns := range Namespaces(rep) {
		obj, err := build(rep, f, ns, opts.name())
		if err != nil {
			return nil, fmt.Errorf("building %s %s/%s: %w", f.Kind(), ns, opts.name(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func build(rep *results.Report, f Format, ns, name string) (*unstructured.Unstructured, error) {
	ts := timestamp(rep)
	report := orv1.Report{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(rep)},
		Source:     Source,
		Scope:      &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: ns},
	}
	for _, r := range rep.Results {
		if !slices.Contains(r.Live, ns) {
			continue
		}
		e := entry(r, rep, ts)
		report.Results = append(report.Results, e)
		count(&report.Summary, e.Result)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&report)
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{Object: m}
	// The converter writes the zero creationTimestamp as null; the server
	// sets it.
	unstructured.RemoveNestedField(obj.Object, "metadata", "creationTimestamp")
	if f == PolicyReport {
		// The v1alpha2 PolicyReport has the same fields but no top-level
		// source (each entry carries it).
		unstructured.RemoveNestedField(obj.Object, "source")
	}
	gvr := f.GroupVersionResource()
	obj.SetAPIVersion(gvr.GroupVersion().String())
	obj.SetKind(f.Kind())
	return obj, nil
}

// labels of every report of rep: managed-by, and the run id when it is a
// valid label value.
func labels(rep *results.Report) map[string]string {
	l := map[string]string{LabelManagedBy: ManagedBy}
	if rep.RunID != "" && len(validation.IsValidLabelValue(rep.RunID)) == 0 {
		l[LabelReportedRunID] = rep.RunID
	}
	return l
}

// timestamp is when the run ended (its start when the duration is unknown).
func timestamp(rep *results.Report) metav1.Timestamp {
	if rep.Started.IsZero() {
		return metav1.Timestamp{}
	}
	d := rep.Duration
	if d == 0 {
		d = time.Duration(rep.DurationMs) * time.Millisecond
	}
	t := rep.Started.Add(d)
	return metav1.Timestamp{Seconds: t.Unix(), Nanos: int32(t.Nanosecond())}
}

// ResultOf maps a netverify status to a report result (see the package
// documentation): "" for a status it does not know.
func ResultOf(s results.Status) string {
	switch s {
	case results.Pass:
		return ResultPass
	case results.Fail:
		return ResultFail
	case results.StatusError, results.Inconclusive:
		return ResultError
	case results.Skipped, results.ImplementationDefined:
		return ResultSkip
	}
	return ""
}

func count(s *orv1.ReportSummary, result orv1.Result) {
	switch result {
	case ResultPass:
		s.Pass++
	case ResultFail:
		s.Fail++
	case ResultWarn:
		s.Warn++
	case ResultError:
		s.Error++
	case ResultSkip:
		s.Skip++
	}
}

func entry(r results.Result, rep *results.Report, ts metav1.Timestamp) orv1.ReportResult {
	result := ResultOf(r.Status)
	if result == "" {
		result = ResultError // a status this version does not know: not a pass
	}
	policy := r.Scenario
	if policy == "" {
		policy = Source
	}
	props := map[string]string{}
	for k, v := range map[string]string{
		PropFrom: r.From, PropTo: r.To, PropPort: r.NamedPortString(),
		PropExpected: string(r.Expected), PropObserved: string(r.Observed), PropStatus: string(r.Status),
		PropRunID: rep.RunID, PropDecidedBy: r.DecidedBy,
	} {
		if v != "" {
			props[k] = v
		}
	}
	return orv1.ReportResult{
		Source:      Source,
		Policy:      policy,
		Rule:        Rule(r),
		Category:    Category,
		Timestamp:   ts,
		Result:      orv1.Result(result),
		Scored:      true,
		Description: Message(r, rep.Kept),
		Properties:  props,
	}
}

// Rule is the rule of r's entry: the expectation's name, or "from → to port"
// when it has none.
func Rule(r results.Result) string {
	if r.Name != "" {
		return r.Name
	}
	return strings.TrimSpace(fmt.Sprintf("%s → %s %s", r.From, r.To, r.NamedPortString()))
}

// Message is the message of r's entry: "expected blocked, observed allowed:
// connected", then "; decided by <rule>" when the semantics engine decided
// it, then for a result that did not pass "; reproduce: <kubectl exec …>"
// (noting when the run's namespaces were removed, kept false).
func Message(r results.Result, kept bool) string {
	var b strings.Builder
	if r.Observed == results.None || r.Observed == "" {
		fmt.Fprintf(&b, "expected %s, not observed", r.Expected)
	} else {
		fmt.Fprintf(&b, "expected %s, observed %s", r.Expected, r.Observed)
	}
	if r.Reason != "" {
		b.WriteString(": " + r.Reason)
	}
	if r.DecidedBy != "" {
		b.WriteString("; decided by " + r.DecidedBy)
	}
	if r.Status != results.Pass && r.Repro != "" {
		b.WriteString("; reproduce: " + r.Repro)
		if !kept {
			b.WriteString(" (the run's namespaces were removed: run again with --keep=on-failure)")
		}
	}
	return b.String()
}
