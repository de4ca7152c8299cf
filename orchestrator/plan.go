package orchestrator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/results"
	"github.com/netverify/netverify/scenarios"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// Plan is everything a run will create and probe, computed from scenarios
// before any API call.
type Plan struct {
	RunID string
	// Controls are the unrestricted pods (in a namespace without policies)
	// that run the control probes of outside targets: one, or one per node
	// probe pods are spread over (Placement.Spread); none when no probe
	// needs one. Each probe names its own (PlannedProbe.Control).
	Controls   []*PlannedPod
	Namespaces []*corev1.Namespace
	Pods       []*PlannedPod
	Services   []*corev1.Service
	Policies   []networkingv1.NetworkPolicy
	// ClusterPolicies are the scenarios' ClusterNetworkPolicies, confined
	// to their scenario's namespaces (see planClusterPolicies).
	ClusterPolicies []cnpv1.ClusterNetworkPolicy
	Probes          []*PlannedProbe
	// Skipped are scenarios the cluster cannot run (Options.NoClusterPolicies):
	// nothing is created for them; each expectation is reported skipped.
	Skipped []SkippedScenario
	// Owners are the ConfigMaps the run creates in the existing namespaces
	// it has probe pods in, one per namespace: the controller owner of
	// those pods (see package inplace).
	Owners []*corev1.ConfigMap
}

// SkippedScenario is a scenario left out of a run, and why.
type SkippedScenario struct {
	Scenario *scenarios.Scenario
	Why      string
}

// PlannedPod is a probe pod and where it comes from.
type PlannedPod struct {
	Scenario string
	Logical  string // logical "ns/pod"
	Pod      *corev1.Pod
	Spec     scenarios.Pod
	IP       string // filled once Running
	Node     string // the node it runs on, filled once Running
	// Pinned is the node the pod is pinned to (Placement.Spread); "" when
	// the scheduler places it.
	Pinned string
	// Owner is set for a probe pod of an existing namespace (in place): the
	// run's ConfigMap there, its controller owner.
	Owner *corev1.ConfigMap
}

// Identity is what the pod's server answers with: "namespace/pod".
func (p *PlannedPod) Identity() string { return p.Pod.Namespace + "/" + p.Pod.Name }

// PlannedProbe is one expectation, resolved against planned objects.
type PlannedProbe struct {
	Scenario    string
	Index       int // position in the scenario's expect list
	Expectation scenarios.Expectation
	Target      scenarios.Target
	Source      *PlannedPod
	// Exactly one of these is set for pod and service targets.
	TargetPod     *PlannedPod
	TargetService *corev1.Service
	// Backends are the identities a service target may answer with (every
	// replica of every pod it may reach, when pods are spread over nodes).
	Backends []string
	// Control is the pod that probes an outside target without policy:
	// the control pod on the source's node, when pods are spread.
	Control *PlannedPod
	// PolicedBy says which side's policies deny the connection, as the
	// semantics engine decides the scenario: the target's node enforces
	// ingress, the source's egress ("" when unknown; see policedBy).
	PolicedBy results.PolicedBy
	Port      int
	Protocol  string // tcp, udp, sctp, dns
	// Builtin is set for expectations of the built-in suite: where their
	// outside target does not answer even without policy, they are skipped
	// (the check does not apply to this cluster) instead of inconclusive.
	Builtin bool
	// InPlace: the scenario checks existing namespaces, whose policies were
	// in effect before the run (no "policies in effect" gate).
	InPlace bool
	// Live: the target is a live Service or workload (see package
	// inplace): nothing can be probed without its policies, so a block
	// counts only with a witness (see witness); its answer carries no
	// identity.
	Live bool
	// LivePod is the workload pod a workload: target connects to.
	LivePod *corev1.Pod
}

// Outside reports whether the probe's target is outside the scenario.
func (p *PlannedProbe) Outside() bool {
	switch p.Target.Kind {
	case scenarios.TargetIP, scenarios.TargetHost, scenarios.TargetDNS:
		return true
	}
	return false
}

