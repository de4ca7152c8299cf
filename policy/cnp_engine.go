package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// TieredEngine decides connections under ClusterNetworkPolicies
// (policy.networking.k8s.io/v1alpha2) and NetworkPolicies together: the
// Admin tier, then the NetworkPolicies of an Engine, then the Baseline tier,
// then the default (allowed). It is immutable after NewTieredEngine and safe
// for concurrent use. See the package documentation for the semantics.
type TieredEngine struct {
	np       *Engine
	admin    [][]*compiledCNP // by priority, lowest number first; one slice per priority
	baseline [][]*compiledCNP
}

// NewTieredEngine puts the ClusterNetworkPolicies cnps in their tiers around
// np, which holds the namespaces, pods and NetworkPolicies.
//
// It fails, listing every problem at once, each naming the policy and the
// field, when a policy is one the API server would reject: no name or a
// duplicate name, an unknown tier or action, a priority out of 0-1000, a
// subject or peer with no or several fields set, an unparsable selector, a
// CIDR that does not parse or has host bits set, an invalid domain name or
// one in a rule that does not Accept, a port out of range, a range whose
// start is not below its end, a named port beside networks, nodes or
// domainNames peers, or more items than the API allows. A peer that sets no
// field is not an error: the API asks implementations to fail closed on it
// (an Accept rule matches nothing, a Deny or Pass rule denies all traffic).
func NewTieredEngine(np *Engine, cnps []cnpv1.ClusterNetworkPolicy) (*TieredEngine, error) {
	if np == nil {
		return nil, errors.New("NewTieredEngine: nil NetworkPolicy engine")
	}
	var errs []error
	var admin, baseline []*compiledCNP
	seen := map[string]bool{}
	for i := range cnps {
		name := cnps[i].Name
		if name != "" && seen[name] {
			errs = append(errs, fmt.Errorf("clusternetworkpolicy %q: metadata.name: duplicate name", name))
			continue
		}
		seen[name] = true
		cp, err := compileCNP(&cnps[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cp.tier == cnpv1.AdminTier {
			admin = append(admin, cp)
		} else {
			baseline = append(baseline, cp)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, p := range append(slices.Clone(admin), baseline...) {
		for _, rules := range [][]cnpRule{p.ingress, p.egress} {
			for _, r := range rules {
				for _, peer := range r.peers {
					if peer.networks != nil {
						np.prepare(peer.networks)
					}
				}
			}
		}
	}
	return &TieredEngine{np: np, admin: byPriority(admin), baseline: byPriority(baseline)}, nil
}

// byPriority groups policies by priority, lowest number first, each group
// sorted by name (for stable reasons; names do not order policies).
func byPriority(ps []*compiledCNP) [][]*compiledCNP {
	slices.SortFunc(ps, func(a, b *compiledCNP) int {
		if a.priority != b.priority {
			return int(a.priority - b.priority)
		}
		return strings.Compare(a.name, b.name)
	})
	var groups [][]*compiledCNP
	for i, p := range ps {
		if i == 0 || p.priority != ps[i-1].priority {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], p)
	}
	return groups
}

// Decide says whether a connection from src to dst on port/protocol is
// allowed, with the arguments and errors of Engine.Decide.
//
// Each side is evaluated on its own, the source's egress and the
// destination's ingress, and the connection needs both: the Admin tier's
// first matching rule (by policy priority, then rule order) decides with
// Accept or Deny, or with Pass hands the side to the NetworkPolicies; a pod
// that a NetworkPolicy isolates for the direction gets their answer;
// otherwise the Baseline tier's first matching rule decides, and with no
// match (or Pass) the side is allowed. The Reason names, per side, each tier
// passed through and the rule that decided, e.g. `egress from x/a: admin
// policy "deny-metadata" (priority 10) egress[0] "block-imds": Deny`.
//
// Where the outcome is open (policies of equal priority that could both
// match, domainNames, nodes selected by labels, a network that may cover
// only some of the addresses a pod or node of unknown IP may have, or a
// Service's ClusterIP) every reading is evaluated: when they all agree the
// verdict is theirs, otherwise the side is ImplementationDefined and the
// Reason lists the readings. The NetworkPolicy caveats of Engine.Decide
// apply unchanged: self, node and hostNetwork traffic not allowed is
// ImplementationDefined, and so is, in the NetworkPolicy tier, an ipBlock
// that may cover a pod's IP or a ClusterIP. The engine's ClusterRanges (see
// WithClusterRanges) say where unknown pod IPs and ClusterIPs lie.
func (t *TieredEngine) Decide(src, dst Peer, port int32, protocol corev1.Protocol) (Decision, error) {
	c, err := t.np.connection(src, dst, port, protocol)
	if err != nil {
		return Decision{}, err
	}
	egress := t.side(Egress, c.src, c.dst, c)
	ingress := t.side(Ingress, c.dst, c.src, c)
	return decision(c, egress, ingress), nil
}

// reading is one way a side's evaluation can go: the steps taken through
// the tiers, where they end, and the implementation's choices it assumes.
type reading struct {
	verdict Verdict
	steps   []string
	whys    []string
}

// side evaluates direction dir for subject against other through the tiers.
func (t *TieredEngine) side(dir Direction, subject, other endpoint, c connection) sideResult {
	if subject.pod == nil {
		return sideResult{Allowed, "not governed by NetworkPolicy or ClusterNetworkPolicy (not a pod)"}
	}
	var readings []reading
	var first []string
	var admin []tierResult
	if subject.pod.HostNetwork {
		first = []string{"no ClusterNetworkPolicy applies (hostNetwork pods are never subjects)"}
		admin = []tierResult{{}}
	} else {
		admin = t.tier(t.admin, "admin", dir, subject, other, c)
	}
	for _, ar := range admin {
		steps := append(slices.Clone(first), ar.steps()...)
		switch ar.action {
		case cnpv1.ClusterNetworkPolicyRuleActionAccept:
			readings = append(readings, reading{verdict: Allowed, steps: steps, whys: ar.whys})
			continue
		case cnpv1.ClusterNetworkPolicyRuleActionDeny:
			readings = append(readings, reading{verdict: Blocked, steps: steps, whys: ar.whys})
			continue
		}
		np := t.np.side(dir, subject, other, c)
		steps = append(steps, "NetworkPolicies: "+np.text)
		if t.np.Isolated(subject.pod, dir) {
			readings = append(readings, reading{verdict: np.verdict, steps: steps, whys: ar.whys})
			continue
		}
		var baseline []tierResult
		if subject.pod.HostNetwork {
			baseline = []tierResult{{}}
		} else {
			baseline = t.tier(t.baseline, "baseline", dir, subject, other, c)
		}
		for _, br := range baseline {
			r := reading{verdict: Allowed, steps: append(slices.Clone(steps), br.steps()...), whys: append(slices.Clone(ar.whys), br.whys...)}
			switch br.action {
			case cnpv1.ClusterNetworkPolicyRuleActionDeny:
				r.verdict = Blocked
			case cnpv1.ClusterNetworkPolicyRuleActionAccept:
			default:
				r.steps = append(r.steps, "default: allowed")
			}
			readings = append(readings, r)
		}
	}
	return summarize(readings)
}

// summarize turns the readings of a side into its result: theirs when there
// is one or they agree, otherwise ImplementationDefined.
func summarize(readings []reading) sideResult {
	verdict := readings[0].verdict
	var whys []string
	for _, r := range readings {
		if r.verdict != verdict {
			verdict = ImplementationDefined
		}
		for _, why := range r.whys {
			if !slices.Contains(whys, why) {
				whys = append(whys, why)
			}
		}
	}
	if len(readings) == 1 && len(whys) == 0 {
		return sideResult{verdict, strings.Join(readings[0].steps, "; ")}
	}
	texts := make([]string, len(readings))
	for i, r := range readings {
		texts[i] = fmt.Sprintf("[%s → %s]", strings.Join(r.steps, "; "), r.verdict)
	}
	head := "every reading gives " + string(verdict)
	if verdict == ImplementationDefined {
		head = "depends on the implementation"
	}
	return sideResult{verdict, fmt.Sprintf("%s (%s): %s", head, strings.Join(whys, "; "), strings.Join(texts, " or "))}
}

// tierResult is one way a tier can end for a side: a rule's action, or no
// rule matching (action "").
type tierResult struct {
	action cnpv1.ClusterNetworkPolicyRuleAction
	step   string   // the rule and action, or what no match means
	whys   []string // the implementation's choices this ending assumes
}

func (r tierResult) steps() []string {
	if r.step == "" {
		return nil
	}
	return []string{r.step}
}

// tier evaluates one tier's policy groups for subject's direction dir and
// returns each way it can end.
func (t *TieredEngine) tier(groups [][]*compiledCNP, name string, dir Direction, subject, other endpoint, c connection) []tierResult {
	var out []tierResult
	var pending []string // whys for the readings where no rule matched so far
	for _, group := range groups {
		var candidates []tierResult
		var matching []string // policies that could match
		canContinue := true
		var continueWhys []string
		for _, p := range group {
			if !p.selects(subject.pod, subject.nsLabels, dir) {
				continue
			}
			results, cont, whys := p.firstMatch(dir, other, c)
			if len(results) > 0 {
				matching = append(matching, fmt.Sprintf("%q", p.name))
			}
			candidates = append(candidates, results...)
			canContinue = canContinue && cont
			continueWhys = append(continueWhys, whys...)
		}
		var tie string
		if len(matching) > 1 {
			tie = fmt.Sprintf("%s policies %s share priority %d and could each match: the API lets an implementation apply any of them",
				name, strings.Join(matching, ", "), group[0].priority)
		}
		for _, cand := range candidates {
			cand.whys = append(slices.Clone(pending), cand.whys...)
			if tie != "" {
				cand.whys = append(cand.whys, tie)
			}
			out = append(out, cand)
		}
		if !canContinue {
			return out
		}
		pending = append(pending, continueWhys...)
		if tie != "" {
			pending = append(pending, tie)
		}
	}
	return append(out, tierResult{step: name + " tier: no rule matches", whys: pending})
}

// firstMatch returns the ways p's rules for dir can end with a match (the
// first rule that surely matches, and any before it that may), whether
// none may match, and the choices that reading assumes.
func (p *compiledCNP) firstMatch(dir Direction, other endpoint, c connection) (results []tierResult, cont bool, whys []string) {
	for _, r := range p.rules(dir) {
		m, why := r.match(other, c)
		switch m {
		case matchYes:
			return append(results, tierResult{action: r.action, step: r.where + ": " + string(r.action), whys: slices.Clone(whys)}), false, nil
		case matchDepends:
			results = append(results, tierResult{action: r.action, step: r.where + ": " + string(r.action), whys: append(slices.Clone(whys), why)})
			whys = append(whys, why)
		}
	}
	return results, true, whys
}

// match says whether rule r matches traffic with the far end other; why
// explains a matchDepends.
func (r cnpRule) match(other endpoint, c connection) (m match, why string) {
	switch {
	case r.matchNone:
		return matchNo, ""
	case r.matchAll:
		return matchYes, ""
	}
	if len(r.ports) > 0 && !slices.ContainsFunc(r.ports, func(p cnpPort) bool { return p.matches(c.port, c.protocol, c.dst.pod) }) {
		return matchNo, ""
	}
	for _, peer := range r.peers {
		switch pm, pwhy := peer.match(other, r.where); pm {
		case matchYes:
			return matchYes, ""
		case matchDepends:
			if m == matchNo {
				m, why = matchDepends, pwhy
			}
		}
	}
	return m, why
}

func (p cnpPeer) match(other endpoint, where string) (match, string) {
	switch {
	case p.namespaces != nil: // namespaces or pods
		if other.pod == nil || other.pod.HostNetwork || !p.namespaces.Matches(other.nsLabels) {
			return matchNo, ""
		}
		if p.pods != nil && !p.pods.Matches(labels.Set(other.pod.Labels)) {
			return matchNo, ""
		}
		return matchYes, ""
	case p.nodes != nil:
		if !other.node && (other.pod == nil || !other.pod.HostNetwork) {
			return matchNo, ""
		}
		if p.nodes.Empty() {
			return matchYes, ""
		}
		return matchDepends, fmt.Sprintf("%s (%s) selects nodes by labels, which the engine does not know, so whether it matches %s is open",
			p.text, where, other.text)
	case p.networks != nil:
		return networksMatch(p, other, where)
	default: // domainNames
		if other.pod != nil && !slices.ContainsFunc(p.domains, mayNameClusterPods) {
			return matchNo, ""
		}
		return matchDepends, fmt.Sprintf("%s (%s) matches the addresses its names resolve to in the pod's DNS lookups, which the engine does not see (implementations differ in how they learn them)",
			p.text, where)
	}
}

// networksMatch matches a networks peer against other. Networks match pod
// and node addresses too (the API says so): a known address is in them or
// not; an unknown one (a pod or node without IP) lies in the cluster's pod
// ranges, or for a node or when the ranges are unknown anywhere a node or
// pod may be, and the networks match it when they cover all of that, not
// when they cover none of it, and may otherwise. For a destination
// addressed through a Service, the ClusterIP counts too (see viaService).
func networksMatch(p cnpPeer, other endpoint, where string) (match, string) {
	named := fmt.Sprintf("%s (%s)", p.text, where)
	m, why := matchNo, ""
	switch c := p.networks.cover(other.space); {
	case c == coversAll:
		m = matchYes
	case c == coversPart && !other.space.exact:
		what := "the IP of " + other.text
		if other.node {
			what = "the address of " + other.text
		}
		m, why = matchDepends, other.space.describe(named, p.networks.addrs, c, what)
		if other.space.known {
			why += ": whether its address is among them is not known offline"
		}
	}
	if other.pod == nil {
		return m, why
	}
	return viaService(m, why, named, p.networks, other)
}

// mayNameClusterPods reports whether domain name d (lower case, no trailing
// dot, maybe a "*." wildcard) may match a name under the cluster domain.
func mayNameClusterPods(d string) bool {
	if suffix, ok := strings.CutPrefix(d, "*."); ok {
		return suffix == clusterDomain || strings.HasSuffix(clusterDomain, "."+suffix) || strings.HasSuffix(suffix, "."+clusterDomain)
	}
	return strings.HasSuffix(d, "."+clusterDomain)
}
