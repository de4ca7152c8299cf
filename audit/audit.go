package audit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/typed/apis/v1alpha2"
)

// runIDLabel marks the namespaces of a `netverify run` (orchestrator.LabelRunID);
// the audit skips them: they are short-lived and seeded on purpose.
const runIDLabel = "netverify.io/run-id"

// DefaultExcludeNamespaces are the namespaces the audit skips unless told
// otherwise: the control plane's and netverify's own installation.
func DefaultExcludeNamespaces() []string {
	return []string{"kube-system", "kube-public", "kube-node-lease", "netverify"}
}

// DefaultDevNamespacePattern matches development namespaces by name: dev,
// test or sandbox as a whole dash-separated word ("team-dev", "test-a").
const DefaultDevNamespacePattern = `(^|-)(dev|test|sandbox)(-|$)`

// DefaultMetadataIPs are the cloud metadata services the audit looks for:
// 169.254.169.254 (AWS, GCP, Azure, OpenStack, …) and 100.100.100.200
// (Alibaba Cloud).
func DefaultMetadataIPs() []string { return []string{"169.254.169.254", "100.100.100.200"} }

// Options tune an audit. The zero value audits with the defaults.
type Options struct {
	// ExcludeNamespaces are skipped (namespace-scoped findings only). nil
	// means DefaultExcludeNamespaces(); an empty, non-nil slice skips none.
	// Namespaces of netverify runs (label netverify.io/run-id) and
	// namespaces being deleted are always skipped.
	ExcludeNamespaces []string
	// DevNamespacePattern matches development namespaces, where a
	// LoadBalancer Service is a finding. nil means DefaultDevNamespacePattern.
	DevNamespacePattern *regexp.Regexp
	// MetadataIPs are the cloud metadata addresses egress must not reach.
	// nil means DefaultMetadataIPs().
	MetadataIPs []string
	// Command is what the user types to run netverify ("netverify", or
	// "kubectl netverify" for the kubectl plugin), for findings that
	// suggest a netverify command. "" means "netverify".
	Command string
}

// config is Options with the defaults applied and the input parsed.
type config struct {
	exclude  map[string]bool
	dev      *regexp.Regexp
	metadata []netip.Addr
	command  string
}

func (o Options) compile() (*config, error) {
	c := &config{exclude: map[string]bool{}, dev: o.DevNamespacePattern, command: o.Command}
	if c.command == "" {
		c.command = "netverify"
	}
	ex := o.ExcludeNamespaces
	if ex == nil {
		ex = DefaultExcludeNamespaces()
	}
	for _, ns := range ex {
		c.exclude[ns] = true
	}
	if c.dev == nil {
		c.dev = regexp.MustCompile(DefaultDevNamespacePattern)
	}
	ips := o.MetadataIPs
	if ips == nil {
		ips = DefaultMetadataIPs()
	}
	var errs []error
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("metadata IP %q: %w", s, err))
			continue
		}
		c.metadata = append(c.metadata, a.Unmap())
	}
	return c, errors.Join(errs...)
}

// inScope reports whether namespace-scoped checks look at ns.
func (c *config) inScope(ns *corev1.Namespace) bool {
	if c.exclude[ns.Name] || ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		return false
	}
	_, run := ns.Labels[runIDLabel]
	return !run
}

// Clients are what Run reads the cluster through.
type Clients struct {
	// Kube lists namespaces, pods, Services and NetworkPolicies; its
	// discovery finds the policy kinds of other APIs. Required.
	Kube kubernetes.Interface
	// Dynamic lists the policy kinds the engine does not model (Cilium,
	// Calico, AdminNetworkPolicy). nil skips that check.
	Dynamic dynamic.Interface
	// ClusterPolicies lists ClusterNetworkPolicies
	// (policy.networking.k8s.io/v1alpha2), e.g. PolicyV1alpha2() of a
	// sigs.k8s.io/network-policy-api clientset. nil reads none, as on a
	// cluster that does not serve them.
	ClusterPolicies cnpclient.ClusterNetworkPoliciesGetter
}

