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
	// strangers and outside are the far ends of traffic no rule names (see
	// strangersAndOutside), for the default-deny rules.
	strangers, outside []policy.Peer
}

// newWorld collects namespace labels and finds the cluster DNS pods: those
// the Service kube-system/kube-dns selects, or a stand-in labelled
// k8s-app=kube-dns (the upstream convention) when there are none. The DNS pod
// is given no IP, so only selector rules (not ipBlocks, which CNIs may or may
// not match against pod IPs) count as allowing DNS.
func newWorld(s *snapshot) *world {
	w := &world{dns: policy.Pod{Namespace: "kube-system", Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}}}
	w.strangers, w.outside = strangersAndOutside(s.pods)
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
// default denies, DNS and the metadata service. m is nil when the engine
// rejected the namespace's policies (reported by the caller): then only the
// NetworkPolicies' own default denies are checked.
func checkNamespacePolicies(ns string, pods []corev1.Pod, pols []networkingv1.NetworkPolicy, m *model, w *world, c *config) []Finding {
	object := "namespace/" + ns
	subjects := policySubjects(pods)
	if m == nil {
		return npDefaultDenyFindings(ns, pols)
	}
	var fs []Finding
	for _, check := range []func() ([]Finding, error){
		func() ([]Finding, error) { return defaultDenyFindings(ns, subjects, pols, m, w) },
		func() ([]Finding, error) { return metadataFindings(ns, subjects, m, c) },
		func() ([]Finding, error) { return dnsFindings(ns, subjects, m, w) },
	} {
		more, err := check()
		if err != nil {
			return append(fs, newFinding(RuleAuditIncomplete, ns, object,
				"namespace checks stopped: the policy engine failed: "+oneLine(err.Error())))
		}
		fs = append(fs, more...)
	}
	return fs
}

// npDefaultDenyFindings are the default-deny findings from the
// NetworkPolicies alone.
func npDefaultDenyFindings(ns string, pols []networkingv1.NetworkPolicy) []Finding {
	object := "namespace/" + ns
	if len(pols) == 0 {
		return []Finding{newFinding(RuleNoNetworkPolicy, ns, object, noNetworkPolicyMsg)}
	}
	var fs []Finding
	for _, dir := range []policy.Direction{policy.Ingress, policy.Egress} {
		if nd := npDefaultOf(pols, dir); !nd.deny {
			fs = append(fs, newFinding(defaultDenyRule(dir), ns, object, nd.msg))
		}
	}
	return fs
}

const noNetworkPolicyMsg = "no NetworkPolicy: every pod accepts and sends any traffic"

func defaultDenyRule(dir policy.Direction) string {
	if dir == policy.Egress {
		return RuleNoDefaultDenyEgress
	}
	return RuleNoDefaultDenyIngress
}

