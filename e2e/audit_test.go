//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// `netverify audit` against seeded namespaces: one with every
// misconfiguration the audit knows (and a development namespace with a
// LoadBalancer), one configured by the book that must give no finding.

const (
	auditBadNS  = "e2e-audit-bad"
	auditDevNS  = "e2e-audit-bad-dev" // matches the default dev pattern
	auditGoodNS = "e2e-audit-good"
	agnhost     = "registry.k8s.io/e2e-test-images/agnhost:2.53"
)

// auditPod is an agnhost pause pod (it binds no port, even on the host
// network); extra is appended to its spec.
func auditPod(name, ns, labels, extra, ports string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {e2e: audit%s}}
spec:
  terminationGracePeriodSeconds: 1
  automountServiceAccountToken: false
%s  containers:
  - name: pause
    image: %s
    imagePullPolicy: IfNotPresent
    args: [pause]
%s`, name, ns, labels, extra, agnhost, ports)
}

func auditBadManifest() string {
	ns := auditBadNS
	return strings.Join([]string{
		// pod-host-network, pod-custom-dns (dnsPolicy Default), pod-missing-app-label
		auditPod("hostnet", ns, "", "  hostNetwork: true\n  dnsPolicy: Default\n", ""),
		// pod-host-port (31999), pod-host-port-outside-nodeport-range (18081),
		// namespace-metadata-reachable (no egress policy selects it)
		auditPod("hostports", ns, ", app: hostports", "", `    ports:
    - {containerPort: 8080, hostPort: 31999}
    - {containerPort: 8081, hostPort: 18081}
`),
		// pod-custom-dns (dnsConfig); egress restricted below without DNS
		auditPod("web", ns, ", app: web", "  dnsConfig: {options: [{name: ndots, value: \"2\"}]}\n", ""),
		`apiVersion: v1
kind: Service
metadata: {name: nodeport, namespace: ` + ns + `}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]`,
		`apiVersion: v1
kind: Service
metadata: {name: extip, namespace: ` + ns + `}
spec:
  selector: {app: web}
  externalIPs: [203.0.113.50]
  ports: [{port: 80, targetPort: 8080}]`,
		// networkpolicy-selects-no-pods
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: ` + ns + `}
spec:
  podSelector: {matchLabels: {app: wbe}}
  policyTypes: [Ingress]`,
		// networkpolicy-namespace-selector-matches-nothing
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-nowhere, namespace: ` + ns + `}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {e2e-audit: no-such-namespace}}}]`,
		// networkpolicy-partial-egress-deny; with allow-metadata it restricts
		// web's egress without allowing DNS: namespace-egress-blocks-dns
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-no-egress, namespace: ` + ns + `}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]`,
		// networkpolicy-allows-metadata
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-metadata, namespace: ` + ns + `}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]`,
		// no podSelector {} policy: namespace-no-default-deny-ingress and -egress
	}, "\n---\n") + "\n"
}

func auditDevManifest() string {
	// service-loadbalancer-in-dev-namespace; no policy: namespace-no-networkpolicy
	return `apiVersion: v1
kind: Service
metadata: {name: lb, namespace: ` + auditDevNS + `}
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  selector: {app: nothing}
  ports: [{port: 80, targetPort: 8080}]
`
}

func auditGoodManifest() string {
	ns := auditGoodNS
	return strings.Join([]string{
		auditPod("web", ns, ", app: web", "", "    ports: [{name: http, containerPort: 8080}]\n"),
		`apiVersion: v1
kind: Service
metadata: {name: web, namespace: ` + ns + `}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]`,
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: ` + ns + `}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]`,
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: ` + ns + `}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]`,
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-internet, namespace: ` + ns + `}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32, 100.100.100.200/32]}}]`,
		`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: ` + ns + `}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: 8080, protocol: TCP}]`,
	}, "\n---\n") + "\n"
}

// ciliumPolicy is a CiliumNetworkPolicy that selects nothing: harmless, but
// a kind the engine does not model.
const ciliumPolicy = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: unmodeled, namespace: ` + auditBadNS + `}
spec:
  endpointSelector: {matchLabels: {app: e2e-audit-nothing}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: e2e-audit-nothing}}]
