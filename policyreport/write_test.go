package policyreport

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netverify/netverify/results"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

var (
	reportsGVR       = schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}
	policyReportsGVR = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
)

func newDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		reportsGVR:       "ReportList",
		policyReportsGVR: "PolicyReportList",
	}, objs...)
}

// newDiscovery serves the given formats' resources (and an unrelated
// resource of the same group, so a served group without the resource is
// tested too).
func newDiscovery(served ...Format) *fakediscovery.FakeDiscovery {
	d := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{}}
	for _, f := range served {
		gvr := f.GroupVersionResource()
		d.Resources = append(d.Resources, &metav1.APIResourceList{
			GroupVersion: gvr.GroupVersion().String(),
			APIResources: []metav1.APIResource{{Name: gvr.Resource, Namespaced: true, Kind: f.Kind()}},
		})
	}
	return d
}

// twoNamespaces has results in prod and shop (one in both).
func twoNamespaces() *results.Report {
	return makeReport(
		makeResult("s", "prod/a", "prod/b", []string{"prod"}),
		makeResult("s", "prod/a", "shop/c", []string{"prod", "shop"}, failed),
	)
}

func get(t *testing.T, dyn *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestWriteCreatesEveryServedFormat(t *testing.T) {
	t.Parallel()
	dyn := newDynamic()
	rep := twoNamespaces()
	written, warnings, err := Write(context.Background(), dyn, newDiscovery(OpenReports, PolicyReport), rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	want := []string{
		"openreports.io/v1alpha1 Report prod/netverify", "openreports.io/v1alpha1 Report shop/netverify",
		"wgpolicyk8s.io/v1alpha2 PolicyReport prod/netverify", "wgpolicyk8s.io/v1alpha2 PolicyReport shop/netverify",
	}
	if !reflect.DeepEqual(written, want) {
		t.Errorf("written %q, want %q", written, want)
	}
	for _, f := range AllFormats {
		for _, wantObj := range mustBuild(t, rep, f, Options{}) {
			got := get(t, dyn, f.GroupVersionResource(), wantObj.GetNamespace(), DefaultName)
			if !reflect.DeepEqual(got.Object, wantObj.Object) {
				t.Errorf("%s %s: stored\n%v\nwant\n%v", f, wantObj.GetNamespace(), got.Object, wantObj.Object)
			}
		}
	}
	shop := decode(t, get(t, dyn, reportsGVR, "shop", DefaultName))
	if len(shop.Results) != 1 || shop.Summary.Fail != 1 || shop.Summary.Pass != 0 {
		t.Errorf("shop report: %d results, summary %+v; want the one failed result", len(shop.Results), shop.Summary)
	}
}

// existing is a report netverify wrote before, at resourceVersion 7, with a
// label and an annotation someone else added.
func existing(gvr schema.GroupVersionResource, kind, ns string, managed bool) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"summary": map[string]any{"pass": int64(0), "fail": int64(9)},
		"results": []any{map[string]any{"policy": "old", "result": "fail"}},
	}}
	obj.SetAPIVersion(gvr.GroupVersion().String())
	obj.SetKind(kind)
	obj.SetNamespace(ns)
	obj.SetName(DefaultName)
	obj.SetResourceVersion("7")
	labels := map[string]string{"team": "payments", LabelReportedRunID: "older"}
	if managed {
		labels[LabelManagedBy] = ManagedBy
	}
	obj.SetLabels(labels)
	obj.SetAnnotations(map[string]string{"note": "keep me"})
	return obj
}

func TestWriteUpdatesExisting(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(existing(reportsGVR, "Report", "prod", true))
	rep := makeReport(makeResult("s", "prod/a", "prod/b", []string{"prod"}))
	written, warnings, err := Write(context.Background(), dyn, newDiscovery(OpenReports), rep, Options{})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("err %v, warnings %q", err, warnings)
	}
	if !reflect.DeepEqual(written, []string{"openreports.io/v1alpha1 Report prod/netverify"}) {
		t.Errorf("written %q", written)
	}
	var updates []*unstructured.Unstructured
	for _, a := range dyn.Actions() {
		if u, ok := a.(k8stesting.UpdateAction); ok && a.GetVerb() == "update" {
			updates = append(updates, u.GetObject().(*unstructured.Unstructured))
		}
	}
	if len(updates) != 1 {
		t.Fatalf("%d updates, want 1: %v", len(updates), dyn.Actions())
	}
	if rv := updates[0].GetResourceVersion(); rv != "7" {
		t.Errorf("update sent resourceVersion %q, want the existing 7", rv)
	}
	got := get(t, dyn, reportsGVR, "prod", DefaultName)
	wantLabels := map[string]string{"team": "payments", LabelManagedBy: ManagedBy, LabelReportedRunID: "k3x9qa"}
	if !reflect.DeepEqual(got.GetLabels(), wantLabels) {
		t.Errorf("labels %v, want %v", got.GetLabels(), wantLabels)
	}
	if got.GetAnnotations()["note"] != "keep me" {
		t.Errorf("annotations %v: someone's annotation was dropped", got.GetAnnotations())
	}
	r := decode(t, got)
	if len(r.Results) != 1 || r.Results[0].Policy != "s" || r.Summary.Pass != 1 || r.Summary.Fail != 0 {
		t.Errorf("report not replaced: %d results %+v, summary %+v", len(r.Results), r.Results, r.Summary)
	}
}

