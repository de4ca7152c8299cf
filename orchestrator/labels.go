package orchestrator

// Labels and annotations on everything netverify creates.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "netverify"
	// LabelRunID names the run that created an object; `netverify cleanup`
	// only ever deletes objects that carry it.
	LabelRunID    = "netverify.io/run-id"
	LabelScenario = "netverify.io/scenario"
	// LabelLogicalNamespace is the scenario's name for a namespace.
	LabelLogicalNamespace = "netverify.io/namespace"
	// AnnotationHeartbeat is refreshed (RFC 3339) while the run is alive.
	AnnotationHeartbeat = "netverify.io/heartbeat"

	// ProbeContainer is the name of the container in every probe pod.
	ProbeContainer = "probe"
	// ProbeBinary is the probe program's path in the probe image.
	ProbeBinary = "/netverify-probe"
)

// RunSelector is the label selector of one run's objects.
func RunSelector(runID string) string {
	return LabelManagedBy + "=" + ManagedBy + "," + LabelRunID + "=" + runID
}

// AnyRunSelector selects the objects of every netverify run (never those of
// a deploy/ installation, which carry no run id).
func AnyRunSelector() string {
	return LabelManagedBy + "=" + ManagedBy + "," + LabelRunID
}
