package scenarios

import "testing"

func TestParseWorkloadRef(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"deployment/frontend": "deployment/frontend", "deploy/frontend": "deployment/frontend",
		"sts/db": "statefulset/db", "DaemonSet/agent": "daemonset/agent", "rs/bare": "replicaset/bare",
	} {
		r, err := ParseWorkloadRef(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseWorkloadRef(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for _, in := range []string{"frontend", "deployment/", "job/x", "deployment/a/b", "/x"} {
		if _, err := ParseWorkloadRef(in); err == nil {
			t.Errorf("ParseWorkloadRef(%q): no error", in)
		}
	}
}
