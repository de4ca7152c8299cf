package scenarios

import (
	"fmt"
	"net/netip"

	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// Addresses the built-in suite uses for targets outside the cluster. Runs
// may point them elsewhere (netverify run --metadata-ip, --external-target).
const (
	MetadataIP        = "169.254.169.254" // AWS, GCP, Azure, OpenStack
	MetadataIPAlibaba = "100.100.100.200"
	ExternalTargetIP  = "203.0.113.10" // a documentation address; the local cluster answers it
)

// SubstituteAddress replaces the address addr with repl in the scenarios'
// ip: targets, in their policies' ipBlock cidr and except entries and in
// their ClusterNetworkPolicies' egress networks that are exactly addr/32. It reports an error when repl is not an IPv4 address.
func SubstituteAddress(scs []*Scenario, addr, repl string) error {
	ip, err := netip.ParseAddr(repl)
	if err != nil || !ip.Is4() {
		return fmt.Errorf("%q is not an IPv4 address", repl)
	}
	from, to := addr+"/32", repl+"/32"
	for _, s := range scs {
		for i := range s.Spec.Expect {
			if s.Spec.Expect[i].To == "ip:"+addr {
				s.Spec.Expect[i].To = "ip:" + repl
			}
		}
		for i := range s.Spec.Policies {
			spec := &s.Spec.Policies[i].Spec
			for j := range spec.Egress {
				for k := range spec.Egress[j].To {
					if b := spec.Egress[j].To[k].IPBlock; b != nil {
						if b.CIDR == from {
							b.CIDR = to
						}
						for x := range b.Except {
							if b.Except[x] == from {
								b.Except[x] = to
							}
						}
					}
				}
			}
			for j := range spec.Ingress {
				for k := range spec.Ingress[j].From {
					if b := spec.Ingress[j].From[k].IPBlock; b != nil && b.CIDR == from {
						b.CIDR = to
					}
				}
			}
		}
		for i := range s.Spec.ClusterNetworkPolicies {
			spec := &s.Spec.ClusterNetworkPolicies[i].Spec
			for j := range spec.Egress {
				for k := range spec.Egress[j].To {
					for n, cidr := range spec.Egress[j].To[k].Networks {
						if string(cidr) == from {
							spec.Egress[j].To[k].Networks[n] = cnpv1.CIDR(to)
						}
					}
				}
			}
		}
	}
	return nil
}
