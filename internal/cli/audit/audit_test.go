package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	core "github.com/netverify/netverify/audit"
	"github.com/netverify/netverify/internal/cli/kube"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpfake "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/fake"
)

// cluster returns a fake cluster holding objs whose access reviews allow
// everything except the resources in deny. It serves no
// ClusterNetworkPolicy.
func cluster(objs []runtime.Object, deny ...string) connectFunc {
	return clusterWithCNPs(objs, nil, deny...)
}

// clusterWithCNPs is cluster with the ClusterNetworkPolicies cnps.
func clusterWithCNPs(objs, cnps []runtime.Object, deny ...string) connectFunc {
	return func(context.Context) (core.Clients, error) {
		cs := fake.NewClientset(objs...)
		cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
			r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
			r.Status.Allowed = true
			for _, d := range deny {
				if r.Spec.ResourceAttributes.Resource == d {
					r.Status.Allowed = false
				}
			}
			return true, r, nil
		})
		return core.Clients{Kube: cs, Dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()),
			ClusterPolicies: cnpfake.NewClientset(cnps...).PolicyV1alpha2()}, nil
	}
}

// shop is kube-system and a namespace "shop" by the book: default deny both
// ways with DNS allowed, one labelled pod; plus extra.
func shop(extra ...runtime.Object) []runtime.Object {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	p53 := func(proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
		p := networkingv1.NetworkPolicyPort{Protocol: proto}
		v := intstr.FromInt32(53)
		p.Port = &v
		return p
	}
	return append([]runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: "shop"},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress"},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}},
					Ports: []networkingv1.NetworkPolicyPort{p53(&udp), p53(&tcp)},
				}}}},
	}, extra...)
}

func hostNetPod() runtime.Object {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop", Labels: map[string]string{"app": "agent"}},
		Spec: corev1.PodSpec{HostNetwork: true, DNSPolicy: corev1.DNSClusterFirstWithHostNet}}
}

