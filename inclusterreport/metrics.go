package inclusterreport

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/netverify/netverify/results"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"
)

// Metric names.
const (
	// MetricExpectations counts the run's results by status; its "result"
	// label is passed, failed, errors, inconclusive, skipped or
	// implementationDefined (the names of the JSON summary).
	MetricExpectations = "netverify_expectations"
	// MetricDuration is the run's wall time in seconds.
	MetricDuration = "netverify_run_duration_seconds"
	// MetricLastRun is when the run ended (Unix seconds).
	MetricLastRun = "netverify_last_run_timestamp_seconds"
	// MetricLastSuccess is when the last successful run ended (Unix
	// seconds). It is only present for a successful run; see Push for how
	// an earlier success survives a failed run.
	MetricLastSuccess = "netverify_last_success_timestamp_seconds"
)

// Succeeded reports whether rep counts as a success for MetricLastSuccess:
// no failed, error or inconclusive result, and something checked (not every
// result skipped), i.e. `netverify run` would exit 0 without
// --allow-inconclusive or --allow-skipped. An inconclusive result, or a run
// that checked nothing, proved nothing, so it does not refresh the success
// time an alert watches.
func Succeeded(rep *results.Report) bool {
	return results.Summarize(rep.Results).ExitCode(false) == results.ExitOK
}

// gatherer holds rep's metrics in a registry of their own, so nothing else
// (Go runtime, process metrics) is exported or pushed with them.
func gatherer(rep *results.Report) prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	s := results.Summarize(rep.Results)
	exp := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricExpectations,
		Help: "Expectations of the last netverify run, by result.",
	}, []string{"result"})
	for _, c := range []struct {
		result string
		n      int
	}{
		{"passed", s.Passed}, {"failed", s.Failed}, {"errors", s.Errors},
		{"inconclusive", s.Inconclusive}, {"skipped", s.Skipped},
		{"implementationDefined", s.ImplementationDefined},
	} {
		exp.WithLabelValues(c.result).Set(float64(c.n))
	}
	dur := durationOf(rep)
	end := rep.Started.Add(dur)
	gauge := func(name, help string, v float64) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		return g
	}
	reg.MustRegister(exp,
		gauge(MetricDuration, "Wall time of the last netverify run in seconds.", dur.Seconds()),
		gauge(MetricLastRun, "When the last netverify run ended, in Unix seconds.", unixSeconds(end)))
	if Succeeded(rep) {
		reg.MustRegister(gauge(MetricLastSuccess,
			"When the last netverify run with every expectation met ended, in Unix seconds.", unixSeconds(end)))
	}
	return reg
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// WriteMetrics writes rep's metrics to w in the Prometheus text format
// (0.0.4), sorted by name: for node-exporter's textfile collector (write to a
// temporary file and rename it into the collector's directory) or `-o
// prometheus`.
//
// The text is a snapshot of one run, so MetricLastSuccess is left out when
// the run did not succeed; alert on `time() -
// netverify_last_success_timestamp_seconds` together with
// absent(netverify_last_success_timestamp_seconds), or keep an earlier file
// for it, or use Push, which keeps the last success time across failures.
func WriteMetrics(w io.Writer, rep *results.Report) error {
	mfs, err := gatherer(rep).Gather()
	if err != nil {
		return fmt.Errorf("gathering metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("writing metrics: %w", err)
		}
	}
	return nil
}

// Push sends rep's metrics to the Pushgateway at url under job.
//
// It uses the Pushgateway's POST (push.Pusher.Add), which replaces only the
// metrics named in the push within the job's group. A failed run pushes no
// MetricLastSuccess, so the success time pushed by the last successful run
// stays in the group instead of being overwritten by a zero or dropped;
// every other metric is replaced by this run's values.
func Push(ctx context.Context, url, job string, rep *results.Report) error {
	if err := push.New(url, job).Gatherer(gatherer(rep)).AddContext(ctx); err != nil {
		return fmt.Errorf("pushing metrics to %s: %w", url, err)
	}
	return nil
}
