// Command netverify proves, live, that a cluster's NetworkPolicies are
// enforced. See README.md.
package main

import (
	"os"

	"github.com/netverify/netverify/internal/cli/app"
)

func main() { os.Exit(app.Main()) }
