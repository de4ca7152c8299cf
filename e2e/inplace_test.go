//go:build e2e

package e2e

// In-place checks of live namespaces: the guides' example application in
// production (e2e/testdata/production), checked with a hand-written
// scenario and with `run -n`, its workloads watched for any disturbance.
// TestInPlace owns the seeded namespaces; its subtests run one after the
// other, the test itself beside the others.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netverify/netverify/results"
)

const agnhostImage = "registry.k8s.io/e2e-test-images/agnhost:2.53"

// seed applies a manifest of e2e/testdata/production (agnhost image
// filled in) and waits for its Deployments; the namespaces it creates go at
// the end of the test.
func seed(t *testing.T, file string, namespaces ...string) {
	t.Helper()
	seedAs(t, file, nil, namespaces...)
}

// seedAs is seed with the manifest's words replaced (old → new: a
// namespace's name).
func seedAs(t *testing.T, file string, replace []string, namespaces ...string) {
	t.Helper()
	data, err := os.ReadFile(testdata("production/" + file))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, strings.NewReplacer(append([]string{"AGNHOST", agnhostImage}, replace...)...).Replace(string(data)))
	t.Cleanup(func() {
		for _, ns := range namespaces {
			_, _ = kubectlErr("delete", "namespace", ns, "--wait=true", "--timeout=120s")
		}
	})
	for _, ns := range namespaces {
		kubectl(t, "-n", ns, "wait", "deployment", "--all", "--for=condition=Available", "--timeout=180s")
	}
}

// snapshot is what a check must not change: every pod (by UID) and the
// replica counts of the namespaces' workloads.
func snapshot(t *testing.T, namespaces ...string) string {
	t.Helper()
	var b strings.Builder
	for _, ns := range namespaces {
		b.WriteString(kubectl(t, "-n", ns, "get", "pods", "-l", "!netverify.io/run-id", "-o", "jsonpath={range .items[*]}{.metadata.uid} {.metadata.name}{\"\\n\"}{end}"))
		b.WriteString(kubectl(t, "-n", ns, "get", "deployments,replicasets", "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.name} {.status.replicas}/{.status.readyReplicas}{\"\\n\"}{end}"))
	}
	return b.String()
}

// watchProbePods watches the namespaces while runs go on: a probe pod of
// a run (label netverify.io/run-id) listed as a ready endpoint of any
// Service, or with a controller other than its run's ConfigMap, is a
// disturbance. stop returns what was seen, and how many probe pods.
func watchProbePods(t *testing.T, namespaces ...string) (stop func() (violations []string, seen int)) {
	t.Helper()
	done := make(chan struct{})
	var mu sync.Mutex
	var bad []string
	pods := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, ns := range namespaces {
				out, err := kubectlErr("-n", ns, "get", "pods", "-l", "netverify.io/run-id", "-o", "json")
				var list struct {
					Items []struct {
						Metadata struct {
							Name            string `json:"name"`
							OwnerReferences []struct {
								Kind       string `json:"kind"`
								Controller bool   `json:"controller"`
							} `json:"ownerReferences"`
						} `json:"metadata"`
					} `json:"items"`
				}
				if err == nil && json.Unmarshal([]byte(out), &list) == nil {
					mu.Lock()
					for _, p := range list.Items {
						pods[ns+"/"+p.Metadata.Name] = true
						for _, o := range p.Metadata.OwnerReferences {
							if o.Controller && o.Kind != "ConfigMap" {
								bad = append(bad, fmt.Sprintf("probe pod %s/%s adopted by a %s", ns, p.Metadata.Name, o.Kind))
							}
						}
					}
					mu.Unlock()
				}
				out, err = kubectlErr("-n", ns, "get", "endpointslices", "-o", "json")
				var slices struct {
					Items []struct {
						Metadata struct {
							Name string `json:"name"`
						} `json:"metadata"`
						Endpoints []struct {
							Conditions struct {
								Ready *bool `json:"ready"`
							} `json:"conditions"`
							TargetRef *struct {
								Name string `json:"name"`
							} `json:"targetRef"`
						} `json:"endpoints"`
					} `json:"items"`
				}
				if err == nil && json.Unmarshal([]byte(out), &slices) == nil {
					mu.Lock()
					for _, s := range slices.Items {
						for _, e := range s.Endpoints {
							if e.TargetRef != nil && pods[ns+"/"+e.TargetRef.Name] && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
								bad = append(bad, fmt.Sprintf("probe pod %s/%s a ready endpoint in EndpointSlice %s", ns, e.TargetRef.Name, s.Metadata.Name))
							}
						}
					}
					mu.Unlock()
				}
			}
			select {
			case <-done:
				return
			case <-time.After(time.Second): // (a probe pod never turns Ready: a ready one stays seen)
			}
		}
	}()
	return func() ([]string, int) {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return bad, len(pods)
	}
}

