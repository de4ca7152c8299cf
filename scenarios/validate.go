package scenarios

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// MaxNameLength is the longest scenario name allowed: the name is part of
// the run-unique namespace names, which must fit in 63 characters.
const MaxNameLength = 40

// validate checks a defaulted scenario and returns every problem found.
// dropped are the paths of values the decoder left out because they had the
// wrong type (already reported): problems at, inside or around them are
// consequences and not reported, nor are references that may name what was
// left out.
func validate(location string, s *Scenario, dropped []string, o loadOptions) []error {
	v := &validator{location: location, s: s, dropped: dropped, cnpCheck: o.cnpCheck}
	v.header()
	v.namespaces()
	v.pods()
	v.services()
	v.policies()
	v.clusterPolicies()
	v.expectations()
	return v.errs
}

type validator struct {
	location string
	s        *Scenario
	dropped  []string
	cnpCheck func(*cnpv1.ClusterNetworkPolicy) []FieldProblem
	errs     []error
}

// add records a problem with the field at p.
func (v *validator) add(p *field.Path, format string, args ...any) {
	v.addError(pathString(p), fmt.Sprintf(format, args...))
}

// addError records a problem with a field, unless it is about a value left
// out for having the wrong type: a value inside it, or one that holds it.
func (v *validator) addError(path, message string) {
	for _, d := range v.dropped {
		if within(path, d) || (path != "" && within(d, path)) {
			return
		}
	}
	v.errs = append(v.errs, &Error{Location: v.location, Scenario: v.s.Metadata.Name, Field: path, Message: message})
}

