// Package orchestrator runs scenarios on a cluster: plan → create namespaces,
// pods and services → wait Ready → control probes (before any policy) →
// apply policies → probe until each observation matches its expectation or
// the match budget runs out → compare → clean up.
//
// It depends on two small interfaces: kubernetes.Interface for objects and
// Executor for running the probe program inside pods. Tests use the fake
// clientset and a scripted Executor; the real Executor streams through the
// API server (pods/exec).
package orchestrator
