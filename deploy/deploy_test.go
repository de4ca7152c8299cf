package deploy

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/internal/cli/run"
	"github.com/netverify/netverify/scenarios"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const (
	kustomizeBase = "kustomize/base"
	// kustomizeInPlace is the base with in-place checks of namespace
	// "production", the twin of the chart with inPlace.namespaces
	// [production].
	kustomizeInPlace = "kustomize/inplace"
	chartDir         = "helm/netverify"
	// kubeVersion is the local cluster's; the chart needs >= 1.30.
	kubeVersion = "v1.37.2"
)

// manifest is a rendered installation, by "Kind namespace/name".
type manifest map[string]*unstructured.Unstructured

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + path.Join(u.GetNamespace(), u.GetName())
}

func (m manifest) keys() []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// get returns the object or fails the test.
func (m manifest) get(t *testing.T, k string) *unstructured.Unstructured {
	t.Helper()
	u, ok := m[k]
	if !ok {
		t.Fatalf("no %s among %v", k, m.keys())
	}
	return u
}

// parse reads a multi-document YAML stream; duplicate objects are errors.
func parse(text string) (manifest, error) {
	m := manifest{}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return m, nil
		} else if err != nil {
			return nil, err
		}
		if obj == nil {
			continue // an empty document
		}
		u := &unstructured.Unstructured{Object: obj}
		if _, dup := m[key(u)]; dup {
			return nil, fmt.Errorf("%s rendered twice", key(u))
		}
		m[key(u)] = u
	}
}

func renderKustomize(t *testing.T, dir string) manifest {
	t.Helper()
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	m, err := parse(string(y))
	if err != nil {
		t.Fatalf("kustomize output: %v", err)
	}
	return m
}

// renderHelm renders the chart as `helm template RELEASE -n NAMESPACE` with
// vals over the chart's values.
func renderHelm(release, namespace string, vals map[string]any) (manifest, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: kubeVersion, Major: "1", Minor: "37"}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range files {
		if strings.HasSuffix(n, ".yaml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var all strings.Builder
	for _, n := range names {
		all.WriteString("---\n" + files[n] + "\n")
	}
	return parse(all.String())
}

// defaultHelm is the chart as the kustomize base's twin: release and
// namespace "netverify", with the namespace rendered.
func defaultHelm(t *testing.T) manifest {
	t.Helper()
	return twinHelm(t, nil)
}

// inPlaceValues are the chart values of the kustomize in-place overlay's
// twin.
var inPlaceValues = map[string]any{"inPlace": map[string]any{"namespaces": []any{"production"}}}

// twinHelm is defaultHelm with vals over it.
func twinHelm(t *testing.T, vals map[string]any) manifest {
	t.Helper()
	all := map[string]any{"namespace": map[string]any{"create": true}}
	maps.Copy(all, vals)
	m, err := renderHelm("netverify", "netverify", all)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return m
}

func both(t *testing.T) map[string]manifest {
	return map[string]manifest{"kustomize": renderKustomize(t, kustomizeBase), "helm": defaultHelm(t)}
}

// bothInPlace are the two renders with in-place checks of "production".
func bothInPlace(t *testing.T) map[string]manifest {
	return map[string]manifest{"kustomize": renderKustomize(t, kustomizeInPlace), "helm": twinHelm(t, inPlaceValues)}
}

// typed converts u strictly: an unknown or misspelt field is an error.
func typed[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true); err != nil {
		t.Fatalf("%s: %v", key(u), err)
	}
	return out
}

var wantObjects = []string{
	"ClusterRole netverify-audit",
	"ClusterRole netverify-run",
	"ClusterRoleBinding netverify-run",
	"ConfigMap netverify/netverify-scenarios",
	"CronJob netverify/netverify",
	"Namespace netverify",
	"Role netverify/netverify-report",
	"RoleBinding netverify/netverify-report",
	"ServiceAccount netverify/netverify",
	"ValidatingAdmissionPolicy netverify-confine",
	"ValidatingAdmissionPolicyBinding netverify-confine",
}

// wantInPlaceObjects are what in-place checks of "production" add.
var wantInPlaceObjects = []string{
	"Role kube-system/netverify-cluster-dns",
	"Role production/netverify-inplace",
	"RoleBinding kube-system/netverify-cluster-dns",
	"RoleBinding production/netverify-inplace",
}

