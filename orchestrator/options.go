package orchestrator

import (
	"io"
	"time"

	"github.com/netverify/netverify/inplace"
	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/results"

	corev1 "k8s.io/api/core/v1"
)

// Probe modes.
const (
	// ModeBatch runs one exec per source pod per round; the probe program
	// runs all of that pod's probes concurrently and prints one line each.
	ModeBatch = "batch"
	// ModePerProbe runs one exec per probe (for comparison and debugging).
	ModePerProbe = "per-probe"
	// ModeAgnhost is the fallback for clusters that can only run the
	// upstream agnhost image: servers are `agnhost serve-hostname` (one
	// container per port), probes `agnhost connect`, one exec per probe.
	// agnhost reads no answer, so the server's identity is not checked, and
	// it cannot do DNS lookups (dns: expectations are skipped).
	ModeAgnhost = "agnhost"

	// DefaultAgnhostImage is the agnhost image ModeAgnhost uses by default.
	DefaultAgnhostImage = "registry.k8s.io/e2e-test-images/agnhost:2.53"
)

// Defaults of the enforcement budget and warning threshold.
const (
	// DefaultMatchBudget: a cold CNI on a busy two-core node was seen to
	// take 10.3s to enforce a new policy; a minute leaves room for worse
	// without letting a run on a non-enforcing cluster drag on.
	DefaultMatchBudget = time.Minute
	// DefaultSlowEnforcement: a warm CNI enforces in well under a second.
	DefaultSlowEnforcement = 5 * time.Second
	// maxRetryInterval caps the pause between rounds late in a budget.
	maxRetryInterval = time.Second
)

// Options configure a run. Zero values get the defaults documented here.
type Options struct {
	// Live are the live objects in-place scenarios name (inplace.Resolve),
	// read before the run; required when a scenario is in place.
	Live *inplace.Facts
	// RunID labels everything the run creates; random when empty.
	RunID string
	// NamespacePrefix starts every namespace name (default "nv").
	NamespacePrefix string
	// ProbeImage is the image of probe pods (it must hold /netverify-probe);
	// in ModeAgnhost, the image of the container probes are exec'd in.
	ProbeImage string
	// ServerImage, in ModeAgnhost only, is the image of the server
	// containers (agnhost serve-hostname); ProbeImage when empty.
	ServerImage string
	// ImagePullPolicy of probe pods (default IfNotPresent).
	ImagePullPolicy corev1.PullPolicy
	// Mode is ModeBatch (default) or ModePerProbe.
	Mode string
	// Concurrency bounds exec calls in flight (default 16).
	Concurrency int
	// ProbeTimeout bounds one connection attempt (default 1s).
	ProbeTimeout time.Duration
	// MatchBudget is how long, after policies are applied, a probe whose
	// observation does not match its expectation is retried (default
	// DefaultMatchBudget). It bounds how long a CNI may take to enforce a
	// policy before the run calls it not enforced, and so how long a run on
	// a cluster that ignores policies takes to say so.
	MatchBudget time.Duration
	// SlowEnforcement is the enforcement latency above which a run warns
	// (default DefaultSlowEnforcement): slow, but enforced, is a pass.
	SlowEnforcement time.Duration
	// UnprovenWait is the least time the allowed expectations of a
	// scenario whose policies cannot be seen in effect (every blocked
	// expectation skipped, inconclusive or broken) are observed before the
	// observation stands (default 10s; longer when the run saw slower
	// enforcement: twice the slowest). Never longer than MatchBudget.
	UnprovenWait time.Duration
	// ControlBudget is how long a control probe (before policies) may take
	// to see its target answer (default 10s).
	ControlBudget time.Duration
	// RetryInterval is the least time between the starts of two probe
	// rounds (default 200ms): mismatches are re-probed at this pace, which
	// slows to a tenth of the time already spent (at most 1s) as a budget
	// wears on, so a long budget costs few rounds.
	RetryInterval time.Duration
	// ReadyTimeout bounds how long the wait for probe pods to become Ready
	// may go without any of them becoming Ready (default 2m).
	ReadyTimeout time.Duration
	// Keep says when the run's namespaces are left in place rather than
	// deleted (default KeepNever).
	Keep KeepMode
	// Placement of probe pods.
	Placement Placement
	// EngineOptions are the semantics engine's options for the cluster
	// (its pod and Service ranges: policy.WithClusterRanges), with which
	// the plan tells which side polices each denied connection
	// (PlannedProbe.PolicedBy).
	EngineOptions []policy.Option
	// KubectlFlags are added to every repro line (e.g. --context X).
	KubectlFlags []string
	// Progress, when set, receives progress lines (a terminal's stderr).
	Progress io.Writer
	// Log receives warnings and notes (stderr); nil discards them.
	Log io.Writer
	// CleanupCommand is how the user runs netverify's cleanup, named in
	// notes about leftovers (default "netverify cleanup"; under the kubectl
	// plugin "kubectl netverify cleanup").
	CleanupCommand string
	// NoClusterPolicies, when set, says why the cluster cannot take
	// ClusterNetworkPolicies (it does not serve the kind): scenarios that
	// declare some are then skipped with this reason, nothing created.
	NoClusterPolicies string
}