// defaultDenyFindings runs namespace-no-networkpolicy and the default-deny
// rules through the tiers. Each pod, and a stand-in without labels for the
// pods to come, is decided (defaultFor); the pods whose traffic no rule
// names is not denied are reported, one finding per cause: an Admin
// Accept, an answer the API leaves to the implementation, nothing denying.
// Without ClusterNetworkPolicies the findings are those of the
// NetworkPolicies alone. A namespace without NetworkPolicies where no
// ClusterNetworkPolicy denies anything by default is namespace-no-networkpolicy.
func defaultDenyFindings(ns string, subjects []policy.Pod, pols []networkingv1.NetworkPolicy, m *model, w *world) ([]Finding, error) {
	object := "namespace/" + ns
	type class struct {
		names   []string
		standIn bool
		first   podDefault // the first member's, for the message
	}
	dirs := []policy.Direction{policy.Ingress, policy.Egress}
	classes := map[policy.Direction]map[defaultState]*class{}
	involved := map[policy.Direction]bool{} // a ClusterNetworkPolicy denies some default traffic, or may
	nds := map[policy.Direction]npDefault{}
	extra := standIn(ns)
	for _, dir := range dirs {
		nd := npDefaultOf(pols, dir)
		nds[dir] = nd
		classes[dir] = map[defaultState]*class{}
		cache := map[string]podDefault{}
		add := func(p *policy.Pod, isStandIn bool) error {
			key := labelsKey(p.Labels)
			if isStandIn {
				key = "\x00stand-in"
			}
			d, ok := cache[key]
			if !ok {
				var err error
				if d, err = m.defaultFor(p, isStandIn, dir, nd, w); err != nil {
					return err
				}
				cache[key] = d
			}
			if d.cnpDenies || d.state == depends {
				involved[dir] = true
			}
			if d.state == denied {
				return nil
			}
			cl := classes[dir][d.state]
			if cl == nil {
				cl = &class{first: d}
				classes[dir][d.state] = cl
			}
			if isStandIn {
				cl.standIn = true
			} else {
				cl.names = append(cl.names, p.Name)
			}
			return nil
		}
		for i := range subjects {
			if err := add(&subjects[i], false); err != nil {
				return nil, err
			}
		}
		if err := add(&extra, true); err != nil {
			return nil, err
		}
	}
	if len(pols) == 0 && !involved[policy.Ingress] && !involved[policy.Egress] {
		msg := noNetworkPolicyMsg
		if m.cnps {
			msg = "no NetworkPolicy, and no ClusterNetworkPolicy denies traffic by default: every pod accepts and sends what no rule names"
		}
		return []Finding{newFinding(RuleNoNetworkPolicy, ns, object, msg)}, nil
	}
	var fs []Finding
	for _, dir := range dirs {
		d := dirWord(dir)
		for _, state := range []defaultState{accepted, depends, open} {
			cl := classes[dir][state]
			if cl == nil {
				continue
			}
			who, plural := whoText(cl.names, cl.standIn, len(subjects))
			var msg string
			switch {
			case state == accepted:
				msg = fmt.Sprintf("no default deny %s for %s: an Admin ClusterNetworkPolicy accepts %s whatever NetworkPolicies say (%s)",
					d, who, cl.first.probe, cl.first.reason)
			case state == depends:
				msg = fmt.Sprintf("whether %s of %s is denied by default depends on the implementation (e.g. %s): %s",
					d, who, cl.first.probe, cl.first.reason)
			case len(pols) == 0:
				verb := directionVerb(dir) + "s"
				if plural {
					verb = directionVerb(dir)
				}
				msg = fmt.Sprintf("no NetworkPolicy, and no ClusterNetworkPolicy denies all %s by default: %s %s traffic no rule names, e.g. %s (%s)",
					d, who, verb, cl.first.probe, cl.first.reason)
			case involved[dir] && cl.first.reason != "":
				msg = fmt.Sprintf("%s; no ClusterNetworkPolicy denies it for %s either: %s is allowed (%s)",
					nds[dir].msg, who, cl.first.probe, cl.first.reason)
			default:
				msg = nds[dir].msg
			}
			fs = append(fs, newFinding(defaultDenyRule(dir), ns, object, msg))
		}
	}
	return fs, nil
}

func directionVerb(dir policy.Direction) string {
	if dir == policy.Ingress {
		return "accept"
	}
	return "send"
}

// whoText names the pods of a finding: the namespace's pods named, and
// the stand-in for pods to come; plural tells the verb's number.
func whoText(names []string, standIn bool, total int) (who string, plural bool) {
	switch {
	case standIn && total == 0:
		return "every pod (the namespace has none yet)", false
	case standIn && len(names) == total:
		return "every pod", false
	case standIn && len(names) == 0:
		return "new pods without labels", true
	case standIn:
		return podList(names) + " and new pods without labels", true
	}
	return podList(names), len(names) > 1
}