func TestWriteRetriesOnConflict(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(existing(policyReportsGVR, "PolicyReport", "prod", true))
	conflicts := 1
	dyn.PrependReactor("update", "policyreports", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(policyReportsGVR.GroupResource(), DefaultName, nil)
		}
		return false, nil, nil
	})
	rep := makeReport(makeResult("s", "prod/a", "prod/b", []string{"prod"}))
	written, warnings, err := Write(context.Background(), dyn, newDiscovery(PolicyReport), rep, Options{})
	if err != nil || len(warnings) != 0 || len(written) != 1 {
		t.Fatalf("written %q, warnings %q, err %v", written, warnings, err)
	}
	if got := decode(t, get(t, dyn, policyReportsGVR, "prod", DefaultName)); got.Summary.Pass != 1 {
		t.Errorf("summary after the retry %+v", got.Summary)
	}
}

func TestWriteLeavesForeignObjectAlone(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(existing(reportsGVR, "Report", "prod", false))
	rep := makeReport(makeResult("s", "prod/a", "prod/b", []string{"prod"}))
	written, warnings, err := Write(context.Background(), dyn, newDiscovery(OpenReports), rep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "left alone") {
		t.Errorf("written %q, warnings %q; want one warning that it was left alone", written, warnings)
	}
	if got := decode(t, get(t, dyn, reportsGVR, "prod", DefaultName)); got.Summary.Fail != 9 {
		t.Errorf("foreign report changed: summary %+v", got.Summary)
	}
}

func TestWriteOnlyServedFormats(t *testing.T) {
	t.Parallel()
	rep := twoNamespaces()
	tests := []struct {
		name         string
		served       []Format
		formats      []Format
		wantWritten  int
		wantWarnings []string // substrings, one per warning
	}{
		{"only PolicyReport served, default formats: silent", []Format{PolicyReport}, nil, 2, nil},
		{"only OpenReports served, default formats: silent", []Format{OpenReports}, nil, 2, nil},
		{"none served: one warning", nil, nil, 0, []string{"serves none of reports.openreports.io/v1alpha1, policyreports.wgpolicyk8s.io/v1alpha2"}},
		{"asked for OpenReports, not served", []Format{PolicyReport}, []Format{OpenReports}, 0, []string{"does not serve reports.openreports.io/v1alpha1"}},
		{"asked for PolicyReport, served", []Format{PolicyReport}, []Format{PolicyReport}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dyn := newDynamic()
			written, warnings, err := Write(context.Background(), dyn, newDiscovery(tt.served...), rep, Options{Formats: tt.formats})
			if err != nil {
				t.Fatal(err)
			}
			if len(written) != tt.wantWritten {
				t.Errorf("written %q, want %d objects", written, tt.wantWritten)
			}
			if len(warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings %q, want %q", warnings, tt.wantWarnings)
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q, want one containing %q", warnings[i], w)
				}
			}
			for _, a := range dyn.Actions() {
				if !slices.Contains(tt.served, formatOf(a.GetResource())) {
					t.Errorf("%s on %s, which is not served", a.GetVerb(), a.GetResource())
				}
			}
		})
	}
}

func formatOf(gvr schema.GroupVersionResource) Format {
	for _, f := range AllFormats {
		if f.GroupVersionResource() == gvr {
			return f
		}
	}
	return ""
}

func TestWriteServedGroupWithoutResource(t *testing.T) {
	t.Parallel()
	disc := newDiscovery()
	disc.Resources = []*metav1.APIResourceList{{GroupVersion: "openreports.io/v1alpha1", APIResources: []metav1.APIResource{{Name: "clusterreports"}}}}
	written, warnings, err := Write(context.Background(), newDynamic(), disc, twoNamespaces(), Options{Formats: []Format{OpenReports}})
	if err != nil || len(written) != 0 || len(warnings) != 1 {
		t.Errorf("written %q, warnings %q, err %v; want one not-served warning", written, warnings, err)
	}
}