// KeepMode says when a run leaves its namespaces (and everything in them)
// in place for debugging, rather than deleting them at the end.
type KeepMode string

// Keep modes. Any other value, the empty one included, is KeepNever.
const (
	KeepNever  KeepMode = "never"  // always delete them
	KeepAlways KeepMode = "always" // never delete them
	// KeepOnFailure keeps them when an expectation failed, broke or was
	// inconclusive, so its reproduce command still works. A run that ends
	// in an infrastructure error or is cancelled deletes them.
	KeepOnFailure KeepMode = "on-failure"
)

// KeepModes are the valid KeepModes, for help and validation.
func KeepModes() []KeepMode { return []KeepMode{KeepAlways, KeepOnFailure, KeepNever} }

// keeps reports whether a run that produced rep (nil when it ended in an
// error) leaves its namespaces.
func (k KeepMode) keeps(rep *results.Report) bool {
	switch k {
	case KeepAlways:
		return true
	case KeepOnFailure:
		return rep != nil && results.Summarize(rep.Results).Mismatches() > 0
	}
	return false
}

// Placement says where probe pods go and what they may use.
type Placement struct {
	// NodeSelector (--node-selector) and Tolerations (--toleration) go
	// into every probe pod's spec, and decide which nodes are eligible
	// for spreading (see EligibleNodes).
	NodeSelector map[string]string
	Tolerations  []corev1.Toleration
	// Nodes (--nodes) is a label selector that narrows the nodes probe
	// pods are spread over; "" for every eligible node. When it is set,
	// a run with no eligible node matching it creates nothing.
	Nodes string
	// Scheduler (--placement=scheduler) leaves the placement of probe
	// pods to the scheduler, one pod each, as before spreading: nodes
	// are not listed and Spread is not filled.
	Scheduler bool
	// Spread are the nodes the probe pods of created namespaces are
	// planned on (see MakePlan): with two or more, every such pod once per
	// node, pinned there; with one and Nodes set, pinned there under its
	// own name. A run fills it from the cluster's nodes (EligibleNodes)
	// unless Scheduler is set; nil leaves placement to the scheduler.
	Spread           []string
	ImagePullSecrets []string
	Resources        corev1.ResourceRequirements
}

func (o Options) withDefaults() Options {
	if o.NamespacePrefix == "" {
		o.NamespacePrefix = "nv"
	}
	if o.ImagePullPolicy == "" {
		o.ImagePullPolicy = corev1.PullIfNotPresent
	}
	if o.Mode == "" {
		o.Mode = ModeBatch
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = time.Second
	}
	if o.MatchBudget <= 0 {
		o.MatchBudget = DefaultMatchBudget
	}
	if o.SlowEnforcement <= 0 {
		o.SlowEnforcement = DefaultSlowEnforcement
	}
	if o.UnprovenWait <= 0 {
		o.UnprovenWait = 10 * time.Second
	}
	if o.ControlBudget <= 0 {
		o.ControlBudget = 10 * time.Second
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 200 * time.Millisecond
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.CleanupCommand == "" {
		o.CleanupCommand = "netverify cleanup"
	}
	return o
}