func TestBothRenderTheSameObjects(t *testing.T) {
	inPlace := append(slices.Clone(wantObjects), wantInPlaceObjects...)
	slices.Sort(inPlace)
	for _, tc := range []struct {
		name string
		m    map[string]manifest
		want []string
	}{
		{"base", both(t), wantObjects},
		{"in place", bothInPlace(t), inPlace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, h := tc.m["kustomize"], tc.m["helm"]
			if !reflect.DeepEqual(k.keys(), tc.want) {
				t.Errorf("kustomize renders\n%s\nwant\n%s", strings.Join(k.keys(), "\n"), strings.Join(tc.want, "\n"))
			}
			if !reflect.DeepEqual(h.keys(), tc.want) {
				t.Errorf("helm renders\n%s\nwant\n%s", strings.Join(h.keys(), "\n"), strings.Join(tc.want, "\n"))
			}
			// Beyond names, the objects themselves agree, apart from the
			// labels and annotations each tool adds.
			for _, name := range tc.want {
				ko, ho := k[name], h[name]
				if ko == nil || ho == nil {
					continue
				}
				if d := firstDiff(normalized(ko), normalized(ho), ""); d != "" {
					t.Errorf("%s differs at %s", name, d)
				}
			}
		})
	}
}

func normalized(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "labels")
	unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	return c.Object
}

// firstDiff names the first place where two decoded objects differ, with
// both values; "" when they are equal.
func firstDiff(a, b any, at string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := firstDiff(x[k], y[k], at+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			break
		}
		for i := range x {
			if d := firstDiff(x[i], y[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if reflect.DeepEqual(a, b) {
		return ""
	}
	return fmt.Sprintf("%s:\n  kustomize: %#v\n  helm:      %#v", at, a, b)
}

func TestObjectsHaveNoUnknownFields(t *testing.T) {
	renders := both(t)
	for tool, m := range bothInPlace(t) {
		renders[tool+" in place"] = m
	}
	for tool, m := range renders {
		for k, u := range m {
			switch u.GetKind() {
			case "Namespace":
				typed[corev1.Namespace](t, u)
			case "ServiceAccount":
				typed[corev1.ServiceAccount](t, u)
			case "ConfigMap":
				typed[corev1.ConfigMap](t, u)
			case "ClusterRole":
				typed[rbacv1.ClusterRole](t, u)
			case "ClusterRoleBinding":
				typed[rbacv1.ClusterRoleBinding](t, u)
			case "Role":
				typed[rbacv1.Role](t, u)
			case "RoleBinding":
				typed[rbacv1.RoleBinding](t, u)
			case "CronJob":
				typed[batchv1.CronJob](t, u)
			case "ValidatingAdmissionPolicy":
				typed[admissionv1.ValidatingAdmissionPolicy](t, u)
			case "ValidatingAdmissionPolicyBinding":
				typed[admissionv1.ValidatingAdmissionPolicyBinding](t, u)
			default:
				t.Errorf("%s: unexpected %s", tool, k)
			}
		}
	}
}

func TestCronJob(t *testing.T) {
	for tool, m := range both(t) {
		t.Run(tool, func(t *testing.T) {
			cj := typed[batchv1.CronJob](t, m.get(t, "CronJob netverify/netverify"))
			js := cj.Spec.JobTemplate.Spec
			ps := js.Template.Spec
			if cj.Spec.Schedule != "17 * * * *" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				t.Errorf("schedule %q, concurrencyPolicy %q", cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy)
			}
			if js.BackoffLimit == nil || *js.BackoffLimit != 0 || js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds != 1800 {
				t.Errorf("backoffLimit %v, activeDeadlineSeconds %v: want 0 and 1800", js.BackoffLimit, js.ActiveDeadlineSeconds)
			}
			if ps.ServiceAccountName != "netverify" || ps.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("serviceAccountName %q, restartPolicy %q", ps.ServiceAccountName, ps.RestartPolicy)
			}
			psc := ps.SecurityContext
			if psc == nil || !isTrue(psc.RunAsNonRoot) || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
				psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod securityContext %+v is not restricted", psc)
			}
			if len(ps.Containers) != 1 {
				t.Fatalf("%d containers", len(ps.Containers))
			}
			c := ps.Containers[0]
			if c.Image != "netverify/netverify:v0.1.0" || c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("image %q pull %q", c.Image, c.ImagePullPolicy)
			}
			sc := c.SecurityContext
			if sc == nil || !isTrue(sc.RunAsNonRoot) || sc.RunAsUser == nil || *sc.RunAsUser != 65532 ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !isTrue(sc.ReadOnlyRootFilesystem) ||
				sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
				sc.Privileged != nil && *sc.Privileged ||
				sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("container securityContext %+v is not restricted", sc)
			}
			wantArgs := []string{"run", "--builtin", "-f", "/scenarios", "--report-configmap", "netverify/netverify-report", "--image-probe", "netverify/probe:v0.1.0"}
			if !reflect.DeepEqual(c.Args, wantArgs) {
				t.Errorf("args %q, want %q", c.Args, wantArgs)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v: want requests and a memory limit", c.Resources)
			}
			mounted := false
			for _, vm := range c.VolumeMounts {
				if vm.MountPath == "/scenarios" {
					for _, v := range ps.Volumes {
						if v.Name == vm.Name && v.ConfigMap != nil && v.ConfigMap.Name == "netverify-scenarios" {
							mounted = true
						}
					}
				}
			}
			if !mounted {
				t.Error("ConfigMap netverify-scenarios is not mounted at /scenarios")
			}
		})
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

