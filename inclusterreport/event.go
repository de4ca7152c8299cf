package inclusterreport

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Event fields.
const (
	// ReasonMismatch is the reason of the Warning Event EmitMismatchEvent
	// records.
	ReasonMismatch = "NetworkPolicyMismatch"
	// Component is the Event source.
	Component = "netverify"
	// maxEventMessage bounds the message (events.k8s.io caps its note at
	// 1 kB; core/v1 readers expect the same).
	maxEventMessage = 1024
	// eventMismatches is how many mismatches the message lists.
	eventMismatches = 3
)

// EmitMismatchEvent records a Warning Event (reason NetworkPolicyMismatch,
// source netverify) on the report ConfigMap namespace/name when rep has any
// failed, error or inconclusive result; otherwise it does nothing and returns
// nil. The message gives the counts and the first few mismatches, and points
// at the ConfigMap for the rest.
//
// The ConfigMap is read first so that the Event's involvedObject carries its
// UID (call it after WriteConfigMap); the Event is created in the ConfigMap's
// namespace and labelled app.kubernetes.io/managed-by=netverify. It needs get
// on configmaps and create on events in namespace.
func EmitMismatchEvent(ctx context.Context, client kubernetes.Interface, namespace, name string, rep *results.Report) error {
	if rep == nil || !hasMismatch(rep) {
		return nil
	}
	cm, err := client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("recording mismatch event: reading configmap %s/%s: %w", namespace, name, err)
	}
	ev := mismatchEvent(cm, rep, time.Now())
	if _, err := client.CoreV1().Events(namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("recording mismatch event in %s: %w", namespace, err)
	}
	return nil
}

func hasMismatch(rep *results.Report) bool {
	for _, r := range rep.Results {
		if isMismatch(r.Status) {
			return true
		}
	}
	return false
}

// mismatchEvent builds the Event on cm for rep at now, named the way
// client-go's recorder names events (<object>.<hex nanoseconds>).
func mismatchEvent(cm *corev1.ConfigMap, rep *results.Report, now time.Time) *corev1.Event {
	ts := metav1.NewTime(now)
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", cm.Name, now.UnixNano()),
			Namespace: cm.Namespace,
			Labels:    map[string]string{labelManagedBy: managedBy},
		},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "ConfigMap",
			Namespace: cm.Namespace, Name: cm.Name,
			UID: cm.UID, ResourceVersion: cm.ResourceVersion,
		},
		Type:                corev1.EventTypeWarning,
		Reason:              ReasonMismatch,
		Message:             mismatchMessage(rep, cm.Namespace+"/"+cm.Name),
		Source:              corev1.EventSource{Component: Component},
		ReportingController: Component,
		FirstTimestamp:      ts,
		LastTimestamp:       ts,
		Count:               1,
	}
}

// mismatchMessage is e.g. "run k3x9qa: 2 of 40 expectations not met (1
// failed, 1 errors, 0 inconclusive): [fail] core: app/random → app/backend
// 8080/TCP expected blocked, got allowed (connected); … — all in configmap
// netverify/netverify-report".
func mismatchMessage(rep *results.Report, where string) string {
	s := results.Summarize(rep.Results)
	bad := s.Failed + s.Errors + s.Inconclusive
	var b strings.Builder
	if rep.RunID != "" {
		fmt.Fprintf(&b, "run %s: ", rep.RunID)
	}
	fmt.Fprintf(&b, "%d of %d expectations not met (%d failed, %d errors, %d inconclusive)",
		bad, s.Total, s.Failed, s.Errors, s.Inconclusive)
	var items []string
	for _, r := range rep.Results {
		if isMismatch(r.Status) && len(items) < eventMismatches {
			items = append(items, describe(r))
		}
	}
	b.WriteString(": " + strings.Join(items, "; "))
	if bad > len(items) {
		fmt.Fprintf(&b, "; and %d more", bad-len(items))
	}
	tail := " — see configmap " + where
	msg := b.String()
	if len(msg)+len(tail) > maxEventMessage {
		msg = clipTo(msg, maxEventMessage-len(tail))
	}
	return msg + tail
}

// describe renders one mismatch, e.g. "[fail] core: app/random → app/backend
// 8080/TCP expected blocked, got allowed (connected)".
func describe(r results.Result) string {
	s := fmt.Sprintf("[%s] %s: %s → %s %s expected %s, got %s", r.Status, r.Scenario, r.From, r.To, r.NamedPortString(), r.Expected, r.Observed)
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	return s
}

// clipTo shortens s to at most n bytes, on a rune boundary, marking the cut
// with "…".
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
