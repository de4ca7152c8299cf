package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netverify/netverify/policy"
	"github.com/netverify/netverify/scenarios"
)

// load reads what the run runs, once the flags are valid: the -f files, the
// built-in suite (pointed at --metadata-ip and --external-target), the
// --scenario/--skip selection, and the expectations --expect asks for. With
// --expect=scenario it prints, as warnings on stderr, every hand-written
// expectation the scenario's own policies contradict.
func (o *options) load(ctx context.Context) error {
	var scs []*scenarios.Scenario
	if len(o.files) > 0 {
		loaded, err := scenarios.LoadContext(ctx, o.files, o.streams.In, scenarios.WithClusterPolicyCheck(policy.CheckClusterNetworkPolicy))
		if err != nil {
			return err
		}
		scs = loaded
	}
	if (len(o.files) == 0 && !o.zeroConfig()) || o.builtin {
		b, err := scenarios.Builtin()
		if err != nil {
			return fmt.Errorf("built-in suite: %w", err)
		}
		if err := o.substitute(b); err != nil {
			return err
		}
		scs = append(scs, b...)
	}
	seen := map[string]string{}
	for _, sc := range scs {
		if prev, ok := seen[sc.Metadata.Name]; ok {
			return fmt.Errorf("scenario %q is defined twice: in %s and in %s (rename one, or drop --builtin)", sc.Metadata.Name, prev, sc.Source)
		}
		seen[sc.Metadata.Name] = sc.Source
	}
	scs, err := filter(scs, o.only, o.skip)
	if err != nil {
		return err
	}
	if len(scs) == 0 && !o.zeroConfig() {
		return errors.New("no scenarios to run")
	}
	if err := o.checkInPlace(scs); err != nil {
		return err
	}
	opts, err := o.ranges.Option() // validate checked them
	if err != nil {
		return err
	}
	switch o.expect {
	case expectScenario:
		if err := lint(o.streams.ErrOut, scs, opts...); err != nil {
			return err
		}
	case expectPolicies:
		if scs, err = fromPolicies(scs, opts...); err != nil {
			return err
		}
	}
	o.scs = scs
	return nil
}

// substitute points the built-in suite's outside targets at the addresses
// given by --metadata-ip and --external-target (validate checked them).
func (o *options) substitute(b []*scenarios.Scenario) error {
	repl := map[string]string{
		scenarios.MetadataIP:        o.metadataIPs[0],
		scenarios.MetadataIPAlibaba: o.metadataIPs[len(o.metadataIPs)-1],
		scenarios.ExternalTargetIP:  o.externalTarget,
	}
	for _, from := range []string{scenarios.MetadataIP, scenarios.MetadataIPAlibaba, scenarios.ExternalTargetIP} {
		if repl[from] == from {
			continue
		}
		if err := scenarios.SubstituteAddress(b, from, repl[from]); err != nil {
			return fmt.Errorf("--metadata-ip/--external-target: %w", err)
		}
	}
	return nil
}

// checkInPlace refuses what cannot run a scenario that checks existing
// namespaces: a dry run (no cluster to read them from) and
// --expect=policies (which computes expectations from a scenario's own
// policies; in place the policies are the cluster's).
func (o *options) checkInPlace(scs []*scenarios.Scenario) error {
	var errs []error
	inPlace := o.zeroConfig()
	for _, sc := range scs {
		if !sc.InPlace() {
			continue
		}
		inPlace = true
		switch {
		case o.dryRun:
			errs = append(errs, fmt.Errorf("%s: scenario %q checks existing namespaces in place: --dry-run has no cluster to read them from", sc.Source, sc.Metadata.Name))
		case o.expect == expectPolicies:
			errs = append(errs, fmt.Errorf("%s: scenario %q checks existing namespaces in place: --expect=policies computes expectations from a scenario's own policies (for the live policies of a namespace, run -n NAMESPACE without -f)", sc.Source, sc.Metadata.Name))
		}
	}
	if inPlace && strings.Contains(o.namespacePrefix, "-") {
		// probe pods in a live namespace are <prefix>-<run id>-<name>: the
		// installation's admission policy (deploy/) knows them by that shape
		errs = append(errs, fmt.Errorf("--namespace-prefix %q: in-place checks need a prefix without '-' (their probe pods are named <prefix>-<run id>-<name>)", o.namespacePrefix))
	}
	return errors.Join(errs...)
}

// fromPolicies returns copies of scs whose expectations are those computed
// from their policies (--expect=policies), with opts (the cluster's ranges).
func fromPolicies(scs []*scenarios.Scenario, opts ...policy.Option) ([]*scenarios.Scenario, error) {
	out := make([]*scenarios.Scenario, 0, len(scs))
	for _, sc := range scs {
		exps, err := policy.ScenarioExpectations(sc, opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: scenario %q: --expect=policies: %w", sc.Source, sc.Metadata.Name, err)
		}
		cp := *sc
		cp.Spec.Expect = exps
		out = append(out, &cp)
	}
	return out, nil
}

// lint prints, before anything is created, every hand-written expectation
// the scenario's own policies contradict (with the rule that decides it),
// and policy notes such as an "isolation" policy that also cuts
// same-namespace traffic. Findings are warnings: the cluster has the last word.
func lint(w io.Writer, scs []*scenarios.Scenario, opts ...policy.Option) error {
	for _, sc := range scs {
		if sc.Builtin || sc.InPlace() {
			continue // ours: its findings are known and documented, not the user's to act on; in place: the policies are the cluster's
		}
		findings, err := policy.Lint(sc, opts...)
		if err != nil {
			return err
		}
		for _, f := range findings {
			fmt.Fprintf(w, "lint: %s\n", f)
		}
	}
	return nil
}

// filter applies --scenario and --skip (each a list of names, from
// repeated or comma-separated flags; blanks around names are ignored); a
// name that matches no scenario is an error.
func filter(scs []*scenarios.Scenario, only, skip []string) ([]*scenarios.Scenario, error) {
	only, skip = names(only), names(skip)
	known := map[string]bool{}
	var all []string
	for _, s := range scs {
		known[s.Metadata.Name] = true
		all = append(all, s.Metadata.Name)
	}
	var errs []error
	for _, n := range append(slices.Clone(only), skip...) {
		if !known[n] {
			errs = append(errs, fmt.Errorf("no scenario named %q", n))
		}
	}
	if len(errs) > 0 {
		slices.Sort(all)
		return nil, fmt.Errorf("%w (the scenarios are: %s)", errors.Join(errs...), strings.Join(all, ", "))
	}
	var out []*scenarios.Scenario
	for _, s := range scs {
		if (len(only) == 0 || slices.Contains(only, s.Metadata.Name)) && !slices.Contains(skip, s.Metadata.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}

// names trims the blanks around each name and drops empty ones
// ("--scenario udp, sctp," is udp and sctp).
func names(in []string) []string {
	var out []string
	for _, n := range in {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}