// metadataFindings runs namespace-metadata-reachable: a pod reaches a
// metadata address (TCP port 80) when an Admin Accept allows it, or when no
// NetworkPolicy isolates its egress and no Admin or Baseline Deny blocks
// it. (What the NetworkPolicies of isolated pods allow is
// networkpolicy-allows-metadata's.) Pods are grouped by cause and
// addresses.
func metadataFindings(ns string, subjects []policy.Pod, m *model, c *config) ([]Finding, error) {
	object := "namespace/" + ns
	type group struct {
		state         defaultState // open, accepted or depends
		names         []string
		ips, deniedIP []netip.Addr
		reason        string // for accepted and depends
		deniedReason  string
	}
	var order []string
	groups := map[string]*group{}
	for i := range subjects {
		p := &subjects[i]
		isolated := m.np.Isolated(p, policy.Egress)
		byState := map[defaultState][]netip.Addr{}
		reasons := map[defaultState]string{}
		var deniedIPs []netip.Addr
		var deniedReason string
		for _, ip := range c.metadata {
			s, err := m.side(p, policy.Egress, policy.Peer{IP: ip.String()}, metadataPort, corev1.ProtocolTCP)
			if err != nil {
				return nil, err
			}
			state := open
			switch {
			case s.admin == accepts:
				state = accepted
			case s.admin == mayAccept:
				state = depends
			case isolated:
				continue // the NetworkPolicies decide
			case s.verdict == policy.Blocked:
				if deniedReason == "" {
					deniedReason = s.reason
				}
				deniedIPs = append(deniedIPs, ip)
				continue
			case s.verdict == policy.ImplementationDefined:
				state = depends
			}
			byState[state] = append(byState[state], ip)
			if reasons[state] == "" {
				reasons[state] = s.reason
			}
		}
		for _, state := range []defaultState{accepted, depends, open} {
			ips := byState[state]
			if len(ips) == 0 {
				continue
			}
			var denied []netip.Addr
			if state == open {
				denied = deniedIPs
			}
			key := fmt.Sprint(state, ipList(ips), "|", ipList(denied))
			g := groups[key]
			if g == nil {
				g = &group{state: state, ips: ips, deniedIP: denied, reason: reasons[state], deniedReason: deniedReason}
				groups[key] = g
				order = append(order, key)
			}
			g.names = append(g.names, p.Name)
		}
	}
	var fs []Finding
	for _, key := range order {
		g := groups[key]
		n := len(g.names)
		var msg string
		switch g.state {
		case accepted:
			msg = fmt.Sprintf("%s can reach the cloud metadata service (%s): an Admin ClusterNetworkPolicy accepts it whatever NetworkPolicies say (%s)",
				podList(g.names), ipList(g.ips), g.reason)
		case depends:
			msg = fmt.Sprintf("whether %s can reach the cloud metadata service (%s) depends on the implementation: %s",
				podList(g.names), ipList(g.ips), g.reason)
		default:
			msg = fmt.Sprintf("%s %s selected by no egress NetworkPolicy, so %s reach the cloud metadata service (%s)",
				podList(g.names), verbFor(n, "is", "are"), verbFor(n, "it can", "they can"), ipList(g.ips))
			if len(g.deniedIP) > 0 {
				msg += fmt.Sprintf("; a ClusterNetworkPolicy denies %s (%s)", ipList(g.deniedIP), g.deniedReason)
			}
		}
		fs = append(fs, newFinding(RuleMetadataReachable, ns, object, msg))
	}
	return fs, nil
}

// dnsFindings runs namespace-egress-blocks-dns: every pod whose egress some
// tier restricts needs kube-dns on 53, UDP and TCP. An empty namespace is
// judged by a stand-in pod without labels, which the namespace-wide
// (podSelector {}) policies select. When a ClusterNetworkPolicy decides
// where the NetworkPolicies alone would not, the message gives the
// engine's account.
func dnsFindings(ns string, subjects []policy.Pod, m *model, w *world) ([]Finding, error) {
	object := "namespace/" + ns
	isStandIn := len(subjects) == 0
	if isStandIn {
		subjects = []policy.Pod{standIn(ns)}
	}
	var restricted []string
	missing := map[corev1.Protocol]bool{}
	dns := w.dns
	var cnpWhy string
	for i := range subjects {
		src := &subjects[i]
		isolated := m.np.Isolated(src, policy.Egress)
		cut := false
		for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			s, err := m.side(src, policy.Egress, policy.Peer{Pod: &dns}, 53, proto)
			if err != nil {
				return nil, err
			}
			if s.verdict == policy.Allowed {
				continue
			}
			missing[proto], cut = true, true
			npVerdict := policy.Allowed
			if isolated {
				d, err := m.np.Decide(policy.Peer{Pod: src}, policy.Peer{Pod: &dns}, 53, proto)
				if err != nil {
					return nil, err
				}
				npVerdict = d.Egress
			}
			if cnpWhy == "" && npVerdict != s.verdict {
				cnpWhy = s.reason
			}
		}
		if cut {
			restricted = append(restricted, src.Name)
		}
	}
	if len(restricted) == 0 {
		return nil, nil
	}
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
	if isStandIn {
		who = "every pod (the namespace has none yet)"
	}
	msg := fmt.Sprintf("egress of %s is restricted but DNS to %s/%s port 53 is not allowed over %s: %s",
		who, dns.Namespace, dnsName(dns), strings.Join(protos, " and "), why)
	if cnpWhy != "" {
		msg += " (" + cnpWhy + ")"
	}
	return []Finding{newFinding(RuleEgressBlocksDNS, ns, object, msg)}, nil
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

