package scenarios

import "testing"

func TestSubstituteAddress(t *testing.T) {
	t.Parallel()
	scs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if err := SubstituteAddress(scs, MetadataIP, "203.0.113.99"); err != nil {
		t.Fatal(err)
	}
	var targets, excepts int
	for _, s := range scs {
		for _, e := range s.Spec.Expect {
			if e.To == "ip:"+MetadataIP {
				t.Errorf("%s: target not substituted", s.Metadata.Name)
			}
			if e.To == "ip:203.0.113.99" {
				targets++
			}
		}
		for _, p := range s.Spec.Policies {
			for _, r := range p.Spec.Egress {
				for _, peer := range r.To {
					if peer.IPBlock != nil {
						for _, x := range peer.IPBlock.Except {
							if x == "203.0.113.99/32" {
								excepts++
							}
						}
					}
				}
			}
		}
	}
	networks := 0
	for _, s := range scs {
		for _, c := range s.Spec.ClusterNetworkPolicies {
			for _, r := range c.Spec.Egress {
				for _, peer := range r.To {
					for _, n := range peer.Networks {
						if n == "203.0.113.99/32" {
							networks++
						}
					}
				}
			}
		}
	}
	// metadata-blocked and admin-metadata
	if targets != 2 || excepts != 1 || networks != 1 {
		t.Fatalf("substituted %d targets, %d except entries and %d ClusterNetworkPolicy networks, want 2, 1 and 1", targets, excepts, networks)
	}
	if err := SubstituteAddress(scs, MetadataIP, "not-an-ip"); err == nil {
		t.Fatal("want an error for a bad address")
	}
}
