package run

// In-place scenarios: what they name on the cluster is read, and the
// run's permissions in their namespaces checked, before anything is
// created.

import (
	"context"
	"fmt"
	"slices"

	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/internal/cli/kube"
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
		p("create", "", "configmaps", ""), p("delete", "", "configmaps", ""), p("list", "", "configmaps", ""),
		p("get", "apps", "deployments", ""), p("get", "apps", "statefulsets", ""),
		p("get", "apps", "daemonsets", ""), p("get", "apps", "replicasets", ""),
		p("get", "", "services", ""), p("list", "", "services", ""),
		p("list", "policy", "poddisruptionbudgets", ""),
	}
}
