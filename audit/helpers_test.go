package audit

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpfake "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/fake"
)

// Small builders, makeX(name, ns, tweaks...), as in kube-network-policies.

func makeNamespace(name string, tweaks ...func(*corev1.Namespace)) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
	for _, t := range tweaks {
		t(ns)
	}
	return ns
}

func makePod(name, ns string, labels map[string]string, tweaks ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/e2e-test-images/agnhost:2.53",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, t := range tweaks {
		t(p)
	}
	return p
}

func hostNetwork(p *corev1.Pod) { p.Spec.HostNetwork = true }

func hostPort(port int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = port }
}

func dnsPolicy(d corev1.DNSPolicy) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.DNSPolicy = d }
}

func phase(ph corev1.PodPhase) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Status.Phase = ph } }

// ownedByReplicaSet makes the pod a replica of Deployment deploy.
func ownedByReplicaSet(deploy, hash string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		yes := true
		p.Labels["pod-template-hash"] = hash
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: deploy + "-" + hash, Controller: &yes}}
	}
}

func makeService(name, ns string, tweaks ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}},
	}
	for _, t := range tweaks {
		t(s)
	}
	return s
}

// makePolicy returns a policy selecting every pod (podSelector {}) with no
// types and no rules; tweaks adjust it.
func makePolicy(name, ns string, tweaks ...func(*networkingv1.NetworkPolicy)) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for _, t := range tweaks {
		t(p)
	}
	return p
}

func selecting(l map[string]string) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.PodSelector = metav1.LabelSelector{MatchLabels: l} }
}

func types(ts ...networkingv1.PolicyType) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.PolicyTypes = ts }
}

func ingress(rules ...networkingv1.NetworkPolicyIngressRule) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress = rules }
}

func egress(rules ...networkingv1.NetworkPolicyEgressRule) func(*networkingv1.NetworkPolicy) {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.Egress = rules }
}

func port(n int32, proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &p, Protocol: &proto}
}

func nsPeer(l map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: l}}
}

func ipPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

// dnsRule allows kube-dns in kube-system on the given protocols' port 53.
func dnsRule(protos ...corev1.Protocol) networkingv1.NetworkPolicyEgressRule {
	r := networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "kube-system"}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
	}}}
	for _, p := range protos {
		r.Ports = append(r.Ports, port(53, p))
	}
	return r
}

// kubeSystem is the cluster DNS as on a kubeadm cluster.
func kubeSystem() []runtime.Object {
	return []runtime.Object{
		makeNamespace("kube-system"),
		makeService("kube-dns", "kube-system", func(s *corev1.Service) {
			s.Spec.Selector = map[string]string{"k8s-app": "kube-dns"}
		}),
		makePod("coredns-7db6d8ff4d-abcde", "kube-system", map[string]string{"k8s-app": "kube-dns"}),
	}
}

// bookPolicies are a namespace configured by the book: default deny both
// ways, DNS to kube-dns over UDP and TCP, the internet but not the metadata
// services, and web reachable on 8080 from the namespace.
func bookPolicies(ns string) []*networkingv1.NetworkPolicy {
	return []*networkingv1.NetworkPolicy{
		makePolicy("default-deny", ns, types(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)),
		makePolicy("allow-dns", ns, types(networkingv1.PolicyTypeEgress), egress(dnsRule(corev1.ProtocolUDP, corev1.ProtocolTCP))),
		makePolicy("allow-internet", ns, types(networkingv1.PolicyTypeEgress),
			egress(networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{
				ipPeer("0.0.0.0/0", "169.254.169.254/32", "100.100.100.200/32")}})),
		makePolicy("allow-web", ns, selecting(map[string]string{"app": "web"}), types(networkingv1.PolicyTypeIngress),
			ingress(networkingv1.NetworkPolicyIngressRule{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
				Ports: []networkingv1.NetworkPolicyPort{port(8080, corev1.ProtocolTCP)},
			})),
	}
}