`

type auditFinding struct {
	Rule, Severity, Namespace, Object, Message string
}

func TestAuditFindsSeededMisconfigurations(t *testing.T) {
	notOnSecondNonEnforcing(t)
	t.Parallel()
	namespaces := []string{auditBadNS, auditDevNS, auditGoodNS}
	for _, ns := range namespaces {
		kubectlErr("delete", "namespace", ns, "--wait=true", "--timeout=90s", "--ignore-not-found")
	}
	t.Cleanup(func() {
		args := append([]string{"delete", "namespace", "--wait=true", "--timeout=90s", "--ignore-not-found"}, namespaces...)
		if out, err := kubectlErr(args...); err != nil {
			t.Logf("cleanup: kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	for _, ns := range namespaces {
		kubectl(t, "create", "namespace", ns)
	}
	// Pods are admitted only once the namespace's default ServiceAccount exists.
	eventually(t, 60*time.Second, func() string {
		for _, ns := range namespaces {
			if _, err := kubectlErr("-n", ns, "get", "serviceaccount", "default"); err != nil {
				return "no default ServiceAccount in " + ns + " yet"
			}
		}
		return ""
	})
	apply(t, auditBadManifest())
	apply(t, auditDevManifest())
	apply(t, auditGoodManifest())

	want := map[string][]string{ // namespace -> "rule object" that must be reported
		auditBadNS: {
			"namespace-no-default-deny-ingress namespace/" + auditBadNS,
			"namespace-no-default-deny-egress namespace/" + auditBadNS,
			"namespace-egress-blocks-dns namespace/" + auditBadNS,
			"namespace-metadata-reachable namespace/" + auditBadNS,
			"networkpolicy-allows-metadata networkpolicy/allow-metadata",
			"networkpolicy-selects-no-pods networkpolicy/typo",
			"networkpolicy-namespace-selector-matches-nothing networkpolicy/from-nowhere",
			"networkpolicy-partial-egress-deny networkpolicy/web-no-egress",
			"pod-host-network pod/hostnet",
			"pod-host-port pod/hostports",
			"pod-host-port-outside-nodeport-range pod/hostports",
			"pod-custom-dns pod/hostnet",
			"pod-custom-dns pod/web",
			"pod-missing-app-label pod/hostnet",
			"service-nodeport service/nodeport",
			"service-external-ips service/extip",
		},
		auditDevNS: {
			"service-loadbalancer-in-dev-namespace service/lb",
			"namespace-no-networkpolicy namespace/" + auditDevNS,
		},
	}
	if out, _ := kubectlErr("api-resources", "--api-group=cilium.io", "-o", "name"); strings.Contains(out, "ciliumnetworkpolicies.cilium.io") {
		apply(t, ciliumPolicy)
		want[auditBadNS] = append(want[auditBadNS], "unmodeled-policy-kind ciliumnetworkpolicy.cilium.io/unmodeled")
	} else {
		t.Log("no cilium.io API: not seeding a CiliumNetworkPolicy")
	}

	res := runNetverify(t, "", "audit", "-o", "json", "--fail-on", "high")
	var doc struct {
		Summary  map[string]int `json:"summary"`
		Findings []auditFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("netverify audit -o json: not JSON (exit %d): %v\nstdout:\n%s\nstderr:\n%s", res.code, err, res.stdout, res.stderr)
	}
	// The bad namespace has high findings (hostNetwork, externalIPs, an
	// ipBlock reaching the metadata service): exit 1, not 0 or 2.
	if res.code != 1 {
		t.Errorf("exit %d, want 1 (findings at or above high)\nstderr:\n%s", res.code, res.stderr)
	}

	got := map[string]map[string]bool{}
	var report []string
	for _, f := range doc.Findings {
		if f.Namespace != auditBadNS && f.Namespace != auditDevNS && f.Namespace != auditGoodNS {
			continue
		}
		if got[f.Namespace] == nil {
			got[f.Namespace] = map[string]bool{}
		}
		got[f.Namespace][f.Rule+" "+f.Object] = true
		report = append(report, fmt.Sprintf("  %s %s %s %s: %s", f.Severity, f.Rule, f.Namespace, f.Object, f.Message))
	}
	sort.Strings(report)
	failed := false
	for ns, keys := range want {
		for _, k := range keys {
			if !got[ns][k] {
				t.Errorf("%s: no finding %q", ns, k)
				failed = true
			}
		}
	}
	if len(got[auditGoodNS]) > 0 {
		t.Errorf("%s is configured by the book but has findings", auditGoodNS)
		failed = true
	}
	if failed {
		t.Logf("findings in the e2e namespaces:\n%s\nsummary: %v\nstderr:\n%s", strings.Join(report, "\n"), doc.Summary, res.stderr)
		for _, ns := range namespaces {
			dumpNamespace(t, ns)
		}
	}
}
