//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const saUser = "system:serviceaccount:netverify:netverify"

// jobOutcome waits for a Job to complete or fail and returns "Complete" or "Failed".
func jobOutcome(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, _ := kubectlErr("-n", "netverify", "get", "job", name, "-o",
			`jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}`)
		for _, c := range strings.Fields(out) {
			if c == "Complete" || c == "Failed" {
				return c
			}
		}
		time.Sleep(2 * time.Second)
	}
	dumpNamespace(t, "netverify")
	logs, _ := kubectlErr("-n", "netverify", "logs", "job/"+name)
	t.Fatalf("job %s did not finish within %s; logs:\n%s", name, timeout, logs)
	return ""
}

type history []struct {
	RunID      string `json:"runId"`
	Failed     int    `json:"failed"`
	Mismatches []struct {
		Scenario, From, To, Expected, Observed string
	} `json:"mismatches"`
}

// The shipped deploy/ (kustomize) runs netverify in the cluster with only its
// own RBAC, confined by its ValidatingAdmissionPolicy, and keeps a report.
func TestScheduledReport(t *testing.T) {
	notOnSecondNonEnforcing(t)
	t.Parallel()
	defer guardBefore(t)()
	base := filepath.Join(E.repo, "deploy", "kustomize", "base")
	kubectl(t, "apply", "-k", base)
	// the test starts its Jobs itself: the schedule (minute 17 of each hour)
	// firing mid-test would add a run of its own to the report's history
	kubectl(t, "-n", "netverify", "patch", "cronjob", "netverify", "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	t.Cleanup(func() {
		kubectlErr("delete", "-k", base, "--ignore-not-found", "--wait=true", "--timeout=120s")
		kubectlErr("delete", "configmap", "-n", "netverify", "netverify-report", "--ignore-not-found")
	})

	// the admission policy is in force before the first run: as the service
	// account, what is not netverify's is denied even though RBAC allows it
	t.Run("admission policy confines the service account", func(t *testing.T) {
		eventually(t, 30*time.Second, func() string {
			out, err := kubectlErr("--as", saUser, "create", "namespace", "e2e-not-netverify", "--dry-run=server")
			if err == nil || !strings.Contains(out, "netverify") {
				return "creating an unlabelled namespace as the service account was not denied by the policy: " + out
			}
			return ""
		})
		coredns := strings.TrimSpace(kubectl(t, "-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns", "-o", "jsonpath={.items[0].metadata.name}"))
		kubectlErr("create", "namespace", "e2e-vap-victim")
		defer kubectlErr("delete", "namespace", "e2e-vap-victim", "--wait=false")
		denied := map[string][]string{
			"delete a namespace that is not netverify's": {"delete", "namespace", "e2e-vap-victim", "--dry-run=server"},
			"create a pod outside its namespaces":        {"-n", "default", "run", "e2e-x", "--image=netverify/probe:v0.1.0", "--dry-run=server"},
			// the exec request itself (kubectl exec would stop earlier, at RBAC's get pods)
			"exec outside its namespaces": {"create", "--raw", "/api/v1/namespaces/kube-system/pods/" + coredns + "/exec?command=true&stdout=true", "-f", "/dev/null"},
		}
		// a cluster-wide kind: not even RBAC grants it (deploy/README.md)
		if out, _ := kubectlErr("--as", saUser, "auth", "can-i", "create", "clusternetworkpolicies.policy.networking.k8s.io", "--all-namespaces"); strings.TrimSpace(out) != "no" {
			t.Errorf("the service account may create ClusterNetworkPolicies: %q", out)
		}
		for what, args := range denied {
			out, err := kubectlErr(append([]string{"--as", saUser}, args...)...)
			if err == nil {
				t.Errorf("%s: allowed as %s\n%s", what, saUser, out)
			} else if !strings.Contains(out, "ValidatingAdmissionPolicy 'netverify-confine'") {
				t.Errorf("%s: failed, but not by the admission policy: %s", what, out)
			}
		}
	})

	if !E.enforces {
		// as runNetverify does: on a non-enforcing cluster each run waits out
		// its match budget, and two in a row at the default minute cost CI time
		kubectl(t, "-n", "netverify", "patch", "cronjob", "netverify", "--type=json", "-p",
			`[{"op":"add","path":"/spec/jobTemplate/spec/template/spec/containers/0/args/-","value":"--match-budget=20s"}]`)
	}
	runs := []string{"e2e-report-1", "e2e-report-2"}
	var runIDs []string
	for i, job := range runs {
		kubectl(t, "-n", "netverify", "create", "job", "--from=cronjob/netverify", job)
		outcome := jobOutcome(t, job, 8*time.Minute)
		logs, _ := kubectlErr("-n", "netverify", "logs", "job/"+job)
		want := "Complete"
		if !E.enforces {
			want = "Failed"
		}
		if outcome != want {
			// how the container ended (OOMKilled, a signal, an exit code) and what was said about it
			pods, _ := kubectlErr("-n", "netverify", "get", "pods", "-l", "job-name="+job, "-o",
				`jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.reason} {.status.message} {.status.containerStatuses[*].state}{"\n"}{end}`)
			events, _ := kubectlErr("-n", "netverify", "get", "events", "--sort-by=.lastTimestamp")
			t.Fatalf("run %d: job %s; want %s\npods: %s\nevents:\n%s\nlogs:\n%s", i+1, outcome, want, pods, events, logs)
		}
		raw := kubectl(t, "-n", "netverify", "get", "configmap", "netverify-report", "-o", "jsonpath={.data.history\\.json}")
		var h history
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			t.Fatalf("history.json: %v\n%s", err, raw)
		}
		if len(h) != i+1 {
			t.Fatalf("after run %d the history has %d entries", i+1, len(h))
		}
		last := h[len(h)-1]
		runIDs = append(runIDs, last.RunID)
		if len(h) > 1 && h[0].RunID == last.RunID {
			t.Fatalf("the second run did not append: both entries are run %s", last.RunID)
		}
		if E.enforces && last.Failed != 0 {
			t.Fatalf("enforcing cluster: report shows %d failed: %+v\n%s", last.Failed, last.Mismatches, logs)
		}
		if !E.enforces {
			if last.Failed == 0 || len(last.Mismatches) == 0 {
				t.Fatalf("non-enforcing cluster: report lists no mismatches: %+v", last)
			}
			events := kubectl(t, "-n", "netverify", "get", "events", "--field-selector",
				"involvedObject.kind=ConfigMap,involvedObject.name=netverify-report,type=Warning", "-o", "name")
			if strings.TrimSpace(events) == "" {
				t.Fatal("no Warning Event on the report ConfigMap")
			}
		}
		t.Log(fmt.Sprintf("run %d: job %s, %d failed", i+1, outcome, last.Failed))
	}
	for _, id := range runIDs { // the CronJob's runs use the default prefix, as other tests do
		noLeftoversRun(t, id)
	}

	// In place, with only the shipped in-place Roles (deploy/kustomize/inplace:
	// role/ in the checked namespace, cluster-dns.yaml) and the admission
	// policy: the staging fixture as namespace "shop", checked by `-n shop
	// --policy-reports`; its results land in shop's Report.
	t.Run("in place", func(t *testing.T) {
		seedAs(t, "staging.yaml", []string{"staging", "shop"}, "shop")
		dir := t.TempDir()
		inplace := filepath.Join(E.repo, "deploy", "kustomize", "inplace")
		role, err := filepath.Rel(dir, filepath.Join(inplace, "role"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("namespace: shop\nresources: ["+role+"]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		kubectl(t, "apply", "-k", dir)
		kubectl(t, "apply", "-f", filepath.Join(inplace, "cluster-dns.yaml"))
		t.Cleanup(func() { kubectlErr("delete", "-f", filepath.Join(inplace, "cluster-dns.yaml"), "--ignore-not-found") })
		// the in-place check alone (the suite ran twice above), as the
		// shipped overlay's patch adds it: -n NS --policy-reports
		args := `["run", "-n", "shop", "--policy-reports", "--report-configmap", "netverify/netverify-report", "--image-probe", "netverify/probe:v0.1.0"`
		if !E.enforces {
			args += `, "--match-budget=20s"`
		}
		kubectl(t, "-n", "netverify", "patch", "cronjob", "netverify", "--type=json", "-p",
			`[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/containers/0/args","value":`+args+`]}]`)
		kubectl(t, "-n", "netverify", "create", "job", "--from=cronjob/netverify", "e2e-inplace")
		outcome := jobOutcome(t, "e2e-inplace", 8*time.Minute)
		logs, _ := kubectlErr("-n", "netverify", "logs", "job/e2e-inplace")
		if want := map[bool]string{true: "Complete", false: "Failed"}[E.enforces]; outcome != want {
			t.Fatalf("job %s, want %s\n%s", outcome, want, logs)
		}
		out := kubectl(t, "-n", "shop", "get", "reports.openreports.io", "netverify", "-o", "jsonpath={.summary.pass} {.summary.fail} {.metadata.labels.netverify\\.io/reported-run-id}")
		var pass, fail int
		var id string
		fmt.Sscan(out, &pass, &fail, &id)
		if id == "" || pass == 0 || E.enforces && fail != 0 || !E.enforces && fail == 0 {
			t.Errorf("shop's Report: pass %d, fail %d, run %q\n%s", pass, fail, id, logs)
		}
		noProbePodsLeft(t, "shop")
		noLeftoversRun(t, id)
	})
}
