package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/netverify/netverify/policy"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	cnpclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned/typed/apis/v1alpha2"
)

// The ClusterNetworkPolicy API the audit reads.
const (
	cnpGroup    = "policy.networking.k8s.io"
	cnpVersion  = "v1alpha2"
	cnpResource = "clusternetworkpolicies"
	// cnpObject names the resource in findings about it as a whole.
	cnpObject = cnpResource + "." + cnpGroup
	// cnpKind prefixes one policy's name in findings, as kubectl prints it.
	cnpKind = "clusternetworkpolicy." + cnpGroup
)

// cnpMissedWhat says what a finding computed without some
// ClusterNetworkPolicies may get wrong.
const cnpMissedWhat = "the default-deny, DNS and metadata findings are computed without them " +
	"(an Admin or Baseline Deny may satisfy some, an Admin Accept may open what they call closed)"

// loadClusterPolicies lists the cluster's ClusterNetworkPolicies and returns
// those the policy engine accepts, with a finding (audit-incomplete) for
// each it rejects and for a list the server refuses (RBAC) or fails. A
// server that does not serve the resource (NotFound) has none; when
// discovery shows it serves the resource only at other versions than
// v1alpha2, a finding says so. It fails only when ctx ends.
func loadClusterPolicies(ctx context.Context, get cnpclient.ClusterNetworkPoliciesGetter, disc discovery.DiscoveryInterfaceWithContext) ([]cnpv1.ClusterNetworkPolicy, []Finding, error) {
	list, err := get.ClusterNetworkPolicies().List(ctx, metav1.ListOptions{})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case apierrors.IsNotFound(err):
		if others := otherCNPVersions(ctx, disc); len(others) > 0 {
			return nil, []Finding{newFinding(RuleAuditIncomplete, "", cnpObject, fmt.Sprintf(
				"ClusterNetworkPolicies are served as %s, not %s/%s, the version netverify reads: %s; check them by hand",
				strings.Join(others, ", "), cnpGroup, cnpVersion, cnpMissedWhat))}, nil
		}
		return nil, nil, nil
	case apierrors.IsForbidden(err):
		return nil, []Finding{newFinding(RuleAuditIncomplete, "", cnpObject, fmt.Sprintf(
			"listing ClusterNetworkPolicies (%s/%s) is forbidden: %s; grant list on %s or check them by hand",
			cnpGroup, cnpVersion, cnpMissedWhat, cnpObject))}, nil
	default:
		return nil, []Finding{newFinding(RuleAuditIncomplete, "", cnpObject, fmt.Sprintf(
			"ClusterNetworkPolicies (%s/%s) could not be listed: %s; %s; check them by hand",
			cnpGroup, cnpVersion, oneLine(err.Error()), cnpMissedWhat))}, nil
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	var ok []cnpv1.ClusterNetworkPolicy
	var fs []Finding
	for i := range items {
		problems := policy.CheckClusterNetworkPolicy(&items[i])
		if len(problems) == 0 {
			ok = append(ok, items[i])
			continue
		}
		var texts []string
		for _, p := range problems {
			texts = append(texts, strings.TrimPrefix(p.Field+": ", ": ")+p.Message)
		}
		fs = append(fs, newFinding(RuleAuditIncomplete, "", cnpKind+"/"+items[i].Name, fmt.Sprintf(
			"the policy engine rejects this ClusterNetworkPolicy (%s), so the findings are computed without it; check what it does by hand",
			oneLine(strings.Join(texts, "; ")))))
	}
	return ok, fs, nil
}

// otherCNPVersions returns the group versions other than v1alpha2 in which
// the server serves ClusterNetworkPolicies, as discovery says; nothing when
// discovery fails (the list already said the resource is not found).
func otherCNPVersions(ctx context.Context, disc discovery.DiscoveryInterfaceWithContext) []string {
	if disc == nil {
		return nil
	}
	groups, err := disc.ServerGroupsWithContext(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, g := range groups.Groups {
		if g.Name != cnpGroup {
			continue
		}
		for _, v := range g.Versions {
			if v.Version == cnpVersion {
				continue
			}
			l, err := disc.ServerResourcesForGroupVersionWithContext(ctx, v.GroupVersion)
			if err == nil && findResource(l, cnpResource) != nil {
				out = append(out, v.GroupVersion)
			}
		}
	}
	return out
}
