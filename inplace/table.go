package inplace

// The zero-config table: what the live policies of a namespace say about
// every connection its workloads and Services can be asked for, computed by
// the semantics engine before anything is probed.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/scenarios"
)

// Workload is a controller of pods in a live namespace, as the table sees
// it: its pod template's labels and ports, and its pods.
type Workload struct {
	Ref       scenarios.WorkloadRef
	Namespace string
	Labels    map[string]string // of its pod template
	Ports     []corev1.ContainerPort
	Pods      []policy.Pod // its running pods with an IP
}

func (w *Workload) String() string { return w.Namespace + "/" + w.Ref.String() }

// Live is what Discover read from the cluster.
type Live struct {
	Checked    []string           // the checked namespaces
	Namespaces []policy.Namespace // every namespace (for namespaceSelectors)
	Workloads  []*Workload        // of the checked namespaces, sorted
	Services   []corev1.Service   // of the checked namespaces with a selector and a ClusterIP
	Pods       []policy.Pod       // of the checked namespaces (and the cluster DNS)
	Policies   []networkingv1.NetworkPolicy
	// DNS are the cluster DNS's pods (kube-system/kube-dns), the targets of
	// name lookups.
	DNS []policy.Pod
	// ClusterPolicies are the cluster's own ClusterNetworkPolicies, when
	// it serves them (set by the caller).
	ClusterPolicies []cnpv1.ClusterNetworkPolicy
}

// Discover reads the checked namespaces' workloads, pods, Services and
// NetworkPolicies, and every namespace's labels. It only lists and gets.
func Discover(ctx context.Context, c kubernetes.Interface, namespaces []string) (*Live, error) {
	l := &Live{}
	nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	known := map[string]bool{}
	for _, ns := range nss.Items {
		known[ns.Name] = true
		l.Namespaces = append(l.Namespaces, policy.Namespace{Name: ns.Name, Labels: ns.Labels})
	}
	for _, ns := range namespaces {
		if !known[ns] {
			return nil, fmt.Errorf("namespace %q not found", ns)
		}
		if err := l.discover(ctx, c, ns); err != nil {
			return nil, err
		}
		l.Checked = append(l.Checked, ns)
	}
	if err := l.discoverDNS(ctx, c, namespaces); err != nil {
		return nil, err
	}
	slices.SortFunc(l.Workloads, func(a, b *Workload) int { return strings.Compare(a.String(), b.String()) })
	return l, nil
}

func (l *Live) discover(ctx context.Context, c kubernetes.Interface, ns string) error {
	list := metav1.ListOptions{}
	pods, err := c.CoreV1().Pods(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	var running []policy.Pod
	for _, p := range pods.Items {
		pp := policy.Pod{Namespace: ns, Name: p.Name, Labels: p.Labels, IP: p.Status.PodIP, HostNetwork: p.Spec.HostNetwork}
		for _, ct := range p.Spec.Containers {
			pp.Ports = append(pp.Ports, ct.Ports...)
		}
		l.Pods = append(l.Pods, pp)
		if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
			running = append(running, pp)
		}
	}
	add := func(kind, name string, sel *metav1.LabelSelector, tmpl corev1.PodTemplateSpec) {
		w := &Workload{Ref: scenarios.WorkloadRef{Kind: kind, Name: name}, Namespace: ns, Labels: tmpl.Labels}
		for _, ct := range tmpl.Spec.Containers {
			w.Ports = append(w.Ports, ct.Ports...)
		}
		if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Empty() {
			for _, p := range running {
				if s.Matches(labels.Set(p.Labels)) {
					w.Pods = append(w.Pods, p)
				}
			}
		}
		l.Workloads = append(l.Workloads, w)
	}
	apps := c.AppsV1()
	deps, err := apps.Deployments(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing Deployments in %s: %w", ns, err)
	}
	for _, d := range deps.Items {
		add(scenarios.KindDeployment, d.Name, d.Spec.Selector, d.Spec.Template)
	}
	stss, err := apps.StatefulSets(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing StatefulSets in %s: %w", ns, err)
	}
	for _, s := range stss.Items {
		add(scenarios.KindStatefulSet, s.Name, s.Spec.Selector, s.Spec.Template)
	}
	dss, err := apps.DaemonSets(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing DaemonSets in %s: %w", ns, err)
	}
	for _, d := range dss.Items {
		add(scenarios.KindDaemonSet, d.Name, d.Spec.Selector, d.Spec.Template)
	}
	rss, err := apps.ReplicaSets(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing ReplicaSets in %s: %w", ns, err)
	}
	for _, r := range rss.Items {
		if bare(&r) {
			add(scenarios.KindReplicaSet, r.Name, r.Spec.Selector, r.Spec.Template)
		}
	}
	svcs, err := c.CoreV1().Services(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing Services in %s: %w", ns, err)
	}
	for _, s := range svcs.Items {
		if len(s.Spec.Selector) > 0 && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
			l.Services = append(l.Services, s)
		}
	}
	nps, err := c.NetworkingV1().NetworkPolicies(ns).List(ctx, list)
	if err != nil {
		return fmt.Errorf("listing NetworkPolicies in %s: %w", ns, err)
	}
	l.Policies = append(l.Policies, nps.Items...)
	return nil
}

