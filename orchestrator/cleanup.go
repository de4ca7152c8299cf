package orchestrator

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Leftover is a namespace of a netverify run and how old its heartbeat is.
type Leftover struct {
	Namespace string
	RunID     string
	Age       time.Duration // since the last heartbeat (or creation)
}

// FindLeftovers lists namespaces created by netverify runs whose heartbeat
// is older than olderThan — runs that were killed — or, when runID is set,
// every namespace of that run. Namespaces without a run id (a deploy/
// installation) are never returned.
func FindLeftovers(ctx context.Context, c kubernetes.Interface, olderThan time.Duration, runID string, now time.Time) ([]Leftover, error) {
	sel := AnyRunSelector()
	if runID != "" {
		sel = RunSelector(runID)
	}
	list, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing netverify namespaces: %w", err)
	}
	var out []Leftover
	for _, ns := range list.Items {
		age := now.Sub(lastBeat(&ns))
		if runID == "" && age < olderThan {
			continue // a live run
		}
		out = append(out, Leftover{Namespace: ns.Name, RunID: ns.Labels[LabelRunID], Age: age})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out, nil
}

// LiveRun is a netverify run whose heartbeat is recent: `netverify cleanup`
// leaves it alone, unless named with --run-id.
type LiveRun struct {
	RunID      string
	Namespaces int
	Age        time.Duration // since its most recent heartbeat
}

// FindLiveRuns lists the runs whose heartbeat is younger than olderThan,
// sorted by run id.
func FindLiveRuns(ctx context.Context, c kubernetes.Interface, olderThan time.Duration, now time.Time) ([]LiveRun, error) {
	list, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: AnyRunSelector()})
	if err != nil {
		return nil, fmt.Errorf("listing netverify namespaces: %w", err)
	}
	byRun := map[string]*LiveRun{}
	var out []LiveRun
	for _, ns := range list.Items {
		age := now.Sub(lastBeat(&ns))
		if age >= olderThan {
			continue
		}
		id := ns.Labels[LabelRunID]
		r := byRun[id]
		if r == nil {
			r = &LiveRun{RunID: id, Age: age}
			byRun[id] = r
		}
		r.Namespaces++
		r.Age = min(r.Age, age)
	}
	for _, r := range byRun {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out, nil
}

func lastBeat(ns *corev1.Namespace) time.Time {
	if t, err := time.Parse(time.RFC3339, ns.Annotations[AnnotationHeartbeat]); err == nil {
		return t
	}
	return ns.CreationTimestamp.Time
}

// LeftoverOwner is the owner ConfigMap a run created in an existing
// namespace (see package inplace), and how old its heartbeat is: deleting
// it (DeleteLive) removes the run's probe pods there.
type LeftoverOwner struct {
	Namespace, Name, RunID string
	Age                    time.Duration
}

// FindLeftoverOwners lists the owner ConfigMaps of runs in existing
// namespaces whose heartbeat is older than olderThan, or, when runID is
// set, every one of that run.
func FindLeftoverOwners(ctx context.Context, c kubernetes.Interface, olderThan time.Duration, runID string, now time.Time) ([]LeftoverOwner, error) {
	sel := AnyRunSelector()
	if runID != "" {
		sel = RunSelector(runID)
	}
	list, err := c.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing the ConfigMaps of netverify runs: %w", err)
	}
	var out []LeftoverOwner
	for _, cm := range list.Items {
		beat, err := time.Parse(time.RFC3339, cm.Annotations[AnnotationHeartbeat])
		if err != nil {
			beat = cm.CreationTimestamp.Time
		}
		age := now.Sub(beat)
		if runID == "" && age < olderThan {
			continue // a live run
		}
		out = append(out, LeftoverOwner{Namespace: cm.Namespace, Name: cm.Name, RunID: cm.Labels[LabelRunID], Age: age})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out, nil
}
