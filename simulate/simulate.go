// Package simulate is a cluster without a cluster: a fake clientset whose
// pods become Ready with IPs and whose Services get ClusterIPs, and an
// orchestrator.Executor that answers the probe program's commands from the
// NetworkPolicy semantics engine applied to the objects in that clientset.
//
// It stands beside the real executor (pods/exec through the API server) and
// fills the same results: `netverify run --dry-run` runs the whole pipeline
// on it (the expected table, with the rule that decides each row, no cluster
// touched), and the orchestrator's tests use it to exercise comparison,
// gating, controls and printing without a cluster.
//
// The simulated world answers as Cilium, the local cluster's CNI, resolves
// what the NetworkPolicy API leaves to implementations (policy.BestAnswer):
// a pod may always reach itself; an ipBlock matches no pod IP. A port that
// nothing declares is refused, as on a real cluster. Every outside address
// answers (there is no real network to ask); names under the cluster domain
// resolve to Services, and the cluster DNS (kube-system/coredns behind
// Service kube-dns) is a pod like any other, so egress policies must allow
// it. Outside host names cannot be resolved: probes of them report
// "unsupported", which the orchestrator turns into a skipped check.
package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/probe"
	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpfake "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/fake"
)

// The simulated cluster DNS.
const (
	DNSNamespace = "kube-system"
	DNSPod       = "coredns"
	DNSService   = "kube-dns"
	DNSServiceIP = "10.96.0.10"
	DNSPodIP     = "10.244.255.10"
	// ClusterDomain is the suffix of in-cluster names.
	ClusterDomain = "cluster.local"
)

// Cluster is a simulated cluster. Client holds its objects; Cluster itself
// is the Executor of the probe program's commands in its pods.
type Cluster struct {
	Client *fake.Clientset

	// IgnorePolicies makes the cluster behave as a CNI without a policy
	// engine (plain flannel, the bridge plugin): everything is allowed.
	IgnorePolicies bool
	// EnforcementDelay is how long after its creation a NetworkPolicy takes
	// effect (a slow CNI agent), measured on Clock.
	EnforcementDelay time.Duration
	// Clock times EnforcementDelay; the wall clock when nil. Give it the
	// Runner's clock.
	Clock orchestrator.Clock
	// NotEnforcingOn names nodes whose CNI agent enforces no policy (it
	// came back without it after an upgrade): the ingress side of pods
	// there and the egress side of pods there let everything through.
	// Pods run on the node they are pinned to (orchestrator.PinnedNode),
	// else on the first node added (AddNodes).
	NotEnforcingOn map[string]bool
	// TimeoutEvery, when above 1, makes every TimeoutEvery-th attempt of
	// each connection time out whatever the policies say: a busy node
	// dropping a packet now and then.
	TimeoutEvery int
	// Policies holds the cluster's ClusterNetworkPolicies (the kind is
	// served): the simulated cluster enforces all of them, with the
	// NetworkPolicies, unless IgnorePolicies.
	Policies *cnpfake.Clientset

	mu       sync.Mutex
	nodes    []string // AddNodes, in order
	nextPod  int
	nextSvc  int
	nextUID  int
	policyAt map[string]time.Time // "ns/name" → when it was created
	attempts map[string]int       // connection → attempts so far (TimeoutEvery)
}

var _ orchestrator.Executor = (*Cluster)(nil)

