package audit

import (
	"sort"
)

// Finding is one problem the audit found.
type Finding struct {
	// Rule is the stable id of the rule that found it (see Rules).
	Rule string `json:"rule"`
	// Severity is the rule's severity.
	Severity Severity `json:"severity"`
	// Namespace is the namespace of Object; "" for cluster-scoped objects.
	Namespace string `json:"namespace"`
	// Object is "kind/name", kind in lower case as kubectl prints it:
	// "namespace/web", "pod/api-0", "deployment/api", "service/web",
	// "networkpolicy/deny-all", "ciliumnetworkpolicy.cilium.io/l7",
	// "clusternetworkpolicy.policy.networking.k8s.io/deny-metadata".
	Object string `json:"object"`
	// Message says what is wrong, in one line.
	Message string `json:"message"`
}

// Rule describes one check.
type Rule struct {
	ID       string
	Severity Severity
	Summary  string
}

// Rule ids. They are stable: scripts may match on them.
const (
	RuleNoNetworkPolicy          = "namespace-no-networkpolicy"
	RuleNoDefaultDenyIngress     = "namespace-no-default-deny-ingress"
	RuleNoDefaultDenyEgress      = "namespace-no-default-deny-egress"
	RuleEgressBlocksDNS          = "namespace-egress-blocks-dns"
	RuleMetadataReachable        = "namespace-metadata-reachable"
	RulePolicyAllowsMetadata     = "networkpolicy-allows-metadata"
	RulePolicySelectsNoPods      = "networkpolicy-selects-no-pods"
	RulePolicyNamespaceSelector  = "networkpolicy-namespace-selector-matches-nothing"
	RulePolicyPartialEgressDeny  = "networkpolicy-partial-egress-deny"
	RuleHostNetwork              = "pod-host-network"
	RuleHostPort                 = "pod-host-port"
	RuleHostPortOutsideNodePorts = "pod-host-port-outside-nodeport-range"
	RuleCustomDNS                = "pod-custom-dns"
	RuleMissingAppLabel          = "pod-missing-app-label"
	RuleServiceNodePort          = "service-nodeport"
	RuleServiceExternalIPs       = "service-external-ips"
	RuleLoadBalancerInDev        = "service-loadbalancer-in-dev-namespace"
	RuleUnmodeledPolicyKind      = "unmodeled-policy-kind"
	RuleAuditIncomplete          = "audit-incomplete"
)

var rules = []Rule{
	{RuleNoNetworkPolicy, Medium, "namespace has no NetworkPolicy (and no ClusterNetworkPolicy denies by default): every pod accepts and sends any traffic"},
	{RuleNoDefaultDenyIngress, Medium, "no default deny of ingress: no default-deny NetworkPolicy or Deny ClusterNetworkPolicy, or an Admin Accept voids it"},
	{RuleNoDefaultDenyEgress, Low, "no default deny of egress: no default-deny NetworkPolicy or Deny ClusterNetworkPolicy, or an Admin Accept voids it"},
	{RuleEgressBlocksDNS, Medium, "egress is restricted but DNS to kube-system port 53 is not allowed for both UDP and TCP"},
	{RuleMetadataReachable, Medium, "pods can reach the cloud metadata service: no egress policy selects them, or an Admin ClusterNetworkPolicy accepts it"},
	{RulePolicyAllowsMetadata, High, "an egress rule allows the cloud metadata service (an ipBlock without an except for it, or no `to`)"},
	{RulePolicySelectsNoPods, Low, "the policy's podSelector matches no pod of its namespace (a typo?)"},
	{RulePolicyNamespaceSelector, Low, "a namespaceSelector of the policy matches no namespace (a typo?)"},
	{RulePolicyPartialEgressDeny, Info, "an Egress policy with no egress rules denies all egress of only some pods"},
	{RuleHostNetwork, High, "pod uses hostNetwork: NetworkPolicies do not apply to it on most CNIs"},
	{RuleHostPort, Low, "container publishes a hostPort (in the NodePort range)"},
	{RuleHostPortOutsideNodePorts, Medium, "container publishes a hostPort outside the NodePort range 30000-32767"},
	{RuleCustomDNS, Low, "pod does not resolve through cluster DNS (dnsPolicy) or sets dnsConfig"},
	{RuleMissingAppLabel, Info, "pod has neither an app nor an app.kubernetes.io/name label"},
	{RuleServiceNodePort, Low, "Service of type NodePort: published on every node"},
	{RuleServiceExternalIPs, High, "Service sets externalIPs (CVE-2020-8554)"},
	{RuleLoadBalancerInDev, Medium, "LoadBalancer Service in a development namespace"},
	{RuleUnmodeledPolicyKind, Medium, "a policy kind netverify's engine does not model is in use"},
	{RuleAuditIncomplete, Low, "part of the audit could not be done (e.g. a policy kind or the ClusterNetworkPolicies could not be listed)"},
}

// Rules returns every rule, in the order they are documented.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// severityOf is the severity of rule id.
func severityOf(id string) Severity {
	for _, r := range rules {
		if r.ID == id {
			return r.Severity
		}
	}
	return Info
}

// newFinding builds a finding of rule id with the rule's severity.
func newFinding(id, namespace, object, message string) Finding {
	return Finding{Rule: id, Severity: severityOf(id), Namespace: namespace, Object: object, Message: message}
}

// Sort orders findings by severity (highest first), then namespace, object,
// rule and message, so that every rendering is stable.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.Severity != b.Severity:
			return a.Severity > b.Severity
		case a.Namespace != b.Namespace:
			return a.Namespace < b.Namespace
		case a.Object != b.Object:
			return a.Object < b.Object
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Summary counts findings per severity.
type Summary struct {
	Total  int `json:"total"`
	High   int `json:"high"`
	Medium int `json:"medium"`
	Low    int `json:"low"`
	Info   int `json:"info"`
}

// Summarize counts fs.
func Summarize(fs []Finding) Summary {
	s := Summary{Total: len(fs)}
	for _, f := range fs {
		switch f.Severity {
		case High:
			s.High++
		case Medium:
			s.Medium++
		case Low:
			s.Low++
		default:
			s.Info++
		}
	}
	return s
}

// AtOrAbove reports whether any finding has at least severity min: the
// audit command exits 1 when it does.
func AtOrAbove(fs []Finding, min Severity) bool {
	for _, f := range fs {
		if f.Severity >= min {
			return true
		}
	}
	return false
}
