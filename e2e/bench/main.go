// Command bench measures netverify's probing on a real cluster: an N-pod
// matrix (namespaces × pods, TCP 80 and 81, every pod to every pod) with one
// policy applied, in batch or per-probe mode. It prints one JSON line:
// probing time (policies applied → every verdict final, enforcement wait
// included), end-to-end time, exec calls, rounds and peak RSS (VmHWM).
//
//	bench -kubeconfig PATH -namespaces 3 -pods-per-ns 3 -mode batch
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/netverify/netverify/internal/version"
	"github.com/netverify/netverify/orchestrator"
	"github.com/netverify/netverify/scenarios"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type result struct {
	Nodes       int     `json:"nodes"`
	Pods        int     `json:"pods"`
	Probes      int     `json:"probes"`
	Mode        string  `json:"mode"`
	ProbingSec  float64 `json:"probingSec"`
	TotalSec    float64 `json:"totalSec"`
	ExecCalls   int     `json:"execCalls"`
	MaxExecRnd  int     `json:"maxExecCallsPerRound"`
	SourcePods  int     `json:"sourcePods"`
	Rounds      int     `json:"rounds"`
	PeakRSSMiB  float64 `json:"peakRssMiB"`
	Passed      int     `json:"passed"`
	NotPassed   int     `json:"notPassed"`
	FirstReason string  `json:"firstProblem,omitempty"`
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	nss := flag.Int("namespaces", 3, "namespaces")
	per := flag.Int("pods-per-ns", 3, "pods per namespace")
	mode := flag.String("mode", orchestrator.ModeBatch, "batch or per-probe")
	ports := flag.Int("ports", 2, "ports per pod: 1 (80) or 2 (80 and 81)")
	flag.Parse()
	if *ports != 1 && *ports != 2 {
		fmt.Fprintln(os.Stderr, "bench: -ports is 1 or 2")
		os.Exit(2)
	}
	if err := run(*kubeconfig, *nss, *per, *ports, *mode); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// matrix builds the scenario: pods a,b,c… in namespaces x,y,z…, each serving
// TCP 80 and 81 (80 alone with ports=1); one policy in x admits to x/a only
// x/b on port 80. Every pod probes every pod on each port (pods reaching
// themselves are allowed: Cilium always lets a pod reach itself). On
// several nodes the run spreads each pod over every node (same-node and
// cross-node pairs: 2 probes per node per expectation).
func matrix(nss, per, ports int) string {
	var b strings.Builder
	b.WriteString("apiVersion: netverify.io/v1alpha1\nkind: Scenario\nmetadata: {name: matrix}\nspec:\n  namespaces:\n")
	ns := func(i int) string { return string(rune('x'+i%3)) + strconv.Itoa(i/3) }
	pod := func(i int) string { return "p" + strconv.Itoa(i) }
	for i := 0; i < nss; i++ {
		fmt.Fprintf(&b, "  - {name: %s}\n", ns(i))
	}
	b.WriteString("  pods:\n")
	portList := []int{80, 81}[:ports]
	served := "[{port: 80}, {port: 81}]"
	if ports == 1 {
		served = "[{port: 80}]"
	}
	for i := 0; i < nss; i++ {
		for j := 0; j < per; j++ {
			fmt.Fprintf(&b, "  - {name: %s, namespace: %s, labels: {pod: %s}, ports: %s}\n", pod(j), ns(i), pod(j), served)
		}
	}
	fmt.Fprintf(&b, `  policies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: only-p1-to-p0, namespace: %s}
    spec:
      podSelector: {matchLabels: {pod: p0}}
      policyTypes: [Ingress]
      ingress: [{from: [{podSelector: {matchLabels: {pod: p1}}}], ports: [{port: 80}]}]
`, ns(0))
	b.WriteString("  expect:\n")
	for si := 0; si < nss; si++ {
		for sj := 0; sj < per; sj++ {
			for di := 0; di < nss; di++ {
				for dj := 0; dj < per; dj++ {
					for _, port := range portList {
						allowed := true
						if di == 0 && dj == 0 { // the policed pod
							self := si == 0 && sj == 0
							allowed = self || (si == 0 && sj == 1 && port == 80)
						}
						fmt.Fprintf(&b, "  - {from: %s/%s, to: %s/%s, port: \"%d\", allowed: %t}\n", ns(si), pod(sj), ns(di), pod(dj), port, allowed)
					}
				}
			}
		}
	}
	return b.String()
}

func run(kubeconfig string, nss, per, ports int, mode string) error {
	start := time.Now()
	scs, err := scenarios.LoadBytes("matrix", []byte(matrix(nss, per, ports)))
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	r := &orchestrator.Runner{
		Client: cs,
		Exec:   &orchestrator.APIExecutor{Config: cfg, Client: cs},
		Opts: orchestrator.Options{ProbeImage: version.ProbeImage(), Mode: mode, Concurrency: 32,
			NamespacePrefix: "nvbench", Log: os.Stderr},
	}
	rep, stats, err := r.Run(context.Background(), scs)
	if err != nil {
		return err
	}
	nodes := max(1, len(rep.Nodes))
	res := result{Nodes: nodes, Pods: nss * per * nodes, Probes: len(rep.Results), Mode: mode,
		ProbingSec: stats.Probing.Seconds(), TotalSec: time.Since(start).Seconds(),
		ExecCalls: stats.ExecCalls, MaxExecRnd: stats.MaxExecRound, SourcePods: stats.SourcePods,
		Rounds: stats.Rounds, PeakRSSMiB: peakRSS(), Passed: rep.Summary.Passed}
	res.NotPassed = res.Probes - res.Passed
	for _, x := range rep.Results {
		if !x.Match {
			res.FirstReason = fmt.Sprintf("%s -> %s:%d %s/%s (%s)", x.From, x.To, x.Port, x.Expected, x.Observed, x.Reason)
			break
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// peakRSS is this process's peak resident set (VmHWM) in MiB.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
