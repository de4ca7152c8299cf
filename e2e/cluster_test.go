//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/internal/version"
)

// The smoke test checks the cluster itself, without netverify: the node, DNS,
// Services, the stubs, the egress guard, and whether policy is enforced.

const smokeNS = "e2e-smoke"

func probePodManifest(name, ns, app string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %[1]s, namespace: %[2]s, labels: {app: %[3]s, e2e: smoke}}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: %[4]s
    imagePullPolicy: IfNotPresent
    command: [/netverify-probe, serve, --listen, "tcp:8080,udp:8053"]
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, name, ns, app, version.ProbeImage())
}

type connectResult struct {
	Verdict    string `json:"verdict"`
	Reason     string `json:"reason"`
	AnsweredBy string `json:"answeredBy"`
	Detail     string `json:"detail"`
}

// connect runs the probe program's single-probe form in pod.
func connect(t *testing.T, ns, pod, proto, host string, port int) connectResult {
	t.Helper()
	args := []string{"-n", ns, "exec", pod, "-c", "probe", "--", "/netverify-probe", "connect", "--proto", proto, "--host", host, "--timeout", "1s"}
	if proto != "dns" {
		args = append(args, "--port", fmt.Sprint(port))
	}
	out, _ := kubectlErr(args...) // exit 1/2 for blocked/error; the JSON line says which
	var r connectResult
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("connect %s %s:%d from %s/%s: unparsable output %q", proto, host, port, ns, pod, out)
	}
	return r
}

// eventually polls f until it returns "" or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func TestClusterSmoke(t *testing.T) {
	if out := kubectl(t, "get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"); !strings.Contains(out, "True") {
		t.Fatalf("node not Ready: %q", out)
	}
	before := 0
	if E.local {
		before = guardCounter(t)
	}
	kubectlErr("delete", "namespace", smokeNS, "--wait=true", "--ignore-not-found")
	kubectl(t, "create", "namespace", smokeNS)
	t.Cleanup(func() { kubectlErr("delete", "namespace", smokeNS, "--wait=true", "--timeout=60s") })
	apply(t, probePodManifest("frontend", smokeNS, "frontend")+"---\n"+
		probePodManifest("backend", smokeNS, "backend")+"---\n"+
		probePodManifest("random", smokeNS, "random")+`---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: `+smokeNS+`}
spec:
  selector: {app: backend}
  ports: [{port: 80, targetPort: 8080}]
`)
	if _, err := kubectlErr("-n", smokeNS, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s"); err != nil {
		dumpNamespace(t, smokeNS)
		t.Fatalf("smoke pods not Ready: %v", err)
	}
	backendIP := strings.TrimSpace(kubectl(t, "-n", smokeNS, "get", "pod", "backend", "-o", "jsonpath={.status.podIP}"))

	t.Run("dns resolves a Service name", func(t *testing.T) {
		r := connect(t, smokeNS, "frontend", "dns", "backend."+smokeNS+".svc.cluster.local", 0)
		if r.Verdict != "allowed" {
			t.Fatalf("DNS lookup: %+v", r)
		}
	})
	t.Run("ClusterIP service answers with its backend", func(t *testing.T) {
		eventually(t, 20*time.Second, func() string {
			r := connect(t, smokeNS, "frontend", "tcp", "backend."+smokeNS+".svc.cluster.local", 80)
			if r.Verdict != "allowed" || r.AnsweredBy != smokeNS+"/backend" {
				return fmt.Sprintf("service probe: %+v", r)
			}
			return ""
		})
	})
	if E.local {
		t.Run("stubs answer a pod when no policy applies", func(t *testing.T) {
			for _, target := range []string{"169.254.169.254:80", "100.100.100.200:80", "203.0.113.10:443", "203.0.113.10:80"} {
				host, port, _ := strings.Cut(target, ":")
				var p int
				fmt.Sscan(port, &p)
				r := connect(t, smokeNS, "frontend", "tcp", host, p)
				if r.Verdict != "allowed" || !strings.HasPrefix(r.AnsweredBy, "netverify-stub") {
					t.Errorf("%s: %+v (want an answer from the local stub)", target, r)
				}
			}
		})
	}

	t.Run("policy admitting only frontend to backend:8080", func(t *testing.T) {
		for _, pod := range []string{"frontend", "random"} {
			if r := connect(t, smokeNS, pod, "tcp", backendIP, 8080); r.Verdict != "allowed" {
				t.Fatalf("before policy, %s -> backend: %+v", pod, r)
			}
		}
		apply(t, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-from-frontend, namespace: `+smokeNS+`}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: 8080, protocol: TCP}]
`)
		start := time.Now()
		if E.enforces {
			eventually(t, 15*time.Second, func() string {
				if r := connect(t, smokeNS, "random", "tcp", backendIP, 8080); r.Verdict != "blocked" {
					return fmt.Sprintf("random -> backend:8080 still %+v", r)
				}
				return ""
			})
			t.Logf("enforced %s after apply", time.Since(start).Round(100*time.Millisecond))
		} else {
			// Not enforcing: the policy must change nothing, even after a while.
			time.Sleep(5 * time.Second)
			if r := connect(t, smokeNS, "random", "tcp", backendIP, 8080); r.Verdict != "allowed" {
				t.Fatalf("non-enforcing cluster blocked random -> backend: %+v", r)
			}
		}
		if r := connect(t, smokeNS, "frontend", "tcp", backendIP, 8080); r.Verdict != "allowed" || r.AnsweredBy != smokeNS+"/backend" {
			t.Fatalf("frontend -> backend:8080 after policy: %+v", r)
		}
	})

	if E.local {
		t.Run("guard drops off-machine traffic and nothing else hit it", func(t *testing.T) {
			if n := guardCounter(t); n != before {
				t.Fatalf("guard counter rose from %d to %d before the positive control: pod traffic tried to leave the machine", before, n)
			}
			r := connect(t, smokeNS, "frontend", "tcp", "198.51.100.1", 80)
			if r.Verdict == "allowed" {
				t.Fatalf("a pod reached 198.51.100.1: %+v", r)
			}
			if n := guardCounter(t); n <= before {
				t.Fatalf("guard counter %d did not rise (was %d) for the pod's connection to 198.51.100.1", n, before)
			}
		})
	}
}
