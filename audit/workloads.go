package audit

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The NodePort range of a default API server (--service-node-port-range).
const (
	nodePortMin = 30000
	nodePortMax = 32767
)

// workloadOf names the object a pod's findings are reported on: its
// controller ("statefulset/db", "daemonset/agent", …), so that replicas give
// one finding, or the pod itself ("pod/debug") when nothing controls it. A
// ReplicaSet named <deployment>-<pod-template-hash> stands for its
// Deployment, so findings survive rollouts.
func workloadOf(p *corev1.Pod) (object string, controlled bool) {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return "pod/" + p.Name, false
	}
	kind, name := strings.ToLower(ref.Kind), ref.Name
	if hash := p.Labels["pod-template-hash"]; kind == "replicaset" && hash != "" && strings.HasSuffix(name, "-"+hash) {
		kind, name = "deployment", strings.TrimSuffix(name, "-"+hash)
	}
	return kind + "/" + name, true
}

// podFindings gathers pod findings per workload: replicas with the same
// problem give one finding that counts them.
type podFindings struct {
	ns    string
	order []podKey
	seen  map[podKey]*podCount
}

type podKey struct{ rule, object, message string }

type podCount struct {
	controlled bool
	pods       []string
}

func (pf *podFindings) add(p *corev1.Pod, rule, message string) {
	object, controlled := workloadOf(p)
	k := podKey{rule, object, message}
	c, ok := pf.seen[k]
	if !ok {
		c = &podCount{controlled: controlled}
		pf.seen[k] = c
		pf.order = append(pf.order, k)
	}
	c.pods = append(c.pods, p.Name)
}

func (pf *podFindings) findings() []Finding {
	var fs []Finding
	for _, k := range pf.order {
		c := pf.seen[k]
		msg := k.message
		if c.controlled {
			sort.Strings(c.pods)
			msg += " (" + replicaList(c.pods) + ")"
		}
		fs = append(fs, newFinding(k.rule, pf.ns, k.object, msg))
	}
	return fs
}

// checkPods runs the pod rules: hostNetwork, hostPort, DNS settings, app
// labels.
func checkPods(ns string, pods []corev1.Pod) []Finding {
	pf := &podFindings{ns: ns, seen: map[podKey]*podCount{}}
	for i := range pods {
		p := &pods[i]
		if p.Spec.HostNetwork {
			pf.add(p, RuleHostNetwork, "uses hostNetwork: it shares its node's network, and NetworkPolicies do not apply to its traffic on most CNIs")
		}
		containers := append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...)
		for _, c := range containers {
			for _, port := range c.Ports {
				if port.HostPort == 0 {
					continue
				}
				proto := port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				msg := fmt.Sprintf("container %s publishes hostPort %d/%s (container port %d) on its node's addresses",
					c.Name, port.HostPort, proto, port.ContainerPort)
				if port.HostPort < nodePortMin || port.HostPort > nodePortMax {
					pf.add(p, RuleHostPortOutsideNodePorts, fmt.Sprintf("%s, outside the NodePort range %d-%d, where node services listen",
						msg, nodePortMin, nodePortMax))
				} else {
					pf.add(p, RuleHostPort, msg)
				}
			}
		}
		if msg := dnsProblem(p); msg != "" {
			pf.add(p, RuleCustomDNS, msg)
		}
		if p.Labels["app"] == "" && p.Labels["app.kubernetes.io/name"] == "" {
			pf.add(p, RuleMissingAppLabel, `has neither an "app" nor an "app.kubernetes.io/name" label: policies cannot select it by application`)
		}
	}
	return pf.findings()
}

// dnsProblem says how a pod's name resolution bypasses or changes cluster
// DNS, or returns "". ClusterFirstWithHostNet is cluster DNS, as meant.
func dnsProblem(p *corev1.Pod) string {
	var parts []string
	switch p.Spec.DNSPolicy {
	case "", corev1.DNSClusterFirst:
		if p.Spec.HostNetwork {
			parts = append(parts, "hostNetwork with dnsPolicy ClusterFirst resolves with the node's resolver, not cluster DNS (use ClusterFirstWithHostNet)")
		}
	case corev1.DNSClusterFirstWithHostNet:
	case corev1.DNSDefault:
		parts = append(parts, "dnsPolicy Default resolves with the node's resolver, not cluster DNS")
	case corev1.DNSNone:
		parts = append(parts, "dnsPolicy None: resolvers come only from dnsConfig")
	default:
		parts = append(parts, fmt.Sprintf("dnsPolicy %s", p.Spec.DNSPolicy))
	}
	if dc := p.Spec.DNSConfig; dc != nil {
		var what []string
		if len(dc.Nameservers) > 0 {
			what = append(what, "nameservers "+strings.Join(dc.Nameservers, ", "))
		}
		if len(dc.Searches) > 0 {
			what = append(what, "searches "+strings.Join(dc.Searches, ", "))
		}
		for _, o := range dc.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			what = append(what, "option "+opt)
		}
		if len(what) == 0 {
			what = append(what, "empty")
		}
		parts = append(parts, "sets dnsConfig ("+strings.Join(what, "; ")+")")
	}
	return strings.Join(parts, "; ")
}

// checkServices runs the Service rules: NodePort, externalIPs, LoadBalancer
// in a development namespace.
func checkServices(ns string, svcs []corev1.Service, c *config) []Finding {
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	var fs []Finding
	for _, svc := range svcs {
		object := "service/" + svc.Name
		if svc.Spec.Type == corev1.ServiceTypeNodePort {
			var ports []string
			for _, p := range svc.Spec.Ports {
				s := fmt.Sprintf("%d/%s", p.Port, orTCP(p.Protocol))
				if p.NodePort != 0 {
					s += fmt.Sprintf(" as node port %d", p.NodePort)
				}
				ports = append(ports, s)
			}
			fs = append(fs, newFinding(RuleServiceNodePort, ns, object,
				"type NodePort publishes "+orNone(strings.Join(ports, ", "))+" on every node's addresses"))
		}
		if len(svc.Spec.ExternalIPs) > 0 {
			fs = append(fs, newFinding(RuleServiceExternalIPs, ns, object, fmt.Sprintf(
				"externalIPs %s: nodes send traffic for these addresses to this Service, so whoever can create Services can intercept any address (CVE-2020-8554; enable the DenyServiceExternalIPs admission plugin)",
				strings.Join(svc.Spec.ExternalIPs, ", "))))
		}
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && c.dev.MatchString(ns) {
			fs = append(fs, newFinding(RuleLoadBalancerInDev, ns, object, fmt.Sprintf(
				"type LoadBalancer in development namespace %s (matches %s): exposed outside the cluster", ns, c.dev)))
		}
	}
	return fs
}

func orTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func orNone(s string) string {
	if s == "" {
		return "no ports"
	}
	return s
}

// replicaList renders "pod web-1", "2 pods: web-1, web-2" or
// "5 pods, e.g. web-1, web-2, web-3".
func replicaList(names []string) string {
	switch {
	case len(names) == 1:
		return "pod " + names[0]
	case len(names) <= 3:
		return fmt.Sprintf("%d pods: %s", len(names), strings.Join(names, ", "))
	}
	return fmt.Sprintf("%d pods, e.g. %s", len(names), strings.Join(names[:3], ", "))
}