// within reports whether the field path p is path or inside it.
func within(p, path string) bool {
	rest, ok := strings.CutPrefix(p, path)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// incomplete reports whether values were left out of the list at path (as
// "spec.pods"), so that references to its items cannot be checked: a pod
// with a port of the wrong type is not "not declared".
func (v *validator) incomplete(path string) bool {
	for _, d := range v.dropped {
		if within(d, path) || within(path, d) {
			return true
		}
	}
	return false
}

// referencesIncomplete reports whether something an expectation may refer
// to (namespaces, pods, services) was left out.
func (v *validator) referencesIncomplete() bool {
	return v.incomplete("spec.namespaces") || v.incomplete("spec.pods") || v.incomplete("spec.services")
}

// addMsgs records the messages of a k8s.io/apimachinery validation
// function, if any, as one problem.
func (v *validator) addMsgs(p *field.Path, prefix string, msgs []string) {
	if len(msgs) > 0 {
		v.add(p, "%s%s", prefix, strings.Join(msgs, "; "))
	}
}

// addFieldErrors records errors of k8s.io/apimachinery's field validation.
func (v *validator) addFieldErrors(errs field.ErrorList) {
	for _, e := range errs {
		msg := e.ErrorBody()
		v.addError(e.Field, strings.ToLower(msg[:1])+msg[1:])
	}
}

func (v *validator) header() {
	if v.s.APIVersion != APIVersion {
		v.add(field.NewPath("apiVersion"), "must be %q", APIVersion)
	}
	if v.s.Kind != Kind {
		v.add(field.NewPath("kind"), "must be %q", Kind)
	}
	p := field.NewPath("metadata", "name")
	name := v.s.Metadata.Name
	switch {
	case name == "":
		v.add(p, "required")
	case len(name) > MaxNameLength:
		v.add(p, "must be no more than %d characters (it is part of namespace names)", MaxNameLength)
	default:
		v.addMsgs(p, "", validation.IsDNS1123Label(name))
	}
}

func (v *validator) namespaces() {
	p := field.NewPath("spec", "namespaces")
	if len(v.s.Spec.Namespaces) == 0 {
		v.add(p, "at least one namespace is required")
	}
	seen := map[string]bool{}
	for i, ns := range v.s.Spec.Namespaces {
		p := p.Index(i)
		if v.name(p.Child("name"), ns.Name, validation.IsDNS1123Label) {
			if seen[ns.Name] {
				v.add(p.Child("name"), "duplicate namespace %q", ns.Name)
			}
			seen[ns.Name] = true
		}
		v.labels(p.Child("labels"), ns.Labels)
		if ns.Existing && len(ns.Labels) > 0 {
			v.add(p.Child("labels"), "not allowed for an existing namespace: it is checked with the labels it has")
		}
		if _, ok := ns.Labels[corev1.LabelMetadataName]; ok {
			v.add(p.Child("labels").Key(corev1.LabelMetadataName), "reserved: Kubernetes sets it to the run-unique namespace name")
		}
	}
}

func (v *validator) pods() {
	seen := map[string]bool{}
	for i, pod := range v.s.Spec.Pods {
		p := field.NewPath("spec", "pods").Index(i)
		nameOK := v.name(p.Child("name"), pod.Name, validation.IsDNS1123Label)
		nsOK := v.namespaceRef(p.Child("namespace"), pod.Namespace)
		if key := pod.Namespace + "/" + pod.Name; nameOK && nsOK {
			if seen[key] {
				v.add(p.Child("name"), "duplicate pod %q", key)
			}
			seen[key] = true
		}
		v.labels(p.Child("labels"), pod.Labels)
		v.inPlacePod(p, pod, nsOK)
		names := map[string]bool{}
		numbers := map[string]bool{}
		for j, port := range pod.Ports {
			p := p.Child("ports").Index(j)
			if port.Name != "" {
				v.portName(p.Child("name"), port.Name)
				if names[port.Name] {
					v.add(p.Child("name"), "duplicate port name %q", port.Name)
				}
				names[port.Name] = true
			}
			v.portNumber(p.Child("port"), port.Port)
			v.protocol(p.Child("protocol"), port.Protocol)
			if key := fmt.Sprintf("%d/%s", port.Port, port.Protocol); numbers[key] {
				v.add(p.Child("port"), "duplicate port %s", key)
			} else {
				numbers[key] = true
			}
		}
	}
}

// inPlacePod checks what a pod of an existing namespace may be: a source
// (no ports) with labels or impersonating a workload; impersonate only
// there.
func (v *validator) inPlacePod(p *field.Path, pod Pod, nsOK bool) {
	existing := nsOK && v.s.Existing(pod.Namespace)
	if pod.Impersonate != "" {
		if _, err := ParseWorkloadRef(pod.Impersonate); err != nil {
			v.add(p.Child("impersonate"), "%v", err)
		}
		if nsOK && !existing {
			v.add(p.Child("impersonate"), "only for a pod of an existing namespace (existing: true), where the workload runs")
		}
		if len(pod.Labels) > 0 {
			v.add(p.Child("labels"), "not allowed with impersonate: the pod carries the workload's pod template labels")
		}
	}
	if !existing {
		return
	}
	if len(pod.Ports) > 0 {
		v.add(p.Child("ports"), "not allowed in an existing namespace: a probe pod there is only a source (name a live target: svc:%s/NAME or workload:%s/KIND/NAME)", pod.Namespace, pod.Namespace)
	}
	if len(pod.Name) > maxInPlacePodName {
		v.add(p.Child("name"), "at most %d characters in an existing namespace (the run id is added to it)", maxInPlacePodName)
	}
}

// maxInPlacePodName: a probe pod in an existing namespace is named
// "<prefix>-<run id>-<name>".
const maxInPlacePodName = 40

func (v *validator) services() {
	seen := map[string]bool{}
	for i, svc := range v.s.Spec.Services {
		p := field.NewPath("spec", "services").Index(i)
		nameOK := v.name(p.Child("name"), svc.Name, validation.IsDNS1035Label)
		nsOK := v.namespaceRef(p.Child("namespace"), svc.Namespace)
		if nsOK && v.s.Existing(svc.Namespace) {
			v.add(p.Child("namespace"), "%q is an existing namespace: netverify creates no Service there (probe a live one: svc:%s/NAME)", svc.Namespace, svc.Namespace)
		}
		if key := svc.Namespace + "/" + svc.Name; nameOK && nsOK {
			if seen[key] {
				v.add(p.Child("name"), "duplicate service %q", key)
			}
			seen[key] = true
		}
		if len(svc.Selector) == 0 {
			v.add(p.Child("selector"), "required")
		} else if v.labels(p.Child("selector"), svc.Selector) && nsOK && !v.incomplete("spec.pods") && !v.selectsPod(svc) {
			v.add(p.Child("selector"), "matches no pod in namespace %q", svc.Namespace)
		}
		if len(svc.Ports) == 0 {
			v.add(p.Child("ports"), "at least one port is required")
		}
		names := map[string]bool{}
		numbers := map[string]bool{}
		for j, port := range svc.Ports {
			p := p.Child("ports").Index(j)
			switch {
			case port.Name != "":
				v.portName(p.Child("name"), port.Name)
				if names[port.Name] {
					v.add(p.Child("name"), "duplicate port name %q", port.Name)
				}
				names[port.Name] = true
			case len(svc.Ports) > 1:
				v.add(p.Child("name"), "required when a service has more than one port")
			}
			v.portNumber(p.Child("port"), port.Port)
			v.protocol(p.Child("protocol"), port.Protocol)
			if key := fmt.Sprintf("%d/%s", port.Port, port.Protocol); numbers[key] {
				v.add(p.Child("port"), "duplicate port %s", key)
			} else {
				numbers[key] = true
			}
			if n, err := strconv.Atoi(port.TargetPort); err == nil {
				if n < 1 || n > 65535 {
					v.add(p.Child("targetPort"), "must be between 1 and 65535, got %d", n)
				}
			} else if port.TargetPort != "" {
				v.portName(p.Child("targetPort"), port.TargetPort)
			}
		}
	}
}

// selectsPod reports whether svc's selector matches a pod of its namespace.
func (v *validator) selectsPod(svc Service) bool {
	for _, pod := range v.s.Spec.Pods {
		if pod.Namespace != svc.Namespace {
			continue
		}
		matches := true
		for k, val := range svc.Selector {
			if got, ok := pod.Labels[k]; !ok || got != val {
				matches = false
			}
		}
		if matches {
			return true
		}
	}
	return false
}

func (v *validator) policies() {
	seen := map[string]bool{}
	for i, pol := range v.s.Spec.Policies {
		p := field.NewPath("spec", "policies").Index(i)
		if pol.APIVersion != "" && pol.APIVersion != networkingv1.SchemeGroupVersion.String() {
			v.add(p.Child("apiVersion"), "must be %q (or omitted)", networkingv1.SchemeGroupVersion.String())
		}
		if pol.Kind != "" && pol.Kind != "NetworkPolicy" {
			v.add(p.Child("kind"), "must be \"NetworkPolicy\" (or omitted)")
		}
		md := p.Child("metadata")
		nameOK := v.name(md.Child("name"), pol.Name, validation.IsDNS1123Subdomain)
		nsOK := v.namespaceRef(md.Child("namespace"), pol.Namespace)
		if nsOK && v.s.Existing(pol.Namespace) {
			v.add(md.Child("namespace"), "%q is an existing namespace: netverify applies no policy there, its own policies are what is tested", pol.Namespace)
		}
		if key := pol.Namespace + "/" + pol.Name; nameOK && nsOK {
			if seen[key] {
				v.add(md.Child("name"), "duplicate policy %q", key)
			}
			seen[key] = true
		}
		v.labels(md.Child("labels"), pol.Labels)
		v.annotations(md.Child("annotations"), pol.Annotations)
		// Other metadata fields are rejected while decoding (see
		// allowedFields).

		spec := p.Child("spec")
		v.selector(spec.Child("podSelector"), &pol.Spec.PodSelector)
		types := map[networkingv1.PolicyType]bool{}
		for j, t := range pol.Spec.PolicyTypes {
			p := spec.Child("policyTypes").Index(j)
			switch {
			case t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress:
				v.add(p, "unsupported policy type %q: want Ingress or Egress", t)
			case types[t]:
				v.add(p, "duplicate policy type %q", t)
			}
			types[t] = true
		}
		for j, rule := range pol.Spec.Ingress {
			p := spec.Child("ingress").Index(j)
			v.policyPorts(p.Child("ports"), rule.Ports)
			v.peers(p.Child("from"), rule.From)
		}
		for j, rule := range pol.Spec.Egress {
			p := spec.Child("egress").Index(j)
			v.policyPorts(p.Child("ports"), rule.Ports)
			v.peers(p.Child("to"), rule.To)
		}
	}
}

// clusterPolicies checks the ClusterNetworkPolicies' header and metadata
// here, and their spec with the loader's check (WithClusterPolicyCheck).
func (v *validator) clusterPolicies() {
	gv := cnpv1.GroupVersion.String()
	seen := map[string]bool{}
	if len(v.s.Spec.ClusterNetworkPolicies) > 0 && v.s.InPlace() {
		v.add(field.NewPath("spec", "clusterNetworkPolicies"), "not allowed in a scenario with an existing namespace: in-place checks test the cluster's own policies")
	}
	for i := range v.s.Spec.ClusterNetworkPolicies {
		pol := &v.s.Spec.ClusterNetworkPolicies[i]
		p := field.NewPath("spec", "clusterNetworkPolicies").Index(i)
		if pol.APIVersion != "" && pol.APIVersion != gv {
			v.add(p.Child("apiVersion"), "must be %q (or omitted)", gv)
		}
		if pol.Kind != "" && pol.Kind != "ClusterNetworkPolicy" {
			v.add(p.Child("kind"), "must be \"ClusterNetworkPolicy\" (or omitted)")
		}
		md := p.Child("metadata")
		if v.name(md.Child("name"), pol.Name, validation.IsDNS1123Subdomain) {
			if seen[pol.Name] {
				v.add(md.Child("name"), "duplicate cluster network policy %q", pol.Name)
			}
			seen[pol.Name] = true
		}
		if pol.Namespace != "" {
			v.add(md.Child("namespace"), "not allowed: a ClusterNetworkPolicy is cluster-scoped (select namespaces in spec.subject)")
		}
		v.labels(md.Child("labels"), pol.Labels)
		v.annotations(md.Child("annotations"), pol.Annotations)
		if len(pol.Status.Conditions) > 0 {
			v.add(p.Child("status"), "not allowed in a scenario: the status is the cluster's")
		}
		if v.cnpCheck == nil {
			continue
		}
		for _, fp := range v.cnpCheck(pol) {
			if fp.Field == "metadata.name" {
				continue // checked above
			}
			path := pathString(p)
			if fp.Field != "" {
				path += "." + fp.Field
			}
			v.addError(path, fp.Message)
		}
	}
}

func (v *validator) policyPorts(p *field.Path, ports []networkingv1.NetworkPolicyPort) {
	for i, port := range ports {
		p := p.Index(i)
		if port.Protocol != nil {
			v.protocol(p.Child("protocol"), Protocol(*port.Protocol))
		}
		if port.Port != nil {
			if port.Port.Type == intstr.Int {
				v.portNumber(p.Child("port"), port.Port.IntVal)
			} else {
				v.portName(p.Child("port"), port.Port.StrVal)
			}
		}
		if port.EndPort != nil {
			switch {
			case port.Port == nil || port.Port.Type != intstr.Int:
				v.add(p.Child("endPort"), "requires a numeric port")
			case *port.EndPort < port.Port.IntVal:
				v.add(p.Child("endPort"), "must not be less than port (%d)", port.Port.IntVal)
			default:
				v.portNumber(p.Child("endPort"), *port.EndPort)
			}
		}
	}
}

func (v *validator) peers(p *field.Path, peers []networkingv1.NetworkPolicyPeer) {
	for i, peer := range peers {
		p := p.Index(i)
		hasSelector := peer.PodSelector != nil || peer.NamespaceSelector != nil
		switch {
		case peer.IPBlock != nil && hasSelector:
			v.add(p, "ipBlock cannot be combined with podSelector or namespaceSelector")
		case peer.IPBlock == nil && !hasSelector:
			v.add(p, "must set podSelector, namespaceSelector or ipBlock")
		}
		v.selector(p.Child("podSelector"), peer.PodSelector)
		v.selector(p.Child("namespaceSelector"), peer.NamespaceSelector)
		if peer.IPBlock != nil {
			v.ipBlock(p.Child("ipBlock"), peer.IPBlock)
		}
	}
}

func (v *validator) ipBlock(p *field.Path, b *networkingv1.IPBlock) {
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil {
		v.add(p.Child("cidr"), "invalid CIDR %q: want address/prefix-length, as in 10.0.0.0/8", b.CIDR)
	}
	for i, e := range b.Except {
		p := p.Child("except").Index(i)
		_, except, err := net.ParseCIDR(e)
		if err != nil {
			v.add(p, "invalid CIDR %q: want address/prefix-length, as in 10.1.0.0/16", e)
			continue
		}
		if cidr == nil {
			continue
		}
		cidrOnes, cidrBits := cidr.Mask.Size()
		exceptOnes, exceptBits := except.Mask.Size()
		if !cidr.Contains(except.IP) || cidrBits != exceptBits || exceptOnes <= cidrOnes {
			v.add(p, "%q is not strictly inside cidr %q", e, b.CIDR)
		}
	}
}

func (v *validator) selector(p *field.Path, sel *metav1.LabelSelector) {
	v.addFieldErrors(metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p))
}