// npDefaultOf says whether the NetworkPolicies pols give the namespace a
// default deny for dir: a policy selecting every pod (podSelector {}) for
// dir with no rule allowing everything, and no other such policy that
// opens dir again with a rule allowing everything. When not, msg says why.
func npDefaultOf(pols []networkingv1.NetworkPolicy, dir policy.Direction) npDefault {
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
	nd := npDefault{voided: voidedBy != ""}
	switch {
	case len(deny) == 0 && voidedBy != "":
		nd.msg = fmt.Sprintf("no default-deny %s: %s selects every pod and allows all %s", d, voidedBy, d)
	case len(deny) == 0:
		nd.msg = fmt.Sprintf("no default-deny %s policy (podSelector {}, policyTypes [%s], no rule allowing everything): pods no %s policy selects %s any traffic",
			d, dir, d, directionVerb(dir))
	case voidedBy != "":
		nd.msg = fmt.Sprintf("default-deny %s policy %s is voided by %s, which allows all %s of every pod", d, deny[0], voidedBy, d)
	default:
		nd.deny = true
	}
	return nd
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

// checkPolicy runs the rules about one NetworkPolicy. m (nil when the
// engine rejected the namespace's policies) tells which metadata addresses
// an Admin Deny blocks above the policy.
func checkPolicy(p *networkingv1.NetworkPolicy, pods []corev1.Pod, m *model, w *world, c *config) []Finding {
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
		above, err := deniedAbove(p, pods, m, c.metadata)
		if err != nil {
			add(RuleAuditIncomplete, "ClusterNetworkPolicies not taken into account for the metadata service: the policy engine failed: "+oneLine(err.Error()))
		}
		// hit less what an Admin Deny blocks, and a note naming it.
		allowed := func(hit []netip.Addr) ([]netip.Addr, string) {
			var out, gone []netip.Addr
			for _, ip := range hit {
				if _, ok := above[ip]; ok {
					gone = append(gone, ip)
				} else {
					out = append(out, ip)
				}
			}
			if len(gone) == 0 {
				return out, ""
			}
			return out, fmt.Sprintf("; a ClusterNetworkPolicy denies %s for every pod the policy selects (%s)", ipList(gone), above[gone[0]])
		}
		for i, r := range p.Spec.Egress {
			if !portsAllow(r.Ports, metadataPort, corev1.ProtocolTCP) {
				continue
			}
			if len(r.To) == 0 {
				if hit, note := allowed(c.metadata); len(hit) > 0 {
					add(RulePolicyAllowsMetadata, fmt.Sprintf("egress[%d] has no `to`: it allows every destination, the metadata service %s included%s",
						i, ipList(hit), note))
				}
				continue
			}
			for j, peer := range r.To {
				if peer.IPBlock == nil {
					continue
				}
				if hit, note := allowed(blockCovers(peer.IPBlock, c.metadata)); len(hit) > 0 {
					add(RulePolicyAllowsMetadata, fmt.Sprintf("egress[%d].to[%d]: ipBlock %s allows the metadata service %s (add %s to except)%s",
						i, j, peer.IPBlock.CIDR, ipList(hit), exceptHint(hit), note))
				}
			}
		}
	}
	return fs
}

// deniedAbove returns the metadata addresses that the tiers block (TCP
// port 80) for every pod p selects, with the engine's account of one: p
// isolates those pods, so only an Admin Deny blocks what it allows. With no
// pod selected, a stand-in without labels is judged when p's podSelector
// matches it; otherwise (and with a nil m) nothing is returned, since the
// pods to come are unknown.
func deniedAbove(p *networkingv1.NetworkPolicy, pods []corev1.Pod, m *model, ips []netip.Addr) (map[netip.Addr]string, error) {
	if m == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		return nil, nil // reported with the podSelector
	}
	var selected []policy.Pod
	for _, s := range policySubjects(pods) {
		if sel.Matches(labels.Set(s.Labels)) {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		if !sel.Matches(labels.Set{}) {
			return nil, nil
		}
		selected = []policy.Pod{standIn(p.Namespace)}
	}
	out := map[netip.Addr]string{}
next:
	for _, ip := range ips {
		var reason string
		for i := range selected {
			s, err := m.side(&selected[i], policy.Egress, policy.Peer{IP: ip.String()}, metadataPort, corev1.ProtocolTCP)
			if err != nil {
				return nil, err
			}
			if s.verdict != policy.Blocked {
				continue next
			}
			if reason == "" {
				reason = s.reason
			}
		}
		out[ip] = reason
	}
	return out, nil
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
