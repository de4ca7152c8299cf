package inclusterreport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/netverify/netverify/results"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// t0 is 1782907200 in Unix seconds; makeReport runs take 1.5 s.
const failingMetrics = `# HELP netverify_expectations Expectations of the last netverify run, by result.
# TYPE netverify_expectations gauge
netverify_expectations{result="errors"} 1
netverify_expectations{result="failed"} 1
netverify_expectations{result="implementationDefined"} 0
netverify_expectations{result="inconclusive"} 0
netverify_expectations{result="passed"} 2
netverify_expectations{result="skipped"} 0
# HELP netverify_last_run_timestamp_seconds When the last netverify run ended, in Unix seconds.
# TYPE netverify_last_run_timestamp_seconds gauge
netverify_last_run_timestamp_seconds 1.7829072015e+09
# HELP netverify_run_duration_seconds Wall time of the last netverify run in seconds.
# TYPE netverify_run_duration_seconds gauge
netverify_run_duration_seconds 1.5
`

const passingMetrics = `# HELP netverify_expectations Expectations of the last netverify run, by result.
# TYPE netverify_expectations gauge
netverify_expectations{result="errors"} 0
netverify_expectations{result="failed"} 0
netverify_expectations{result="implementationDefined"} 0
netverify_expectations{result="inconclusive"} 0
netverify_expectations{result="passed"} 1
netverify_expectations{result="skipped"} 1
# HELP netverify_last_run_timestamp_seconds When the last netverify run ended, in Unix seconds.
# TYPE netverify_last_run_timestamp_seconds gauge
netverify_last_run_timestamp_seconds 1.7829072015e+09
# HELP netverify_last_success_timestamp_seconds When the last netverify run with every expectation met ended, in Unix seconds.
# TYPE netverify_last_success_timestamp_seconds gauge
netverify_last_success_timestamp_seconds 1.7829072015e+09
# HELP netverify_run_duration_seconds Wall time of the last netverify run in seconds.
# TYPE netverify_run_duration_seconds gauge
netverify_run_duration_seconds 1.5
`

func failingReport() *results.Report {
	return makeReport("bad", 0,
		makeResult("core", "a", "b"), makeResult("core", "a", "c"),
		makeResult("core", "x", "b", failed), makeResult("core", "x", "c", broken))
}

func passingReport(minute int) *results.Report {
	return makeReport("good", minute,
		makeResult("core", "a", "b"), makeResult("core", "a", "c", func(r *results.Result) { r.Status = results.Skipped }))
}

func TestWriteMetrics(t *testing.T) {
	t.Parallel()
	inconclusive := makeReport("inc", 0, makeResult("core", "a", "b", func(r *results.Result) { r.Status = results.Inconclusive }))
	for _, tc := range []struct {
		name string
		rep  *results.Report
		want string
	}{
		{"failing run: no success time", failingReport(), failingMetrics},
		{"passing run", passingReport(0), passingMetrics},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := WriteMetrics(&buf, tc.rep); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", buf.String(), tc.want)
			}
		})
	}
	if Succeeded(inconclusive) {
		t.Error("an inconclusive run must not count as a success")
	}
	allSkipped := makeReport("skip", 0, makeResult("core", "a", "b", func(r *results.Result) { r.Status = results.Skipped }))
	if Succeeded(allSkipped) || Succeeded(makeReport("none", 0)) {
		t.Error("a run that checked nothing must not count as a success")
	}
	if !Succeeded(passingReport(0)) {
		t.Error("a passing run with a skipped result must count as a success")
	}
}

// pushgateway is a fake Pushgateway for one job: PUT replaces the group,
// POST replaces only the metric families it names (the real one's
// semantics).
type pushgateway struct {
	mu      sync.Mutex
	methods []string
	paths   []string
	group   map[string]*dto.MetricFamily
}

func (p *pushgateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
	pushed := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pushed[mf.GetName()] = mf
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.methods, p.paths = append(p.methods, r.Method), append(p.paths, r.URL.Path)
	if r.Method == http.MethodPut || p.group == nil {
		p.group = map[string]*dto.MetricFamily{}
	}
	for n, mf := range pushed {
		p.group[n] = mf
	}
	w.WriteHeader(http.StatusOK)
}

func (p *pushgateway) value(name string, labels ...string) (float64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mf, ok := p.group[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if len(labels) == 0 || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == labels[0]) {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestPushKeepsTheLastSuccessAcrossFailures(t *testing.T) {
	t.Parallel()
	pg := &pushgateway{}
	srv := httptest.NewServer(pg)
	defer srv.Close()
	ctx := context.Background()

	if err := Push(ctx, srv.URL, "netverify", passingReport(0)); err != nil {
		t.Fatal(err)
	}
	success, ok := pg.value(MetricLastSuccess)
	if !ok || success != 1782907201.5 {
		t.Fatalf("after a passing run: success time %v (present %v), want 1782907201.5", success, ok)
	}

	bad := failingReport()
	bad.Started = bad.Started.Add(60 * 60e9) // an hour later
	if err := Push(ctx, srv.URL, "netverify", bad); err != nil {
		t.Fatal(err)
	}
	if got, _ := pg.value(MetricLastSuccess); got != success {
		t.Errorf("a failing run changed the success time to %v, want %v kept", got, success)
	}
	if got, _ := pg.value(MetricExpectations, "failed"); got != 1 {
		t.Errorf("failed = %v after the failing run, want 1", got)
	}
	if got, _ := pg.value(MetricLastRun); got != 1782910801.5 {
		t.Errorf("last run = %v, want the failing run's end 1782910801.5", got)
	}
	for i, m := range pg.methods {
		if m != http.MethodPost || pg.paths[i] != "/metrics/job/netverify" {
			t.Errorf("push %d: %s %s, want POST /metrics/job/netverify", i, m, pg.paths[i])
		}
	}
}

func TestPushReportsGatewayErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer srv.Close()
	if err := Push(context.Background(), srv.URL, "netverify", passingReport(0)); err == nil {
		t.Error("Push succeeded against a failing gateway")
	}
}