func execute(t *testing.T, connect connectFunc, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newCommand(kube.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, connect)
	cmd.SetArgs(args)
	cmd.SetOut(&errOut)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *kube.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		connect  connectFunc
		args     []string
		code     int
		inStdout string
		inErr    string
	}{
		{name: "clean namespace", connect: cluster(shop()), code: 0, inStdout: "No findings."},
		{name: "a high finding", connect: cluster(shop(hostNetPod())), code: 1, inStdout: "pod-host-network", inErr: "1 finding at or above --fail-on high"},
		{name: "excluded namespace", connect: cluster(shop(hostNetPod())), args: []string{"--exclude-namespace", "shop", "--exclude-namespace", "kube-system"}, code: 0, inStdout: "No findings."},
		{name: "findings below --fail-on", connect: cluster(shop(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "shop"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}})), code: 0, inStdout: "service-nodeport"},
		{name: "info counts with --fail-on info", connect: cluster(shop(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "shop"}})),
			args: []string{"--fail-on", "info"}, code: 1, inStdout: "pod-missing-app-label"},
		{name: "info does not count by default", connect: cluster(shop(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "shop"}})), code: 0},
		{name: "auditing every namespace", connect: cluster(shop()), args: []string{"--exclude-namespace="}, code: 0, inStdout: "namespace-no-networkpolicy"},
		{name: "missing RBAC", connect: cluster(shop(), "pods"), code: 2, inErr: "missing RBAC permissions"},
		{name: "no cluster", connect: func(context.Context) (core.Clients, error) {
			return core.Clients{}, errors.New("no cluster configured")
		}, code: 2, inErr: "no cluster configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := execute(t, tc.connect, tc.args...)
			if got := exitCode(err); got != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, tc.code, out)
			}
			if !strings.Contains(out, tc.inStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.inStdout, out)
			}
			if tc.inErr != "" && (err == nil || !strings.Contains(err.Error(), tc.inErr)) {
				t.Errorf("error %v lacks %q", err, tc.inErr)
			}
		})
	}
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	out, _, err := execute(t, cluster(shop(hostNetPod())), "-o", "json", "--fail-on", "high")
	if exitCode(err) != 1 {
		t.Fatalf("exit %d, want 1", exitCode(err))
	}
	var doc struct {
		Summary  struct{ Total, High int }
		Findings []struct{ Rule, Severity, Namespace, Object, Message string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if doc.Summary.High != 1 || doc.Findings[0].Rule != "pod-host-network" || doc.Findings[0].Object != "pod/agent" {
		t.Errorf("unexpected report: %+v", doc)
	}
}

func TestBadFlagsAreAllReportedBeforeConnecting(t *testing.T) {
	t.Parallel()
	connected := false
	connect := func(context.Context) (core.Clients, error) {
		connected = true
		return core.Clients{}, errors.New("should not connect")
	}
	_, _, err := execute(t, connect, "-o", "yaml", "--fail-on", "critical", "--dev-namespace-pattern", "(", "--metadata-ip", "metadata.internal")
	if exitCode(err) != 2 {
		t.Fatalf("exit %d, want 2", exitCode(err))
	}
	for _, want := range []string{`-o "yaml"`, "--fail-on", "--dev-namespace-pattern", `--metadata-ip "metadata.internal"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if connected {
		t.Error("connected to the cluster despite bad flags")
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	var verbs []string
	connect := func(ctx context.Context) (core.Clients, error) {
		clients, err := cluster(shop(hostNetPod()))(ctx)
		record := func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetResource().Resource != "selfsubjectaccessreviews" {
				verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource)
			}
			return false, nil, nil
		}
		clients.Kube.(*fake.Clientset).PrependReactor("*", "*", record)
		cnps := cnpfake.NewClientset()
		cnps.PrependReactor("*", "*", record)
		clients.ClusterPolicies = cnps.PolicyV1alpha2()
		return clients, err
	}
	if _, _, err := execute(t, connect); exitCode(err) != 1 {
		t.Fatalf("exit %d, want 1", exitCode(err))
	}
	for _, v := range verbs {
		if !strings.HasPrefix(v, "list ") && !strings.HasPrefix(v, "get ") {
			t.Errorf("audit did %q: it must only get and list", v)
		}
	}
	if !slices.Contains(verbs, "list clusternetworkpolicies") {
		t.Errorf("audit did not list ClusterNetworkPolicies: %v", verbs)
	}
	if len(verbs) == 0 {
		t.Error("no API calls recorded")
	}
}

// The command reads the cluster's ClusterNetworkPolicies: a Baseline
// Deny-all is a default deny for a namespace without NetworkPolicies.
func TestClusterNetworkPolicies(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "open"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "open", Labels: map[string]string{"app": "web"}}},
	}
	denyAll := &cnpv1.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-all"},
		Spec: cnpv1.ClusterNetworkPolicySpec{
			Tier: cnpv1.BaselineTier, Priority: 100,
			Subject: cnpv1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}},
			Ingress: []cnpv1.ClusterNetworkPolicyIngressRule{{Action: cnpv1.ClusterNetworkPolicyRuleActionDeny,
				From: []cnpv1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}}},
			Egress: []cnpv1.ClusterNetworkPolicyEgressRule{{Action: cnpv1.ClusterNetworkPolicyRuleActionDeny,
				To: []cnpv1.ClusterNetworkPolicyEgressPeer{{Namespaces: &metav1.LabelSelector{}}, {Networks: []cnpv1.CIDR{"0.0.0.0/0", "::/0"}}}}},
		},
	}
	rules := func(connect connectFunc) []string {
		out, _, err := execute(t, connect, "-o", "json", "--fail-on", "high")
		if exitCode(err) != 0 {
			t.Fatalf("exit %d (%v)\n%s", exitCode(err), err, out)
		}
		var doc struct{ Findings []struct{ Rule string } }
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, out)
		}
		var rs []string
		for _, f := range doc.Findings {
			rs = append(rs, f.Rule)
		}
		return rs
	}
	if got := rules(cluster(objs)); !slices.Contains(got, "namespace-no-networkpolicy") || !slices.Contains(got, "namespace-metadata-reachable") {
		t.Errorf("without ClusterNetworkPolicies: rules %v, want namespace-no-networkpolicy and namespace-metadata-reachable", got)
	}
	got := rules(clusterWithCNPs(objs, []runtime.Object{denyAll}))
	for _, r := range []string{"namespace-no-networkpolicy", "namespace-no-default-deny-ingress", "namespace-no-default-deny-egress", "namespace-metadata-reachable"} {
		if slices.Contains(got, r) {
			t.Errorf("with a Baseline Deny-all: %s reported (rules %v)", r, got)
		}
	}
	if !slices.Contains(got, "namespace-egress-blocks-dns") {
		t.Errorf("with a Baseline Deny-all: rules %v, want namespace-egress-blocks-dns", got)
	}
}