// New returns an empty simulated cluster: only kube-system and its DNS.
func New() *Cluster {
	dnsLabels := map[string]string{"k8s-app": "kube-dns"}
	dnsPorts := []corev1.ContainerPort{
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
	}
	c := &Cluster{policyAt: map[string]time.Time{}, attempts: map[string]int{}, Policies: cnpfake.NewSimpleClientset(), Client: fake.NewSimpleClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: DNSNamespace, Labels: map[string]string{corev1.LabelMetadataName: DNSNamespace}}},
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: DNSPod, Namespace: DNSNamespace, Labels: dnsLabels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Ports: dnsPorts}}},
			Status:     readyStatus(DNSPodIP),
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: DNSService, Namespace: DNSNamespace},
			Spec: corev1.ServiceSpec{ClusterIP: DNSServiceIP, Selector: dnsLabels, Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
			}},
		},
	)}
	// a dry-run create is checked, never stored (as an API server does)
	c.Policies.PrependReactor("create", "clusternetworkpolicies", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca, ok := a.(k8stesting.CreateActionImpl)
		if ok && slices.Contains(ca.GetCreateOptions().DryRun, metav1.DryRunAll) {
			return true, ca.GetObject(), nil
		}
		return false, nil, nil
	})
	// the cluster serves ClusterNetworkPolicies (clear Client.Resources for one that does not)
	c.Client.Resources = []*metav1.APIResourceList{{GroupVersion: cnpv1.GroupVersion.String(), APIResources: []metav1.APIResource{
		{Name: "clusternetworkpolicies", Kind: "ClusterNetworkPolicy", Verbs: metav1.Verbs{"create", "delete", "get", "list", "watch"}},
	}}}
	c.Client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		c.mu.Lock()
		c.nextPod++
		n := c.nextPod
		c.mu.Unlock()
		p.Status = readyStatus(fmt.Sprintf("10.244.%d.%d", n/250, n%250+1))
		if p.Spec.NodeName == "" {
			p.Spec.NodeName = orchestrator.PinnedNode(p)
		}
		c.mu.Lock()
		if p.Spec.NodeName == "" && len(c.nodes) > 0 {
			p.Spec.NodeName = c.nodes[0] // (the scheduler's choice)
		}
		c.mu.Unlock()
		return false, nil, nil
	})
	c.Client.PrependReactor("create", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		cm := a.(k8stesting.CreateAction).GetObject().(*corev1.ConfigMap)
		c.mu.Lock()
		c.nextUID++
		cm.UID = types.UID(fmt.Sprintf("simulated-%d", c.nextUID)) // as the API server gives every object
		c.mu.Unlock()
		return false, nil, nil
	})
	c.Client.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ns := a.(k8stesting.CreateAction).GetObject().(*corev1.Namespace)
		// the controller-manager's job: every namespace gets a default ServiceAccount
		_ = c.Client.Tracker().Add(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}})
		return false, nil, nil
	})
	c.Client.PrependReactor("create", "networkpolicies", func(a k8stesting.Action) (bool, runtime.Object, error) {
		np := a.(k8stesting.CreateAction).GetObject().(*networkingv1.NetworkPolicy)
		c.mu.Lock()
		c.policyAt[np.Namespace+"/"+np.Name] = c.now()
		c.mu.Unlock()
		return false, nil, nil
	})
	c.Client.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		s := a.(k8stesting.CreateAction).GetObject().(*corev1.Service)
		c.mu.Lock()
		c.nextSvc++
		n := c.nextSvc
		c.mu.Unlock()
		s.Spec.ClusterIP = fmt.Sprintf("10.96.%d.%d", 1+n/250, n%250+1)
		return false, nil, nil
	})
	return c
}

// AddNodes adds Ready, schedulable nodes, labelled with their hostname,
// for probe pods to be spread over.
func (c *Cluster) AddNodes(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		c.nodes = append(c.nodes, n)
		_ = c.Client.Tracker().Add(&corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{corev1.LabelHostname: n}},
			Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
		})
	}
}

func (c *Cluster) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// inEffect returns the policies the simulated CNI enforces now.
func (c *Cluster) inEffect(all []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
	if c.IgnorePolicies {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []networkingv1.NetworkPolicy
	for _, np := range all {
		if at, ok := c.policyAt[np.Namespace+"/"+np.Name]; !ok || now.Sub(at) >= c.EnforcementDelay {
			out = append(out, np)
		}
	}
	return out
}

func readyStatus(ip string) corev1.PodStatus {
	return corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: ip,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
	}
}

// Exec implements orchestrator.Executor for the probe program's `batch` and
// `connect` commands: it answers each request from the policies in the
// cluster at the time of the call, with exit codes as the program's. Other
// commands exit 3 (usage), as the program would.
func (c *Cluster) Exec(ctx context.Context, namespace, pod, _ string, argv []string) (orchestrator.ExecResult, error) {
	if err := ctx.Err(); err != nil {
		return orchestrator.ExecResult{}, err
	}
	reqs, single, err := parseCommand(argv)
	if err != nil {
		return orchestrator.ExecResult{ExitCode: probe.ExitUsage, Stderr: []byte(err.Error() + "\n")}, nil
	}
	w, err := c.world(ctx)
	if err != nil {
		return orchestrator.ExecResult{}, err
	}
	src := w.pod(namespace, pod)
	if src == nil {
		return orchestrator.ExecResult{}, fmt.Errorf("exec in %s/%s: pod not found", namespace, pod)
	}
	var out bytes.Buffer
	exit := 0
	for _, r := range reqs {
		resp := w.answer(src, r)
		if c.transientTimeout(src, r) {
			resp = probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, Detail: "dropped (simulated busy node)"}
		}
		resp.ID = r.ID
		resp.DecidedBy = w.logical.Replace(resp.DecidedBy)
		line, _ := json.Marshal(resp) // strings and ints: cannot fail
		out.Write(append(line, '\n'))
		if single {
			exit = connectExit(resp.Verdict)
		}
	}
	return orchestrator.ExecResult{Stdout: out.Bytes(), ExitCode: exit}, nil
}