func (v *validator) expectations() {
	p := field.NewPath("spec", "expect")
	if len(v.s.Spec.Expect) == 0 {
		v.add(p, "at least one expectation is required")
	}
	names := map[string]bool{}
	for i, e := range v.s.Spec.Expect {
		p := p.Index(i)
		if e.Name != "" {
			if names[e.Name] {
				v.add(p.Child("name"), "duplicate expectation name %q", e.Name)
			}
			names[e.Name] = true
		}
		// References are checked only when everything they may name
		// was decoded.
		refs := !v.referencesIncomplete()
		if e.From == "" {
			v.add(p.Child("from"), "required")
		} else if _, err := v.s.ResolvePod(e.From); err != nil && refs {
			v.add(p.Child("from"), "%v", err)
		}
		protocolOK := v.protocol(p.Child("protocol"), e.Protocol)
		if e.To == "" {
			v.add(p.Child("to"), "required")
		} else if t, err := ParseTarget(e.To); err != nil {
			v.add(p.Child("to"), "%v", err)
		} else if !refs {
			// skip the references
		} else if err := v.targetDeclared(t); err != nil {
			v.add(p.Child("to"), "%v", err)
		} else if _, err := v.s.resolvePort(t, e.Port, e.Protocol); err != nil && protocolOK {
			v.add(p.Child("port"), "%v", err)
		}
		if e.Backend != "" {
			if t, err := ParseTarget(e.To); err == nil && t.Kind != TargetService {
				v.add(p.Child("backend"), "only svc: targets take a backend")
			} else if err == nil && v.s.Existing(t.Namespace) {
				v.add(p.Child("backend"), "not for a Service of an existing namespace: its backends are the workload's pods, which answer without an identity")
			} else if err == nil && refs {
				ref := e.Backend
				if !strings.Contains(ref, "/") {
					ref = t.Namespace + "/" + ref
				}
				if _, err := v.s.ResolvePod(ref); err != nil {
					v.add(p.Child("backend"), "%v", err)
				}
			}
		}
		v.outcome(p, e)
	}
}