// Run audits the cluster and returns its findings, sorted (see Sort). It only
// reads: it lists namespaces, pods, services and NetworkPolicies through
// clients.Kube, ClusterNetworkPolicies through clients.ClusterPolicies and,
// to find policy kinds the engine does not model (AdminNetworkPolicy,
// Cilium, Calico), asks discovery which exist and lists them through
// clients.Dynamic.
//
// It fails on invalid Options or when a list of the core kinds fails. A
// cluster that does not serve ClusterNetworkPolicies has none; one that
// refuses to list them, or a policy kind that exists but cannot be listed,
// is a finding (audit-incomplete), not an error.
func Run(ctx context.Context, clients Clients, opts Options) ([]Finding, error) {
	if clients.Kube == nil {
		return nil, errors.New("audit: no Kubernetes client")
	}
	c, err := opts.compile()
	if err != nil {
		return nil, err
	}
	s, err := load(ctx, clients.Kube)
	if err != nil {
		return nil, err
	}
	var fs []Finding
	if clients.ClusterPolicies != nil {
		cnps, more, err := loadClusterPolicies(ctx, clients.ClusterPolicies, clients.Kube.Discovery())
		if err != nil {
			return nil, err
		}
		s.clusterPolicies = cnps
		fs = append(fs, more...)
	}
	fs = append(fs, check(s, c)...)
	if clients.Dynamic != nil {
		skip := map[string]bool{}
		for i := range s.namespaces {
			if !c.inScope(&s.namespaces[i]) {
				skip[s.namespaces[i].Name] = true
			}
		}
		for ns := range c.exclude {
			skip[ns] = true
		}
		more, err := checkUnmodeled(ctx, clients.Kube.Discovery(), clients.Dynamic, skip, c.command)
		if err != nil {
			return nil, err
		}
		fs = append(fs, more...)
	}
	Sort(fs)
	return fs, nil
}

// snapshot is what the checks read: every namespace, live pod, Service,
// NetworkPolicy and (valid) ClusterNetworkPolicy of the cluster.
type snapshot struct {
	namespaces      []corev1.Namespace
	pods            []corev1.Pod
	services        []corev1.Service
	policies        []networkingv1.NetworkPolicy
	clusterPolicies []cnpv1.ClusterNetworkPolicy
}

func load(ctx context.Context, client kubernetes.Interface) (*snapshot, error) {
	s := &snapshot{}
	nss, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	s.namespaces = nss.Items
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	for _, p := range pods.Items {
		// Finished pods run nothing; their specs are history.
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			s.pods = append(s.pods, p)
		}
	}
	svcs, err := client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	s.services = svcs.Items
	pols, err := client.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing networkpolicies: %w", err)
	}
	s.policies = pols.Items
	return s, nil
}

// check runs every rule that needs only the snapshot.
func check(s *snapshot, c *config) []Finding {
	podsByNS := map[string][]corev1.Pod{}
	for _, p := range s.pods {
		podsByNS[p.Namespace] = append(podsByNS[p.Namespace], p)
	}
	svcsByNS := map[string][]corev1.Service{}
	for _, svc := range s.services {
		svcsByNS[svc.Namespace] = append(svcsByNS[svc.Namespace], svc)
	}
	polsByNS := map[string][]networkingv1.NetworkPolicy{}
	for _, p := range s.policies {
		polsByNS[p.Namespace] = append(polsByNS[p.Namespace], p)
	}
	for _, list := range polsByNS {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	w := newWorld(s)
	var fs []Finding
	for i := range s.namespaces {
		ns := &s.namespaces[i]
		if !c.inScope(ns) {
			continue
		}
		pods, pols := podsByNS[ns.Name], polsByNS[ns.Name]
		m, err := newModel(ns.Name, w, pols, s.clusterPolicies)
		if err != nil {
			skipped := "DNS and metadata checks skipped"
			if len(s.clusterPolicies) > 0 {
				skipped = "DNS and metadata checks skipped, and ClusterNetworkPolicies not taken into account"
			}
			fs = append(fs, newFinding(RuleAuditIncomplete, ns.Name, "namespace/"+ns.Name,
				skipped+": the policy engine rejected the namespace's policies: "+oneLine(err.Error())))
		}
		fs = append(fs, checkNamespacePolicies(ns.Name, pods, pols, m, w, c)...)
		for j := range pols {
			fs = append(fs, checkPolicy(&pols[j], pods, m, w, c)...)
		}
		fs = append(fs, checkPods(ns.Name, pods)...)
		fs = append(fs, checkServices(ns.Name, svcsByNS[ns.Name], c)...)
	}
	return fs
}