func TestExampleScenarioLoads(t *testing.T) {
	builtin, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string]bool{}
	for _, s := range builtin {
		taken[s.Metadata.Name] = true
	}
	for tool, m := range both(t) {
		cm := typed[corev1.ConfigMap](t, m.get(t, "ConfigMap netverify/netverify-scenarios"))
		if len(cm.Data) == 0 {
			t.Fatalf("%s: no scenarios", tool)
		}
		for file, content := range cm.Data {
			scs, err := scenarios.LoadBytes(file, []byte(content))
			if err != nil {
				t.Errorf("%s: %v", tool, err)
			}
			for _, s := range scs {
				if taken[s.Metadata.Name] {
					t.Errorf("%s: %s: scenario %q clashes with the built-in suite, which the CronJob also runs", tool, file, s.Metadata.Name)
				}
			}
		}
	}
}

// granted expands RBAC rules into "verb group resource[/sub]" strings.
func granted(t *testing.T, rules []rbacv1.PolicyRule) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: the cluster role is cluster-wide, by design without names or URLs", r)
		}
		for _, v := range r.Verbs {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					out[v+" "+g+" "+res] = true
				}
			}
		}
	}
	return out
}

func permKey(p kube.Permission) string {
	res := p.Resource
	if p.Subresource != "" {
		res += "/" + p.Subresource
	}
	return p.Verb + " " + p.Group + " " + res
}

// cleanupPermissions are what `netverify cleanup` needs besides run's.
var cleanupPermissions = []kube.Permission{
	{Verb: "list", Resource: "namespaces"}, {Verb: "delete", Resource: "namespaces"},
}

func TestRunRoleIsExactlyWhatRunAndCleanupNeed(t *testing.T) {
	need := map[string]bool{}
	// (and, read-only, what run takes into account where it may: the
	// cluster's own ClusterNetworkPolicies, nodes' podCIDRs, ServiceCIDRs)
	for _, p := range append(append(append([]kube.Permission{}, run.Permissions...), cleanupPermissions...), run.ReadPermissions...) {
		need[permKey(p)] = true
	}
	for tool, m := range both(t) {
		cr := typed[rbacv1.ClusterRole](t, m.get(t, "ClusterRole netverify-run"))
		got := granted(t, cr.Rules)
		for p := range need {
			if !got[p] {
				t.Errorf("%s: ClusterRole netverify-run lacks %q", tool, p)
			}
		}
		for g := range got {
			if !need[g] {
				t.Errorf("%s: ClusterRole netverify-run grants %q, which neither run nor cleanup needs", tool, g)
			}
		}
		crb := typed[rbacv1.ClusterRoleBinding](t, m.get(t, "ClusterRoleBinding netverify-run"))
		wantSubject := rbacv1.Subject{Kind: "ServiceAccount", Name: "netverify", Namespace: "netverify"}
		if crb.RoleRef.Name != "netverify-run" || crb.RoleRef.Kind != "ClusterRole" || len(crb.Subjects) != 1 || crb.Subjects[0] != wantSubject {
			t.Errorf("%s: binding %+v", tool, crb)
		}
	}
}