// NewRunID returns a random 6-character run id.
func NewRunID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// MakePlan computes the objects and probes of a run. The scenarios must have
// passed the loader's validation.
func MakePlan(scs []*scenarios.Scenario, o Options) (*Plan, error) {
	o = o.withDefaults()
	if o.RunID == "" {
		o.RunID = NewRunID()
	}
	p := &Plan{RunID: o.RunID}
	for si, sc := range scs {
		if len(sc.Spec.ClusterNetworkPolicies) > 0 && o.NoClusterPolicies != "" {
			p.Skipped = append(p.Skipped, SkippedScenario{Scenario: sc, Why: o.NoClusterPolicies})
			continue
		}
		if err := p.addScenario(si+1, sc, o); err != nil {
			return nil, fmt.Errorf("scenario %q: %w", sc.Metadata.Name, err)
		}
	}
	for _, pr := range p.Probes {
		if pr.Outside() && (pr.Builtin || !pr.Expectation.IsAllowed()) {
			p.addControls(o)
			break
		}
	}
	for _, pr := range p.Probes {
		if pr.Outside() && len(p.Controls) > 0 {
			// the control on the source's node: an outside target that one
			// node cannot reach even without policy is that node's problem
			pr.Control = p.Controls[0]
			for _, c := range p.Controls {
				if c.Pinned != "" && c.Pinned == pr.Source.Pinned {
					pr.Control = c
				}
			}
		}
	}
	return p, nil
}

// addControls plans the control namespace and its unrestricted pod, one
// per node when pods are spread.
func (p *Plan) addControls(o Options) {
	name := fmt.Sprintf("%s-%s-control", o.NamespacePrefix, p.RunID)
	l := p.baseLabels("control")
	l[LabelLogicalNamespace] = "control"
	l["pod-security.kubernetes.io/enforce"] = "restricted"
	p.Namespaces = append(p.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}})
	sp := scenarios.Pod{Name: "control", Namespace: "control"}
	p.Controls = plannedReplicas("control", name, sp, p.baseLabels("control"), o)
	p.Pods = append(p.Pods, p.Controls...)
}

// plannedReplicas plans a probe pod of a created namespace: once, or once
// per node of o.Placement (replicaNodes), each pinned to its node, with the
// same labels, so that every policy selects every replica.
func plannedReplicas(scenario, ns string, sp scenarios.Pod, base map[string]string, o Options) []*PlannedPod {
	nodes := o.Placement.replicaNodes()
	if len(nodes) == 0 {
		return []*PlannedPod{{Scenario: scenario, Logical: sp.Namespace + "/" + sp.Name, Spec: sp, Pod: probePod(ns, sp, base, o)}}
	}
	out := make([]*PlannedPod, len(nodes))
	for i, node := range nodes {
		named := sp
		if len(nodes) > 1 {
			named.Name = replicaName(sp.Name, i)
		}
		pod := probePod(ns, named, base, o)
		pod.Spec.Affinity = pinnedAffinity(node)
		out[i] = &PlannedPod{Scenario: scenario, Logical: sp.Namespace + "/" + sp.Name, Spec: sp, Pod: pod, Pinned: node}
	}
	return out
}

func (p *Plan) baseLabels(scenario string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedBy, LabelRunID: p.RunID, LabelScenario: scenario}
}

