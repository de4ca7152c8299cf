// Package rangeflags holds --pod-cidr and --service-cidr: the cluster's pod
// and Service address ranges as the user states them, for the semantics
// engine (an ipBlock that provably misses them gets an exact answer rather
// than implementation-defined).
package rangeflags

import (
	"fmt"

	"github.com/netverify/netverify/policy"
	"github.com/spf13/pflag"
)

// Flags are the two flags' values.
type Flags struct {
	Pods, Services []string
}

// Add registers the flags on fs.
func (f *Flags) Add(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.Pods, "pod-cidr", nil, "the cluster's pod address ranges (repeatable or comma-separated; e.g. the CNI's IP pools): ipBlocks that miss them get exact answers")
	fs.StringSliceVar(&f.Services, "service-cidr", nil, "the cluster's Service address ranges (repeatable or comma-separated)")
}

// Set reports whether either flag was given.
func (f *Flags) Set() bool { return len(f.Pods)+len(f.Services) > 0 }

// Option returns the engine option of the ranges given (none when neither
// flag was), or an error naming the flag of a bad CIDR.
func (f *Flags) Option() ([]policy.Option, error) {
	if !f.Set() {
		return nil, nil
	}
	if _, err := policy.ParseClusterRanges(f.Pods, nil); err != nil {
		return nil, fmt.Errorf("--pod-cidr: %w", err)
	}
	r, err := policy.ParseClusterRanges(f.Pods, f.Services)
	if err != nil {
		return nil, fmt.Errorf("--service-cidr: %w", err)
	}
	return []policy.Option{policy.WithClusterRanges(r)}, nil
}
