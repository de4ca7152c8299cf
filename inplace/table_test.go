package inplace

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/netverify/netverify/scenarios"
)

// production is the hardening guide's namespace: three Deployments with
// two running pods each, their Services, a monitoring namespace.
func production(policies ...*networkingv1.NetworkPolicy) []runtime.Object {
	objs := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "production", Labels: map[string]string{"kubernetes.io/metadata.name": "production"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring", Labels: map[string]string{"kubernetes.io/metadata.name": "monitoring", "purpose": "monitoring"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}},
	}
	ip := 10
	for _, w := range []struct {
		name string
		port corev1.ContainerPort
	}{
		{"frontend", corev1.ContainerPort{Name: "http", ContainerPort: 80}},
		{"backend", corev1.ContainerPort{Name: "api", ContainerPort: 8080}},
		{"database", corev1.ContainerPort{Name: "postgres", ContainerPort: 5432}},
	} {
		l := map[string]string{"app": w.name}
		spec := corev1.PodSpec{Containers: []corev1.Container{{Name: w.name, Ports: []corev1.ContainerPort{w.port}}}}
		objs = append(objs, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: "production"},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: l},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: spec}},
		})
		for i := range 2 {
			ip++
			objs = append(objs, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", w.name, i), Namespace: "production",
					Labels: map[string]string{"app": w.name, "pod-template-hash": "abc"}},
				Spec:   spec,
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.244.0.%d", ip)},
			})
		}
	}
	svc := func(name, app string, port int32, target intstr.IntOrString) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "production"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.50", Selector: map[string]string{"app": app},
				Ports: []corev1.ServicePort{{Port: port, TargetPort: target}}}}
	}
	objs = append(objs, svc("backend-service", "backend", 8080, intstr.FromString("api")),
		svc("database-service", "database", 5432, intstr.FromInt32(5432)))
	for _, p := range policies {
		objs = append(objs, p)
	}
	return objs
}

func ingressFrom(name, app, from string, port int32) *networkingv1.NetworkPolicy {
	p := intstr.FromInt32(port)
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "production"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": from}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &p}},
			}},
		}}
}