func (p *Plan) addScenario(idx int, sc *scenarios.Scenario, o Options) error {
	name := sc.Metadata.Name
	nsNames := map[string]string{}
	for _, ns := range sc.Spec.Namespaces {
		if ns.Existing {
			nsNames[ns.Name] = ns.Name
			continue
		}
		real := fmt.Sprintf("%s-%s-%d-%s", o.NamespacePrefix, p.RunID, idx, ns.Name)
		if len(real) > 63 {
			// keep names unique when long logical names share a prefix
			sum := sha256.Sum256([]byte(ns.Name))
			real = strings.TrimRight(real[:54], "-") + "-" + hex.EncodeToString(sum[:])[:8]
		}
		nsNames[ns.Name] = real
		// the run's labels last: a scenario's own labels never hide them
		l := mergeLabels(ns.Labels, p.baseLabels(name))
		l[LabelLogicalNamespace] = ns.Name
		// Probe pods are built to pass PodSecurity "restricted".
		l["pod-security.kubernetes.io/enforce"] = "restricted"
		p.Namespaces = append(p.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: real, Labels: l}})
	}
	// Pods are spread over nodes only in scenarios that create all their
	// namespaces: in place, probe pods are confined to the live namespace's
	// owner and the witnesses of live targets are counted per pod.
	po := o
	if sc.InPlace() {
		po.Placement.Spread = nil
	}
	pods := map[string][]*PlannedPod{} // logical ns/pod → its replicas, in node order
	for _, sp := range sc.Spec.Pods {
		var pps []*PlannedPod
		if sc.Existing(sp.Namespace) {
			pp, err := p.livePod(name, sp, o)
			if err != nil {
				return err
			}
			pps = []*PlannedPod{pp}
		} else {
			pps = plannedReplicas(name, nsNames[sp.Namespace], sp, p.baseLabels(name), po)
		}
		pods[pps[0].Logical] = pps
		p.Pods = append(p.Pods, pps...)
	}
	services := map[string]*corev1.Service{}
	for _, ss := range sc.Spec.Services {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: ss.Name, Namespace: nsNames[ss.Namespace], Labels: p.baseLabels(name)},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: ss.Selector},
		}
		for _, port := range ss.Ports {
			tp := intstr.Parse(port.TargetPort)
			if port.TargetPort == "" {
				tp = intstr.FromInt32(port.Port)
			}
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: port.Name, Port: port.Port,
				TargetPort: tp, Protocol: corev1.Protocol(orTCP(port.Protocol))})
		}
		services[ss.Namespace+"/"+ss.Name] = svc
		p.Services = append(p.Services, svc)
	}
	for _, np := range scenarios.RewritePolicies(sc, nsNames) {
		np.Labels = mergeLabels(np.Labels, p.baseLabels(name))
		np.ResourceVersion = ""
		p.Policies = append(p.Policies, np)
	}
	p.planClusterPolicies(idx, sc, nsNames, o)
	sides := policedBy(sc, o.EngineOptions)
	for i, e := range sc.Spec.Expect {
		pr, err := planProbe(sc, i, e, pods, services, o.Live)
		if err != nil {
			return fmt.Errorf("spec.expect[%d]: %w", i, err)
		}
		pr.PolicedBy = sides[i]
		p.Probes = append(p.Probes, pairs(pr, pods)...)
	}
	return nil
}

// pairs expands a probe planned between first replicas into the probes of
// its replicas, keeping the cost linear in nodes. To a pod target: from
// the source on node i to the target on node i (same node) and on node
// i+1 (cross node), so every node sends and receives on both paths: 2N
// probes, not N². A pod probing itself stays on its node (another replica
// is another pod, which policies treat as such). To a Service or outside
// target: one probe from each source replica (where the Service's answer
// comes from is recorded). Where only one side has replicas (a live pod
// in place), every replica of the other side is paired with it.
func pairs(pr *PlannedProbe, pods map[string][]*PlannedPod) []*PlannedProbe {
	srcs := pods[pr.Source.Logical]
	if len(srcs) == 0 || srcs[0] != pr.Source {
		srcs = []*PlannedPod{pr.Source} // (a live probe pod has no replicas)
	}
	with := func(src, dst *PlannedPod) *PlannedProbe {
		cp := *pr
		cp.Source, cp.TargetPod = src, dst
		return &cp
	}
	var dsts []*PlannedPod
	if pr.TargetPod != nil {
		dsts = pods[pr.TargetPod.Logical]
	}
	var out []*PlannedProbe
	switch {
	case len(dsts) == 0:
		for _, src := range srcs {
			out = append(out, with(src, pr.TargetPod))
		}
	case pr.TargetPod == pr.Source:
		for i, src := range srcs {
			out = append(out, with(src, dsts[i]))
		}
	case len(srcs) == len(dsts) && len(srcs) > 1:
		for i, src := range srcs {
			out = append(out, with(src, dsts[i]), with(src, dsts[(i+1)%len(dsts)]))
		}
	default:
		for _, src := range srcs {
			for _, dst := range dsts {
				out = append(out, with(src, dst))
			}
		}
	}
	return out
}