func TestReportRoleIsConfinedToItsNamespace(t *testing.T) {
	// No resourceNames: run checks these for the namespace (see run.go), and
	// the admission policy confines writes to the report ConfigMap.
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
	}
	for tool, m := range both(t) {
		r := typed[rbacv1.Role](t, m.get(t, "Role netverify/netverify-report"))
		if !reflect.DeepEqual(r.Rules, want) {
			t.Errorf("%s: report Role rules %+v, want %+v", tool, r.Rules, want)
		}
	}
}

func TestAuditRoleIsReadOnly(t *testing.T) {
	for tool, m := range both(t) {
		cr := typed[rbacv1.ClusterRole](t, m.get(t, "ClusterRole netverify-audit"))
		got := granted(t, cr.Rules)
		for _, res := range []string{" namespaces", " pods", " services", "networking.k8s.io networkpolicies"} {
			for _, v := range []string{"get", "list", "watch"} {
				if !got[v+" "+res] {
					t.Errorf("%s: audit role lacks %q", tool, v+" "+res)
				}
			}
		}
		for g := range got {
			if v := strings.Fields(g)[0]; v != "get" && v != "list" && v != "watch" {
				t.Errorf("%s: audit role grants %q", tool, g)
			}
		}
	}
}

// The admission policy's mark of a namespace checked in place: the
// in-place Role grants it, the policy asks the authorizer for it, nothing
// else grants it.
const inPlaceMark = "use netverify.io inplace"

// inPlaceExtras are what an in-place run does in a namespace it checks
// beyond what it checks for there (run.LivePermissions): --policy-reports' get, create and update of the report kinds
// (policyreport.Write, which warns instead of failing when forbidden); and
// the mark.
var inPlaceExtras = []string{
	"get openreports.io reports", "create openreports.io reports", "update openreports.io reports",
	"get wgpolicyk8s.io policyreports", "create wgpolicyk8s.io policyreports", "update wgpolicyk8s.io policyreports",
	inPlaceMark,
}

func TestInPlaceRoleIsExactlyWhatInPlaceRunsNeed(t *testing.T) {
	need := map[string]bool{}
	for _, p := range append(run.LivePermissions("production"), run.ZeroConfigPermissions("production")...) {
		need[permKey(p)] = true
	}
	for _, p := range inPlaceExtras {
		need[p] = true
	}
	wantSubject := rbacv1.Subject{Kind: "ServiceAccount", Name: "netverify", Namespace: "netverify"}
	for tool, m := range bothInPlace(t) {
		r := typed[rbacv1.Role](t, m.get(t, "Role production/netverify-inplace"))
		got := granted(t, r.Rules)
		for p := range need {
			if !got[p] {
				t.Errorf("%s: Role netverify-inplace lacks %q", tool, p)
			}
		}
		for g := range got {
			if !need[g] {
				t.Errorf("%s: Role netverify-inplace grants %q, which in-place runs do not need", tool, g)
			}
		}
		rb := typed[rbacv1.RoleBinding](t, m.get(t, "RoleBinding production/netverify-inplace"))
		if rb.RoleRef.Name != "netverify-inplace" || rb.RoleRef.Kind != "Role" || len(rb.Subjects) != 1 || rb.Subjects[0] != wantSubject {
			t.Errorf("%s: in-place binding %+v", tool, rb)
		}
		// The mark means "bound here" only while nothing cluster-wide grants it.
		for _, k := range m.keys() {
			if u := m[k]; u.GetKind() == "ClusterRole" && granted(t, typed[rbacv1.ClusterRole](t, u).Rules)[inPlaceMark] {
				t.Errorf("%s: %s grants %q cluster-wide", tool, k, inPlaceMark)
			}
		}
	}
}

