package inplace

// Resolving what in-place scenarios name on the live cluster, before
// anything is created.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/netverify/netverify/scenarios"
)

// Facts are the live objects in-place scenarios name, read before the run
// creates anything. Keys are "namespace/kind/name" for workloads and
// "namespace/name" for Services.
type Facts struct {
	// Labels are the pod template labels of impersonated workloads.
	Labels map[string]map[string]string
	// Services are the live Services svc: targets name.
	Services map[string]*corev1.Service
	// Pods are the Ready pods (with an IP, not terminating; sorted by
	// name) of the workloads workload: targets name.
	Pods map[string][]corev1.Pod
	// Warnings are what may notice a probe pod without being disturbed by
	// it (a disruption budget counting it for a few seconds).
	Warnings []string
}

// WorkloadKey is the key of a workload in Facts.
func WorkloadKey(ns string, ref scenarios.WorkloadRef) string { return ns + "/" + ref.String() }

// Resolve reads what the in-place scenarios among scs name: the namespaces
// marked existing, the workloads their probe pods impersonate, the Services
// and workloads their expectations target (and the ports they name). Every
// problem is reported, each naming its scenario and field; a source that a
// Service publishing not-ready addresses selects is refused (it would get
// the Service's traffic). It only gets and lists.
func Resolve(ctx context.Context, c kubernetes.Interface, scs []*scenarios.Scenario) (*Facts, error) {
	f := &Facts{Labels: map[string]map[string]string{}, Services: map[string]*corev1.Service{}, Pods: map[string][]corev1.Pod{}}
	var errs []error
	seenNS := map[string]error{}
	for _, sc := range scs {
		if !sc.InPlace() {
			continue
		}
		where := func(path string) string {
			return fmt.Sprintf("%s: scenario %q: %s", sc.Source, sc.Metadata.Name, path)
		}
		for i, ns := range sc.Spec.Namespaces {
			if !ns.Existing {
				continue
			}
			err, ok := seenNS[ns.Name]
			if !ok {
				_, err = c.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
				seenNS[ns.Name] = err
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where(fmt.Sprintf("spec.namespaces[%d].name", i)), notFound(err, "namespace "+ns.Name)))
			}
		}
		for i, p := range sc.Spec.Pods {
			if !sc.Existing(p.Namespace) || seenNS[p.Namespace] != nil {
				continue
			}
			podLabels := p.Labels
			if p.Impersonate != "" {
				ref, _ := scenarios.ParseWorkloadRef(p.Impersonate) // validated
				l, err := TemplateLabels(ctx, c, p.Namespace, ref)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", where(fmt.Sprintf("spec.pods[%d].impersonate", i)), err))
					continue
				}
				f.Labels[WorkloadKey(p.Namespace, ref)] = l
				podLabels = l
			}
			hs, err := Hazards(ctx, c, p.Namespace, podLabels)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where(fmt.Sprintf("spec.pods[%d]", i)), err))
				continue
			}
			for _, h := range hs {
				if h.Refuse {
					errs = append(errs, fmt.Errorf("%s: refused: %s/%s", where(fmt.Sprintf("spec.pods[%d]", i)), p.Namespace, h))
				} else {
					f.Warnings = append(f.Warnings, fmt.Sprintf("scenario %q, pod %s/%s: %s/%s", sc.Metadata.Name, p.Namespace, p.Name, p.Namespace, h))
				}
			}
		}
		for i, e := range sc.Spec.Expect {
			t, err := scenarios.ParseTarget(e.To)
			if err != nil || !sc.Live(t) || seenNS[t.Namespace] != nil {
				continue
			}
			if err := f.target(ctx, c, t, e); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where(fmt.Sprintf("spec.expect[%d].to", i)), err))
			}
		}
	}
	return f, errors.Join(errs...)
}