// bookNamespace is a namespace by the book: its policies, two labelled
// replicas of web and a ClusterIP Service. Policies named in drop are left
// out; extra objects are added.
func bookNamespace(ns string, drop []string, extra ...runtime.Object) []runtime.Object {
	objs := []runtime.Object{
		makeNamespace(ns),
		makePod("web-5d4f7c9b8-x2x9k", ns, map[string]string{"app": "web"}, ownedByReplicaSet("web", "5d4f7c9b8")),
		makePod("web-5d4f7c9b8-q8r7t", ns, map[string]string{"app.kubernetes.io/name": "web", "app": "web"}, ownedByReplicaSet("web", "5d4f7c9b8")),
		makeService("web", ns),
	}
next:
	for _, p := range bookPolicies(ns) {
		for _, d := range drop {
			if p.Name == d {
				continue next
			}
		}
		objs = append(objs, p)
	}
	return append(objs, extra...)
}

// Policy kinds of other APIs, for discovery and the dynamic client.
var (
	gvrCNP       = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}
	gvrCCNP      = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumclusterwidenetworkpolicies"}
	gvrANP       = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1alpha1", Resource: "adminnetworkpolicies"}
	gvrBANP      = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1alpha1", Resource: "baselineadminnetworkpolicies"}
	gvrCalV3NP   = schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "networkpolicies"}
	gvrCalCRDNP  = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "networkpolicies"}
	gvrCalCRDGNP = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "globalnetworkpolicies"}
	gvrClusterNP = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1alpha2", Resource: "clusternetworkpolicies"}
	// gvrClusterNPNext is a later version, for a server that no longer
	// serves v1alpha2.
	gvrClusterNPNext = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1beta1", Resource: "clusternetworkpolicies"}
)

var listKinds = map[schema.GroupVersionResource]string{
	gvrCNP: "CiliumNetworkPolicyList", gvrCCNP: "CiliumClusterwideNetworkPolicyList",
	gvrANP: "AdminNetworkPolicyList", gvrBANP: "BaselineAdminNetworkPolicyList",
	gvrCalV3NP: "NetworkPolicyList", gvrCalCRDNP: "NetworkPolicyList", gvrCalCRDGNP: "GlobalNetworkPolicyList",
	gvrClusterNP: "ClusterNetworkPolicyList", gvrClusterNPNext: "ClusterNetworkPolicyList",
}

// apiResources is discovery's answer for the given resources.
func apiResources(gvrs ...schema.GroupVersionResource) []*metav1.APIResourceList {
	byGV := map[string]*metav1.APIResourceList{}
	var out []*metav1.APIResourceList
	for _, g := range gvrs {
		gv := g.GroupVersion().String()
		l, ok := byGV[gv]
		if !ok {
			l = &metav1.APIResourceList{GroupVersion: gv}
			byGV[gv] = l
			out = append(out, l)
		}
		kind := listKinds[g][:len(listKinds[g])-len("List")]
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: g.Resource, Kind: kind, Namespaced: g != gvrCCNP && g != gvrANP && g != gvrBANP && g != gvrCalCRDGNP && g != gvrClusterNP && g != gvrClusterNPNext,
			Verbs: metav1.Verbs{"get", "list"},
		})
	}
	return out
}

func makeCustom(gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(gvr.GroupVersion().String())
	u.SetKind(listKinds[gvr][:len(listKinds[gvr])-len("List")])
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// fixture is a cluster for Run.
type fixture struct {
	objs       []runtime.Object          // for the clientset
	apis       []*metav1.APIResourceList // served by discovery
	custom     []runtime.Object          // for the dynamic client
	cnps       []runtime.Object          // ClusterNetworkPolicies
	opts       Options
	reactor    func(*dynamicfake.FakeDynamicClient)
	cnpReactor func(*cnpfake.Clientset)
}

func (f fixture) run(t *testing.T) []Finding {
	t.Helper()
	cs := fake.NewClientset(f.objs...)
	cs.Discovery().(*fakediscovery.FakeDiscovery).Resources = f.apis
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, f.custom...)
	if f.reactor != nil {
		f.reactor(dyn)
	}
	cnps := cnpfake.NewClientset(f.cnps...)
	if f.cnpReactor != nil {
		f.cnpReactor(cnps)
	}
	fs, err := Run(context.Background(), Clients{Kube: cs, Dynamic: dyn, ClusterPolicies: cnps.PolicyV1alpha2()}, f.opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return fs
}

// ClusterNetworkPolicy builders.

const (
	adminTier    = cnpv1.AdminTier
	baselineTier = cnpv1.BaselineTier
	cnpAccept    = cnpv1.ClusterNetworkPolicyRuleActionAccept
	cnpDeny      = cnpv1.ClusterNetworkPolicyRuleActionDeny
	cnpPass      = cnpv1.ClusterNetworkPolicyRuleActionPass
)

// makeCNP returns a policy of tier and priority whose subject is every
// namespace, with no rules; tweaks adjust it.
func makeCNP(name string, tier cnpv1.Tier, priority int32, tweaks ...func(*cnpv1.ClusterNetworkPolicy)) *cnpv1.ClusterNetworkPolicy {
	p := &cnpv1.ClusterNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: cnpv1.ClusterNetworkPolicySpec{Tier: tier, Priority: priority,
			Subject: cnpv1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{}}},
	}
	for _, t := range tweaks {
		t(p)
	}
	return p
}