func TestClusterDNSRoleReadsOnlyTheClusterDNS(t *testing.T) {
	// inplace/table.go discoverDNS: get the Service kube-system/kube-dns,
	// list the pods it selects, list kube-system's NetworkPolicies.
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"services"}, ResourceNames: []string{"kube-dns"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"list"}},
	}
	wantSubject := rbacv1.Subject{Kind: "ServiceAccount", Name: "netverify", Namespace: "netverify"}
	for tool, m := range bothInPlace(t) {
		r := typed[rbacv1.Role](t, m.get(t, "Role kube-system/netverify-cluster-dns"))
		if !reflect.DeepEqual(r.Rules, want) {
			t.Errorf("%s: cluster DNS Role rules %+v, want %+v", tool, r.Rules, want)
		}
		rb := typed[rbacv1.RoleBinding](t, m.get(t, "RoleBinding kube-system/netverify-cluster-dns"))
		if rb.RoleRef.Name != "netverify-cluster-dns" || rb.RoleRef.Kind != "Role" || len(rb.Subjects) != 1 || rb.Subjects[0] != wantSubject {
			t.Errorf("%s: cluster DNS binding %+v", tool, rb)
		}
	}
}

func TestInPlaceCronJobArgs(t *testing.T) {
	want := []string{"run", "--builtin", "-f", "/scenarios", "--report-configmap", "netverify/netverify-report",
		"--image-probe", "netverify/probe:v0.1.0", "-n", "production", "--policy-reports"}
	for tool, m := range bothInPlace(t) {
		cj := typed[batchv1.CronJob](t, m.get(t, "CronJob netverify/netverify"))
		if got := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: args %q\nwant %q", tool, got, want)
		}
	}
}

func TestAdmissionPolicy(t *testing.T) {
	for tool, m := range both(t) {
		t.Run(tool, func(t *testing.T) {
			p := typed[admissionv1.ValidatingAdmissionPolicy](t, m.get(t, "ValidatingAdmissionPolicy netverify-confine"))
			b := typed[admissionv1.ValidatingAdmissionPolicyBinding](t, m.get(t, "ValidatingAdmissionPolicyBinding netverify-confine"))
			if b.Spec.PolicyName != p.Name || !reflect.DeepEqual(b.Spec.ValidationActions, []admissionv1.ValidationAction{admissionv1.Deny}) {
				t.Errorf("binding %+v", b.Spec)
			}
			if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionv1.Fail {
				t.Errorf("failurePolicy %v, want Fail", p.Spec.FailurePolicy)
			}
			if len(p.Spec.MatchConditions) != 1 || p.Spec.MatchConditions[0].Expression != "request.userInfo.username == 'system:serviceaccount:netverify:netverify'" {
				t.Errorf("matchConditions %+v: want the service account only", p.Spec.MatchConditions)
			}
			rules := p.Spec.MatchConstraints.ResourceRules
			if len(rules) != 1 || !reflect.DeepEqual(rules[0].Operations, []admissionv1.OperationType{"CREATE", "UPDATE", "DELETE", "CONNECT"}) ||
				!reflect.DeepEqual(rules[0].Resources, []string{"*/*"}) {
				t.Errorf("matchConstraints %+v: want every write and CONNECT on every resource", rules)
			}
			all := ""
			for _, v := range p.Spec.Variables {
				all += v.Expression + "\n"
			}
			for _, v := range p.Spec.Validations {
				all += v.Expression + "\n"
				if v.MessageExpression == "" {
					t.Errorf("validation %q has no messageExpression", v.Expression)
				}
			}
			for _, want := range []string{
				"'app.kubernetes.io/managed-by'", "'netverify.io/run-id'", "namespaceObject.metadata.labels",
				"oldObject.metadata.labels", "'/pods/exec'", "'/secrets'", "'networking.k8s.io/networkpolicies'",
				"request.name == 'netverify-report'", "request.namespace == 'netverify'",
				// in place: the mark, the probe pods, exec by name, owner
				// ConfigMaps, policy reports
				"authorizer.group('netverify.io').resource('inplace')", ".check('use')",
				"'netverify.io/never-ready'", "ownerReferences", "automountServiceAccountToken", "hostNetwork",
				"allowPrivilegeEscalation", "request.name.matches('^[a-z0-9]{1,10}-[a-z0-9]{6}-')",
				"request.name.matches('^netverify-[a-z0-9]{6}$')", "'openreports.io/reports'", "'wgpolicyk8s.io/policyreports'",
			} {
				if !strings.Contains(all, want) {
					t.Errorf("the policy's expressions never mention %s", want)
				}
			}
		})
	}
}

