package inplace

// Zero-config: the scenario `netverify run -n NAMESPACE` checks, computed
// from the live policies.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/scenarios"
)

// LookupName is the name every zero-config source looks up: a lookup
// through the pod's resolver reaches the cluster DNS.
const LookupName = "kubernetes.default.svc.cluster.local"

// Outsider is the logical name of the namespace a zero-config run creates
// for its source from elsewhere: a pod with no labels in a namespace with
// none but its name.
const Outsider = "elsewhere"

// ZeroConfig are the choices of a zero-config scenario.
type ZeroConfig struct {
	// Name of the scenario.
	Name string
	// MetadataIPs are the cloud metadata addresses every source is
	// checked against (TCP 80).
	MetadataIPs []string
	// Engine are the engine's options (the cluster's ranges).
	Engine []policy.Option
}

// Scenario returns the in-place scenario of every connection the table of
// the checked namespaces has (Table): one probe pod per workload carrying
// its pod template's labels, one with no labels per namespace and one in a
// namespace of its own; every TCP port of every Service (by ClusterIP) and
// every declared TCP container port of every workload (by pod IP); a name
// lookup and the metadata addresses from each. Each expectation is what the
// live policies decide, with the rule that decides it (DecidedBy); where
// the API leaves it to the CNI, it is implementation-defined. Notes say
// what was left out and why (UDP ports: a live server need not answer the
// probe, so silence proves nothing; a Service with no running backend).
func (l *Live) Scenario(zc ZeroConfig) (*scenarios.Scenario, []string, error) {
	rows, err := Table(l, Outsider, zc.Engine...)
	if err != nil {
		return nil, nil, err
	}
	eng, err := l.Engine(Outsider, zc.Engine...)
	if err != nil {
		return nil, nil, err
	}
	sc := &scenarios.Scenario{APIVersion: scenarios.APIVersion, Kind: scenarios.Kind, Source: "live policies",
		Metadata: scenarios.Metadata{Name: zc.Name, Description: "the live policies of the checked namespaces, on their own workloads, computed by the semantics engine"},
		// netverify's own checks: an outside target this cluster does not
		// have is skipped, not inconclusive
		Builtin: true}
	var notes []string
	names := map[string]string{} // Source.String() → pod name
	seenNS := map[string]bool{}
	add := func(src Source) {
		if _, ok := names[src.String()]; ok {
			return
		}
		if !seenNS[src.Namespace] {
			seenNS[src.Namespace] = true
			sc.Spec.Namespaces = append(sc.Spec.Namespaces, scenarios.Namespace{Name: src.Namespace, Existing: !src.Outsider})
		}
		p := scenarios.Pod{Name: "no-labels", Namespace: src.Namespace}
		if src.Workload != nil {
			p.Name, p.Impersonate = podName(src.Workload.Ref), src.Workload.Ref.String()
		}
		names[src.String()] = p.Name
		sc.Spec.Pods = append(sc.Spec.Pods, p)
	}
	skipped := map[string]string{}
	for _, r := range rows {
		add(r.From)
		from := r.From.Namespace + "/" + names[r.From.String()]
		if r.To.Protocol != corev1.ProtocolTCP {
			skipped[r.To.String()] = fmt.Sprintf("%s: not probed: a live server need not answer netverify's %s probe, so silence would prove nothing", r.To, r.To.Protocol)
			continue
		}
		if len(r.Backends) == 0 {
			skipped[r.To.String()] = fmt.Sprintf("%s: not probed: no running pod serves it", r.To)
			continue
		}
		e := scenarios.Expectation{From: from, Port: fmt.Sprint(r.To.Port), Protocol: scenarios.TCP}
		if r.To.Service != nil {
			e.To = "svc:" + r.To.Namespace + "/" + r.To.Service.Name
		} else {
			e.To = "workload:" + r.To.Namespace + "/" + r.To.Workload.Ref.String()
			e.Port = fmt.Sprint(r.Backends[0].Port)
		}
		decide(&e, r.Backends)
		sc.Spec.Expect = append(sc.Spec.Expect, e)
	}
	for _, n := range sortedValues(skipped) {
		notes = append(notes, n)
	}
	if err := l.addWitnesses(sc, rows, zc.Engine); err != nil {
		return nil, nil, err
	}
	// a lookup and the metadata addresses, from every source
	for _, src := range l.sources(rows) {
		from := src.Namespace + "/" + names[src.String()]
		pod := &policy.Pod{Namespace: src.Namespace, Name: names[src.String()], Labels: src.Labels()}
		if len(l.DNS) > 0 {
			var bs []Backend
			for _, d := range l.DNS {
				dec, err := eng.Decide(policy.Peer{Pod: pod}, policy.Peer{Pod: &d}, 53, corev1.ProtocolUDP)
				if err != nil {
					return nil, nil, fmt.Errorf("%s → DNS: %w", src, err)
				}
				bs = append(bs, Backend{Pod: d, Port: 53, Decision: dec})
			}
			e := scenarios.Expectation{From: from, To: "dns:" + LookupName, Protocol: scenarios.TCP}
			decide(&e, bs)
			sc.Spec.Expect = append(sc.Spec.Expect, e)
		}
		for _, ip := range zc.MetadataIPs {
			dec, err := eng.Decide(policy.Peer{Pod: pod}, policy.Peer{IP: ip}, 80, corev1.ProtocolTCP)
			if err != nil {
				return nil, nil, fmt.Errorf("%s → %s: %w", src, ip, err)
			}
			e := scenarios.Expectation{From: from, To: "ip:" + ip, Port: "80", Protocol: scenarios.TCP}
			decide(&e, []Backend{{Decision: dec}})
			sc.Spec.Expect = append(sc.Spec.Expect, e)
		}
	}
	if len(sc.Spec.Expect) == 0 {
		return nil, notes, fmt.Errorf("nothing to check in %s: no workload, Service or declared port", strings.Join(l.Checked, ", "))
	}
	return sc, notes, nil
}