// outcome checks what an expectation expects: allowed, or
// implementationDefined with an optional accept list.
func (v *validator) outcome(p *field.Path, e Expectation) {
	// A value of the wrong type left out counts as given: what follows
	// from its absence is not worth reporting.
	declared := e.ImplementationDefinedWhy != "" || v.incomplete(pathString(p.Child("implementationDefined")))
	switch {
	case e.ImplementationDefinedWhy != "" && strings.TrimSpace(e.ImplementationDefinedWhy) == "":
		v.add(p.Child("implementationDefined"), "must say why the API leaves this connection to the implementation")
	case declared && e.Allowed != nil:
		v.add(p.Child("allowed"), "not allowed with implementationDefined: to pass only one outcome, write accept: [allowed] or accept: [blocked]")
	case !declared && e.Allowed == nil:
		v.add(p.Child("allowed"), "required (or implementationDefined: WHY, for a connection the API leaves to the implementation)")
	}
	if e.Accept == nil {
		return
	}
	switch {
	case !declared:
		v.add(p.Child("accept"), "only with implementationDefined (use allowed: true or false)")
		return
	case len(e.Accept) == 0:
		v.add(p.Child("accept"), "at least one outcome is required: allowed or blocked (leave accept out to pass both)")
	}
	seen := map[Outcome]bool{}
	for j, o := range e.Accept {
		switch {
		case o != OutcomeAllowed && o != OutcomeBlocked:
			v.add(p.Child("accept").Index(j), "unsupported outcome %q: want allowed or blocked", o)
		case seen[o]:
			v.add(p.Child("accept").Index(j), "duplicate outcome %q", o)
		}
		seen[o] = true
	}
}

