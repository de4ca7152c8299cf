package run

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	"github.com/netverify/netverify/simulate"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8stesting "k8s.io/client-go/testing"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

func cnpAt(name string, tier cnpv1.Tier, priority int32) cnpv1.ClusterNetworkPolicy {
	return cnpv1.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: cnpv1.ClusterNetworkPolicySpec{Tier: tier, Priority: priority}}
}

func priorities(sc *scenarios.Scenario) []int32 {
	var out []int32
	for _, c := range sc.Spec.ClusterNetworkPolicies {
		out = append(out, c.Spec.Priority)
	}
	return out
}

// A scenario's priorities move off the cluster's own, per tier, keeping
// their order and their ties; the scenario itself is not modified.
func TestAvoidPriorities(t *testing.T) {
	admin, base := cnpv1.AdminTier, cnpv1.BaselineTier
	cases := []struct {
		name    string
		cluster []cnpv1.ClusterNetworkPolicy
		own     []cnpv1.ClusterNetworkPolicy
		want    []int32
	}{
		{"no cluster policies", nil,
			[]cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 10)}, []int32{10}},
		{"free priority kept", []cnpv1.ClusterNetworkPolicy{cnpAt("g", admin, 5)},
			[]cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 10)}, []int32{10}},
		{"taken priority moves up", []cnpv1.ClusterNetworkPolicy{cnpAt("g", admin, 10), cnpAt("h", admin, 11)},
			[]cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 10)}, []int32{12}},
		{"order kept when the first moves past the second", []cnpv1.ClusterNetworkPolicy{cnpAt("g", admin, 10), cnpAt("h", admin, 11)},
			[]cnpv1.ClusterNetworkPolicy{cnpAt("b", admin, 11), cnpAt("a", admin, 10)}, []int32{13, 12}},
		{"ties stay ties", []cnpv1.ClusterNetworkPolicy{cnpAt("g", admin, 3)},
			[]cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 3), cnpAt("b", admin, 3), cnpAt("c", admin, 4)}, []int32{4, 4, 5}},
		{"tiers apart", []cnpv1.ClusterNetworkPolicy{cnpAt("g", base, 10)},
			[]cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 10), cnpAt("b", base, 10)}, []int32{10, 11}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scenarios.Scenario{Spec: scenarios.Spec{ClusterNetworkPolicies: tc.own}}
			before := priorities(sc)
			out, _, err := avoidPriorities([]*scenarios.Scenario{sc}, tc.cluster)
			if err != nil {
				t.Fatal(err)
			}
			if got := priorities(out[0]); !slices.Equal(got, tc.want) {
				t.Errorf("priorities %v, want %v", got, tc.want)
			}
			if !slices.Equal(priorities(sc), before) {
				t.Errorf("the scenario was modified: %v, had %v", priorities(sc), before)
			}
		})
	}
	sc0 := &scenarios.Scenario{Metadata: scenarios.Metadata{Name: "crossing"}, Spec: scenarios.Spec{ClusterNetworkPolicies: []cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 10)}}}
	_, notes, err := avoidPriorities([]*scenarios.Scenario{sc0}, []cnpv1.ClusterNetworkPolicy{cnpAt("g", admin, 10), cnpAt("h", admin, 11)})
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "from Admin priority 10 to 12, past the cluster's own at 11") {
		t.Errorf("notes %q (%v), want one saying the move passes priority 11", notes, err)
	}
	var full []cnpv1.ClusterNetworkPolicy
	for p := int32(990); p <= 1000; p++ {
		full = append(full, cnpAt("g", admin, p))
	}
	sc := &scenarios.Scenario{Metadata: scenarios.Metadata{Name: "late"}, Spec: scenarios.Spec{ClusterNetworkPolicies: []cnpv1.ClusterNetworkPolicy{cnpAt("a", admin, 995)}}}
	if _, _, err := avoidPriorities([]*scenarios.Scenario{sc}, full); err == nil || !strings.Contains(err.Error(), "no Admin priority from 995 to 1000 is free") {
		t.Errorf("error %v, want no free priority", err)
	}
}

