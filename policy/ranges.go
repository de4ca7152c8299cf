package policy

// This file holds what the engine knows of the cluster's addresses: the
// pod and Service ranges (ClusterRanges, passed with WithClusterRanges),
// where an address the engine is not given may lie (addrSpace), and the
// prefix arithmetic that says whether an ipBlock or a networks peer covers
// it.

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ClusterRanges are the address ranges a cluster gives pods and Services.
// The engine needs them for the addresses it is not given — a scenario's
// pods and Services before they exist, a Service's ClusterIP — to tell
// whether an ipBlock (or a ClusterNetworkPolicy networks peer) can cover
// them. The zero value means both are unknown.
type ClusterRanges struct {
	// Pods holds every pod IP of the cluster (hostNetwork pods aside); nil
	// or empty: unknown. On a live cluster these are the nodes'
	// spec.podCIDRs — but only when the CNI allocates pod IPs from them
	// (host-local IPAM, Cilium's "kubernetes" IPAM mode); Cilium's default
	// cluster-pool and Calico's IP pools allocate elsewhere, and then the
	// CNI's pools are the pod ranges. A range that misses some pod IPs makes
	// the engine give exact answers that are wrong for those pods.
	Pods []netip.Prefix
	// Services holds every Service ClusterIP; nil or empty: unknown. On a
	// live cluster these are the spec.cidrs of the networking.k8s.io/v1
	// ServiceCIDR objects (the API server's --service-cluster-ip-range).
	Services []netip.Prefix
}

// ParseClusterRanges parses the pod and Service ranges as the API spells
// them ("10.244.0.0/24", "fd00:10:96::/112"), for WithClusterRanges. Host
// bits are cleared and duplicates dropped; no CIDRs in a list means that
// range is unknown. It fails, naming every CIDR that does not parse.
func ParseClusterRanges(pods, services []string) (ClusterRanges, error) {
	var errs []error
	parse := func(kind string, cidrs []string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range cidrs {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s range %q: %w", kind, s, err))
				continue
			}
			if p = p.Masked(); !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		return out
	}
	r := ClusterRanges{Pods: parse("pod", pods), Services: parse("Service", services)}
	if err := errors.Join(errs...); err != nil {
		return ClusterRanges{}, err
	}
	return r, nil
}

// Option changes how an Engine decides: NewEngine, and the functions that
// build one from a scenario (ForScenario, DeciderForScenario,
// ExpectationsFromPolicies, ScenarioExpectations, Lint, Explain), take them.
type Option func(*options)

type options struct {
	ranges ClusterRanges
}

// WithClusterRanges gives the engine the cluster's pod and Service ranges.
// Without them (or with a range left empty) a pod or ClusterIP whose
// address the engine is not given may have any address but the few no pod
// or Service ever has (loopback, link-local, multicast), so nearly every
// ipBlock may cover it; with them, an ipBlock that provably excludes the
// range gets an exact answer. See Engine.Decide.
func WithClusterRanges(r ClusterRanges) Option {
	masked := func(ps []netip.Prefix) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range ps {
			if p.IsValid() {
				out = append(out, p.Masked())
			}
		}
		return out
	}
	return func(o *options) {
		o.ranges = ClusterRanges{Pods: masked(r.Pods), Services: masked(r.Services)}
	}
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// neverClusterAddresses are the addresses no pod, Service or node of a
// cluster has: "this network", loopback, link-local, multicast and
// broadcast, and IPv4-mapped IPv6 addresses (the engine matches IPv4
// addresses unmapped).
var neverClusterAddresses = mustPrefixes(
	"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
	"::/127", "::ffff:0:0/96", "fe80::/10", "ff00::/8", // ::/127 is :: and ::1
)

// anyClusterAddress is every address a pod, a Service or a node may have
// when the cluster's ranges are not known.
var anyClusterAddress = subtract(mustPrefixes("0.0.0.0/0", "::/0"), neverClusterAddresses)

func mustPrefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, s := range cidrs {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// addrSpace is where an endpoint's address lies, as far as the engine
// knows: the address itself, the cluster's ranges for its kind, or — when
// those are unknown — anywhere a pod, Service or node may be.
type addrSpace struct {
	prefixes []netip.Prefix
	exact    bool   // prefixes is the address itself (one /32 or /128)
	kind     string // "pod", "Service" or "node"; "" for an outside address
	known    bool   // not exact: prefixes are the cluster's known ranges of kind
}

// exactSpace is a known address.
func exactSpace(addr netip.Addr, kind string) addrSpace {
	return addrSpace{prefixes: []netip.Prefix{netip.PrefixFrom(addr, addr.BitLen())}, exact: true, kind: kind}
}

// rangeSpace is an unknown address of kind: in ranges when they are known,
// anywhere such an address may be otherwise.
func rangeSpace(ranges []netip.Prefix, kind string) addrSpace {
	if len(ranges) == 0 {
		return addrSpace{prefixes: anyClusterAddress, kind: kind}
	}
	return addrSpace{prefixes: ranges, kind: kind, known: true}
}

// addrBlock is the addresses of an ipBlock (cidr minus except) or of a
// networks peer, with how much of each of the engine's spaces for unknown
// addresses (pod, Service, node) they cover, computed once when the engine
// is built: against every address a pod may have, that takes thousands of
// prefix comparisons.
type addrBlock struct {
	addrs  []netip.Prefix
	spaces map[string]cover // by addrSpace.kind; nil before prepare
}

// prepare computes how much of each of spaces b covers.
func (b *addrBlock) prepare(spaces []addrSpace) {
	b.spaces = make(map[string]cover, len(spaces))
	for _, s := range spaces {
		b.spaces[s.kind] = s.coveredBy(b.addrs)
	}
}

// cover says how much of s the block covers.
func (b *addrBlock) cover(s addrSpace) cover {
	if c, ok := b.spaces[s.kind]; ok && !s.exact {
		return c
	}
	return s.coveredBy(b.addrs)
}

// cover is how much of an address space a set of prefixes covers.
type cover int8

const (
	coversNone cover = iota
	coversPart
	coversAll
)

// coveredBy says how much of s the addresses of block (a union of
// prefixes) cover.
func (s addrSpace) coveredBy(block []netip.Prefix) cover {
	some, all := false, true
	for _, p := range s.prefixes {
		switch coverOne(p, block) {
		case coversAll:
			some = true
		case coversPart:
			return coversPart
		default:
			all = false
		}
		if some && !all {
			return coversPart
		}
	}
	switch {
	case !some:
		return coversNone
	case all:
		return coversAll
	}
	return coversPart
}

// coverOne says how much of p the addresses of block cover.
func coverOne(p netip.Prefix, block []netip.Prefix) cover {
	overlap := false
	for _, b := range block {
		if !b.Overlaps(p) {
			continue
		}
		if b.Bits() <= p.Bits() { // b holds p
			return coversAll
		}
		overlap = true
	}
	switch {
	case !overlap:
		return coversNone
	case len(subtract([]netip.Prefix{p}, block)) == 0:
		return coversAll
	}
	return coversPart
}

// describe says, for reasons, how block — named as in "ipBlock 10.0.0.0/8
// (x/p ingress[0])" — covers s, the address of what (as in "the pod IP of
// x/a"); c is s.coveredBy(block).
func (s addrSpace) describe(named string, block []netip.Prefix, c cover, what string) string {
	switch {
	case s.exact && c == coversNone:
		return fmt.Sprintf("%s does not cover %s (%s)", named, what, s.prefixes[0].Addr())
	case s.exact:
		return fmt.Sprintf("%s matches %s", named, what)
	case s.known:
		var rs []string
		for _, r := range s.prefixes {
			if c == coversNone || len(intersect(block, []netip.Prefix{r})) > 0 {
				rs = append(rs, r.String())
			}
		}
		verb := map[cover]string{coversNone: "lies outside", coversPart: "overlaps", coversAll: "covers"}[c]
		return fmt.Sprintf("%s %s the %s %s %s, where %s lies", named, verb, s.kind, plural(len(rs), "range", "ranges"), strings.Join(rs, ", "), what)
	case c == coversNone:
		return fmt.Sprintf("%s cannot cover %s (it holds no address a %s may have)", named, what, s.kind)
	}
	return fmt.Sprintf("%s may cover %s (neither it nor the cluster's %s ranges are known)", named, what, s.kind)
}

// subtract returns the addresses of set that are in none of cut, as
// prefixes. Every prefix must be masked.
func subtract(set, cut []netip.Prefix) []netip.Prefix {
	out := slices.Clone(set)
	for _, c := range cut {
		var next []netip.Prefix
		for _, p := range out {
			next = append(next, subtractOne(p, c)...)
		}
		out = next
	}
	return out
}

// subtractOne returns p without the addresses of c.
func subtractOne(p, c netip.Prefix) []netip.Prefix {
	switch {
	case !p.Overlaps(c):
		return []netip.Prefix{p}
	case c.Bits() <= p.Bits(): // c covers p
		return nil
	}
	// p strictly holds c: keep, at each length down to c's, the half of p
	// without c.
	var out []netip.Prefix
	for p.Bits() < c.Bits() {
		lo, hi := halves(p)
		if lo.Contains(c.Addr()) {
			out, p = append(out, hi), lo
		} else {
			out, p = append(out, lo), hi
		}
	}
	return out
}

// halves splits p into its two prefixes one bit longer.
func halves(p netip.Prefix) (lo, hi netip.Prefix) {
	bits := p.Bits() + 1
	b := p.Addr().AsSlice()
	b[p.Bits()/8] |= 0x80 >> (p.Bits() % 8)
	hiAddr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(p.Addr(), bits), netip.PrefixFrom(hiAddr, bits)
}

// intersect returns the addresses in both a and b, as prefixes.
func intersect(a, b []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range a {
		for _, q := range b {
			if !p.Overlaps(q) {
				continue
			}
			if p.Bits() >= q.Bits() {
				out = append(out, p)
			} else {
				out = append(out, q)
			}
		}
	}
	return out
}