// noProbePodsLeft asserts that no probe pod nor owner ConfigMap of any run
// is left in the namespaces.
func noProbePodsLeft(t *testing.T, namespaces ...string) {
	t.Helper()
	eventually(t, 90*time.Second, func() string {
		for _, ns := range namespaces {
			out, err := kubectlErr("-n", ns, "get", "pods,configmaps", "-l", "netverify.io/run-id", "-o", "name")
			if err != nil || strings.TrimSpace(out) != "" {
				return fmt.Sprintf("left in %s (%v): %s", ns, err, out)
			}
		}
		return ""
	})
}

func report(t *testing.T, res netverifyResult) results.Report {
	t.Helper()
	var rep results.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("netverify -o json (exit %d): %v\nstdout:\n%s\nstderr:\n%s", res.code, err, res.stdout, res.stderr)
	}
	return rep
}

func TestInPlace(t *testing.T) {
	t.Parallel()
	defer guardBefore(t)()
	seed(t, "workloads.yaml", "production", "monitoring")
	apply(t, mustRead(t, testdata("production/policies.yaml")))
	before := snapshot(t, "production", "monitoring")
	stop := watchProbePods(t, "production", "monitoring")

	t.Run("seed check", func(t *testing.T) {
		// (on the second non-enforcing mode the zero-config run below shows
		// the same: every denied row fails)
		notOnSecondNonEnforcing(t)
		res := runNetverify(t, "", "run", "-f", testdata("production/seed-check.yaml"), "-o", "json", "--policy-reports")
		rep := report(t, res)
		if E.local { // the local cluster serves the OpenReports CRD: the results are there too
			out := kubectl(t, "-n", "production", "get", "reports.openreports.io", "netverify", "-o", "jsonpath={.summary.pass} {.summary.fail} {.metadata.labels.netverify\\.io/reported-run-id}")
			var pass, fail int
			var id string
			fmt.Sscan(out, &pass, &fail, &id)
			if id != rep.RunID || pass+fail != 8 || E.enforces && fail != 0 || !E.enforces && fail == 0 {
				t.Errorf("production's Report: pass %d, fail %d, run %s; want run %s's 8 results there (fails only without enforcement)", pass, fail, id, rep.RunID)
			}
		}
		if E.enforces {
			if res.code != 0 || rep.Summary.Passed != rep.Summary.Total {
				t.Fatalf("exit %d, %+v; want every seed check passing\n%s\n%s", res.code, rep.Summary, res.stdout, res.stderr)
			}
			return
		}
		// every connection the policies deny is reported; the allowed ones pass
		if res.code != 1 {
			t.Errorf("exit %d, want 1\n%s", res.code, res.stderr)
		}
		for _, r := range rep.Results {
			want := results.Pass
			if r.Expected == results.Blocked {
				want = results.Fail
			}
			if r.Status != want || len(r.Live) == 0 && !strings.HasPrefix(r.From, "elsewhere/") {
				t.Errorf("%s → %s: %s (live %v), want %s: %s", r.From, r.To, r.Status, r.Live, want, r.Reason)
			}
		}
	})

	t.Run("zero-config", func(t *testing.T) {
		res := runNetverify(t, "", "run", "-n", "production", "-o", "json")
		rep := report(t, res)
		denied := 0
		for _, r := range rep.Results {
			if r.DecidedBy == "" && !strings.HasPrefix(r.To, "ip:") {
				t.Errorf("%s → %s: no deciding rule", r.From, r.To)
			}
			if r.Expected != results.Blocked || r.Status == results.ImplementationDefined {
				continue
			}
			denied++
			if E.enforces && r.Status != results.Pass || !E.enforces && r.Status != results.Fail && !strings.HasPrefix(r.To, "ip:") {
				t.Errorf("%s → %s %d: %s: %s", r.From, r.To, r.Port, r.Status, r.Reason)
			}
		}
		want := 0
		if !E.enforces {
			want = 1
		}
		if res.code != want || denied < 10 || rep.Summary.Total < 30 {
			t.Errorf("exit %d (want %d), %d denied rows of %d\n%s", res.code, want, denied, rep.Summary.Total, res.stderr)
		}
		// the witness namespace the run made from allow-monitoring-scrape
		if !slices.ContainsFunc(rep.Results, func(r results.Result) bool {
			return strings.HasPrefix(r.From, "witness-") && strings.Contains(r.To, "deployment/backend") && r.Port == 9090
		}) {
			t.Errorf("no witness of backend:9090 from a namespace labelled purpose=monitoring")
		}
	})

	if E.enforces {
		t.Run("mistakes in staging", func(t *testing.T) {
			seed(t, "staging.yaml", "staging")
			res := runNetverify(t, "", "run", "-n", "staging", "-o", "json")
			rep := report(t, res)
			findings := strings.Join(rep.Findings, "\n")
			for _, want := range []string{"staging/database-allow-backend: podSelector app=databse selects no pod", "namespaceSelector name=kube-system matches no namespace"} {
				if !strings.Contains(findings, want) {
					t.Errorf("findings %q do not say %q", rep.Findings, want)
				}
			}
			var open, dns bool
			for _, r := range rep.Results {
				if r.From == "elsewhere/no-labels" && r.To == "svc:staging/database-service" && r.Expected == results.Allowed && r.Status == results.Pass {
					open = true // what the typo was meant to block: allowed by the live policies
				}
				if r.From == "staging/as-deploy-backend" && strings.HasPrefix(r.To, "dns:") && r.Expected == results.Blocked && r.Status == results.Pass {
					dns = true
				}
			}
			if res.code != 0 || !open || !dns {
				t.Errorf("exit %d; database open to others shown: %v; DNS blocked shown: %v\n%s", res.code, open, dns, res.stdout)
			}
			// and a hand-written in-place expectation of a block fails
			res = runNetverify(t, `apiVersion: netverify.io/v1alpha1
kind: Scenario
metadata: {name: staging-database}
spec:
  namespaces: [{name: staging, existing: true}, {name: elsewhere}]
  pods: [{name: outsider, namespace: elsewhere}]
  expect:
  - {from: elsewhere/outsider, to: svc:staging/database-service, port: 5432, allowed: false}
`, "run", "-f", "-", "-o", "json", "--match-budget", "15s")
			if rep := report(t, res); res.code != 1 || rep.Summary.Failed != 1 {
				t.Errorf("exit %d, %+v: want the block that the typo undid to fail", res.code, rep.Summary)
			}
			noProbePodsLeft(t, "staging")
		})

		t.Run("killed and cleaned up", func(t *testing.T) {
			r := startRun(t, "-f", testdata("production/seed-check.yaml"), "--match-budget", "5m")
			var id string
			eventually(t, 3*time.Minute, func() string {
				select {
				case <-r.done:
					t.Fatalf("netverify ended before creating its probe pods (%v):\n%s", r.err, r.stderr.String())
				default:
				}
				out, _ := kubectlErr("-n", "production", "get", "pods", "-l", "netverify.io/run-id", "-o", "jsonpath={.items[*].metadata.labels.netverify\\.io/run-id}")
				if f := strings.Fields(out); len(f) > 0 {
					id = f[0]
					return ""
				}
				return "no probe pod in production yet"
			})
			if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-r.done
			if out := kubectl(t, "-n", "production", "get", "configmaps", "-l", "netverify.io/run-id="+id, "-o", "name"); strings.TrimSpace(out) == "" {
				t.Fatal("the killed run left no owner ConfigMap: the test proves nothing")
			}
			res := runNetverify(t, "", "cleanup", "--run-id", id)
			if res.code != 0 || !regexp.MustCompile(`probe pods of run `+id+` in namespace production`).MatchString(res.stdout) {
				t.Fatalf("cleanup --run-id %s: exit %d\n%s\n%s", id, res.code, res.stdout, res.stderr)
			}
			noProbePodsLeft(t, "production", "monitoring")
		})
	}

	violations, seen := stop()
	if seen == 0 {
		t.Error("no probe pod was ever seen in production: the watch proves nothing")
	}
	for _, v := range violations {
		t.Error(v)
	}
	noProbePodsLeft(t, "production", "monitoring")
	if after := snapshot(t, "production", "monitoring"); after != before {
		t.Errorf("the workloads changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	noLeftovers(t)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
