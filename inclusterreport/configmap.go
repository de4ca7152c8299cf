package inclusterreport

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/netverify/netverify/results"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Keys of the report ConfigMap's data.
const (
	// KeyLatest holds the latest run as the `-o json` document, possibly
	// trimmed (see Truncation).
	KeyLatest = "latest.json"
	// KeyHistory holds a JSON array of HistoryEntry, oldest first.
	KeyHistory = "history.json"
)

// Defaults of Options.
const (
	DefaultHistorySize   = 20
	DefaultMaxMismatches = 50
	// DefaultMaxBytes bounds latest.json plus history.json, leaving ample
	// room under the API server's 1 MiB object limit for metadata and any
	// keys a user added.
	DefaultMaxBytes = 800 << 10
)

// Labels on the objects this package writes. There is deliberately no
// netverify.io/run-id label: `netverify cleanup` must never delete them.
const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "netverify"
)

// maxField bounds each string of a Mismatch (names are at most 253
// characters; reasons carry free text).
const maxField = 256

// Options tune WriteConfigMap. The zero value gives the defaults.
type Options struct {
	// HistorySize is how many runs history.json keeps (DefaultHistorySize
	// when 0).
	HistorySize int
	// MaxMismatches is how many mismatches each history entry keeps
	// (DefaultMaxMismatches when 0); the rest are only counted.
	MaxMismatches int
	// MaxBytes bounds len(latest.json)+len(history.json) (DefaultMaxBytes
	// when 0). latest.json gets at most half of it; history.json the rest,
	// dropping its oldest entries until it fits.
	MaxBytes int
}