func TestWriteForbidden(t *testing.T) {
	t.Parallel()
	forbid := func(verb, resource string) k8stesting.ReactionFunc {
		return func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: a.GetResource().Group, Resource: resource}, DefaultName, nil)
		}
	}
	rep := makeReport(makeResult("s", "prod/a", "prod/b", []string{"prod"}))
	t.Run("create", func(t *testing.T) {
		t.Parallel()
		dyn := newDynamic()
		dyn.PrependReactor("create", "reports", forbid("create", "reports"))
		written, warnings, err := Write(context.Background(), dyn, newDiscovery(OpenReports, PolicyReport), rep, Options{})
		if err != nil {
			t.Fatalf("forbidden is an error: %v", err)
		}
		if !reflect.DeepEqual(written, []string{"wgpolicyk8s.io/v1alpha2 PolicyReport prod/netverify"}) {
			t.Errorf("written %q: the other format must still be written", written)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "forbidden to create reports.openreports.io in namespace prod") {
			t.Errorf("warnings %q", warnings)
		}
	})
	t.Run("update", func(t *testing.T) {
		t.Parallel()
		dyn := newDynamic(existing(policyReportsGVR, "PolicyReport", "prod", true))
		dyn.PrependReactor("update", "policyreports", forbid("update", "policyreports"))
		written, warnings, err := Write(context.Background(), dyn, newDiscovery(PolicyReport), rep, Options{})
		if err != nil || len(written) != 0 {
			t.Fatalf("written %q, err %v", written, err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "forbidden to update policyreports.wgpolicyk8s.io in namespace prod") {
			t.Errorf("warnings %q", warnings)
		}
	})
	t.Run("get", func(t *testing.T) {
		t.Parallel()
		dyn := newDynamic(existing(policyReportsGVR, "PolicyReport", "prod", true))
		dyn.PrependReactor("get", "policyreports", forbid("get", "policyreports"))
		_, warnings, err := Write(context.Background(), dyn, newDiscovery(PolicyReport), rep, Options{})
		if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "forbidden to get policyreports.wgpolicyk8s.io") {
			t.Errorf("warnings %q, err %v", warnings, err)
		}
	})
	t.Run("discovery", func(t *testing.T) {
		t.Parallel()
		disc := newDiscovery(OpenReports, PolicyReport)
		disc.PrependReactor("get", "resource", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{}, "", nil)
		})
		written, warnings, err := Write(context.Background(), newDynamic(), disc, rep, Options{})
		if err != nil || len(written) != 0 || len(warnings) != 2 || !strings.Contains(warnings[0], "forbidden to discover openreports.io/v1alpha1") {
			t.Errorf("written %q, warnings %q, err %v", written, warnings, err)
		}
	})
}

func TestWriteOtherErrorsJoinedAfterTheRest(t *testing.T) {
	t.Parallel()
	dyn := newDynamic()
	dyn.PrependReactor("create", "reports", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "prod" {
			return true, nil, apierrors.NewInternalError(errTest("etcd is sad"))
		}
		return false, nil, nil
	})
	written, _, err := Write(context.Background(), dyn, newDiscovery(OpenReports), twoNamespaces(), Options{})
	if err == nil || !strings.Contains(err.Error(), "creating openreports.io/v1alpha1 Report prod/netverify") {
		t.Errorf("err %v", err)
	}
	if !reflect.DeepEqual(written, []string{"openreports.io/v1alpha1 Report shop/netverify"}) {
		t.Errorf("written %q: shop must still be written", written)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestWriteNothingLiveCallsNothing(t *testing.T) {
	t.Parallel()
	dyn, disc := newDynamic(), newDiscovery(OpenReports, PolicyReport)
	written, warnings, err := Write(context.Background(), dyn, disc, makeReport(makeResult("s", "a", "b", nil)), Options{})
	if err != nil || len(written)+len(warnings) != 0 {
		t.Errorf("written %q, warnings %q, err %v", written, warnings, err)
	}
	if n := len(dyn.Actions()) + len(disc.Actions()); n != 0 {
		t.Errorf("%d API calls for a run with nothing to report", n)
	}
}

func TestWriteRejectsBadOptionsBeforeAnyCall(t *testing.T) {
	t.Parallel()
	dyn, disc := newDynamic(), newDiscovery(OpenReports, PolicyReport)
	_, _, err := Write(context.Background(), dyn, disc, twoNamespaces(), Options{Name: "-bad-", Formats: []Format{"junit"}})
	if err == nil || !strings.Contains(err.Error(), `report name "-bad-"`) || !strings.Contains(err.Error(), `"junit"`) {
		t.Errorf("err %v, want both problems", err)
	}
	if n := len(dyn.Actions()) + len(disc.Actions()); n != 0 {
		t.Errorf("%d API calls before validation failed", n)
	}
}