// target reads a live target and checks its port.
func (f *Facts) target(ctx context.Context, c kubernetes.Interface, t scenarios.Target, e scenarios.Expectation) error {
	proto := corev1.Protocol(strings.ToUpper(string(e.Protocol)))
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	switch t.Kind {
	case scenarios.TargetService:
		key := t.Namespace + "/" + t.Name
		svc := f.Services[key]
		if svc == nil {
			got, err := c.CoreV1().Services(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
			if err != nil {
				return notFound(err, "service "+key)
			}
			svc = got
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return fmt.Errorf("service %s has no ClusterIP (headless or ExternalName): name one of its workloads instead (workload:%s/KIND/NAME)", key, t.Namespace)
		}
		if _, err := ServicePort(svc, e.Port, proto); err != nil {
			return err
		}
		f.Services[key] = svc
	case scenarios.TargetWorkload:
		ref, _ := scenarios.ParseWorkloadRef(t.Name) // parsed
		key := WorkloadKey(t.Namespace, ref)
		pods, ok := f.Pods[key]
		if !ok {
			tmpl, err := template(ctx, c, t.Namespace, ref)
			if err != nil {
				return notFound(err, ref.String()+" in namespace "+t.Namespace)
			}
			sel, err := selectorOf(ctx, c, t.Namespace, ref)
			if err != nil {
				return err
			}
			list, err := c.CoreV1().Pods(t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
			if err != nil {
				return fmt.Errorf("listing the pods of %s in %s: %w", ref, t.Namespace, err)
			}
			for _, p := range list.Items {
				if ready(&p) && p.Status.PodIP != "" && p.DeletionTimestamp == nil && owned(&p, tmpl) {
					pods = append(pods, p)
				}
			}
			slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
			if len(pods) == 0 {
				return fmt.Errorf("%s in namespace %s has no Ready pod to connect to", ref, t.Namespace)
			}
			f.Pods[key] = pods
		}
		if _, err := ContainerPort(&pods[0], e.Port, proto); err != nil {
			return fmt.Errorf("%s in namespace %s: %w", ref, t.Namespace, err)
		}
	}
	return nil
}

// ready: the pod runs and is Ready (it serves what its readiness probe
// checks).
func ready(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// owned: a pod of the workload carries its template's labels (a selector
// may also match pods of others).
func owned(p *corev1.Pod, tmpl *corev1.PodTemplateSpec) bool {
	return labels.SelectorFromSet(tmpl.Labels).Matches(labels.Set(p.Labels))
}

// selectorOf returns the pod selector of a workload.
func selectorOf(ctx context.Context, c kubernetes.Interface, ns string, ref scenarios.WorkloadRef) (labels.Selector, error) {
	apps, get := c.AppsV1(), metav1.GetOptions{}
	var sel *metav1.LabelSelector
	var err error
	switch ref.Kind {
	case scenarios.KindDeployment:
		d, e := apps.Deployments(ns).Get(ctx, ref.Name, get)
		if err = e; err == nil {
			sel = d.Spec.Selector
		}
	case scenarios.KindStatefulSet:
		s, e := apps.StatefulSets(ns).Get(ctx, ref.Name, get)
		if err = e; err == nil {
			sel = s.Spec.Selector
		}
	case scenarios.KindDaemonSet:
		d, e := apps.DaemonSets(ns).Get(ctx, ref.Name, get)
		if err = e; err == nil {
			sel = d.Spec.Selector
		}
	case scenarios.KindReplicaSet:
		r, e := apps.ReplicaSets(ns).Get(ctx, ref.Name, get)
		if err = e; err == nil {
			sel = r.Spec.Selector
		}
	}
	if err != nil {
		return nil, notFound(err, ref.String()+" in namespace "+ns)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return nil, fmt.Errorf("%s in namespace %s: no usable pod selector (%v)", ref, ns, err)
	}
	return s, nil
}

// ServicePort finds the port of svc an expectation names (a number or a
// name; "" when the Service has one port) over proto.
func ServicePort(svc *corev1.Service, port string, proto corev1.Protocol) (corev1.ServicePort, error) {
	var found []string
	for _, sp := range svc.Spec.Ports {
		p := sp.Protocol
		if p == "" {
			p = corev1.ProtocolTCP
		}
		found = append(found, fmt.Sprintf("%d/%s", sp.Port, p))
		if p == proto && (port == strconv.Itoa(int(sp.Port)) || (sp.Name != "" && port == sp.Name) || (port == "" && len(svc.Spec.Ports) == 1)) {
			return sp, nil
		}
	}
	return corev1.ServicePort{}, fmt.Errorf("service %s/%s has no port %q over %s (it serves %s)", svc.Namespace, svc.Name, port, proto, strings.Join(found, ", "))
}

// ContainerPort returns the number of the port an expectation names for a
// pod: a number as it is (a pod may serve ports it does not declare), a
// name from its containers' declared ports.
func ContainerPort(p *corev1.Pod, port string, proto corev1.Protocol) (int32, error) {
	if n, err := strconv.Atoi(port); err == nil {
		return int32(n), nil
	}
	for _, ct := range p.Spec.Containers {
		for _, cp := range ct.Ports {
			pp := cp.Protocol
			if pp == "" {
				pp = corev1.ProtocolTCP
			}
			if cp.Name == port && pp == proto {
				return cp.ContainerPort, nil
			}
		}
	}
	return 0, fmt.Errorf("pod %s declares no port named %q over %s", p.Name, port, proto)
}

func notFound(err error, what string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s not found", what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}
