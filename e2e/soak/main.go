// Command soak summarizes the reports of `make soak` (e2e/soak.sh) into
// docs/soak.md: per cluster mode, how many runs gave a wrong verdict, the
// enforcement-latency distribution and run times.
//
//	soak -o docs/soak.md DIR
//
// DIR holds MODE-N.json (a `netverify run -o json` report) and MODE-N.exit
// (its exit code) files. On the enforcing mode (cilium) a run is wrong when
// it did not exit 0; on a non-enforcing mode when it did not exit 1 or a
// blocked expectation passed.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
)

type runOf struct {
	mode string
	exit int
	rep  results.Report
}

func main() {
	out := flag.String("o", "", "write the summary here (default stdout)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: soak [-o FILE] DIR")
		os.Exit(2)
	}
	text, err := summarize(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if *out == "" {
		fmt.Print(text)
		return
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func summarize(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return "", err
	}
	byMode := map[string][]runOf{}
	var modes []string
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		mode := base[:strings.LastIndexByte(base, '-')]
		code, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".exit")
		if err != nil {
			return "", err
		}
		r := runOf{mode: mode}
		if r.exit, err = strconv.Atoi(strings.TrimSpace(string(code))); err != nil {
			return "", fmt.Errorf("%s: %w", f, err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &r.rep); err != nil {
				return "", fmt.Errorf("%s: %w", f, err)
			}
		}
		if _, ok := byMode[mode]; !ok {
			modes = append(modes, mode)
		}
		byMode[mode] = append(byMode[mode], r)
	}
	if len(modes) == 0 {
		return "", errors.New("no reports in " + dir)
	}
	slices.Sort(modes)
	var b strings.Builder
	b.WriteString("# Soak\n\n")
	fmt.Fprintf(&b, "Written by `make soak` on %s: the built-in suite run again and again on the enforcing local cluster (Cilium) and once per non-enforcing mode, on a fresh cluster each. Target: 0 wrong verdicts.\n\n", time.Now().UTC().Format("2006-01-02"))
	b.WriteString("| mode | runs | wrong verdicts | exit codes | enforcement latency p50 / p90 / max (ms) | slow runs (> 5 s) | run time min / median / max (s) |\n")
	b.WriteString("|---|---:|---:|---|---|---:|---|\n")
	for _, m := range modes {
		rs := byMode[m]
		wrong, slow := 0, 0
		codes := map[int]int{}
		var lat, dur []int64
		for _, r := range rs {
			codes[r.exit]++
			if isWrong(r) {
				wrong++
			}
			for _, res := range r.rep.Results {
				if res.Expected == results.Blocked && res.Status == results.Pass {
					lat = append(lat, res.LatencyMs)
				}
			}
			if r.rep.Enforcement != nil && r.rep.Enforcement.Slow {
				slow++
			}
			dur = append(dur, r.rep.DurationMs)
		}
		var cs []string
		for c, n := range codes {
			cs = append(cs, fmt.Sprintf("%d×exit %d", n, c))
		}
		slices.Sort(cs)
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %d | %s |\n", m, len(rs), wrong, strings.Join(cs, ", "),
			quantiles(lat, func(v int64) string { return strconv.FormatInt(v, 10) }), slow,
			minMedMax(dur))
	}
	b.WriteString("\nA run is wrong on the enforcing mode when it did not exit 0; on a non-enforcing mode when it did not exit 1 or a blocked expectation passed.\n")
	return b.String(), nil
}

func isWrong(r runOf) bool {
	if r.mode == "cilium" {
		return r.exit != 0
	}
	if r.exit != 1 {
		return true
	}
	for _, res := range r.rep.Results {
		if res.Expected == results.Blocked && res.Status == results.Pass && !strings.HasPrefix(res.To, "dns:") {
			return true
		}
	}
	return false
}

func quantiles(v []int64, f func(int64) string) string {
	if len(v) == 0 {
		return "—"
	}
	slices.Sort(v)
	at := func(q float64) int64 { return v[int(q*float64(len(v)-1))] }
	return f(at(0.5)) + " / " + f(at(0.9)) + " / " + f(v[len(v)-1])
}

func minMedMax(v []int64) string {
	if len(v) == 0 {
		return "—"
	}
	slices.Sort(v)
	s := func(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) }
	return s(v[0]) + " / " + s(v[len(v)/2]) + " / " + s(v[len(v)-1])
}
