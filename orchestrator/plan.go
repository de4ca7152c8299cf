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
	// Control is the unrestricted pod (in a namespace without policies) that
	// runs the control probes of outside targets; nil when none is needed.
	Control    *PlannedPod
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
	// Backends are the identities a service target may answer with.
	Backends []string
	Port     int
	Protocol string // tcp, udp, sctp, dns
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
			p.addControl(o)
			break
		}
	}
	return p, nil
}

// addControl plans the control namespace and its one unrestricted pod.
func (p *Plan) addControl(o Options) {
	name := fmt.Sprintf("%s-%s-control", o.NamespacePrefix, p.RunID)
	l := p.baseLabels("control")
	l[LabelLogicalNamespace] = "control"
	l["pod-security.kubernetes.io/enforce"] = "restricted"
	p.Namespaces = append(p.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}})
	sp := scenarios.Pod{Name: "control", Namespace: "control"}
	p.Control = &PlannedPod{Scenario: "control", Logical: "control/control", Spec: sp,
		Pod: probePod(name, sp, p.baseLabels("control"), o)}
	p.Pods = append(p.Pods, p.Control)
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
	pods := map[string]*PlannedPod{} // logical ns/pod
	for _, sp := range sc.Spec.Pods {
		var pp *PlannedPod
		if sc.Existing(sp.Namespace) {
			var err error
			if pp, err = p.livePod(name, sp, o); err != nil {
				return err
			}
		} else {
			pp = &PlannedPod{Scenario: name, Logical: sp.Namespace + "/" + sp.Name, Spec: sp,
				Pod: probePod(nsNames[sp.Namespace], sp, p.baseLabels(name), o)}
		}
		pods[pp.Logical] = pp
		p.Pods = append(p.Pods, pp)
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
	for i, e := range sc.Spec.Expect {
		pr, err := planProbe(sc, i, e, pods, services, o.Live)
		if err != nil {
			return fmt.Errorf("spec.expect[%d]: %w", i, err)
		}
		p.Probes = append(p.Probes, pr)
	}
	return nil
}

func planProbe(sc *scenarios.Scenario, i int, e scenarios.Expectation, pods map[string]*PlannedPod, services map[string]*corev1.Service, live *inplace.Facts) (*PlannedProbe, error) {
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
		for _, pp := range pods {
			if pp.Pod.Namespace == svc.Namespace && sel.Matches(labels.Set(pp.Pod.Labels)) {
				if e.Backend == "" || e.Backend == pp.Spec.Name || e.Backend == pp.Logical {
					pr.Backends = append(pr.Backends, pp.Identity())
				}
			}
		}
		if e.Backend != "" && len(pr.Backends) == 0 {
			// the named backend is not behind the service: any answer is an impostor
			if bp := pods[t.Namespace+"/"+e.Backend]; bp != nil {
				pr.Backends = []string{bp.Identity()}
			} else if bp := pods[e.Backend]; bp != nil {
				pr.Backends = []string{bp.Identity()}
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