func planProbe(sc *scenarios.Scenario, i int, e scenarios.Expectation, replicas map[string][]*PlannedPod, services map[string]*corev1.Service, live *inplace.Facts) (*PlannedProbe, error) {
	pods := map[string]*PlannedPod{} // logical ns/pod → its first replica
	for k, pps := range replicas {
		pods[k] = pps[0]
	}
	src, err := sc.ResolvePod(e.From)
	if err != nil {
		return nil, err
	}
	t, err := scenarios.ParseTarget(e.To)
	if err != nil {
		return nil, err
	}
	if t.Namespace == "" && (t.Kind == scenarios.TargetPod || t.Kind == scenarios.TargetService || t.Kind == scenarios.TargetWorkload) && len(sc.Spec.Namespaces) == 1 {
		t.Namespace = sc.Spec.Namespaces[0].Name
	}
	pr := &PlannedProbe{Scenario: sc.Metadata.Name, Index: i, Expectation: e, Target: t,
		Builtin: sc.Builtin, InPlace: sc.InPlace(), Live: sc.Live(t),
		Source: pods[src.Namespace+"/"+src.Name], Protocol: strings.ToLower(orTCP(e.Protocol))}
	if pr.Source == nil {
		return nil, fmt.Errorf("from: pod %q not planned", e.From)
	}
	if pr.Live {
		return pr, planLiveTarget(pr, live)
	}
	switch t.Kind {
	case scenarios.TargetPod:
		pr.TargetPod = pods[t.Namespace+"/"+t.Name]
		if pr.TargetPod == nil {
			return nil, fmt.Errorf("to: pod %q is not declared", e.To)
		}
		port, proto, err := resolvePodPort(pr.TargetPod.Spec, e.Port, e.Protocol)
		if err != nil {
			return nil, fmt.Errorf("port: %w", err)
		}
		pr.Port, pr.Protocol = port, proto
	case scenarios.TargetService:
		svc := services[t.Namespace+"/"+t.Name]
		if svc == nil {
			return nil, fmt.Errorf("to: service %q is not declared", e.To)
		}
		pr.TargetService = svc
		sp, err := resolveServicePort(svc, e.Port)
		if err != nil {
			return nil, fmt.Errorf("port: %w", err)
		}
		pr.Port, pr.Protocol = int(sp.Port), strings.ToLower(string(sp.Protocol))
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, pps := range replicas {
			for _, pp := range pps {
				if pp.Pod.Namespace == svc.Namespace && sel.Matches(labels.Set(pp.Pod.Labels)) {
					if e.Backend == "" || e.Backend == pp.Spec.Name || e.Backend == pp.Logical {
						pr.Backends = append(pr.Backends, pp.Identity())
					}
				}
			}
		}
		if e.Backend != "" && len(pr.Backends) == 0 {
			// the named backend is not behind the service: any answer is an impostor
			named := replicas[t.Namespace+"/"+e.Backend]
			if named == nil {
				named = replicas[e.Backend]
			}
			for _, bp := range named {
				pr.Backends = append(pr.Backends, bp.Identity())
			}
		}
		sort.Strings(pr.Backends)
	case scenarios.TargetDNS:
		pr.Protocol = "dns"
	case scenarios.TargetIP, scenarios.TargetHost:
		n, err := strconv.Atoi(e.Port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port: %q is not a port number", e.Port)
		}
		pr.Port = n
	}
	return pr, nil
}

// policedBy is, for each expectation of sc, the side whose policies deny
// its connection, as the semantics engine decides the scenario: "" where
// the engine cannot tell (see policy.BlockedSides), so that the per-node
// summary counts the connection on both its nodes.
func policedBy(sc *scenarios.Scenario, opts []policy.Option) []results.PolicedBy {
	out := make([]results.PolicedBy, len(sc.Spec.Expect))
	sides, err := policy.BlockedSides(sc, opts...)
	if err != nil {
		return out // (a hint only: the run itself does not depend on it)
	}
	for i, s := range sides {
		switch {
		case s.Ingress && s.Egress:
			out[i] = results.PolicedByBoth
		case s.Ingress:
			out[i] = results.PolicedByIngress
		case s.Egress:
			out[i] = results.PolicedByEgress
		}
	}
	return out
}

func resolvePodPort(pod scenarios.Pod, port string, proto scenarios.Protocol) (int, string, error) {
	if n, err := strconv.Atoi(port); err == nil {
		return n, strings.ToLower(orTCP(proto)), nil
	}
	for _, p := range pod.Ports {
		if p.Name == port {
			return int(p.Port), strings.ToLower(orTCP(p.Protocol)), nil
		}
	}
	return 0, "", fmt.Errorf("pod %q has no port named %q", pod.Name, port)
}

func resolveServicePort(svc *corev1.Service, port string) (corev1.ServicePort, error) {
	for _, sp := range svc.Spec.Ports {
		if sp.Name == port || strconv.Itoa(int(sp.Port)) == port {
			return sp, nil
		}
	}
	if port == "" && len(svc.Spec.Ports) == 1 {
		return svc.Spec.Ports[0], nil
	}
	return corev1.ServicePort{}, fmt.Errorf("service %q has no port %q", svc.Name, port)
}