func subjectNamespaces(l map[string]string) func(*cnpv1.ClusterNetworkPolicy) {
	return func(p *cnpv1.ClusterNetworkPolicy) {
		p.Spec.Subject = cnpv1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{MatchLabels: l}}
	}
}

func subjectPods(ns, pods map[string]string) func(*cnpv1.ClusterNetworkPolicy) {
	return func(p *cnpv1.ClusterNetworkPolicy) {
		p.Spec.Subject = cnpv1.ClusterNetworkPolicySubject{Pods: &cnpv1.NamespacedPod{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: ns}, PodSelector: metav1.LabelSelector{MatchLabels: pods}}}
	}
}

func cnpIngress(rules ...cnpv1.ClusterNetworkPolicyIngressRule) func(*cnpv1.ClusterNetworkPolicy) {
	return func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Ingress = rules }
}

func cnpEgress(rules ...cnpv1.ClusterNetworkPolicyEgressRule) func(*cnpv1.ClusterNetworkPolicy) {
	return func(p *cnpv1.ClusterNetworkPolicy) { p.Spec.Egress = rules }
}

// inRule is an ingress rule from peers on every port.
func inRule(name string, action cnpv1.ClusterNetworkPolicyRuleAction, peers ...cnpv1.ClusterNetworkPolicyIngressPeer) cnpv1.ClusterNetworkPolicyIngressRule {
	return cnpv1.ClusterNetworkPolicyIngressRule{Name: name, Action: action, From: peers}
}

// outRule is an egress rule to peers on every port.
func outRule(name string, action cnpv1.ClusterNetworkPolicyRuleAction, peers ...cnpv1.ClusterNetworkPolicyEgressPeer) cnpv1.ClusterNetworkPolicyEgressRule {
	return cnpv1.ClusterNetworkPolicyEgressRule{Name: name, Action: action, To: peers}
}

func fromNamespaces(l map[string]string) cnpv1.ClusterNetworkPolicyIngressPeer {
	return cnpv1.ClusterNetworkPolicyIngressPeer{Namespaces: &metav1.LabelSelector{MatchLabels: l}}
}

func toNamespaces(l map[string]string) cnpv1.ClusterNetworkPolicyEgressPeer {
	return cnpv1.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{MatchLabels: l}}
}

func toNetworks(cidrs ...string) cnpv1.ClusterNetworkPolicyEgressPeer {
	nets := make([]cnpv1.CIDR, len(cidrs))
	for i, c := range cidrs {
		nets[i] = cnpv1.CIDR(c)
	}
	return cnpv1.ClusterNetworkPolicyEgressPeer{Networks: nets}
}

// metadataNets are the default metadata addresses as networks.
func metadataNets() cnpv1.ClusterNetworkPolicyEgressPeer {
	return toNetworks("169.254.169.254/32", "100.100.100.200/32")
}

// labelled adds labels to a namespace.
func labelled(l map[string]string) func(*corev1.Namespace) {
	return func(n *corev1.Namespace) {
		for k, v := range l {
			n.Labels[k] = v
		}
	}
}