// decide sets what e expects from the decisions for its backends: allowed
// or blocked when they agree, implementation-defined (both outcomes pass)
// when the API leaves it to the CNI or the backends are decided apart.
func decide(e *scenarios.Expectation, bs []Backend) {
	var reasons []string
	verdict := bs[0].Decision.Verdict
	for _, b := range bs {
		r := b.Decision.Reason
		if len(bs) > 1 && b.Pod.Name != "" {
			r = b.Pod.Name + ": " + r
		}
		if len(reasons) == 0 || reasons[len(reasons)-1] != r {
			reasons = append(reasons, r)
		}
		if b.Decision.Verdict != verdict {
			verdict = ""
		}
	}
	if len(bs) > 1 && verdict != "" {
		reasons = []string{bs[0].Decision.Reason} // one reason for all
	}
	e.DecidedBy = strings.Join(reasons, "; ")
	switch verdict {
	case policy.Allowed:
		e.Allowed = ptrBool(true)
	case policy.Blocked:
		e.Allowed = ptrBool(false)
	case policy.ImplementationDefined:
		e.ImplementationDefined = bs[0].Decision.Reason
	default:
		e.ImplementationDefined = "its backends are decided differently: " + e.DecidedBy
	}
	e.ImplementationDefinedWhy = e.ImplementationDefined // (as the loader reads it)
}

// sources are the table's sources, in its order.
func (l *Live) sources(rows []Row) []Source {
	var out []Source
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.From.String()] {
			seen[r.From.String()] = true
			out = append(out, r.From)
		}
	}
	return out
}

// podName names a workload's impersonating probe pod: "as-deploy-frontend"
// (a hash keeps long names unique within 40 characters).
func podName(r scenarios.WorkloadRef) string {
	short := map[string]string{scenarios.KindDeployment: "deploy", scenarios.KindStatefulSet: "sts", scenarios.KindDaemonSet: "ds", scenarios.KindReplicaSet: "rs"}[r.Kind]
	name := "as-" + short + "-" + r.Name
	if len(name) > 40 {
		sum := sha256.Sum256([]byte(r.String()))
		name = strings.TrimRight(name[:31], "-.") + "-" + hex.EncodeToString(sum[:])[:8]
	}
	return name
}

func sortedValues(m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func ptrBool(b bool) *bool { return &b }
