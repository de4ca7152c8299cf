package orchestrator

import (
	"context"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	cnpfake "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/fake"
)

const twoCNPsYAML = `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: tiers}
spec:
  namespaces: [{name: app}]
  pods:
  - {name: backend, labels: {app: backend}, ports: [{port: 8080}]}
  - {name: frontend, labels: {app: frontend}}
  clusterNetworkPolicies:
  - metadata: {name: first}
    spec:
      tier: Admin
      priority: 1
      subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: backend}}}}
      ingress: [{action: Deny, from: [{namespaces: {}}]}]
  - metadata: {name: second}
    spec:
      tier: Baseline
      priority: 1
      subject: {namespaces: {matchLabels: {team: a}}}
      ingress: [{action: Deny, from: [{namespaces: {}}]}]
  expect:
  - {from: frontend, to: backend, port: 8080, allowed: false}
`

// A ClusterNetworkPolicy the API server refuses ends the run as an
// infrastructure error, and the clean-up phase removes the one created
// before it with the namespaces.
func TestClusterPolicyRefusedCleansUp(t *testing.T) {
	t.Parallel()
	c := newFakeClient(true)
	pc := cnpfake.NewSimpleClientset()
	pc.PrependReactor("create", "clusternetworkpolicies", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if strings.HasSuffix(a.(k8stesting.CreateAction).GetObject().(metav1.Object).GetName(), "-second") {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "clusternetworkpolicies"}, "second", errors.New("no"))
		}
		return false, nil, nil
	})
	ex := &scriptedExec{}
	ex.answer = enforcing(c)
	r := &Runner{Client: c, Policies: pc, Exec: ex, Opts: testOptions(), Clock: testClock()}
	_, _, err := r.Run(context.Background(), loadScenarios(t, twoCNPsYAML))
	var infra *InfraError
	if !errors.As(err, &infra) || !strings.Contains(err.Error(), `ClusterNetworkPolicy nv-test01-1-second ("second" of scenario tiers)`) {
		t.Fatalf("error %v, want an infrastructure error naming the refused policy", err)
	}
	left, lerr := pc.PolicyV1alpha2().ClusterNetworkPolicies().List(context.Background(), metav1.ListOptions{})
	if lerr != nil || len(left.Items) != 0 {
		t.Errorf("%d ClusterNetworkPolicies left (%v), want none", len(left.Items), lerr)
	}
	assertCleanedUp(t, c)
}

// The plan confines every subject to the scenario's namespaces, keeping
// what the scenario wrote, and names each policy after the run.
func TestPlanConfinesClusterPolicies(t *testing.T) {
	t.Parallel()
	plan, err := MakePlan(loadScenarios(t, twoCNPsYAML), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.ClusterPolicies) != 2 {
		t.Fatalf("%d ClusterNetworkPolicies planned, want 2", len(plan.ClusterPolicies))
	}
	first, second := plan.ClusterPolicies[0], plan.ClusterPolicies[1]
	if first.Name != "nv-test01-1-first" || first.Labels[LabelRunID] != "test01" || first.Annotations[AnnotationScenarioPolicy] != "first" {
		t.Errorf("first: name %q labels %v annotations %v", first.Name, first.Labels, first.Annotations)
	}
	term := "kubernetes.io/metadata.name In [nv-test01-1-app]"
	if got := metav1.FormatLabelSelector(&first.Spec.Subject.Pods.NamespaceSelector); got != "kubernetes.io/metadata.name in (nv-test01-1-app)" {
		t.Errorf("first: pods subject's namespace selector %q, want only %s", got, term)
	}
	if got := metav1.FormatLabelSelector(second.Spec.Subject.Namespaces); got != "kubernetes.io/metadata.name in (nv-test01-1-app),team=a" {
		t.Errorf("second: namespaces subject %q, want team=a and %s", got, term)
	}
	if first.Spec.Subject.Pods.PodSelector.MatchLabels["app"] != "backend" {
		t.Errorf("first: pod selector %v lost", first.Spec.Subject.Pods.PodSelector)
	}
}