func orTCP(p scenarios.Protocol) string {
	if p == "" {
		return string(scenarios.TCP)
	}
	return strings.ToUpper(string(p))
}

func mergeLabels(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// probePod builds a probe pod that passes PodSecurity "restricted": non-root,
// no privilege escalation, all capabilities dropped, RuntimeDefault seccomp,
// read-only root. Ports below 1024 are served thanks to the namespaced
// sysctl net.ipv4.ip_unprivileged_port_start, which "restricted" admits.
func probePod(ns string, sp scenarios.Pod, base map[string]string, o Options) *corev1.Pod {
	var listen []string
	var ports []corev1.ContainerPort
	low := false
	for _, p := range sp.Ports {
		proto := orTCP(p.Protocol)
		listen = append(listen, strings.ToLower(proto)+":"+strconv.Itoa(int(p.Port)))
		ports = append(ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.Port, Protocol: corev1.Protocol(proto)})
		if p.Port < 1024 {
			low = true
		}
	}
	args := []string{"serve"}
	if len(listen) > 0 {
		args = append(args, "--listen", strings.Join(listen, ","))
	}
	podSC := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](65532),
		RunAsGroup:     ptr.To[int64](65532),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if low {
		podSC.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}}
	}
	if o.Mode == ModeAgnhost {
		return podWith(ns, sp, base, o, podSC, agnhostContainers(sp, o))
	}
	return podWith(ns, sp, base, o, podSC, []corev1.Container{{
		Name:            ProbeContainer,
		Image:           o.ProbeImage,
		ImagePullPolicy: o.ImagePullPolicy,
		Command:         []string{ProbeBinary},
		Args:            args,
		Ports:           ports,
		Env: []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		},
		Resources:       o.Placement.Resources,
		SecurityContext: restrictedContainer(),
	}})
}

// restrictedContainer is the container security context PodSecurity
// "restricted" asks for.
func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// podWith wraps containers in a probe pod: labels, placement, no service
// account token, a quick shutdown.
func podWith(ns string, sp scenarios.Pod, base map[string]string, o Options, podSC *corev1.PodSecurityContext, cs []corev1.Container) *corev1.Pod {
	var pullSecrets []corev1.LocalObjectReference
	for _, s := range o.Placement.ImagePullSecrets {
		if _, name, ok := strings.Cut(s, "/"); ok {
			s = name
		}
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: sp.Name, Namespace: ns, Labels: mergeLabels(sp.Labels, base)},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken:  ptr.To(false),
			EnableServiceLinks:            ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			RestartPolicy:                 corev1.RestartPolicyAlways,
			NodeSelector:                  o.Placement.NodeSelector,
			Tolerations:                   o.Placement.Tolerations,
			ImagePullSecrets:              pullSecrets,
			SecurityContext:               podSC,
			Containers:                    cs,
		},
	}
}

// agnhostContainers are the ModeAgnhost containers of a probe pod: "probe"
// (agnhost pause, the container probes are exec'd in: `agnhost connect`)
// and one `agnhost serve-hostname` container per port, from ServerImage.
func agnhostContainers(sp scenarios.Pod, o Options) []corev1.Container {
	server := o.ServerImage
	if server == "" {
		server = o.ProbeImage
	}
	container := func(name, image string, args []string, ports []corev1.ContainerPort) corev1.Container {
		return corev1.Container{Name: name, Image: image, ImagePullPolicy: o.ImagePullPolicy,
			Args: args, Ports: ports, Resources: o.Placement.Resources, SecurityContext: restrictedContainer()}
	}
	cs := []corev1.Container{container(ProbeContainer, o.ProbeImage, []string{"pause"}, nil)}
	for _, p := range sp.Ports {
		proto := strings.ToLower(orTCP(p.Protocol))
		args := []string{"serve-hostname", "--http=false", "--port", strconv.Itoa(int(p.Port)), "--" + proto}
		cs = append(cs, container(fmt.Sprintf("serve-%s-%d", proto, p.Port), server, args,
			[]corev1.ContainerPort{{Name: p.Name, ContainerPort: p.Port, Protocol: corev1.Protocol(strings.ToUpper(proto))}}))
	}
	return cs
}
