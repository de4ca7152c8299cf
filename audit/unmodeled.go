package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
)

// unmodeledKind is a policy API netverify's engine does not evaluate.
// (ClusterNetworkPolicy, policy.networking.k8s.io/v1alpha2, is modelled:
// see loadClusterPolicies.)
type unmodeledKind struct {
	group, resource, kind string
	// shadowedBy names a group that, when it serves the same resource, serves
	// the same objects (Calico's API server in front of its CRDs).
	shadowedBy string
}

var unmodeledKinds = []unmodeledKind{
	{group: "policy.networking.k8s.io", resource: "adminnetworkpolicies", kind: "AdminNetworkPolicy"},
	{group: "policy.networking.k8s.io", resource: "baselineadminnetworkpolicies", kind: "BaselineAdminNetworkPolicy"},
	{group: "cilium.io", resource: "ciliumnetworkpolicies", kind: "CiliumNetworkPolicy"},
	{group: "cilium.io", resource: "ciliumclusterwidenetworkpolicies", kind: "CiliumClusterwideNetworkPolicy"},
	{group: "projectcalico.org", resource: "networkpolicies", kind: "NetworkPolicy"},
	{group: "projectcalico.org", resource: "globalnetworkpolicies", kind: "GlobalNetworkPolicy"},
	{group: "crd.projectcalico.org", resource: "networkpolicies", kind: "NetworkPolicy", shadowedBy: "projectcalico.org"},
	{group: "crd.projectcalico.org", resource: "globalnetworkpolicies", kind: "GlobalNetworkPolicy", shadowedBy: "projectcalico.org"},
}

// servedResource is an unmodeled kind the server serves.
type servedResource struct {
	unmodeledKind
	gvr        schema.GroupVersionResource
	namespaced bool
}

// checkUnmodeled finds the unmodeled policy kinds the server serves (by
// discovery) and reports every object of them, one finding each. A kind that
// is served but cannot be discovered or listed (RBAC, an aggregated API
// server down) gives an audit-incomplete finding. command is what the user
// types to run netverify, for the findings' advice.
func checkUnmodeled(ctx context.Context, disc discovery.DiscoveryInterfaceWithContext, dyn dynamic.Interface, skip map[string]bool, command string) ([]Finding, error) {
	groups, err := disc.ServerGroupsWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("discovering API groups: %w", err)
	}
	versions := map[string][]string{} // group -> versions, preferred first
	for _, g := range groups.Groups {
		vs := []string{g.PreferredVersion.GroupVersion}
		for _, v := range g.Versions {
			if v.GroupVersion != g.PreferredVersion.GroupVersion {
				vs = append(vs, v.GroupVersion)
			}
		}
		versions[g.Name] = vs
	}

	var fs []Finding
	served := map[string]bool{} // group/resource
	resources := map[string]*metav1.APIResourceList{}
	lookup := func(gv string) (*metav1.APIResourceList, error) {
		if l, ok := resources[gv]; ok {
			return l, nil
		}
		l, err := disc.ServerResourcesForGroupVersionWithContext(ctx, gv)
		if err != nil {
			return nil, err
		}
		resources[gv] = l
		return l, nil
	}
	var found []servedResource
	for _, k := range unmodeledKinds {
		for _, gvText := range versions[k.group] {
			l, err := lookup(gvText)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				fs = append(fs, newFinding(RuleAuditIncomplete, "", k.resource+"."+k.group,
					fmt.Sprintf("could not discover %s (%s): %s; check for %s objects by hand", gvText, k.kind, oneLine(err.Error()), k.kind)))
				break
			}
			gv, err := schema.ParseGroupVersion(gvText)
			if err != nil {
				continue
			}
			if r := findResource(l, k.resource); r != nil {
				found = append(found, servedResource{unmodeledKind: k, gvr: gv.WithResource(k.resource), namespaced: r.Namespaced})
				served[k.group+"/"+k.resource] = true
				break
			}
		}
	}
	for _, r := range found {
		if r.shadowedBy != "" && served[r.shadowedBy+"/"+r.resource] {
			continue
		}
		more, err := listUnmodeled(ctx, dyn, r, skip, command)
		if err != nil {
			return nil, err
		}
		fs = append(fs, more...)
	}
	return fs, nil
}

func findResource(l *metav1.APIResourceList, name string) *metav1.APIResource {
	for i := range l.APIResources {
		if l.APIResources[i].Name == name {
			return &l.APIResources[i]
		}
	}
	return nil
}

// listUnmodeled reports every object of r outside the namespaces in skip;
// its findings advise `command run`.
func listUnmodeled(ctx context.Context, dyn dynamic.Interface, r servedResource, skip map[string]bool, command string) ([]Finding, error) {
	qualified := strings.ToLower(r.kind) + "." + r.group
	list, err := dyn.Resource(r.gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return []Finding{newFinding(RuleAuditIncomplete, "", r.resource+"."+r.group, fmt.Sprintf(
			"%s objects exist as a kind but could not be listed: %s; netverify's engine does not model them, check them by hand",
			r.kind, oneLine(err.Error())))}, nil
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].GetNamespace() != items[j].GetNamespace() {
			return items[i].GetNamespace() < items[j].GetNamespace()
		}
		return items[i].GetName() < items[j].GetName()
	})
	var fs []Finding
	for _, it := range items {
		ns := it.GetNamespace()
		if ns != "" && skip[ns] {
			continue
		}
		scope := "cluster-wide"
		if r.namespaced {
			scope = "in this namespace"
		}
		fs = append(fs, newFinding(RuleUnmodeledPolicyKind, ns, qualified+"/"+it.GetName(), fmt.Sprintf(
			"%s (%s) applies %s, but netverify's policy engine models only networking.k8s.io/v1 NetworkPolicies and policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicies: expectations computed from policies may be wrong here; prove them with `%s run`",
			r.kind, r.gvr.GroupVersion(), scope, command)))
	}
	return fs, nil
}