// Without permission to create ClusterNetworkPolicies, the built-in
// scenarios that need them are skipped with the missing permission named,
// while a user's scenario that declares some is refused (exit 2) before
// anything is created.
func TestClusterPoliciesWithoutPermission(t *testing.T) {
	t.Parallel()
	var sim *simulate.Cluster
	e, _ := simulatedCluster(func(c *simulate.Cluster) { sim = c })
	// (after simulatedCluster's own allow-all reactor, so this one answers first)
	sim.Client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		r.Status.Allowed = r.Spec.ResourceAttributes.Resource != "clusternetworkpolicies" || r.Spec.ResourceAttributes.Verb == "list"
		return true, r, nil
	})
	got := execute(t, with(e), "", "--scenario", "admin-deny,default-deny", "-o", "json")
	var rep results.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("exit %d (%v): %v\n%s", got.code, got.err, err, got.stderr)
	}
	for _, r := range rep.Results {
		if r.Scenario == "admin-deny" && (r.Status != results.Skipped || !strings.Contains(r.Reason, "no permission to create clusternetworkpolicies.policy.networking.k8s.io")) {
			t.Errorf("admin-deny %s → %s: %s (%s), want skipped naming the permission", r.From, r.To, r.Status, r.Reason)
		}
		if r.Scenario == "default-deny" && r.Status != results.Pass {
			t.Errorf("default-deny %s → %s: %s, want pass", r.From, r.To, r.Status)
		}
	}
	got = execute(t, with(e), "", "-f", "../../../scenarios/testdata/valid/cluster-network-policies.yaml")
	if got.code != 2 || !strings.Contains(errText(got.err), `scenario "cluster-network-policies"`) || !strings.Contains(errText(got.err), "missing RBAC permissions") {
		t.Errorf("user scenario: exit %d (%v), want 2 naming the scenario and the permissions", got.code, got.err)
	}
	for _, a := range sim.Client.Actions() {
		if ca, ok := a.(k8stesting.CreateAction); ok && a.GetResource().Resource == "namespaces" {
			if ns := ca.GetObject().(*corev1.Namespace); ns.Labels[orchestrator.LabelScenario] == "cluster-network-policies" || ns.Labels[orchestrator.LabelScenario] == "admin-deny" {
				t.Errorf("namespace %s created for a scenario that cannot run", ns.Name)
			}
		}
	}
}

// runWithClusterPolicy runs yaml on a simulated cluster that holds the
// cluster's own ClusterNetworkPolicy guard (policies in effect after delay).
func runWithClusterPolicy(t *testing.T, guard *cnpv1.ClusterNetworkPolicy, delay time.Duration, yaml string) (results.Report, outcome) {
	t.Helper()
	e, _ := simulatedCluster(func(c *simulate.Cluster) {
		c.EnforcementDelay = delay
		if _, err := c.Policies.PolicyV1alpha2().ClusterNetworkPolicies().Create(context.Background(), guard, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	got := execute(t, with(e), yaml, "-f", "-", "-o", "json")
	var rep results.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("exit %d (%v): %v\n%s\n%s", got.code, got.err, err, got.stdout, got.stderr)
	}
	return rep, got
}

func denyIngress(name string, subject *metav1.LabelSelector, from cnpv1.ClusterNetworkPolicyIngressPeer) *cnpv1.ClusterNetworkPolicy {
	return &cnpv1.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: cnpv1.ClusterNetworkPolicySpec{Tier: cnpv1.AdminTier, Priority: 10,
			Subject: cnpv1.ClusterNetworkPolicySubject{Namespaces: subject},
			Ingress: []cnpv1.ClusterNetworkPolicyIngressRule{{Name: "deny", Action: cnpv1.ClusterNetworkPolicyRuleActionDeny,
				From: []cnpv1.ClusterNetworkPolicyIngressPeer{from}}}},
	}
}

const webOnlyFromOther = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: web}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: web, labels: {app: web}, ports: [{port: 80}]}
  - {name: client, labels: {app: client}}
  - {name: other, labels: {app: other}}
  policies:
  - metadata: {name: web-from-other}
    spec:
      podSelector: {matchLabels: {app: web}}
      policyTypes: [Ingress]
      ingress: [{from: [{podSelector: {matchLabels: {app: other}}}]}]
  expect:
  - {from: other, to: web, port: 80, allowed: false}
  - {from: client, to: web, port: 80, allowed: true}