// discoverDNS reads the cluster DNS's pods and the policies of its
// namespace (unless checked already), so name lookups can be decided. A
// cluster without kube-system/kube-dns has none: no lookup rows.
func (l *Live) discoverDNS(ctx context.Context, c kubernetes.Interface, checked []string) error {
	svc, err := c.CoreV1().Services(dnsNamespace).Get(ctx, dnsService, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the cluster DNS Service %s/%s: %w", dnsNamespace, dnsService, err)
	}
	pods, err := c.CoreV1().Pods(dnsNamespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil || len(svc.Spec.Selector) == 0 {
		return nil // (a lookup row needs them; without, there is none)
	}
	for _, p := range pods.Items {
		if p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		pp := policy.Pod{Namespace: dnsNamespace, Name: p.Name, Labels: p.Labels, IP: p.Status.PodIP}
		for _, ct := range p.Spec.Containers {
			pp.Ports = append(pp.Ports, ct.Ports...)
		}
		l.DNS = append(l.DNS, pp)
		if !slices.Contains(checked, dnsNamespace) {
			l.Pods = append(l.Pods, pp)
		}
	}
	if slices.Contains(checked, dnsNamespace) {
		return nil
	}
	nps, err := c.NetworkingV1().NetworkPolicies(dnsNamespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		// its ingress side unknown: no lookup rows rather than guessed ones
		l.Pods = slices.DeleteFunc(l.Pods, func(p policy.Pod) bool { return p.Namespace == dnsNamespace })
		l.DNS = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing NetworkPolicies in %s: %w", dnsNamespace, err)
	}
	l.Policies = append(l.Policies, nps.Items...)
	return nil
}

// The cluster DNS, as kubeadm and most distributions name it.
const (
	dnsNamespace = "kube-system"
	dnsService   = "kube-dns"
)

// Engine returns the semantics engine of the live policies (and the
// cluster's ClusterNetworkPolicies), with the outsider namespace (created
// by the run, without labels but its name) known too.
func (l *Live) Engine(outsider string, opts ...policy.Option) (policy.Decider, error) {
	return l.engineWith([]policy.Namespace{{Name: outsider, Labels: map[string]string{corev1.LabelMetadataName: outsider}}}, opts...)
}

// engineWith is Engine with the namespaces a run creates.
func (l *Live) engineWith(created []policy.Namespace, opts ...policy.Option) (policy.Decider, error) {
	nss := append(slices.Clone(l.Namespaces), created...)
	eng, err := policy.NewEngine(nss, l.Pods, l.Policies, opts...)
	if err != nil {
		return nil, fmt.Errorf("the live policies: %w", err)
	}
	if len(l.ClusterPolicies) == 0 {
		return eng, nil
	}
	tiered, err := policy.NewTieredEngine(eng, l.ClusterPolicies)
	if err != nil {
		return nil, fmt.Errorf("the cluster's ClusterNetworkPolicies: %w", err)
	}
	return tiered, nil
}

// bare reports whether a ReplicaSet has no controller (a Deployment's are
// covered by the Deployment).
func bare(r *appsv1.ReplicaSet) bool { return metav1.GetControllerOf(r) == nil }

// Source is a probe pod the table connects from.
type Source struct {
	Namespace string
	// Workload is the impersonated workload; nil for a pod with no labels.
	Workload *Workload
	// Outsider: a pod with no labels in a namespace of its own with no
	// labels (but its name).
	Outsider bool
}

// Labels are the labels the probe pod carries (besides the run's).
func (s Source) Labels() map[string]string {
	if s.Workload == nil {
		return nil
	}
	return maps.Clone(s.Workload.Labels)
}

func (s Source) String() string {
	switch {
	case s.Workload != nil:
		return s.Workload.String()
	case s.Outsider:
		return s.Namespace + "/(no labels, other namespace)"
	}
	return s.Namespace + "/(no labels)"
}

// podName names the source's probe pod in reasons: "probe-as-deployment-frontend".
func (s Source) podName(int) string {
	if s.Workload != nil {
		return podName(s.Workload.Ref)
	}
	return "no-labels"
}

// Target is a port the table connects to: a Service port (by ClusterIP) or
// a workload's declared container port (by pod IP).
type Target struct {
	Namespace string
	Service   *corev1.Service // or
	Workload  *Workload
	Port      int32 // the Service port, or the container port
	PortName  string
	Protocol  corev1.Protocol
}

func (t Target) String() string {
	port := fmt.Sprintf("%d/%s", t.Port, t.Protocol)
	if t.PortName != "" {
		port = fmt.Sprintf("%d (%s)/%s", t.Port, t.PortName, t.Protocol)
	}
	if t.Service != nil {
		return "svc:" + t.Namespace + "/" + t.Service.Name + " " + port
	}
	return t.Workload.String() + " " + port
}

// Row is one connection of the table with what the live policies say.
type Row struct {
	From Source
	To   Target
	// Backends are the pods that could answer, each with the engine's
	// decision on the port it would be reached on.
	Backends []Backend
}

// Backend is one pod behind a target and the decision for it.
type Backend struct {
	Pod      policy.Pod
	Port     int32
	Decision policy.Decision
}

// Verdict is the verdict every backend shares, or "" when backends differ
// or there is none.
func (r Row) Verdict() policy.Verdict {
	var v policy.Verdict
	for i, b := range r.Backends {
		if i > 0 && b.Decision.Verdict != v {
			return ""
		}
		v = b.Decision.Verdict
	}
	return v
}

// Table computes every source × target of the checked namespaces. outsider
// names the namespace of the outsider source (created by the run).
func Table(l *Live, outsider string, opts ...policy.Option) ([]Row, error) {
	eng, err := l.Engine(outsider, opts...)
	if err != nil {
		return nil, err
	}
	var sources []Source
	var targets []Target
	checked := map[string]bool{}
	for _, w := range l.Workloads {
		checked[w.Namespace] = true
	}
	for _, s := range l.Services {
		checked[s.Namespace] = true
	}
	for _, ns := range slices.Sorted(maps.Keys(checked)) {
		for _, w := range l.Workloads {
			if w.Namespace == ns {
				sources = append(sources, Source{Namespace: ns, Workload: w})
			}
		}
		sources = append(sources, Source{Namespace: ns})
	}
	sources = append(sources, Source{Namespace: outsider, Outsider: true})
	for i := range l.Services {
		s := &l.Services[i]
		for _, sp := range s.Spec.Ports {
			targets = append(targets, Target{Namespace: s.Namespace, Service: s, Port: sp.Port, PortName: sp.Name, Protocol: orTCP(sp.Protocol)})
		}
	}
	for _, w := range l.Workloads {
		for _, cp := range w.Ports {
			targets = append(targets, Target{Namespace: w.Namespace, Workload: w, Port: cp.ContainerPort, PortName: cp.Name, Protocol: orTCP(cp.Protocol)})
		}
	}
	var rows []Row
	for i, src := range sources {
		from := &policy.Pod{Namespace: src.Namespace, Name: src.podName(i), Labels: src.Labels()}
		for _, t := range targets {
			row := Row{From: src, To: t}
			for _, b := range backends(l, t) {
				d, err := eng.Decide(policy.Peer{Pod: from}, policy.Peer{Pod: &b.Pod}, b.Port, t.Protocol)
				if err != nil {
					return nil, fmt.Errorf("%s → %s: %w", src, t, err)
				}
				b.Decision = d
				row.Backends = append(row.Backends, b)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// backends are the pods that answer t, each on the port it is reached on:
// a Service's selected running pods on its targetPort (a name resolved per
// pod; pods without it are not backends), a workload's running pods on the
// container port.
func backends(l *Live, t Target) []Backend {
	var out []Backend
	if t.Workload != nil {
		for _, p := range t.Workload.Pods {
			out = append(out, Backend{Pod: p, Port: t.Port})
		}
		return out
	}
	var sp corev1.ServicePort
	for _, p := range t.Service.Spec.Ports {
		if p.Port == t.Port && orTCP(p.Protocol) == t.Protocol {
			sp = p
		}
	}
	sel := labels.SelectorFromSet(t.Service.Spec.Selector)
	for _, p := range l.Pods {
		if p.Namespace != t.Namespace || p.IP == "" || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		port := sp.Port
		switch {
		case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
			n, ok := p.NamedPort(sp.TargetPort.StrVal, t.Protocol)
			if !ok {
				continue
			}
			port = n
		case sp.TargetPort.IntVal != 0:
			port = sp.TargetPort.IntVal
		}
		out = append(out, Backend{Pod: p, Port: port})
	}
	return out
}

func orTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
