package run

// In-place scenarios: what they name on the cluster is read, and the
// run's permissions in their namespaces checked, before anything is
// created.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/internal/cli/kube"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/scenarios"
)

// readLive reads the live objects the in-place scenarios name
// (inplace.Resolve) and checks that the run may create, exec into and
// delete its probe pods and owner ConfigMaps in their namespaces. Any
// problem is an input error: nothing has been created. Nil without
// in-place scenarios.
func (o *options) readLive(ctx context.Context, clients *kube.Clients) (*inplace.Facts, error) {
	var namespaces []string
	for _, sc := range o.scs {
		for _, ns := range sc.Spec.Namespaces {
			if ns.Existing && !slices.Contains(namespaces, ns.Name) {
				namespaces = append(namespaces, ns.Name)
			}
		}
	}
	if len(namespaces) == 0 {
		return nil, nil
	}
	var perms []kube.Permission
	for _, ns := range namespaces {
		perms = append(perms, LivePermissions(ns)...)
	}
	if err := kube.CheckAccess(ctx, clients.Clientset, perms); err != nil {
		return nil, err
	}
	facts, err := inplace.Resolve(ctx, clients.Clientset, o.scs)
	if err != nil {
		return nil, err
	}
	for _, w := range facts.Warnings {
		fmt.Fprintf(o.streams.ErrOut, "warning: %s\n", w)
	}
	return facts, nil
}

// LivePermissions are what a run needs in an existing namespace it checks
// in place: read its workloads, Services and policies; create, exec into
// and delete its probe pods; create and delete their owner ConfigMap.
func LivePermissions(ns string) []kube.Permission {
	p := func(verb, group, resource, sub string) kube.Permission {
		return kube.Permission{Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: ns}
	}
	return []kube.Permission{
		p("create", "", "pods", ""), p("delete", "", "pods", ""), p("list", "", "pods", ""),
		p("create", "", "pods", "exec"),
		// patch: the owner's heartbeat, without which `netverify cleanup`
		// would take a live run's probe pods for a killed run's
		p("create", "", "configmaps", ""), p("delete", "", "configmaps", ""), p("list", "", "configmaps", ""), p("patch", "", "configmaps", ""),
		p("get", "apps", "deployments", ""), p("get", "apps", "statefulsets", ""),
		p("get", "apps", "daemonsets", ""), p("get", "apps", "replicasets", ""),
		p("get", "", "services", ""), p("list", "", "services", ""),
		p("list", "policy", "poddisruptionbudgets", ""),
	}
}

// ZeroConfigPermissions are what `run -n NS` needs in NS to compute its
// rows, besides LivePermissions: list what the table is made of.
func ZeroConfigPermissions(ns string) []kube.Permission {
	var out []kube.Permission
	for _, gr := range [][2]string{{"", "pods"}, {"", "services"}, {"networking.k8s.io", "networkpolicies"},
		{"apps", "deployments"}, {"apps", "statefulsets"}, {"apps", "daemonsets"}, {"apps", "replicasets"}} {
		out = append(out, kube.Permission{Verb: "list", Group: gr[0], Resource: gr[1], Namespace: ns})
	}
	return out
}

// zeroConfig reports whether the run checks namespaces in place without a
// scenario (-n, --all-namespaces).
func (o *options) zeroConfig() bool { return len(o.namespaces) > 0 || o.allNamespaces }

// prepareInPlace adds the zero-config scenario (-n, --all-namespaces),
// then reads what every in-place scenario names and checks the run's
// permissions in those namespaces.
func (o *options) prepareInPlace(ctx context.Context, t *target) error {
	if o.zeroConfig() {
		sc, err := o.zeroConfigScenario(ctx, t)
		if err != nil {
			return err
		}
		o.scs = append(o.scs, sc)
	}
	var err error
	t.live, err = o.readLive(ctx, t.clients)
	return err
}

// zeroConfigScenario computes the scenario of the checked namespaces from
// their live policies (inplace.Live.Scenario).
func (o *options) zeroConfigScenario(ctx context.Context, t *target) (*scenarios.Scenario, error) {
	c := t.clients.Clientset
	namespaces := o.namespaces
	if o.allNamespaces {
		list, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("--all-namespaces: listing namespaces: %w", err)
		}
		for _, ns := range list.Items {
			if _, run := ns.Labels[orchestrator.LabelRunID]; run || slices.Contains(o.excludeNamespaces, ns.Name) || ns.DeletionTimestamp != nil {
				continue
			}
			namespaces = append(namespaces, ns.Name)
		}
	}
	var perms []kube.Permission
	for _, ns := range namespaces {
		perms = append(perms, ZeroConfigPermissions(ns)...)
	}
	if err := kube.CheckAccess(ctx, c, perms); err != nil {
		return nil, err
	}
	live, err := inplace.Discover(ctx, c, namespaces)
	if err != nil {
		return nil, err
	}
	live.ClusterPolicies = t.clusterPolicies
	name := "live-" + strings.Join(namespaces, "-")
	if len(namespaces) != 1 || len(name) > scenarios.MaxNameLength {
		name = fmt.Sprintf("live-%d-namespaces", len(namespaces))
	}
	var engine []policy.Option
	if t.ranges != nil {
		engine = append(engine, t.ranges)
	}
	o.findings = live.Findings()
	sc, notes, err := live.Scenario(inplace.ZeroConfig{Name: name, MetadataIPs: o.metadataIPs, Engine: engine})
	for _, n := range notes {
		fmt.Fprintf(o.streams.ErrOut, "note: %s\n", n)
	}
	if err != nil {
		return nil, err
	}
	return sc, nil
}
