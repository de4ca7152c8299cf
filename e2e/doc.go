// Package e2e holds netverify's end-to-end tests (build tag e2e) and, under
// cluster/, the local cluster they run on: Kubernetes built from the Go
// module proxy, Cilium enforcing or not, or the plain bridge CNI.
//
//	make test                         # unit tests + e2e on every local mode
//	MODES=cilium make test-e2e        # one mode
//	KUBECONFIG=… CNI_ENFORCES=true make test-e2e-external   # any cluster
package e2e
