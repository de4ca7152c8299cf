// Package version holds netverify's version, set at build time with
// -ldflags "-X github.com/netverify/netverify/internal/version.Version=…".
package version

// Version is the release version; "dev" for untagged builds.
var Version = "dev"

// ProbeImage is the default image of netverify's probe pods. Override it
// (--image-probe) for a registry of your own.
func ProbeImage() string {
	v := Version
	if v == "dev" {
		v = "v0.1.0"
	}
	return "netverify/probe:" + v
}
