package kube

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// guard is how long a test lets Connect or a request run before calling it
// hung: generous next to the bounds the tests set (1 s), short next to what
// a hang costs (client-go's 10 s TLS handshake timeout, or forever).
const guard = 8 * time.Second

// isolate keeps the machine's own cluster configuration out of a test: no
// KUBECONFIG, no in-cluster environment, and ~/.kube/config moved to a
// temporary path (returned) that does not exist yet.
func isolate(t *testing.T) (homeConfig string) {
	t.Helper()
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	old := clientcmd.RecommendedHomeFile
	clientcmd.RecommendedHomeFile = filepath.Join(t.TempDir(), ".kube", "config")
	t.Cleanup(func() { clientcmd.RecommendedHomeFile = old })
	return clientcmd.RecommendedHomeFile
}

// kubeconfig describes a kubeconfig file for writeKubeconfig.
type kubeconfig struct {
	server         string
	caPEM          []byte
	contexts       []string // each names cluster "c" and user "u"
	currentContext string
}

// writeKubeconfig writes k to a temporary file and returns its path.
func writeKubeconfig(t *testing.T, k kubeconfig) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	if k.server != "" {
		cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: k.server, CertificateAuthorityData: k.caPEM}
		cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "t"}
	}
	for _, name := range k.contexts {
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	}
	cfg.CurrentContext = k.currentContext
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeFile writes content to a temporary file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// apiServer is a TLS server that answers GET /version when answerVersion is
// set and holds every other request until the test ends: an API server that
// has stopped answering.
func apiServer(t *testing.T, answerVersion bool) (url string, caPEM []byte) {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answerVersion && r.URL.Path == "/version" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
			return
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: unblocks the handlers Close waits for
	return srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// silentTCP accepts TCP connections and never writes to them: TLS never
// starts. It returns the https URL to it.
func silentTCP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "https://" + ln.Addr().String()
}

// testFlags are the cluster flags with --kubeconfig and --context set (when
// not empty) and 1 s bounds.
func testFlags(kubeconfigPath, context string) *Flags {
	f := NewFlags()
	*f.KubeConfig = kubeconfigPath
	*f.Context = context
	f.ReachTimeout = time.Second
	f.RequestTimeout = time.Second
	return f
}

// within runs fn and fails the test if it has not returned within guard.
// fn gets a context that is never cancelled while it runs, so only the
// bounds under test can end it.
func within[T any](t *testing.T, what string, fn func(ctx context.Context) (T, error)) (T, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // ends a hung fn once the test has failed
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(guard):
		t.Fatalf("%s had not returned after %s: it hangs", what, guard)
		panic("unreachable")
	}
}

func connect(t *testing.T, f *Flags) (*Clients, error) {
	t.Helper()
	return within(t, "Connect", f.Connect)
}