// transientTimeout says whether this attempt is one TimeoutEvery drops.
func (c *Cluster) transientTimeout(src *policy.Pod, r probe.Request) bool {
	if c.TimeoutEvery < 2 {
		return false
	}
	key := fmt.Sprintf("%s %s %s:%d", src, r.Protocol, r.Host, r.Port)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts[key]++
	return c.attempts[key]%c.TimeoutEvery == 0
}

// connectExit is `connect`'s exit code for a verdict.
func connectExit(v results.Verdict) int {
	switch v {
	case results.Allowed:
		return 0
	case results.Blocked:
		return probe.ExitBlocked
	}
	return probe.ExitFailed
}

// parseCommand reads [binary batch JSON] or [binary connect flags…].
func parseCommand(argv []string) (reqs []probe.Request, single bool, err error) {
	if len(argv) < 2 {
		return nil, false, fmt.Errorf("simulated probe: want batch or connect, got %q", argv)
	}
	switch argv[1] {
	case "batch":
		if len(argv) != 3 {
			return nil, false, fmt.Errorf("simulated probe: batch takes one JSON argument")
		}
		if err := json.Unmarshal([]byte(argv[2]), &reqs); err != nil {
			return nil, false, fmt.Errorf("simulated probe: parsing requests: %w", err)
		}
		return reqs, false, nil
	case "connect":
		fs := flag.NewFlagSet("connect", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var r probe.Request
		fs.StringVar(&r.Protocol, "proto", "tcp", "")
		fs.StringVar(&r.Host, "host", "", "")
		fs.IntVar(&r.Port, "port", 0, "")
		fs.StringVar(&r.Identity, "identity", "", "")
		fs.StringVar(&r.ID, "id", "", "")
		fs.Duration("timeout", 0, "")
		if err := fs.Parse(argv[2:]); err != nil {
			return nil, false, fmt.Errorf("simulated probe: connect: %w", err)
		}
		return []probe.Request{r}, true, nil
	}
	return nil, false, fmt.Errorf("simulated probe: unknown subcommand %q", argv[1])
}

// world is the cluster's objects at one moment, with the engine built from
// them.
type world struct {
	engine   policy.Decider
	logical  *strings.Replacer // run namespace names → the scenario's names
	pods     []policy.Pod
	podsByIP map[string]*policy.Pod
	services []corev1.Service
	// open says whether a pod's node enforces no policy (NotEnforcingOn).
	open map[*policy.Pod]bool
}

func (c *Cluster) world(ctx context.Context) (*world, error) {
	nss, err := c.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	pods, err := c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	svcs, err := c.Client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	nps, err := c.Client.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	w := &world{podsByIP: map[string]*policy.Pod{}, services: svcs.Items, open: map[*policy.Pod]bool{}}
	var namespaces []policy.Namespace
	var names []string
	for _, ns := range nss.Items {
		namespaces = append(namespaces, policy.Namespace{Name: ns.Name, Labels: ns.Labels})
		if l := ns.Labels[orchestrator.LabelLogicalNamespace]; l != "" {
			names = append(names, ns.Name+"/", l+"/")
		}
	}
	w.logical = strings.NewReplacer(names...)
	for _, p := range pods.Items {
		pp := policy.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: p.Status.PodIP, HostNetwork: p.Spec.HostNetwork}
		for _, ctr := range p.Spec.Containers {
			pp.Ports = append(pp.Ports, ctr.Ports...)
		}
		w.pods = append(w.pods, pp)
	}
	for i := range w.pods {
		if ip := w.pods[i].IP; ip != "" {
			w.podsByIP[ip] = &w.pods[i]
		}
		w.open[&w.pods[i]] = c.NotEnforcingOn[pods.Items[i].Spec.NodeName]
	}
	engine, err := policy.NewEngine(namespaces, w.pods, c.inEffect(nps.Items))
	if err != nil {
		return nil, fmt.Errorf("simulated cluster: %w", err)
	}
	w.engine = engine
	cnps, err := c.clusterPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if len(cnps) > 0 {
		if w.engine, err = policy.NewTieredEngine(engine, cnps); err != nil {
			return nil, fmt.Errorf("simulated cluster: %w", err)
		}
	}
	return w, nil
}