func (o Options) withDefaults() Options {
	if o.HistorySize <= 0 {
		o.HistorySize = DefaultHistorySize
	}
	if o.MaxMismatches <= 0 {
		o.MaxMismatches = DefaultMaxMismatches
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// HistoryEntry is one run in history.json.
type HistoryEntry struct {
	// Time is when the run started.
	Time         time.Time `json:"time"`
	RunID        string    `json:"runId"`
	DurationMs   int64     `json:"durationMs"`
	Total        int       `json:"total"`
	Passed       int       `json:"passed"`
	Failed       int       `json:"failed"`
	Errors       int       `json:"errors"`
	Inconclusive int       `json:"inconclusive"`
	Skipped      int       `json:"skipped"`
	// Mismatches are the run's fail, error and inconclusive results, at most
	// Options.MaxMismatches of them, in report order.
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// MismatchesOmitted counts the mismatches left out of Mismatches.
	MismatchesOmitted int `json:"mismatchesOmitted,omitempty"`
}

// Mismatch is a result whose status is fail, error or inconclusive, without
// the fields only useful while debugging that run (repro, attempts…).
type Mismatch struct {
	Scenario string          `json:"scenario"`
	Name     string          `json:"name,omitempty"`
	From     string          `json:"from"`
	To       string          `json:"to"`
	Port     int             `json:"port"`
	PortName string          `json:"portName,omitempty"`
	Protocol string          `json:"protocol"`
	Expected results.Verdict `json:"expected"`
	Observed results.Verdict `json:"observed"`
	Status   results.Status  `json:"status"`
	Reason   string          `json:"reason"`
}

// UnmarshalJSON reads a Mismatch, including one an older netverify wrote,
// whose port was a string: "8080", or "5432 (postgres)" for a named port.
// A history written before is read rather than replaced.
func (m *Mismatch) UnmarshalJSON(b []byte) error {
	type plain Mismatch
	var v struct {
		plain
		Port json.RawMessage `json:"port"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Mismatch(v.plain)
	if len(v.Port) == 0 || string(v.Port) == "null" {
		return nil
	}
	if err := json.Unmarshal(v.Port, &m.Port); err == nil {
		return nil
	}
	var old string
	if err := json.Unmarshal(v.Port, &old); err != nil {
		return fmt.Errorf("port: want a number, got %s", v.Port)
	}
	number, name, _ := strings.Cut(old, " (")
	if n, err := strconv.Atoi(number); err == nil {
		m.Port = n
	}
	if name = strings.TrimSuffix(name, ")"); name != "" && m.PortName == "" {
		m.PortName = name
	}
	return nil
}

// Truncation says what was left out of latest.json to keep it within its
// budget. Results are dropped passing first, then skipped and
// implementation-defined, and only then inconclusive, error and failed ones
// (from the end of the report); the summary always counts every result.
type Truncation struct {
	DroppedResults int    `json:"droppedResults"`
	Note           string `json:"note"`
}

// latestDoc is latest.json: the report as `-o json` writes it, plus a
// truncation note when results were dropped.
type latestDoc struct {
	*results.Report
	Truncated *Truncation `json:"truncated,omitempty"`
}

// isMismatch reports whether a result counts as a mismatch: failed, broken or
// inconclusive.
func isMismatch(s results.Status) bool {
	return s == results.Fail || s == results.StatusError || s == results.Inconclusive
}

// WriteConfigMap creates or updates the ConfigMap namespace/name with rep:
// latest.json is replaced, rep is appended to history.json (replacing an
// entry with the same run id, so a retried publication is not counted
// twice), and both are trimmed to opts. Other keys of the ConfigMap are kept.
//
// The update is a read-modify-write guarded by resourceVersion: a Conflict
// (someone else wrote in between) re-reads and retries, as does an
// AlreadyExists when two writers create it at once. A history.json that
// cannot be parsed is replaced by a fresh history rather than failing every
// later run. The ConfigMap is labelled app.kubernetes.io/managed-by=netverify
// and never carries a run id.
//
// It needs get, create and update on configmaps in namespace.
func WriteConfigMap(ctx context.Context, client kubernetes.Interface, namespace, name string, rep *results.Report, opts Options) error {
	if rep == nil {
		return fmt.Errorf("writing report configmap %s/%s: no report", namespace, name)
	}
	opts = opts.withDefaults()
	latest, err := latestJSON(rep, opts.MaxBytes/2)
	if err != nil {
		return fmt.Errorf("writing report configmap %s/%s: %w", namespace, name, err)
	}
	entry := newHistoryEntry(rep, opts.MaxMismatches)
	cms := client.CoreV1().ConfigMaps(namespace)
	retriable := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	err = retry.OnError(retry.DefaultRetry, retriable, func() error {
		cm, err := cms.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
			fill(cm, latest, entry, opts)
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			return err
		case err != nil:
			return err
		}
		cm = cm.DeepCopy()
		fill(cm, latest, entry, opts)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("writing report configmap %s/%s: %w", namespace, name, err)
	}
	return nil
}

// fill sets the ConfigMap's labels, latest.json and history.json (the old
// history, if readable, plus entry).
func fill(cm *corev1.ConfigMap, latest []byte, entry HistoryEntry, opts Options) {
	if cm.Labels == nil {
		cm.Labels = map[string]string{}
	}
	cm.Labels[labelManagedBy] = managedBy
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	var hist []HistoryEntry
	if err := json.Unmarshal([]byte(cm.Data[KeyHistory]), &hist); err != nil {
		hist = nil // missing or unreadable: start a fresh history
	}
	hist = appendEntry(hist, entry)
	cm.Data[KeyLatest] = string(latest)
	cm.Data[KeyHistory] = string(historyJSON(hist, opts, opts.MaxBytes-len(latest)))
}

// appendEntry adds e at the end, replacing an earlier entry of the same run.
func appendEntry(hist []HistoryEntry, e HistoryEntry) []HistoryEntry {
	out := make([]HistoryEntry, 0, len(hist)+1)
	for _, h := range hist {
		if e.RunID == "" || h.RunID != e.RunID {
			out = append(out, h)
		}
	}
	return append(out, e)
}

func newHistoryEntry(rep *results.Report, maxMismatches int) HistoryEntry {
	s := results.Summarize(rep.Results)
	e := HistoryEntry{
		Time: rep.Started.UTC(), RunID: rep.RunID, DurationMs: durationOf(rep).Milliseconds(),
		Total: s.Total, Passed: s.Passed, Failed: s.Failed, Errors: s.Errors,
		Inconclusive: s.Inconclusive, Skipped: s.Skipped,
	}
	for _, r := range rep.Results {
		if !isMismatch(r.Status) {
			continue
		}
		if len(e.Mismatches) >= maxMismatches {
			e.MismatchesOmitted++
			continue
		}
		e.Mismatches = append(e.Mismatches, Mismatch{
			Scenario: clip(r.Scenario), Name: clip(r.Name), From: clip(r.From), To: clip(r.To),
			Port: r.Port, PortName: clip(r.PortName), Protocol: clip(r.Protocol), Expected: r.Expected, Observed: r.Observed,
			Status: r.Status, Reason: clip(r.Reason),
		})
	}
	return e
}

// historyJSON renders hist, oldest first, keeping the newest opts.HistorySize
// entries and dropping the oldest until the result fits in budget bytes.
// Entries read back from an older ConfigMap are trimmed to opts as well. If
// even the newest entry alone is too big, its mismatches are dropped (and
// counted); history.json is never left out.
func historyJSON(hist []HistoryEntry, opts Options, budget int) []byte {
	if len(hist) > opts.HistorySize {
		hist = hist[len(hist)-opts.HistorySize:]
	}
	for i := range hist {
		trimEntry(&hist[i], opts.MaxMismatches)
	}
	sizes := make([]int, len(hist))
	total := 2 // "[" and "]"
	for i, h := range hist {
		b, _ := json.Marshal(h) // plain data: cannot fail
		sizes[i] = len(b) + 1   // and a comma
		total += sizes[i]
	}
	for len(hist) > 1 && total > budget {
		total -= sizes[0]
		hist, sizes = hist[1:], sizes[1:]
	}
	if total > budget && len(hist) == 1 {
		hist[0].MismatchesOmitted += len(hist[0].Mismatches)
		hist[0].Mismatches = nil
	}
	b, _ := json.Marshal(hist)
	return b
}

func trimEntry(e *HistoryEntry, maxMismatches int) {
	if len(e.Mismatches) > maxMismatches {
		e.MismatchesOmitted += len(e.Mismatches) - maxMismatches
		e.Mismatches = e.Mismatches[:maxMismatches]
	}
	for i := range e.Mismatches {
		m := &e.Mismatches[i]
		m.Scenario, m.Name, m.From, m.To = clip(m.Scenario), clip(m.Name), clip(m.From), clip(m.To)
		m.PortName, m.Protocol, m.Reason = clip(m.PortName), clip(m.Protocol), clip(m.Reason)
	}
}

// dropOrder ranks statuses for latestJSON: lower ranks are dropped first.
func dropOrder(s results.Status) int {
	switch s {
	case results.Pass:
		return 0
	case results.Skipped, results.ImplementationDefined:
		return 1
	case results.Inconclusive:
		return 2
	case results.StatusError:
		return 3
	}
	return 4 // failed, and anything unknown
}

// latestJSON renders rep as latest.json: the `-o json` document (summary
// recomputed from all results, durationMs filled in, results never null),
// dropping results (see Truncation) until it fits in budget bytes.
func latestJSON(rep *results.Report, budget int) ([]byte, error) {
	out := *rep
	out.Summary = results.Summarize(rep.Results)
	out.DurationMs = durationOf(rep).Milliseconds()
	if out.Results == nil {
		out.Results = []results.Result{}
	}
	b, err := json.Marshal(latestDoc{Report: &out})
	if err != nil || len(b) <= budget {
		return b, err
	}
	// Too big: measure each result, then drop the cheapest-to-lose ones
	// (by dropOrder, later results first within a rank) until the estimate
	// fits, leaving room for the note.
	const noteRoom = 256
	sizes := make([]int, len(out.Results))
	for i, r := range out.Results {
		rb, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		sizes[i] = len(rb) + 1
	}
	drop := make([]bool, len(out.Results))
	size, dropped := len(b)+noteRoom, 0
	for rank := 0; rank <= 4 && size > budget; rank++ {
		for i := len(out.Results) - 1; i >= 0 && size > budget; i-- {
			if !drop[i] && dropOrder(out.Results[i].Status) == rank {
				drop[i] = true
				size -= sizes[i]
				dropped++
			}
		}
	}
	kept := make([]results.Result, 0, len(out.Results)-dropped)
	var droppedMismatches int
	for i, r := range out.Results {
		if !drop[i] {
			kept = append(kept, r)
		} else if isMismatch(r.Status) {
			droppedMismatches++
		}
	}
	out.Results = kept
	note := fmt.Sprintf("%d of %d results left out to keep the ConfigMap small", dropped, len(rep.Results))
	if droppedMismatches > 0 {
		note += fmt.Sprintf(", %d of them mismatches", droppedMismatches)
	} else {
		note += "; every mismatch is kept"
	}
	note += "; the summary counts them all"
	return json.Marshal(latestDoc{Report: &out, Truncated: &Truncation{DroppedResults: dropped, Note: note}})
}

// durationOf is the run's wall time; a report read back from JSON only has
// DurationMs.
func durationOf(rep *results.Report) time.Duration {
	if rep.Duration != 0 {
		return rep.Duration
	}
	return time.Duration(rep.DurationMs) * time.Millisecond
}

// clip shortens s to maxField bytes (see clipTo).
func clip(s string) string { return clipTo(s, maxField) }

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