// Defect 3: an API server that accepts TCP but never answers — TLS never
// starts, or TLS completes and HTTP is never answered — makes Connect fail
// fast, naming the server and what to check.
func TestConnectFailsFastWhenTheServerDoesNotAnswer(t *testing.T) {
	isolate(t)
	tlsURL, ca := apiServer(t, false)
	for _, tc := range []struct {
		name   string
		server string
		ca     []byte
	}{
		{"TLS never starts", silentTCP(t), nil},
		{"HTTP never answered", tlsURL, ca},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKubeconfig(t, kubeconfig{server: tc.server, caPEM: tc.ca, contexts: []string{"x"}, currentContext: "x"})
			_, err := connect(t, testFlags(path, ""))
			if err == nil {
				t.Fatal("Connect: want an error, got nil")
			}
			for _, want := range []string{tc.server, "did not answer within 1s", path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// Defect 3: once connected, an ordinary request to an API server that has
// stopped answering ends at the request timeout, not at --timeout; the
// config handed out for exec streams has no request timeout, since a stream
// lasts as long as its command.
func TestRequestsTimeOut(t *testing.T) {
	isolate(t)
	url, ca := apiServer(t, true)
	path := writeKubeconfig(t, kubeconfig{server: url, caPEM: ca, contexts: []string{"x"}, currentContext: "x"})
	c, err := connect(t, testFlags(path, ""))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if c.Config.Timeout != 0 {
		t.Errorf("Clients.Config.Timeout = %s, want 0: exec streams must not be cut by the request timeout", c.Config.Timeout)
	}
	_, err = within(t, "a request to a silent API server", func(ctx context.Context) (any, error) {
		return c.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	})
	if err == nil {
		t.Fatal("List: want an error from a server that never answers, got nil")
	}
	if rc := c.RequestConfig(); rc.Timeout != time.Second {
		t.Errorf("RequestConfig().Timeout = %s, want the 1s request timeout", rc.Timeout)
	}
}

// Defect 4: a kubeconfig that names no cluster, or no context to use, is an
// error naming the file and what to do, not a silent http://localhost:8080.
func TestConnectRejectsUnusableKubeconfig(t *testing.T) {
	url, ca := apiServer(t, true)
	noCurrent := func(t *testing.T) string {
		return writeKubeconfig(t, kubeconfig{server: url, caPEM: ca, contexts: []string{"dev", "prod"}})
	}
	tests := []struct {
		name string
		// setup returns the --kubeconfig and --context flags, after setting
		// the environment.
		setup   func(t *testing.T, home string) (kubeconfig, context string)
		wantErr []string // empty: Connect succeeds
	}{
		{"empty --kubeconfig", func(t *testing.T, _ string) (string, string) {
			return writeFile(t, ""), ""
		}, []string{"kubeconfig %s defines no cluster", "--kubeconfig"}},
		{"empty KUBECONFIG", func(t *testing.T, _ string) (string, string) {
			path := writeFile(t, "")
			t.Setenv("KUBECONFIG", path)
			return "", ""
		}, []string{"kubeconfig %s defines no cluster", "KUBECONFIG"}},
		{"empty default kubeconfig", func(t *testing.T, home string) (string, string) {
			if err := os.MkdirAll(filepath.Dir(home), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(home, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return "", ""
		}, []string{"kubeconfig %s defines no cluster"}},
		{"no kubeconfig anywhere", func(t *testing.T, _ string) (string, string) {
			return "", ""
		}, []string{"no cluster configured", "%s", "KUBECONFIG", "--kubeconfig"}},
		{"no current context", func(t *testing.T, _ string) (string, string) {
			return noCurrent(t), ""
		}, []string{"kubeconfig %s has no current context", "--context", "kubectl config use-context", "dev, prod"}},
		{"no current context in KUBECONFIG", func(t *testing.T, _ string) (string, string) {
			t.Setenv("KUBECONFIG", noCurrent(t))
			return "", ""
		}, []string{"kubeconfig %s has no current context", "--context", "kubectl config use-context"}},
		{"no current context in the default kubeconfig", func(t *testing.T, home string) (string, string) {
			if err := os.MkdirAll(filepath.Dir(home), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(noCurrent(t), home); err != nil {
				t.Fatal(err)
			}
			return "", ""
		}, []string{"kubeconfig %s has no current context", "--context", "kubectl config use-context"}},
		{"current context missing", func(t *testing.T, _ string) (string, string) {
			return writeKubeconfig(t, kubeconfig{server: url, caPEM: ca, contexts: []string{"dev"}, currentContext: "gone"}), ""
		}, []string{`context "gone"`, "kubeconfig %s", "kubectl config use-context"}},
		{"--context missing", func(t *testing.T, _ string) (string, string) {
			return noCurrent(t), "gone"
		}, []string{`context "gone"`, "kubeconfig %s", "dev, prod"}},
		{"context names a missing cluster", func(t *testing.T, _ string) (string, string) {
			return writeFile(t, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: gone, user: u}}]
current-context: dev
`), ""
		}, []string{`kubeconfig %s does not define cluster "gone"`}},
		{"cluster without a server", func(t *testing.T, _ string) (string, string) {
			return writeFile(t, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: c, user: u}}]
current-context: dev
`), ""
		}, []string{`cluster "c" in kubeconfig %s has no server address`}},
		{"explicit kubeconfig wins over in-cluster", func(t *testing.T, _ string) (string, string) {
			t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
			t.Setenv("KUBERNETES_SERVICE_PORT", "443")
			return writeFile(t, ""), ""
		}, []string{"kubeconfig %s defines no cluster"}},
		{"no current context, --context given", func(t *testing.T, _ string) (string, string) {
			return noCurrent(t), "prod"
		}, nil},
		{"current context", func(t *testing.T, _ string) (string, string) {
			return writeKubeconfig(t, kubeconfig{server: url, caPEM: ca, contexts: []string{"dev"}, currentContext: "dev"}), ""
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			kc, kctx := tc.setup(t, home)
			_, err := connect(t, testFlags(kc, kctx))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Connect: want an error, got nil")
			}
			file := kc
			if file == "" {
				file = os.Getenv("KUBECONFIG")
			}
			if file == "" {
				file = home
			}
			for _, want := range tc.wantErr {
				if strings.Contains(want, "%s") {
					want = strings.ReplaceAll(want, "%s", file)
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "localhost:8080") {
				t.Errorf("error %q: fell back to localhost:8080", err)
			}
		})
	}
}

// In a pod, with no kubeconfig given and none at the default path, the
// in-cluster configuration is used: the kubeconfig checks must let it
// through.
func TestInClusterNeedsNoKubeconfig(t *testing.T) {
	isolate(t)
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")
	if _, err := testFlags("", "").checkKubeconfig(); err != nil {
		t.Errorf("checkKubeconfig in a pod without a kubeconfig: %v, want nil (in-cluster config)", err)
	}
}