// clusterPolicies returns the ClusterNetworkPolicies in effect.
func (c *Cluster) clusterPolicies(ctx context.Context) ([]cnpv1.ClusterNetworkPolicy, error) {
	if c.IgnorePolicies {
		return nil, nil
	}
	list, err := c.Policies.PolicyV1alpha2().ClusterNetworkPolicies().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	// a run's copy goes by its scenario's name in explanations, unless
	// another policy goes by that name too (two scenarios', or the
	// cluster's own): then by "scenario.name"
	uses := map[string]int{}
	short := func(c *cnpv1.ClusterNetworkPolicy) string {
		if n := c.Annotations[orchestrator.AnnotationScenarioPolicy]; n != "" {
			return n
		}
		return c.Name
	}
	for i := range list.Items {
		uses[short(&list.Items[i])]++
	}
	for i := range list.Items {
		c := &list.Items[i]
		n := short(c)
		if n == c.Name {
			continue
		}
		if uses[n] > 1 {
			n = c.Labels[orchestrator.LabelScenario] + "." + n
		}
		c.Name = n
	}
	return list.Items, nil
}

func (w *world) pod(namespace, name string) *policy.Pod {
	for i := range w.pods {
		if w.pods[i].Namespace == namespace && w.pods[i].Name == name {
			return &w.pods[i]
		}
	}
	return nil
}

// answer is the probe program's response to r, run in src.
func (w *world) answer(src *policy.Pod, r probe.Request) probe.Response {
	proto := strings.ToLower(r.Protocol)
	if proto == probe.ProtocolDNS {
		resp, ok := w.lookup(src)
		if !ok {
			return resp
		}
		resp.Verdict, resp.Reason = results.Allowed, results.ReasonResolved
		resp.Detail = "outside name (simulated)" // the cluster DNS forwards it; the simulated world answers
		if ip, ok := w.resolve(r.Host); ok {
			resp.Detail = ip
		}
		return resp
	}
	host := r.Host
	if _, err := netip.ParseAddr(host); err != nil {
		if resp, ok := w.lookup(src); !ok {
			return resp
		}
		ip, ok := w.resolve(host)
		if !ok {
			return probe.Response{Verdict: results.Error, Reason: results.ReasonUnsupported,
				Detail: fmt.Sprintf("the simulated cluster cannot resolve the outside name %q", host)}
		}
		host = ip
	}
	protocol := corev1.Protocol(strings.ToUpper(proto))
	port := int32(r.Port)
	if dst := w.podsByIP[host]; dst != nil {
		return w.toPod(src, dst, port, protocol)
	}
	for i := range w.services {
		if w.services[i].Spec.ClusterIP == host {
			return w.toService(src, &w.services[i], port, protocol)
		}
	}
	d, err := w.engine.Decide(policy.Peer{Pod: src}, policy.Peer{IP: host}, port, protocol)
	if err != nil {
		return probe.Response{Verdict: results.Error, Reason: results.ReasonError, Detail: err.Error()}
	}
	d = w.onNodes(d, src, nil)
	if !policy.BestAnswer(d, false) {
		return probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, DecidedBy: d.String()}
	}
	return probe.Response{Verdict: results.Allowed, Reason: results.ReasonConnected, DecidedBy: d.String()}
}

// onNodes is d as the nodes of src and dst (nil: outside) enforce it: a
// side policed on a node that enforces nothing (NotEnforcingOn) lets the
// connection through, so a connection only that side blocks is allowed.
func (w *world) onNodes(d policy.Decision, src, dst *policy.Pod) policy.Decision {
	if d.Verdict != policy.Blocked || !w.open[src] && (dst == nil || !w.open[dst]) {
		return d
	}
	egress := d.Egress == policy.Blocked && !w.open[src]
	ingress := d.Ingress == policy.Blocked && (dst == nil || !w.open[dst])
	if egress || ingress {
		return d
	}
	d.Verdict, d.Reason = policy.Allowed, "the CNI agent on this node enforces no policy (simulated): "+d.Reason
	return d
}

