// Package kube holds what netverify's subcommands share: I/O streams, the
// kubectl-style cluster flags, client construction and exit errors.
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
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

// Flags are the kubectl-style cluster flags (--kubeconfig, --context, …).
type Flags struct{ *genericclioptions.ConfigFlags }

// NewFlags returns the cluster flags, without the namespace flag (netverify
// makes its own namespaces).
func NewFlags() *Flags {
	cf := genericclioptions.NewConfigFlags(true)
	cf.Namespace = nil
	return &Flags{cf}
}

// AddTo registers the flags.
func (f *Flags) AddTo(fs *pflag.FlagSet) { f.ConfigFlags.AddFlags(fs) }

// Clients are what a command needs to talk to a cluster.
type Clients struct {
	Config    *rest.Config
	Clientset kubernetes.Interface
	// KubectlFlags repeat --kubeconfig/--context in repro lines.
	KubectlFlags []string
}

// Connect builds clients (a kubeconfig, or the in-cluster config when run in
// a pod) and checks the API server answers. Errors say what to do next.
func (f *Flags) Connect(ctx context.Context) (*Clients, error) {
	if err := f.checkKubeconfig(); err != nil {
		return nil, err
	}
	cfg, err := f.ToRESTConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) || errors.Is(err, clientcmd.ErrEmptyConfig) {
			return nil, errors.New("no cluster configured: set KUBECONFIG or pass --kubeconfig (or run in a pod with a service account)")
		}
		return nil, fmt.Errorf("loading cluster configuration: %w", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	// (ServerVersion takes no context: ask /version with ours, so Ctrl-C
	// and --timeout end a dial to an unreachable API server)
	if err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Error(); err != nil {
		return nil, fmt.Errorf("cannot reach the cluster at %s: %w", cfg.Host, err)
	}
	c := &Clients{Config: cfg, Clientset: cs}
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

// checkKubeconfig turns client-go's silent fallback to localhost:8080 into
// clear errors: a named kubeconfig that does not exist, or no configuration
// at all outside a pod.
func (f *Flags) checkKubeconfig() error {
	if f.KubeConfig != nil && *f.KubeConfig != "" {
		if _, err := os.Stat(*f.KubeConfig); err != nil {
			return fmt.Errorf("--kubeconfig %s: %w", *f.KubeConfig, err)
		}
		return nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err == nil {
				return nil
			}
		}
		return fmt.Errorf("KUBECONFIG=%s: no such file; point it at your cluster's kubeconfig", env)
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return nil // in a pod: the in-cluster config
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	if len(raw.Clusters) == 0 {
		return errors.New("no cluster configured: set KUBECONFIG or pass --kubeconfig (or run in a pod with a service account)")
	}
	return nil
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
	var missing []string
	for _, p := range perms {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authv1.SelfSubjectAccessReview{
			Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
				Verb: p.Verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Namespace: p.Namespace, Name: p.Name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("checking permissions: %w", err)
		}
		if !r.Status.Allowed {
			missing = append(missing, p.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing RBAC permissions (see deploy/ or README \"RBAC\"): %s", strings.Join(missing, ", "))
	}
	return nil
}