// targetDeclared checks that a pod or Service target is declared, or, in
// an existing namespace, that it is a live one (a workload or Service;
// whether it exists is checked on the cluster).
func (v *validator) targetDeclared(t Target) error {
	var err error
	switch t.Kind {
	case TargetPod:
		if ns, qerr := v.s.qualify(t.Namespace, t.Name); qerr == nil && v.s.Existing(ns) {
			return fmt.Errorf("probe pods in the existing namespace %q serve no ports: name a live target there (svc:%s/NAME or workload:%s/KIND/NAME)", ns, ns, ns)
		}
		_, err = v.s.pod(t.Namespace, t.Name)
	case TargetService:
		if ns, qerr := v.s.qualify(t.Namespace, t.Name); qerr == nil && v.s.Existing(ns) {
			return nil
		}
		_, err = v.s.service(t.Namespace, t.Name)
	case TargetWorkload:
		ns, qerr := v.s.qualify(t.Namespace, t.Name)
		switch {
		case qerr != nil:
			return qerr
		case !v.s.Existing(ns) && v.namespaceDeclared(ns):
			return fmt.Errorf("workload: targets name workloads of an existing namespace; %q is created by the run (name a pod of it)", ns)
		case !v.namespaceDeclared(ns):
			return fmt.Errorf("namespace %q is not declared (add it with existing: true)", ns)
		}
	}
	return err
}

