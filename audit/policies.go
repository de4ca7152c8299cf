package audit

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/netverify/netverify/policy"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// metadataPort is the port cloud metadata services answer on; a rule whose
// ports exclude it does not reach them.
const metadataPort = 80

// world is the cluster-wide context of the policy checks.
type world struct {
	namespaces []policy.Namespace // every namespace, for namespaceSelectors
	dns        policy.Pod         // the cluster DNS pod egress must reach
}

// newWorld collects namespace labels and finds the cluster DNS pods: those
// the Service kube-system/kube-dns selects, or a stand-in labelled
// k8s-app=kube-dns (the upstream convention) when there are none. The DNS pod
// is given no IP, so only selector rules (not ipBlocks, which CNIs may or may
// not match against pod IPs) count as allowing DNS.
func newWorld(s *snapshot) *world {
	w := &world{dns: policy.Pod{Namespace: "kube-system", Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}}}
	for _, ns := range s.namespaces {
		w.namespaces = append(w.namespaces, policy.Namespace{Name: ns.Name, Labels: ns.Labels})
	}
	for _, svc := range s.services {
		if svc.Namespace != "kube-system" || svc.Name != "kube-dns" || len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, p := range s.pods {
			if p.Namespace == "kube-system" && sel.Matches(labels.Set(p.Labels)) {
				w.dns = policy.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels}
				return w
			}
		}
	}
	return w
}

// namespaceMatches reports whether sel matches at least one namespace.
func (w *world) namespaceMatches(sel labels.Selector) bool {
	for _, ns := range w.namespaces {
		l := labels.Set{corev1.LabelMetadataName: ns.Name}
		for k, v := range ns.Labels {
			l[k] = v
		}
		if sel.Matches(l) {
			return true
		}
	}
	return false
}

// checkNamespacePolicies runs the namespace-level rules: policies present,
// default denies, DNS and the metadata service.
func checkNamespacePolicies(ns string, pods []corev1.Pod, pols []networkingv1.NetworkPolicy, w *world, c *config) []Finding {
	object := "namespace/" + ns
	var fs []Finding
	subjects := policySubjects(pods)
	if len(pols) == 0 {
		fs = append(fs, newFinding(RuleNoNetworkPolicy, ns, object,
			"no NetworkPolicy: every pod accepts and sends any traffic"))
	} else {
		for _, dir := range []policy.Direction{policy.Ingress, policy.Egress} {
			if msg := defaultDenyProblem(pols, dir); msg != "" {
				rule := RuleNoDefaultDenyIngress
				if dir == policy.Egress {
					rule = RuleNoDefaultDenyEgress
				}
				fs = append(fs, newFinding(rule, ns, object, msg))
			}
		}
	}

	eng, err := policy.NewEngine(w.namespaces, nil, pols)
	if err != nil {
		return append(fs, newFinding(RuleAuditIncomplete, ns, object,
			"DNS and metadata checks skipped: the policy engine rejected the namespace's policies: "+oneLine(err.Error())))
	}

	// Pods whose egress nothing restricts reach everything, metadata included.
	var open []string
	for i := range subjects {
		if !eng.Isolated(&subjects[i], policy.Egress) {
			open = append(open, subjects[i].Name)
		}
	}
	if len(open) > 0 {
		fs = append(fs, newFinding(RuleMetadataReachable, ns, object, fmt.Sprintf(
			"%s %s selected by no egress NetworkPolicy, so %s reach the cloud metadata service (%s)",
			podList(open), verbFor(len(open), "is", "are"), verbFor(len(open), "it can", "they can"), ipList(c.metadata))))
	}

	// DNS: every egress-restricted pod needs kube-dns on 53, UDP and TCP. An
	// empty namespace is judged by a stand-in pod without labels, which the
	// namespace-wide (podSelector {}) policies select.
	standIn := len(subjects) == 0
	if standIn {
		subjects = []policy.Pod{{Namespace: ns, Name: "(stand-in)"}}
	}
	var restricted []string
	missing := map[corev1.Protocol]bool{}
	dns := w.dns
	for i := range subjects {
		src := &subjects[i]
		if !eng.Isolated(src, policy.Egress) {
			continue
		}
		cut := false
		for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			d, err := eng.Decide(policy.Peer{Pod: src}, policy.Peer{Pod: &dns}, 53, proto)
			if err != nil || d.Egress != policy.Allowed {
				missing[proto], cut = true, true
			}
		}
		if cut {
			restricted = append(restricted, src.Name)
		}
	}
	if len(restricted) > 0 {
		var protos []string
		for _, p := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			if missing[p] {
				protos = append(protos, string(p))
			}
		}
		why := "name lookups fail"
		if !missing[corev1.ProtocolUDP] {
			why = "answers too large for UDP (retried over TCP) fail"
		}
		who := podList(restricted)
		if standIn {
			who = "every pod (the namespace has none yet)"
		}
		fs = append(fs, newFinding(RuleEgressBlocksDNS, ns, object, fmt.Sprintf(
			"egress of %s is restricted but DNS to %s/%s port 53 is not allowed over %s: %s",
			who, dns.Namespace, dnsName(dns), strings.Join(protos, " and "), why)))
	}
	return fs
}

