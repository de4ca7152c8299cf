package run

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func rangesFixture(podIP string) []runtime.Object {
	return []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24"}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.1.0/24"}}},
		&networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"}, Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.96.0.0/16"}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "x"}, Status: corev1.PodStatus{PodIP: podIP, PodIPs: []corev1.PodIP{{IP: podIP}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "x"}, Spec: corev1.PodSpec{HostNetwork: true},
			Status: corev1.PodStatus{PodIP: "192.168.1.5", PodIPs: []corev1.PodIP{{IP: "192.168.1.5"}}}},
	}
}

// The nodes' podCIDRs are the pod ranges only when the pods' IPs lie in
// them; the ServiceCIDRs are the Service ranges.
func TestClusterRanges(t *testing.T) {
	r, notes := clusterRanges(context.Background(), fake.NewSimpleClientset(rangesFixture("10.244.1.7")...))
	if got := fmt.Sprint(r.Pods, r.Services); got != "[10.244.0.0/24 10.244.1.0/24] [10.96.0.0/16]" || len(notes) != 0 {
		t.Errorf("ranges %s, notes %q; want both nodes' podCIDRs and the ServiceCIDR, no note", got, notes)
	}
	r, notes = clusterRanges(context.Background(), fake.NewSimpleClientset(rangesFixture("10.0.3.7")...))
	if len(r.Pods) != 0 || len(r.Services) != 1 || len(notes) != 1 || !strings.Contains(notes[0], "pod x/a has IP 10.0.3.7, outside the nodes' podCIDRs") {
		t.Errorf("pods %v services %v notes %q; want pod ranges unknown because x/a lies outside them", r.Pods, r.Services, notes)
	}
	r, notes = clusterRanges(context.Background(), fake.NewSimpleClientset())
	if len(r.Pods)+len(r.Services) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "no node has spec.podCIDRs") {
		t.Errorf("empty cluster: %+v, notes %q", r, notes)
	}
}
