package scenarios

import (
	"fmt"
	"strings"
)

// Kinds of workload an in-place probe pod can impersonate or a workload:
// target can name.
const (
	KindDeployment  = "deployment"
	KindStatefulSet = "statefulset"
	KindDaemonSet   = "daemonset"
	KindReplicaSet  = "replicaset"
)

// WorkloadRef names a workload of a namespace: "deployment/frontend".
type WorkloadRef struct {
	Kind, Name string
}

func (r WorkloadRef) String() string { return r.Kind + "/" + r.Name }

// ParseWorkloadRef parses KIND/NAME; the kinds' usual short names (deploy,
// sts, ds, rs) and plurals are accepted and normalised.
func ParseWorkloadRef(s string) (WorkloadRef, error) {
	kind, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return WorkloadRef{}, fmt.Errorf("%q: want KIND/NAME, e.g. deployment/frontend", s)
	}
	switch strings.ToLower(kind) {
	case "deployment", "deployments", "deploy":
		kind = KindDeployment
	case "statefulset", "statefulsets", "sts":
		kind = KindStatefulSet
	case "daemonset", "daemonsets", "ds":
		kind = KindDaemonSet
	case "replicaset", "replicasets", "rs":
		kind = KindReplicaSet
	default:
		return WorkloadRef{}, fmt.Errorf("%q: kind %q is not deployment, statefulset, daemonset or replicaset", s, kind)
	}
	return WorkloadRef{Kind: kind, Name: name}, nil
}

// Existing reports whether logical namespace ns is an existing namespace of
// the cluster (Namespace.Existing).
func (s *Scenario) Existing(ns string) bool {
	for _, n := range s.Spec.Namespaces {
		if n.Name == ns {
			return n.Existing
		}
	}
	return false
}

// InPlace reports whether the scenario checks a live namespace: one of its
// namespaces exists already.
func (s *Scenario) InPlace() bool {
	for _, n := range s.Spec.Namespaces {
		if n.Existing {
			return true
		}
	}
	return false
}

// Live reports whether t (namespace qualified) is a live object of an
// existing namespace: a workload, or a Service that is not declared.
func (s *Scenario) Live(t Target) bool {
	switch t.Kind {
	case TargetWorkload:
		return true
	case TargetService:
		return s.Existing(t.Namespace)
	}
	return false
}
