package scenarios

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// RewritePolicies returns deep copies of s's policies ready to create in a
// run: nsNames maps each logical namespace to the run's real namespace
// name. Each copy's metadata.namespace is set to the real name, and every
// namespaceSelector term on the kubernetes.io/metadata.name label (a
// matchLabels value, or a matchExpressions value) that is a logical
// namespace name is replaced by the real name; other values, such as
// "kube-system", are left alone. s is not modified.
func RewritePolicies(s *Scenario, nsNames map[string]string) []networkingv1.NetworkPolicy {
	out := make([]networkingv1.NetworkPolicy, len(s.Spec.Policies))
	for i := range s.Spec.Policies {
		pol := s.Spec.Policies[i].DeepCopy()
		if real, ok := nsNames[pol.Namespace]; ok {
			pol.Namespace = real
		}
		for j := range pol.Spec.Ingress {
			for k := range pol.Spec.Ingress[j].From {
				rewriteSelector(pol.Spec.Ingress[j].From[k].NamespaceSelector, nsNames)
			}
		}
		for j := range pol.Spec.Egress {
			for k := range pol.Spec.Egress[j].To {
				rewriteSelector(pol.Spec.Egress[j].To[k].NamespaceSelector, nsNames)
			}
		}
		out[i] = *pol
	}
	return out
}

// RewriteClusterPolicies is RewritePolicies for s's ClusterNetworkPolicies:
// deep copies whose namespace selectors (of the subject and of namespaces
// and pods peers) have their logical namespace names on the
// kubernetes.io/metadata.name label replaced by the run's real names. s is
// not modified.
func RewriteClusterPolicies(s *Scenario, nsNames map[string]string) []cnpv1.ClusterNetworkPolicy {
	out := make([]cnpv1.ClusterNetworkPolicy, len(s.Spec.ClusterNetworkPolicies))
	for i := range s.Spec.ClusterNetworkPolicies {
		pol := s.Spec.ClusterNetworkPolicies[i].DeepCopy()
		rewriteSelector(pol.Spec.Subject.Namespaces, nsNames)
		if pol.Spec.Subject.Pods != nil {
			rewriteSelector(&pol.Spec.Subject.Pods.NamespaceSelector, nsNames)
		}
		for j := range pol.Spec.Ingress {
			for k := range pol.Spec.Ingress[j].From {
				peer := &pol.Spec.Ingress[j].From[k]
				rewriteSelector(peer.Namespaces, nsNames)
				if peer.Pods != nil {
					rewriteSelector(&peer.Pods.NamespaceSelector, nsNames)
				}
			}
		}
		for j := range pol.Spec.Egress {
			for k := range pol.Spec.Egress[j].To {
				peer := &pol.Spec.Egress[j].To[k]
				rewriteSelector(peer.Namespaces, nsNames)
				if peer.Pods != nil {
					rewriteSelector(&peer.Pods.NamespaceSelector, nsNames)
				}
			}
		}
		out[i] = *pol
	}
	return out
}

// rewriteSelector replaces logical namespace names on the
// kubernetes.io/metadata.name label of sel, in place.
func rewriteSelector(sel *metav1.LabelSelector, nsNames map[string]string) {
	if sel == nil {
		return
	}
	if val, ok := sel.MatchLabels[corev1.LabelMetadataName]; ok {
		if real, ok := nsNames[val]; ok {
			sel.MatchLabels[corev1.LabelMetadataName] = real
		}
	}
	for i := range sel.MatchExpressions {
		expr := &sel.MatchExpressions[i]
		if expr.Key != corev1.LabelMetadataName {
			continue
		}
		for j, val := range expr.Values {
			if real, ok := nsNames[val]; ok {
				expr.Values[j] = real
			}
		}
	}
}