func dnsName(p policy.Pod) string {
	if p.Name == "kube-dns" {
		return "kube-dns"
	}
	return "kube-dns (" + p.Name + ")"
}

// policySubjects are the namespace's pods as the engine sees them, without
// hostNetwork pods (their traffic is the node's on most CNIs; they have their
// own finding).
func policySubjects(pods []corev1.Pod) []policy.Pod {
	var out []policy.Pod
	for _, p := range pods {
		if p.Spec.HostNetwork {
			continue
		}
		out = append(out, policy.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// defaultDenyProblem returns why the namespace has no default deny for dir,
// or "" when it has one: a policy selecting every pod (podSelector {}) for
// dir with no rule allowing everything, and no other such policy that opens
// dir again with a rule allowing everything.
func defaultDenyProblem(pols []networkingv1.NetworkPolicy, dir policy.Direction) string {
	var deny []string
	var voidedBy string
	for i := range pols {
		p := &pols[i]
		if !isEmptySelector(&p.Spec.PodSelector) || !hasType(p, dir) {
			continue
		}
		if idx := allowAllRule(p, dir); idx >= 0 {
			if voidedBy == "" {
				voidedBy = fmt.Sprintf("%s %s[%d]", p.Name, dirWord(dir), idx)
			}
			continue
		}
		deny = append(deny, p.Name)
	}
	d := dirWord(dir)
	switch {
	case len(deny) == 0 && voidedBy != "":
		return fmt.Sprintf("no default-deny %s: %s selects every pod and allows all %s", d, voidedBy, d)
	case len(deny) == 0:
		return fmt.Sprintf("no default-deny %s policy (podSelector {}, policyTypes [%s], no rule allowing everything): pods no %s policy selects %s any traffic",
			d, dir, d, map[policy.Direction]string{policy.Ingress: "accept", policy.Egress: "send"}[dir])
	case voidedBy != "":
		return fmt.Sprintf("default-deny %s policy %s is voided by %s, which allows all %s of every pod", d, deny[0], voidedBy, d)
	}
	return ""
}

// allowAllRule returns the index of a rule of p for dir that allows
// everything (no peers and no ports), or -1.
func allowAllRule(p *networkingv1.NetworkPolicy, dir policy.Direction) int {
	if dir == policy.Ingress {
		for i, r := range p.Spec.Ingress {
			if len(r.From) == 0 && len(r.Ports) == 0 {
				return i
			}
		}
		return -1
	}
	for i, r := range p.Spec.Egress {
		if len(r.To) == 0 && len(r.Ports) == 0 {
			return i
		}
	}
	return -1
}

// checkPolicy runs the rules about one NetworkPolicy.
func checkPolicy(p *networkingv1.NetworkPolicy, pods []corev1.Pod, w *world, c *config) []Finding {
	ns, object := p.Namespace, "networkpolicy/"+p.Name
	var fs []Finding
	add := func(rule, msg string) { fs = append(fs, newFinding(rule, ns, object, msg)) }

	if !isEmptySelector(&p.Spec.PodSelector) {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			add(RuleAuditIncomplete, fmt.Sprintf("podSelector: %v", err))
		} else if !anyPodMatches(sel, pods) {
			add(RulePolicySelectsNoPods, fmt.Sprintf("podSelector %s matches no pod in namespace %s (a typo?): the policy protects nothing",
				metav1.FormatLabelSelector(&p.Spec.PodSelector), ns))
		}
	}

	checkNS := func(where string, peers []networkingv1.NetworkPolicyPeer) {
		for j, peer := range peers {
			if peer.NamespaceSelector == nil || isEmptySelector(peer.NamespaceSelector) {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
			if err != nil {
				add(RuleAuditIncomplete, fmt.Sprintf("%s[%d].namespaceSelector: %v", where, j, err))
				continue
			}
			if !w.namespaceMatches(sel) {
				add(RulePolicyNamespaceSelector, fmt.Sprintf("%s[%d]: namespaceSelector %s matches no namespace (a typo?)",
					where, j, metav1.FormatLabelSelector(peer.NamespaceSelector)))
			}
		}
	}
	for i, r := range p.Spec.Ingress {
		checkNS(fmt.Sprintf("ingress[%d].from", i), r.From)
	}
	for i, r := range p.Spec.Egress {
		checkNS(fmt.Sprintf("egress[%d].to", i), r.To)
	}

	if hasType(p, policy.Egress) {
		if len(p.Spec.Egress) == 0 && !isEmptySelector(&p.Spec.PodSelector) {
			add(RulePolicyPartialEgressDeny, fmt.Sprintf(
				"policyTypes includes Egress with no egress rules: denies all egress, DNS included, of the pods matching %s only (intended?)",
				metav1.FormatLabelSelector(&p.Spec.PodSelector)))
		}
		for i, r := range p.Spec.Egress {
			if !portsAllow(r.Ports, metadataPort, corev1.ProtocolTCP) {
				continue
			}
			if len(r.To) == 0 {
				add(RulePolicyAllowsMetadata, fmt.Sprintf("egress[%d] has no `to`: it allows every destination, the metadata service %s included",
					i, ipList(c.metadata)))
				continue
			}
			for j, peer := range r.To {
				if peer.IPBlock == nil {
					continue
				}
				if hit := blockCovers(peer.IPBlock, c.metadata); len(hit) > 0 {
					add(RulePolicyAllowsMetadata, fmt.Sprintf("egress[%d].to[%d]: ipBlock %s allows the metadata service %s (add %s to except)",
						i, j, peer.IPBlock.CIDR, ipList(hit), exceptHint(hit)))
				}
			}
		}
	}
	return fs
}

// hasType reports whether p governs dir, applying the API default: with no
// policyTypes a policy is an Ingress policy, and an Egress one too if it has
// egress rules.
func hasType(p *networkingv1.NetworkPolicy, dir policy.Direction) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return dir == policy.Ingress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if t == dir {
			return true
		}
	}
	return false
}

func isEmptySelector(s *metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func anyPodMatches(sel labels.Selector, pods []corev1.Pod) bool {
	for _, p := range pods {
		if sel.Matches(labels.Set(p.Labels)) {
			return true
		}
	}
	return false
}

// portsAllow reports whether a rule's ports admit port/proto to an address
// outside the cluster: no ports admit everything; a named port never matches
// an outside address.
func portsAllow(ports []networkingv1.NetworkPolicyPort, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pr := corev1.ProtocolTCP
		if p.Protocol != nil {
			pr = *p.Protocol
		}
		if pr != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type != intstr.Int {
			continue
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if port >= p.Port.IntVal && port <= end {
			return true
		}
	}
	return false
}

// blockCovers returns the addresses of ips inside b's CIDR and in none of
// its excepts.
func blockCovers(b *networkingv1.IPBlock, ips []netip.Addr) []netip.Addr {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return nil
	}
	var out []netip.Addr
next:
	for _, ip := range ips {
		if !cidr.Contains(ip) {
			continue
		}
		for _, e := range b.Except {
			if ex, err := netip.ParsePrefix(e); err == nil && ex.Contains(ip) {
				continue next
			}
		}
		out = append(out, ip)
	}
	return out
}

func dirWord(dir policy.Direction) string { return strings.ToLower(string(dir)) }

func ipList(ips []netip.Addr) string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return strings.Join(s, ", ")
}

func exceptHint(ips []netip.Addr) string {
	var s []string
	for _, ip := range ips {
		s = append(s, netip.PrefixFrom(ip, ip.BitLen()).String())
	}
	return strings.Join(s, ", ")
}

// podList renders "pod web" or "3 pods (e.g. web, api)".
func podList(names []string) string {
	if len(names) == 1 {
		return "pod " + names[0]
	}
	ex := names
	if len(ex) > 3 {
		ex = ex[:3]
	}
	return fmt.Sprintf("%d pods (e.g. %s)", len(names), strings.Join(ex, ", "))
}

func verbFor(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
