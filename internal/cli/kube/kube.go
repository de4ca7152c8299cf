// Package kube holds what netverify's subcommands share: I/O streams, the
// kubectl-style cluster flags, client construction and exit errors.
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	authv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cnpclient "sigs.k8s.io/network-policy-api/pkg/client/clientset/versioned"
)

// Streams are a command's standard streams.
type Streams struct {
	In     io.Reader
	Out    io.Writer // results only
	ErrOut io.Writer // progress and logs
}

// ExitError carries the exit code a command ends with.
type ExitError struct {
	Code int
	Err  error // printed when non-nil
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// Bounds on talking to the API server, unless Flags or --request-timeout
// set others.
const (
	// DefaultReachTimeout bounds Connect's first request: an API server
	// that accepts connections but never answers is reported within it.
	DefaultReachTimeout = 10 * time.Second
	// DefaultRequestTimeout bounds each ordinary request (create, get,
	// list, …), as the API server bounds its own at one minute.
	DefaultRequestTimeout = 30 * time.Second
)

// Flags are the kubectl-style cluster flags (--kubeconfig, --context, …).
type Flags struct {
	*genericclioptions.ConfigFlags
	// ReachTimeout bounds Connect's check that the API server answers;
	// zero means DefaultReachTimeout.
	ReachTimeout time.Duration
	// RequestTimeout bounds each ordinary request when --request-timeout
	// is not given; zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// NewFlags returns the cluster flags, without the namespace flag (netverify
// makes its own namespaces).
func NewFlags() *Flags {
	cf := genericclioptions.NewConfigFlags(true)
	cf.Namespace = nil
	// "" (not kubectl's "0") tells an unset --request-timeout from an
	// explicit 0, which means no timeout.
	unset := ""
	cf.Timeout = &unset
	return &Flags{ConfigFlags: cf}
}

// AddTo registers the flags.
func (f *Flags) AddTo(fs *pflag.FlagSet) {
	f.ConfigFlags.AddFlags(fs)
	if fl := fs.Lookup("request-timeout"); fl != nil {
		fl.Usage = fmt.Sprintf("give up on a single API request after this long, e.g. 10s or 2m (default %s; 0 means never); it does not cut exec streams, which last as long as their command", DefaultRequestTimeout)
	}
}

// Clients are what a command needs to talk to a cluster.
type Clients struct {
	// Config has no request timeout: it is for long-lived streams
	// (pods/exec), which last as long as their command and are bounded by
	// their context. Ordinary clients are built from RequestConfig.
	Config *rest.Config
	// Clientset makes ordinary requests, each bounded by the request
	// timeout.
	Clientset kubernetes.Interface
	// Policies makes ordinary requests on ClusterNetworkPolicies (served
	// only where their CRD is installed: see ServesClusterNetworkPolicies).
	Policies cnpclient.Interface
	// KubectlFlags repeat --kubeconfig/--context in repro lines.
	KubectlFlags []string

	requestTimeout time.Duration
}

// RequestConfig returns a copy of Config whose every request times out, for
// clients of ordinary requests (dynamic, discovery); nil without a Config.
func (c *Clients) RequestConfig() *rest.Config {
	if c.Config == nil {
		return nil
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Timeout = c.requestTimeout
	return cfg
}

// Connect builds clients (a kubeconfig, or the in-cluster config when run in
// a pod) and checks, within ReachTimeout, that the API server answers.
// Errors say what to do next.
func (f *Flags) Connect(ctx context.Context) (*Clients, error) {
	source, err := f.checkKubeconfig()
	if err != nil {
		return nil, err
	}
	cfg, err := f.ToRESTConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) || errors.Is(err, clientcmd.ErrEmptyConfig) {
			return nil, errors.New("no cluster configured: set KUBECONFIG or pass --kubeconfig (or run in a pod with a service account)")
		}
		return nil, fmt.Errorf("loading cluster configuration (%s): %w", source, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	requestTimeout := cfg.Timeout // an explicit --request-timeout, 0 included
	if f.Timeout == nil || *f.Timeout == "" {
		requestTimeout = orDefault(f.RequestTimeout, DefaultRequestTimeout)
	}
	cfg.Timeout = 0
	c := &Clients{Config: cfg, requestTimeout: requestTimeout}
	if c.Clientset, err = kubernetes.NewForConfig(c.RequestConfig()); err != nil {
		return nil, err
	}
	if c.Policies, err = cnpclient.NewForConfig(c.RequestConfig()); err != nil {
		return nil, err
	}
	bound := orDefault(f.ReachTimeout, DefaultReachTimeout)
	if requestTimeout > 0 && requestTimeout < bound {
		bound = requestTimeout
	}
	if err := reach(ctx, c.Clientset, bound, cfg.Host, source); err != nil {
		return nil, err
	}
	if f.KubeConfig != nil && *f.KubeConfig != "" {
		c.KubectlFlags = append(c.KubectlFlags, "--kubeconfig", *f.KubeConfig)
	}
	for _, fl := range []struct {
		name string
		v    *string
	}{{"--context", f.Context}, {"--cluster", f.ClusterName}, {"--user", f.AuthInfoName},
		{"--server", f.APIServer}, {"--as", f.Impersonate}} {
		if fl.v != nil && *fl.v != "" {
			c.KubectlFlags = append(c.KubectlFlags, fl.name, *fl.v)
		}
	}
	return c, nil
}

// reach asks the API server for /version within bound, so that a server
// that accepts connections but never answers (TLS never starts, or HTTP is
// never answered) is reported now rather than when the caller's own
// deadline ends.
func reach(ctx context.Context, cs kubernetes.Interface, bound time.Duration, host, source string) error {
	rctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	// (ServerVersion takes no context: ask /version with ours)
	err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(rctx).Error()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil: // the caller's deadline or Ctrl-C, not ours
		return fmt.Errorf("connecting to the API server at %s (%s): %w", host, source, ctx.Err())
	case isTimeout(err):
		return fmt.Errorf("cannot reach the API server at %s (%s): it did not answer within %s; "+
			"check that the cluster is running and that this address is reachable from here (VPN, firewall, proxy): %w",
			host, source, bound, err)
	}
	return fmt.Errorf("cannot reach the API server at %s (%s): %w; "+
		"check that the cluster is running and that the kubeconfig's server address and credentials are right", host, source, err)
}

// isTimeout reports whether err is a deadline or a transport timeout (such
// as the TLS handshake's), rather than an answer or a refusal.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// checkKubeconfig turns client-go's silent fallback to http://localhost:8080
// into clear errors: a named kubeconfig that does not exist, one that
// defines no cluster (an empty file), no context to use (no current context
// and no --context) or a context it does not define, and no configuration
// at all outside a pod. It returns what configuration Connect uses, for
// messages: "kubeconfig FILE, context NAME" or "in-cluster configuration".
func (f *Flags) checkKubeconfig() (string, error) {
	var file, fix string // the kubeconfig, and how to name another
	switch env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); {
	case f.KubeConfig != nil && *f.KubeConfig != "":
		file, fix = *f.KubeConfig, "pass --kubeconfig your cluster's kubeconfig"
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("--kubeconfig %s: %w", file, err)
		}
	case env != "":
		file, fix = env, "point KUBECONFIG at your cluster's kubeconfig"
		found := false
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err == nil {
				found = true
			}
		}
		if !found {
			return "", fmt.Errorf("KUBECONFIG=%s: no such file; point it at your cluster's kubeconfig", env)
		}
	case os.Getenv("KUBERNETES_SERVICE_HOST") != "":
		// In a pod: client-go uses a usable default kubeconfig, else the
		// in-cluster configuration.
		if _, err := os.Stat(clientcmd.RecommendedHomeFile); err == nil {
			return "kubeconfig " + clientcmd.RecommendedHomeFile + " or the in-cluster configuration", nil
		}
		return "in-cluster configuration", nil
	default:
		file, fix = clientcmd.RecommendedHomeFile, "set KUBECONFIG or pass --kubeconfig"
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("no cluster configured: no kubeconfig at %s; set KUBECONFIG or pass --kubeconfig (or run in a pod with a service account)", file)
		}
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return "", fmt.Errorf("loading kubeconfig %s: %w", file, err)
	}
	overridden := func(p *string) bool { return p != nil && *p != "" }
	if len(raw.Clusters) == 0 && !overridden(f.APIServer) {
		return "", fmt.Errorf("kubeconfig %s defines no cluster (is it empty?): %s", file, fix)
	}
	name := raw.CurrentContext
	if overridden(f.Context) {
		name = *f.Context
	}
	contexts := make([]string, 0, len(raw.Contexts))
	for n := range raw.Contexts {
		contexts = append(contexts, n)
	}
	slices.Sort(contexts)
	known := "it defines none"
	if len(contexts) > 0 {
		known = "it defines " + strings.Join(contexts, ", ")
	}
	switch {
	case name == "" && (overridden(f.APIServer) || overridden(f.ClusterName)):
		// the cluster is named on the command line
	case name == "":
		return "", fmt.Errorf("kubeconfig %s has no current context, so it does not say which cluster to use (%s): "+
			"pass --context NAME, or run 'kubectl config use-context NAME'", file, known)
	case raw.Contexts[name] == nil && overridden(f.Context):
		return "", fmt.Errorf("--context: context %q is not in kubeconfig %s (%s)", name, file, known)
	case raw.Contexts[name] == nil:
		return "", fmt.Errorf("the current context %q is not in kubeconfig %s (%s): "+
			"pass --context NAME, or run 'kubectl config use-context NAME'", name, file, known)
	}
	if overridden(f.APIServer) {
		return "kubeconfig " + file, nil
	}
	cluster, namedBy := "", ""
	if overridden(f.ClusterName) {
		cluster, namedBy = *f.ClusterName, "--cluster"
	} else {
		cluster, namedBy = raw.Contexts[name].Cluster, fmt.Sprintf("context %q", name)
	}
	switch c := raw.Clusters[cluster]; {
	case c == nil:
		return "", fmt.Errorf("kubeconfig %s does not define cluster %q, named by %s: "+
			"fix the kubeconfig, or pass --context another context", file, cluster, namedBy)
	case c.Server == "":
		return "", fmt.Errorf("cluster %q in kubeconfig %s has no server address: fix the kubeconfig", cluster, file)
	}
	if name == "" {
		return fmt.Sprintf("kubeconfig %s, cluster %s", file, cluster), nil
	}
	return fmt.Sprintf("kubeconfig %s, context %s", file, name), nil
}