`

// A connection the cluster's own policy blocks from the start is no sign
// that the scenario's policies are in effect: a wrong allowed expectation
// under a slow CNI still fails.
func TestClusterBlockedIsNotEnforcementOfTheScenario(t *testing.T) {
	t.Parallel()
	guard := denyIngress("deny-other", &metav1.LabelSelector{}, cnpv1.ClusterNetworkPolicyIngressPeer{
		Pods: &cnpv1.NamespacedPod{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}}}})
	// random → web is the scenario's own proof of enforcement; other → web,
	// blocked by the cluster from the start, must not stand in for it
	yaml := strings.Replace(webOnlyFromOther, "  - {name: other, labels: {app: other}}\n", "  - {name: other, labels: {app: other}}\n  - {name: random, labels: {app: random}}\n", 1)
	yaml = strings.Replace(yaml, "  - {from: client, to: web", "  - {from: random, to: web, port: 80, allowed: false}\n  - {from: client, to: web", 1)
	rep, got := runWithClusterPolicy(t, guard, 20*time.Second, yaml)
	if got.code != 1 {
		t.Fatalf("exit %d, want 1: client → web is blocked by the scenario's policy once in effect\n%s", got.code, got.stdout)
	}
	for _, r := range rep.Results {
		if r.From == "app/client" && r.Status != results.Fail {
			t.Errorf("client → web: %s (%s), want a failure", r.Status, r.Reason)
		}
	}
}

// Where the cluster's policy and the scenario's agree on blocked, there is
// no control probe to fail: the result is a pass, not inconclusive.
func TestClusterAndScenarioBothBlock(t *testing.T) {
	t.Parallel()
	guard := denyIngress("deny-all", &metav1.LabelSelector{}, cnpv1.ClusterNetworkPolicyIngressPeer{Namespaces: &metav1.LabelSelector{}})
	yaml := strings.Replace(strings.Replace(webOnlyFromOther, "{from: other, to: web, port: 80, allowed: false}", "{from: client, to: web, port: 80, allowed: false}", 1),
		"  - {from: client, to: web, port: 80, allowed: true}\n", "", 1)
	rep, got := runWithClusterPolicy(t, guard, 0, yaml)
	if got.code != 0 || len(rep.Results) != 1 || rep.Results[0].Status != results.Pass {
		t.Fatalf("exit %d, results %+v; want one pass", got.code, rep.Results)
	}
}

// The cluster's policies meet the run's real namespaces: one selecting a
// namespace by the name a scenario calls its own logical namespace does not
// select the run's, while one selecting what every run namespace carries
// (the PodSecurity label) does.
func TestClusterPoliciesSeeRealNamespaces(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(webOnlyFromOther, "  - {from: other, to: web, port: 80, allowed: false}\n", "", 1)
	yaml = strings.Replace(yaml, "[{podSelector: {matchLabels: {app: other}}}]", "[{podSelector: {}}]", 1)
	byName := denyIngress("deny-app", &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "app"}},
		cnpv1.ClusterNetworkPolicyIngressPeer{Namespaces: &metav1.LabelSelector{}})
	rep, got := runWithClusterPolicy(t, byName, 0, yaml)
	if got.code != 0 || rep.Results[0].Status != results.Pass || strings.Contains(rep.Results[0].Reason, "cluster's own") {
		t.Errorf("a cluster policy on namespace \"app\": exit %d, %+v; want a plain pass", got.code, rep.Results)
	}
	byLabel := denyIngress("deny-restricted", &metav1.LabelSelector{MatchLabels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}},
		cnpv1.ClusterNetworkPolicyIngressPeer{Namespaces: &metav1.LabelSelector{}})
	rep, got = runWithClusterPolicy(t, byLabel, 0, yaml)
	if got.code != 0 || rep.Results[0].Expected != results.Blocked || !strings.Contains(rep.Results[0].Reason, "deny-restricted") {
		t.Errorf("a cluster policy on restricted namespaces: exit %d, %+v; want client → web checked as blocked by it", got.code, rep.Results)
	}
}

// A ClusterNetworkPolicy the API server refuses (its CRD's schema or rules)
// is bad input: exit 2 naming the scenario and policy, nothing created.
func TestClusterPolicyRefusedByServerCreatesNothing(t *testing.T) {
	t.Parallel()
	var sim *simulate.Cluster
	e, _ := simulatedCluster(func(c *simulate.Cluster) { sim = c })
	sim.Policies.PrependReactor("create", "clusternetworkpolicies", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: "policy.networking.k8s.io", Kind: "ClusterNetworkPolicy"}, "x",
			field.ErrorList{field.Invalid(field.NewPath("spec", "egress").Index(0).Child("to").Index(0), "{}", "should have at least 1 properties")})
	})
	got := execute(t, with(e), "", "-f", "../../../scenarios/testdata/valid/cluster-network-policies.yaml")
	msg := errText(got.err)
	if got.code != 2 || !strings.Contains(msg, `scenario "cluster-network-policies": spec.clusterNetworkPolicies[0] ("deny-other-to-web"): the API server refuses it`) ||
		!strings.Contains(msg, "nothing was created") {
		t.Fatalf("exit %d (%v), want 2 naming the refused policy", got.code, got.err)
	}
	for _, a := range sim.Client.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource != "selfsubjectaccessreviews" {
			t.Errorf("%s %s after bad input", a.GetVerb(), a.GetResource().Resource)
		}
	}
}
