package cleanup

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/netverify/netverify/orchestrator"
)

// A run cleanup leaves alone is named, with its heartbeat age and the
// command that removes it now.
func TestPrintLive(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	printLive(&b, []orchestrator.LiveRun{{RunID: "k3x9qa", Namespaces: 17, Age: 42 * time.Second}}, 3*time.Minute, "kubectl netverify cleanup")
	for _, want := range []string{"run k3x9qa looks alive", "17 namespaces", "42s ago", "with: kubectl netverify cleanup --run-id k3x9qa"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("%q does not say %q", b.String(), want)
		}
	}
	b.Reset()
	printLive(&b, nil, 3*time.Minute, "netverify cleanup")
	if b.Len() != 0 {
		t.Errorf("printed %q with no live run", b.String())
	}
}