// Permission is one access a command needs.
type Permission struct {
	Verb, Group, Resource, Subresource string
	// Namespace and Name, when set, ask for the permission on that namespace
	// or that one object only.
	Namespace, Name string
}

func (p Permission) String() string {
	r := p.Resource
	if p.Subresource != "" {
		r += "/" + p.Subresource
	}
	if p.Group != "" {
		r += "." + p.Group
	}
	if p.Name != "" {
		r += " " + p.Name
	}
	if p.Namespace != "" {
		r += " in namespace " + p.Namespace
	}
	return p.Verb + " " + r
}

// CheckAccess asks the API server (SelfSubjectAccessReview) whether the
// current user has every permission, cluster-wide, and names all missing.
func CheckAccess(ctx context.Context, cs kubernetes.Interface, perms []Permission) error {
	missing, err := MissingPermissions(ctx, cs, perms)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing RBAC permissions (see deploy/ or README \"RBAC\"): %s", strings.Join(missing, ", "))
	}
	return nil
}

// MissingPermissions returns those of perms the caller lacks, as
// SelfSubjectAccessReviews answer.
func MissingPermissions(ctx context.Context, cs kubernetes.Interface, perms []Permission) ([]string, error) {
	var missing []string
	for _, p := range perms {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
			Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
				Verb: p.Verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Namespace: p.Namespace, Name: p.Name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("checking permissions: %w", err)
		}
		if !r.Status.Allowed {
			missing = append(missing, p.String())
		}
	}
	return missing, nil
}

// ClusterNetworkPolicyGroupVersion is the API of the ClusterNetworkPolicy
// kind netverify models.
const ClusterNetworkPolicyGroupVersion = "policy.networking.k8s.io/v1alpha2"

// ServesClusterNetworkPolicies asks the API server's discovery whether it
// serves ClusterNetworkPolicies (their CRD is installed).
func ServesClusterNetworkPolicies(cs kubernetes.Interface) (bool, error) {
	list, err := cs.Discovery().ServerResourcesForGroupVersion(ClusterNetworkPolicyGroupVersion)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("asking the API server whether it serves %s: %w", ClusterNetworkPolicyGroupVersion, err)
	}
	for _, r := range list.APIResources {
		if r.Name == "clusternetworkpolicies" {
			return true, nil
		}
	}
	return false, nil
}