// table renders rows as "from → to: verdict (reason)" lines.
func table(t *testing.T, policies ...*networkingv1.NetworkPolicy) map[string]Row {
	t.Helper()
	c := fake.NewClientset(production(policies...)...)
	l, err := Discover(context.Background(), c, []string{"production"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Table(l, "nv-run-outsider")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Row{}
	for _, r := range rows {
		out[r.From.String()+" → "+r.To.String()] = r
	}
	return out
}

func TestTableOfTheGuidesPolicies(t *testing.T) {
	t.Parallel()
	rows := table(t, ingressFrom("backend-allow-frontend", "backend", "frontend", 8080),
		ingressFrom("database-allow-backend", "database", "backend", 5432))
	// 3 workloads + an unlabelled pod + an outsider, × 2 Service ports + 3 container ports
	if len(rows) != 5*5 {
		t.Errorf("%d rows, want 25", len(rows))
	}
	for conn, want := range map[string]string{
		"production/(no labels) → svc:production/database-service 5432/TCP":                           "blocked: production/database-allow-backend",
		"production/deployment/frontend → svc:production/backend-service 8080/TCP":                    "allowed: production/backend-allow-frontend ingress[0]",
		"production/deployment/backend → svc:production/database-service 5432/TCP":                    "allowed: production/database-allow-backend ingress[0]",
		"production/deployment/frontend → svc:production/database-service 5432/TCP":                   "blocked: production/database-allow-backend",
		"nv-run-outsider/(no labels, other namespace) → production/deployment/backend 8080 (api)/TCP": "blocked: production/backend-allow-frontend",
		"production/deployment/database → production/deployment/frontend 80 (http)/TCP":               "allowed",
	} {
		r, ok := rows[conn]
		if !ok {
			t.Errorf("no row %s", conn)
			continue
		}
		verdict, reason, _ := strings.Cut(want, ": ")
		if string(r.Verdict()) != verdict {
			t.Errorf("%s: %s, want %s (%s)", conn, r.Verdict(), verdict, r.Backends[0].Decision.Reason)
		}
		if len(r.Backends) != 2 {
			t.Errorf("%s: %d backends, want the workload's 2 pods", conn, len(r.Backends))
		}
		for _, b := range r.Backends {
			if !strings.Contains(b.Decision.Reason, reason) {
				t.Errorf("%s: reason %q does not name %q", conn, b.Decision.Reason, reason)
			}
		}
	}
	// the Service's named targetPort resolves on each backend
	for _, b := range rows["production/deployment/frontend → svc:production/backend-service 8080/TCP"].Backends {
		if b.Port != 8080 || !strings.HasPrefix(b.Pod.Name, "backend-") {
			t.Errorf("backend %s port %d", b.Pod.Name, b.Port)
		}
	}
}

// A selector typo leaves the database open: the table says so (allowed by
// the live policies), which is what a zero-config run reports.
func TestTableShowsASelectorTypo(t *testing.T) {
	t.Parallel()
	rows := table(t, ingressFrom("database-allow-backend", "databse", "backend", 5432))
	r := rows["production/(no labels) → svc:production/database-service 5432/TCP"]
	if r.Verdict() != "allowed" {
		t.Errorf("typo: %s, want allowed (%v)", r.Verdict(), r.Backends)
	}
}

func TestDiscoverUnknownNamespace(t *testing.T) {
	t.Parallel()
	c := fake.NewClientset(production()...)
	if _, err := Discover(context.Background(), c, []string{"prod"}); err == nil || !strings.Contains(err.Error(), `namespace "prod" not found`) {
		t.Errorf("err = %v", err)
	}
}

// The zero-config scenario is a valid in-place scenario (it loads back),
// with a probe pod per workload, one without labels and one from
// elsewhere, each row expecting what the live policies decide, with the
// rule; UDP and unserved ports are left out with a note.
func TestZeroConfigScenario(t *testing.T) {
	t.Parallel()
	objs := production(ingressFrom("backend-allow-frontend", "backend", "frontend", 8080),
		ingressFrom("database-allow-backend", "database", "backend", 5432))
	objs = append(objs,
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "syslog", Namespace: "production"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.60", Selector: map[string]string{"app": "backend"},
				Ports: []corev1.ServicePort{{Port: 514, Protocol: corev1.ProtocolUDP}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Selector: map[string]string{"k8s-app": "kube-dns"}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "coredns-0", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.2"}},
	)
	l, err := Discover(context.Background(), fake.NewClientset(objs...), []string{"production"})
	if err != nil {
		t.Fatal(err)
	}
	sc, notes, err := l.Scenario(ZeroConfig{Name: "live-production", MetadataIPs: []string{"169.254.169.254"}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.LoadBytes("zero-config", data); err != nil {
		t.Fatalf("the zero-config scenario does not load: %v\n%s", err, data)
	}
	var pods []string
	for _, p := range sc.Spec.Pods {
		pods = append(pods, p.Namespace+"/"+p.Name+"="+p.Impersonate)
	}
	if got := strings.Join(pods, " "); got != "production/as-deploy-backend=deployment/backend production/as-deploy-database=deployment/database production/as-deploy-frontend=deployment/frontend production/no-labels= elsewhere/no-labels=" {
		t.Errorf("pods: %s", got)
	}
	rows := map[string]scenarios.Expectation{}
	for _, e := range sc.Spec.Expect {
		rows[e.From+" → "+e.To+" "+e.Port] = e
	}
	for conn, want := range map[string]string{
		"production/no-labels → svc:production/database-service 5432":                "false production/database-allow-backend",
		"production/as-deploy-frontend → svc:production/backend-service 8080":        "true production/backend-allow-frontend ingress[0]",
		"elsewhere/no-labels → workload:production/deployment/backend 8080":          "false production/backend-allow-frontend",
		"production/as-deploy-frontend → dns:kubernetes.default.svc.cluster.local ":  "true",
		"production/as-deploy-database → ip:169.254.169.254 80":                      "true",
		"production/as-deploy-database → workload:production/deployment/frontend 80": "true",
	} {
		e, ok := rows[conn]
		if !ok {
			t.Errorf("no row %s", conn)
			continue
		}
		allowed, rule, _ := strings.Cut(want, " ")
		if fmt.Sprint(e.IsAllowed()) != allowed || !strings.Contains(e.DecidedBy, rule) {
			t.Errorf("%s: allowed %v (%s), want %s (%s)", conn, e.IsAllowed(), e.DecidedBy, allowed, rule)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "svc:production/syslog 514/UDP: not probed") {
		t.Errorf("notes %q, want the UDP port left out", notes)
	}
	for _, e := range sc.Spec.Expect {
		if strings.Contains(e.To, "syslog") {
			t.Errorf("a UDP row: %+v", e)
		}
	}
}

// A typo in a policy's podSelector, and the Kyverno template's
// namespaceSelector name=kube-system (a label kube-system does not carry),
// are named as findings.
func TestFindings(t *testing.T) {
	t.Parallel()
	dns := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "allow-dns-egress", Namespace: "production"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": "kube-system"}}}}}}}}
	c := fake.NewClientset(production(ingressFrom("database-allow-backend", "databse", "backend", 5432),
		ingressFrom("backend-allow-frontend", "backend", "frontnd", 8080), dns)...)
	l, err := Discover(context.Background(), c, []string{"production"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(l.Findings(), "\n")
	for _, want := range []string{
		"production/database-allow-backend: podSelector app=databse selects no pod in production: the policy protects nothing",
		"production/backend-allow-frontend ingress[0].from[0]: podSelector app=frontnd matches no pod in production",
		"production/allow-dns-egress egress[0].to[0]: namespaceSelector name=kube-system matches no namespace",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings:\n%s\nwant %q", got, want)
		}
	}
	if l2, _ := Discover(context.Background(), fake.NewClientset(production(ingressFrom("database-allow-backend", "database", "backend", 5432))...), []string{"production"}); len(l2.Findings()) != 0 {
		t.Errorf("findings without a mistake: %q", l2.Findings())
	}
}
