package deploy

import (
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
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
	chartDir      = "helm/netverify"
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

func renderKustomize(t *testing.T) manifest {
	t.Helper()
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), kustomizeBase)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", kustomizeBase, err)
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
	m, err := renderHelm("netverify", "netverify", map[string]any{"namespace": map[string]any{"create": true}})
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return m
}

func both(t *testing.T) map[string]manifest {
	return map[string]manifest{"kustomize": renderKustomize(t), "helm": defaultHelm(t)}
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

func TestBothRenderTheSameObjects(t *testing.T) {
	k, h := renderKustomize(t), defaultHelm(t)
	if !reflect.DeepEqual(k.keys(), wantObjects) {
		t.Errorf("kustomize renders\n%s\nwant\n%s", strings.Join(k.keys(), "\n"), strings.Join(wantObjects, "\n"))
	}
	if !reflect.DeepEqual(h.keys(), wantObjects) {
		t.Errorf("helm renders\n%s\nwant\n%s", strings.Join(h.keys(), "\n"), strings.Join(wantObjects, "\n"))
	}
	// Beyond names, the objects themselves agree, apart from the labels and
	// annotations each tool adds.
	for _, name := range wantObjects {
		ko, ho := k[name], h[name]
		if ko == nil || ho == nil {
			continue
		}
		if d := firstDiff(normalized(ko), normalized(ho), ""); d != "" {
			t.Errorf("%s differs at %s", name, d)
		}
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
	for tool, m := range both(t) {
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
	for _, vals := range []map[string]any{nil, {"namespace": map[string]any{"create": true}, "probe": map[string]any{"imagePullSecret": "registry/pull"}}} {
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderHelm("netverify", "netverify", tc.vals)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
