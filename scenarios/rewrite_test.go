package scenarios

import (
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRewritePolicies(t *testing.T) {
	t.Parallel()
	s, err := LoadBytes("rewrite.yaml", []byte(`
apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: rewrite}
spec:
  namespaces: [{name: web}, {name: db}]
  pods: [{name: p, namespace: db, ports: [{port: 80}]}]
  policies:
    - metadata: {name: pol, namespace: db}
      spec:
        podSelector: {}
        ingress:
          - from:
              - namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: web, team: web}
              - namespaceSelector:
                  matchExpressions:
                    - {key: kubernetes.io/metadata.name, operator: In, values: [web, db, kube-system]}
                    - {key: team, operator: In, values: [web]}
              - podSelector:
                  matchLabels: {kubernetes.io/metadata.name: web}
        egress:
          - to:
              - namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: kube-system}
              - namespaceSelector:
                  matchExpressions:
                    - {key: kubernetes.io/metadata.name, operator: NotIn, values: [db]}
  expect:
    - {from: db/p, to: db/p, port: 80, allowed: true}
`))
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	before := s[0].Spec.Policies[0].DeepCopy()
	got := RewritePolicies(s[0], map[string]string{"web": "nv-1234-web", "db": "nv-1234-db"})

	if len(got) != 1 {
		t.Fatalf("got %d policies, want 1", len(got))
	}
	if !reflect.DeepEqual(s[0].Spec.Policies[0], *before) {
		t.Error("RewritePolicies modified the scenario")
	}
	pol := got[0]
	if pol.Namespace != "nv-1234-db" || pol.Name != "pol" {
		t.Errorf("policy %s/%s, want nv-1234-db/pol", pol.Namespace, pol.Name)
	}
	from := pol.Spec.Ingress[0].From
	wantFrom := []networkingv1.NetworkPolicyPeer{
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "nv-1234-web", "team": "web"}}},
		{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{"nv-1234-web", "nv-1234-db", "kube-system"}},
			{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}},
		}}},
		// only namespace selectors are rewritten
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "web"}}},
	}
	if !reflect.DeepEqual(from, wantFrom) {
		t.Errorf("ingress from =\n%+v\nwant\n%+v", from, wantFrom)
	}
	to := pol.Spec.Egress[0].To
	wantTo := []networkingv1.NetworkPolicyPeer{
		{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}},
		{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"nv-1234-db"}},
		}}},
	}
	if !reflect.DeepEqual(to, wantTo) {
		t.Errorf("egress to =\n%+v\nwant\n%+v", to, wantTo)
	}
}