func TestHelmLint(t *testing.T) {
	kv := &chartutil.KubeVersion{Version: kubeVersion, Major: "1", Minor: "37"}
	for _, vals := range []map[string]any{nil, {"namespace": map[string]any{"create": true}, "probe": map[string]any{"imagePullSecret": "registry/pull"}}, inPlaceValues} {
		l := lint.AllWithKubeVersion(chartDir, vals, "netverify", kv)
		for _, msg := range l.Messages {
			if msg.Severity >= support.WarningSev {
				t.Errorf("helm lint (values %v): %s", vals, msg)
			}
		}
	}
	// The linter does look at what is rendered (in lint mode, fail() only
	// logs, so an invalid object name stands in for a broken chart).
	l := lint.AllWithKubeVersion(chartDir, map[string]any{"fullnameOverride": "Not_A_Name"}, "netverify", kv)
	if l.HighestSeverity < support.WarningSev {
		t.Errorf("helm lint passed objects with invalid names: %v", l.Messages)
	}
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, "v1.30.0") || chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, "v1.29.9") {
		t.Errorf("kubeVersion %q: ValidatingAdmissionPolicy v1 needs 1.30", ch.Metadata.KubeVersion)
	}
}

func TestHelmValues(t *testing.T) {
	args := func(t *testing.T, m manifest, cronjob string) []string {
		t.Helper()
		return typed[batchv1.CronJob](t, m.get(t, cronjob)).Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
	}
	t.Run("release name and namespace flow everywhere", func(t *testing.T) {
		m, err := renderHelm("nv", "checks", map[string]any{
			"report":         map[string]any{"historySize": 5},
			"pushgateway":    map[string]any{"url": "http://pushgateway.monitoring:9091"},
			"image":          map[string]any{"repository": "registry.example/netverify", "tag": "v9"},
			"extraArgs":      []any{"--concurrency", "8"},
			"externalTarget": "198.51.100.7",
			"metadataIPs":    []any{"169.254.169.254", "100.100.100.200"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"run", "--builtin", "-f", "/scenarios", "--report-configmap", "checks/nv-netverify-report",
			"--history", "5", "--external-target", "198.51.100.7", "--metadata-ip", "169.254.169.254,100.100.100.200",
			"--pushgateway", "http://pushgateway.monitoring:9091",
			"--image-probe", "netverify/probe:v0.1.0", "--concurrency", "8"}
		if got := args(t, m, "CronJob checks/nv-netverify"); !reflect.DeepEqual(got, want) {
			t.Errorf("args %q\nwant %q", got, want)
		}
		p := typed[admissionv1.ValidatingAdmissionPolicy](t, m.get(t, "ValidatingAdmissionPolicy nv-netverify-confine"))
		if got := p.Spec.MatchConditions[0].Expression; !strings.Contains(got, "'system:serviceaccount:checks:nv-netverify'") {
			t.Errorf("matchCondition %q names the wrong service account", got)
		}
		var exprs string
		for _, v := range p.Spec.Validations {
			exprs += v.Expression
		}
		if !strings.Contains(exprs, "request.namespace == 'checks'") || !strings.Contains(exprs, "request.name == 'nv-netverify-report'") {
			t.Errorf("the policy does not follow the release: %s", exprs)
		}
		m.get(t, "Role checks/nv-netverify-report")
		if _, ok := m["Namespace checks"]; ok {
			t.Error("the namespace is rendered though namespace.create is false")
		}
	})
	t.Run("probe image pull secret", func(t *testing.T) {
		m, err := renderHelm("netverify", "netverify", map[string]any{"probe": map[string]any{"imagePullSecret": "registry/pull"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := args(t, m, "CronJob netverify/netverify"); !strings.Contains(strings.Join(got, " "), "--image-pull-secret registry/pull") {
			t.Errorf("args %q lack --image-pull-secret", got)
		}
		r := typed[rbacv1.Role](t, m.get(t, "Role registry/netverify-pull-secret"))
		if want := []string{"pull"}; len(r.Rules) != 1 || !reflect.DeepEqual(r.Rules[0].ResourceNames, want) || !reflect.DeepEqual(r.Rules[0].Verbs, []string{"get"}) {
			t.Errorf("pull secret role %+v", r.Rules)
		}
		m.get(t, "RoleBinding registry/netverify-pull-secret")
		cr := typed[rbacv1.ClusterRole](t, m.get(t, "ClusterRole netverify-run"))
		if !granted(t, cr.Rules)["create  secrets"] {
			t.Error("the run role cannot create the copies of the secret")
		}
	})
	t.Run("in-place checks of two namespaces", func(t *testing.T) {
		m, err := renderHelm("nv", "checks", map[string]any{
			"inPlace":   map[string]any{"namespaces": []any{"shop", "billing"}},
			"extraArgs": []any{"--concurrency", "8"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"run", "--builtin", "-f", "/scenarios", "--report-configmap", "checks/nv-netverify-report",
			"--image-probe", "netverify/probe:v0.1.0", "-n", "shop", "-n", "billing", "--policy-reports", "--concurrency", "8"}
		if got := args(t, m, "CronJob checks/nv-netverify"); !reflect.DeepEqual(got, want) {
			t.Errorf("args %q\nwant %q", got, want)
		}
		subject := rbacv1.Subject{Kind: "ServiceAccount", Name: "nv-netverify", Namespace: "checks"}
		for _, ns := range []string{"shop", "billing"} {
			m.get(t, "Role "+ns+"/nv-netverify-inplace")
			rb := typed[rbacv1.RoleBinding](t, m.get(t, "RoleBinding "+ns+"/nv-netverify-inplace"))
			if rb.RoleRef.Name != "nv-netverify-inplace" || len(rb.Subjects) != 1 || rb.Subjects[0] != subject {
				t.Errorf("binding in %s: %+v", ns, rb)
			}
		}
		m.get(t, "Role kube-system/nv-netverify-cluster-dns")
		rb := typed[rbacv1.RoleBinding](t, m.get(t, "RoleBinding kube-system/nv-netverify-cluster-dns"))
		if len(rb.Subjects) != 1 || rb.Subjects[0] != subject {
			t.Errorf("cluster DNS binding %+v", rb)
		}
	})
	t.Run("no in-place checks: no Roles outside the release namespace", func(t *testing.T) {
		m, err := renderHelm("netverify", "netverify", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range m.keys() {
			if u := m[k]; (u.GetKind() == "Role" || u.GetKind() == "RoleBinding") && u.GetNamespace() != "netverify" {
				t.Errorf("%s rendered without inPlace.namespaces", k)
			}
		}
		if got := strings.Join(args(t, m, "CronJob netverify/netverify"), " "); strings.Contains(got, "-n ") || strings.Contains(got, "--policy-reports") {
			t.Errorf("args %q check namespaces in place", got)
		}
	})
	t.Run("no scenarios: the built-in suite only", func(t *testing.T) {
		m, err := renderHelm("netverify", "netverify", map[string]any{"scenarios": nil})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"run", "--report-configmap", "netverify/netverify-report", "--image-probe", "netverify/probe:v0.1.0"}
		if got := args(t, m, "CronJob netverify/netverify"); !reflect.DeepEqual(got, want) {
			t.Errorf("args %q, want %q", got, want)
		}
		if _, ok := m["ConfigMap netverify/netverify-scenarios"]; ok {
			t.Error("an empty scenarios ConfigMap is rendered")
		}
	})
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"bad pull secret", map[string]any{"probe": map[string]any{"imagePullSecret": "pull"}}, "NAMESPACE/NAME"},
		{"scenario file not loaded", map[string]any{"scenarios": map[string]any{"mine.json": "{}"}}, "must end in .yaml"},
		{"nothing to run", map[string]any{"scenarios": nil, "builtin": false}, "nothing to run"},
		{"in-place namespace not a name", map[string]any{"inPlace": map[string]any{"namespaces": []any{"Shop"}}}, "not a namespace name"},
		{"in-place namespace twice", map[string]any{"inPlace": map[string]any{"namespaces": []any{"shop", "shop"}}}, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderHelm("netverify", "netverify", tc.vals)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
