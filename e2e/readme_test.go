//go:build e2e

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeBlock returns the lines of the README's fenced block that follows
// the marker comment <!-- e2e:NAME -->.
func readmeBlock(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(E.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	state := 0 // 0 before the marker, 1 before the fence, 2 inside
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case state == 0 && strings.TrimSpace(l) == "<!-- e2e:"+name+" -->":
			state = 1
		case state == 1 && strings.HasPrefix(l, "```"):
			state = 2
		case state == 2 && strings.HasPrefix(l, "```"):
			return lines
		case state == 2:
			lines = append(lines, l)
		}
	}
	t.Fatalf("README.md has no fenced block after <!-- e2e:%s -->", name)
	return nil
}

// readmeStep returns the README line of block that starts with prefix,
// without its comment.
func readmeStep(t *testing.T, block []string, prefix string) string {
	t.Helper()
	for _, l := range block {
		if strings.HasPrefix(l, prefix) {
			cmd, _, _ := strings.Cut(l, " #")
			return strings.TrimSpace(cmd)
		}
	}
	t.Fatalf("the README's steps have no line starting with %q:\n%s", prefix, strings.Join(block, "\n"))
	return ""
}

var runIDRe = regexp.MustCompile(`\brun ([a-z0-9]{6})\b`)

// The README's "On your own cluster" steps, as written, on the local cluster
// as if it were the user's: build the probe image without a container
// engine, load it the way a containerd node does (`kind load image-archive`
// does the same inside a kind node), then `netverify run` with its defaults.
func TestReadmeOwnCluster(t *testing.T) {
	notOnSecondNonEnforcing(t)
	t.Parallel()
	if !E.local {
		t.Skip("loads the image into the local cluster's containerd")
	}
	block := readmeBlock(t, "own-cluster")
	sh := func(line string, timeout time.Duration) (string, int) {
		t.Helper()
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = E.repo
		cmd.Env = append(os.Environ(), "KUBECONFIG="+E.kubeconfig,
			"CONTAINERD_ADDRESS=/run/netverify-containerd/containerd.sock") // the local node's containerd
		cmd.WaitDelay = timeout
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(timeout):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%s: still running after %s\n%s", line, timeout, out)
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return string(out), 0
	}
	for _, prefix := range []string{"make build images", "ctr -n k8s.io images import"} {
		line := readmeStep(t, block, prefix)
		if out, code := sh(line, 5*time.Minute); code != 0 {
			t.Fatalf("%s: exit %d\n%s", line, code, out)
		}
	}
	line := readmeStep(t, block, "bin/netverify run")
	out, code := sh(line, 10*time.Minute)
	m := runIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no run id in the output (exit %d)\n%s", line, code, out)
	}
	defer noLeftoversRun(t, m[1])
	want := 0
	if !E.enforces {
		want = 1
	}
	if code != want {
		t.Fatalf("%s: exit %d, want %d\n%s", line, code, want, out)
	}
	if !E.enforces && !strings.Contains(out, "expected blocked, got ALLOWED") {
		t.Fatalf("non-enforcing cluster: no mismatch reported\n%s", out)
	}
}