func (v *validator) namespaceDeclared(ns string) bool {
	for _, n := range v.s.Spec.Namespaces {
		if n.Name == ns {
			return true
		}
	}
	return false
}

// name checks a required name with check and reports whether it is valid.
func (v *validator) name(p *field.Path, name string, check func(string) []string) bool {
	if name == "" {
		v.add(p, "required")
		return false
	}
	msgs := check(name)
	v.addMsgs(p, "", msgs)
	return len(msgs) == 0
}

// namespaceRef checks a reference to a logical namespace and reports
// whether it names a declared one. When namespaces were left out for having
// the wrong type, a missing one is not reported.
func (v *validator) namespaceRef(p *field.Path, ns string) bool {
	for _, n := range v.s.Spec.Namespaces {
		if ns != "" && n.Name == ns {
			return true
		}
	}
	switch {
	case v.incomplete("spec.namespaces"):
	case ns == "":
		v.add(p, "required (the scenario has %d namespaces)", len(v.s.Spec.Namespaces))
	default:
		v.add(p, "namespace %q is not declared", ns)
	}
	return false
}

// labels checks label keys and values and reports whether all are valid.
func (v *validator) labels(p *field.Path, labels map[string]string) bool {
	ok := true
	for _, k := range sortedKeys(labels) {
		if k == "app.kubernetes.io/managed-by" || strings.HasPrefix(k, "netverify.io/") {
			v.add(p.Key(k), "reserved: netverify labels what it creates with this key")
			ok = false
			continue
		}
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			v.addMsgs(p.Key(k), "invalid label key: ", msgs)
			ok = false
		}
		if msgs := validation.IsValidLabelValue(labels[k]); len(msgs) > 0 {
			v.addMsgs(p.Key(k), fmt.Sprintf("invalid label value %q: ", labels[k]), msgs)
			ok = false
		}
	}
	return ok
}

// annotations checks annotation keys, and their total size as the API
// server does.
func (v *validator) annotations(p *field.Path, annotations map[string]string) {
	for _, k := range sortedKeys(annotations) {
		// The API server's rule: a qualified name, in any case.
		v.addMsgs(p.Key(k), "invalid annotation key: ", validation.IsQualifiedName(strings.ToLower(k)))
	}
	if apivalidation.ValidateAnnotationsSize(annotations) != nil {
		size := 0
		for k, val := range annotations {
			size += len(k) + len(val)
		}
		v.add(p, "total size %d bytes is more than %d, the limit of the API server", size, apivalidation.TotalAnnotationSizeLimitB)
	}
}

func (v *validator) portNumber(p *field.Path, port int32) {
	if port < 1 || port > 65535 {
		v.add(p, "must be between 1 and 65535, got %d", port)
	}
}

func (v *validator) portName(p *field.Path, name string) {
	v.addMsgs(p, fmt.Sprintf("invalid port name %q: ", name), validation.IsValidPortName(name))
}

// protocol checks a protocol and reports whether it is valid.
func (v *validator) protocol(p *field.Path, proto Protocol) bool {
	switch proto {
	case TCP, UDP, SCTP:
		return true
	}
	v.add(p, "unsupported protocol %q: want TCP, UDP or SCTP", proto)
	return false
}
