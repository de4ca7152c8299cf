package policy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseClusterRanges(t *testing.T) {
	t.Parallel()
	r, err := ParseClusterRanges([]string{"10.244.1.0/24", " 10.244.2.7/24", "10.244.1.0/24", "fd00:10:244:1::/64"}, []string{"10.96.0.0/12"})
	if err != nil {
		t.Fatalf("ParseClusterRanges: %v", err)
	}
	want := ClusterRanges{
		Pods:     mustPrefixes("10.244.1.0/24", "10.244.2.0/24", "fd00:10:244:1::/64"),
		Services: mustPrefixes("10.96.0.0/12"),
	}
	if !slices.Equal(r.Pods, want.Pods) || !slices.Equal(r.Services, want.Services) {
		t.Errorf("got %v, want %v", r, want)
	}
	if r, err := ParseClusterRanges(nil, nil); err != nil || r.Pods != nil || r.Services != nil {
		t.Errorf("no CIDRs: got %v, %v; want unknown ranges", r, err)
	}
	_, err = ParseClusterRanges([]string{"10.244.0.0"}, []string{"10.96.0.0/33", "10.97.0.0/16"})
	if err == nil {
		t.Fatal("bad CIDRs: no error")
	}
	for _, s := range []string{`pod range "10.244.0.0"`, `Service range "10.96.0.0/33"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestSubtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		set, cut []string
		want     []string
	}{
		{[]string{"10.0.0.0/8"}, nil, []string{"10.0.0.0/8"}},
		{[]string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, nil},
		{[]string{"10.0.0.0/8"}, []string{"0.0.0.0/0"}, nil},
		{[]string{"10.0.0.0/8"}, []string{"192.168.0.0/16"}, []string{"10.0.0.0/8"}},
		{[]string{"10.0.0.0/8"}, []string{"fd00::/8"}, []string{"10.0.0.0/8"}},
		{[]string{"10.0.0.0/8"}, []string{"10.0.0.0/9"}, []string{"10.128.0.0/9"}},
		{[]string{"10.0.0.0/8"}, []string{"10.128.0.0/10"}, []string{"10.0.0.0/9", "10.192.0.0/10"}},
		{[]string{"10.0.0.0/30"}, []string{"10.0.0.2/32"}, []string{"10.0.0.0/31", "10.0.0.3/32"}},
		{[]string{"fd00::/8"}, []string{"fd80::/9"}, []string{"fd00::/9"}},
	}
	for _, tt := range tests {
		got := subtract(mustPrefixes(tt.set...), mustPrefixes(tt.cut...))
		if !slices.Equal(got, mustPrefixes(tt.want...)) {
			t.Errorf("%v minus %v = %v, want %v", tt.set, tt.cut, got, tt.want)
		}
	}
}

func TestCoveredBy(t *testing.T) {
	t.Parallel()
	pods := rangeSpace(mustPrefixes("10.244.0.0/16", "fd00:10:244::/56"), "pod")
	unknown := rangeSpace(nil, "pod")
	tests := []struct {
		name  string
		space addrSpace
		block []string
		want  cover
	}{
		{"disjoint", pods, []string{"172.16.0.0/12"}, coversNone},
		{"one family of two", pods, []string{"10.0.0.0/8"}, coversPart},
		{"both", pods, []string{"10.0.0.0/8", "fd00::/8"}, coversAll},
		{"split across blocks", pods, []string{"10.244.0.0/17", "10.244.128.0/17", "fd00::/8"}, coversAll},
		{"unknown: a narrow block", unknown, []string{"203.0.113.10/32"}, coversPart},
		{"unknown: 0.0.0.0/0", unknown, []string{"0.0.0.0/0"}, coversPart},
		{"unknown: both /0", unknown, []string{"0.0.0.0/0", "::/0"}, coversAll},
		{"unknown: loopback", unknown, []string{"127.0.0.0/8"}, coversNone},
		{"unknown: link-local", unknown, []string{"169.254.169.254/32", "fe80::/10"}, coversNone},
		{"exact in", exactSpace(netip.MustParseAddr("10.244.3.4"), "pod"), []string{"10.0.0.0/8"}, coversAll},
		{"exact out", exactSpace(netip.MustParseAddr("10.244.3.4"), "pod"), []string{"10.245.0.0/16"}, coversNone},
	}
	for _, tt := range tests {
		if got := tt.space.coveredBy(mustPrefixes(tt.block...)); got != tt.want {
			t.Errorf("%s: %v covered by %v: %d, want %d", tt.name, tt.space.prefixes, tt.block, got, tt.want)
		}
	}
}
