package run

// The live cluster's pod and Service address ranges, which make the
// engine's answer exact for ipBlocks that provably miss them.

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/netverify/netverify/policy"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// podSample bounds the pods whose IPs are checked against the nodes'
// podCIDRs (one list request).
const podSample = 500

// clusterRanges reads the cluster's pod ranges — the nodes' spec.podCIDRs,
// kept only when every pod IP of a sample lies in them: a CNI with its own
// IP pools (Cilium's cluster-pool, Calico) does not allocate from them — and
// its Service ranges (the ServiceCIDR objects). What cannot be read or
// trusted stays unknown; why is returned for a note.
func clusterRanges(ctx context.Context, cs kubernetes.Interface) (policy.ClusterRanges, []string) {
	var notes []string
	var podCIDRs, svcCIDRs []string
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		notes = append(notes, "pod ranges unknown: "+readError("nodes", err))
	} else {
		for _, n := range nodes.Items {
			podCIDRs = append(podCIDRs, n.Spec.PodCIDRs...)
			if len(n.Spec.PodCIDRs) == 0 && n.Spec.PodCIDR != "" {
				podCIDRs = append(podCIDRs, n.Spec.PodCIDR)
			}
		}
		if len(podCIDRs) == 0 {
			notes = append(notes, "pod ranges unknown: no node has spec.podCIDRs")
		}
	}
	if sc, err := cs.NetworkingV1().ServiceCIDRs().List(ctx, metav1.ListOptions{}); err != nil {
		notes = append(notes, "Service ranges unknown: "+readError("servicecidrs.networking.k8s.io", err))
	} else {
		for _, c := range sc.Items {
			svcCIDRs = append(svcCIDRs, c.Spec.CIDRs...)
		}
	}
	r, err := policy.ParseClusterRanges(podCIDRs, svcCIDRs)
	if err != nil {
		return policy.ClusterRanges{}, append(notes, "cluster ranges unknown: "+err.Error())
	}
	if len(r.Pods) > 0 {
		if outside := podOutside(ctx, cs, r.Pods); outside != "" {
			notes = append(notes, "pod ranges unknown: "+outside)
			r.Pods = nil
		}
	}
	return r, notes
}

// podOutside names a pod of the sample whose IP lies outside ranges (or
// why the sample could not be read), "" when every one lies inside.
func podOutside(ctx context.Context, cs kubernetes.Interface, ranges []netip.Prefix) string {
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: podSample})
	if err != nil {
		return readError("pods", err)
	}
	seen := 0
	for _, p := range pods.Items {
		if p.Spec.HostNetwork {
			continue
		}
		for _, ip := range p.Status.PodIPs {
			a, err := netip.ParseAddr(ip.IP)
			if err != nil {
				continue
			}
			in := false
			for _, r := range ranges {
				in = in || r.Contains(a.Unmap())
			}
			if !in {
				return fmt.Sprintf("pod %s/%s has IP %s, outside the nodes' podCIDRs %v (the CNI allocates from its own pools)", p.Namespace, p.Name, ip.IP, ranges)
			}
			seen++
		}
	}
	if seen == 0 {
		return "no pod IP to check the nodes' podCIDRs against"
	}
	return ""
}

func readError(what string, err error) string {
	if apierrors.IsForbidden(err) {
		return "no permission to list " + what
	}
	return fmt.Sprintf("listing %s: %v", what, err)
}