// lookup decides whether src can reach the cluster DNS: when it can, the
// response carries the deciding rule; when it cannot, it is the failed
// lookup's.
func (w *world) lookup(src *policy.Pod) (probe.Response, bool) {
	dns := w.podsByIP[DNSPodIP]
	if dns == nil {
		return probe.Response{Verdict: results.Error, Reason: results.ReasonDNS, Detail: "no cluster DNS"}, false
	}
	d, err := w.engine.Decide(policy.Peer{Pod: src}, policy.Peer{Pod: dns}, 53, corev1.ProtocolUDP)
	if err != nil {
		return probe.Response{Verdict: results.Error, Reason: results.ReasonError, Detail: err.Error()}, false
	}
	if !policy.BestAnswer(d, false) {
		return probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout,
			Detail: "DNS lookup timed out", DecidedBy: "DNS " + d.String()}, false
	}
	return probe.Response{DecidedBy: "DNS " + d.String()}, true
}

// resolve maps an in-cluster Service name (svc.ns, svc.ns.svc,
// svc.ns.svc.cluster.local) to its ClusterIP.
func (w *world) resolve(name string) (string, bool) {
	name = strings.TrimSuffix(strings.TrimSuffix(name, "."), "."+ClusterDomain)
	name = strings.TrimSuffix(name, ".svc")
	svc, ns, ok := strings.Cut(name, ".")
	if !ok || strings.Contains(ns, ".") {
		return "", false
	}
	for _, s := range w.services {
		if s.Name == svc && s.Namespace == ns {
			return s.Spec.ClusterIP, true
		}
	}
	return "", false
}

// toPod answers a connection to a pod: blocked when the policies block it,
// refused when nothing listens there, else answered by the pod.
func (w *world) toPod(src, dst *policy.Pod, port int32, protocol corev1.Protocol) probe.Response {
	d, err := w.engine.Decide(policy.Peer{Pod: src}, policy.Peer{Pod: dst}, port, protocol)
	if err != nil {
		return probe.Response{Verdict: results.Error, Reason: results.ReasonError, Detail: err.Error()}
	}
	d = w.onNodes(d, src, dst)
	self := src.Namespace == dst.Namespace && src.Name == dst.Name
	switch {
	case !policy.BestAnswer(d, self):
		return probe.Response{Verdict: results.Blocked, Reason: results.ReasonTimeout, DecidedBy: d.String()}
	case !serves(dst, port, protocol):
		return probe.Response{Verdict: results.Blocked, Reason: results.ReasonRefused, DecidedBy: d.String(),
			Detail: fmt.Sprintf("nothing listens on %d/%s in %s", port, protocol, dst)}
	}
	return probe.Response{Verdict: results.Allowed, Reason: results.ReasonConnected, AnsweredBy: dst.String(), DecidedBy: d.String()}
}

// toService answers a connection to a Service's ClusterIP: one of its
// backends the policies let through answers.
func (w *world) toService(src *policy.Pod, svc *corev1.Service, port int32, protocol corev1.Protocol) probe.Response {
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Port == port && orTCP(p.Protocol) == protocol {
			sp = p
		}
	}
	if sp == nil {
		return probe.Response{Verdict: results.Blocked, Reason: results.ReasonRefused,
			Detail: fmt.Sprintf("service %s/%s has no port %d/%s", svc.Namespace, svc.Name, port, protocol)}
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var first *probe.Response
	for i := range w.pods {
		b := &w.pods[i]
		if b.Namespace != svc.Namespace || len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(b.Labels)) {
			continue
		}
		target := sp.TargetPort.IntVal
		switch {
		case sp.TargetPort.Type == intstr.String:
			n, ok := b.NamedPort(sp.TargetPort.StrVal, protocol)
			if !ok {
				continue
			}
			target = n
		case target == 0:
			target = port
		}
		resp := w.toPod(src, b, target, protocol)
		if resp.Verdict == results.Allowed {
			return resp
		}
		if first == nil {
			first = &resp
		}
	}
	if first == nil {
		return probe.Response{Verdict: results.Blocked, Reason: results.ReasonRefused,
			Detail: fmt.Sprintf("service %s/%s has no backend for port %d/%s", svc.Namespace, svc.Name, port, protocol)}
	}
	return *first
}

func serves(p *policy.Pod, port int32, protocol corev1.Protocol) bool {
	for _, cp := range p.Ports {
		if cp.ContainerPort == port && orTCP(cp.Protocol) == protocol {
			return true
		}
	}
	return false
}

func orTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
