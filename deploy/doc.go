// Package deploy holds netverify's in-cluster installation, as a kustomize
// base (kustomize/base) and a Helm chart (helm/netverify) that render the same
// objects: a Namespace, a ServiceAccount, RBAC (ClusterRole netverify-run with
// exactly what `netverify run` and `netverify cleanup` need, a Role for the
// report ConfigMap and its Events, and a read-only ClusterRole
// netverify-audit), a ValidatingAdmissionPolicy that confines the service
// account to netverify's own run namespaces, the scenarios ConfigMap and an
// hourly CronJob. kustomize/inplace (the chart's inPlace.namespaces) adds
// in-place checks of existing namespaces: a Role in each, a Role for the
// cluster DNS reads in kube-system, and the CronJob's -n flags; the policy
// confines the writes there to netverify's own probe pods, owner ConfigMaps
// and policy reports. krew/netverify.yaml is the template of the krew plugin
// manifest that installs netverify as `kubectl netverify`; a release
// pipeline fills in its version, download URL and digests.
//
// There is no Go code here beyond the tests, which render both with the
// kustomize and Helm libraries and check them against each other and against
// internal/cli/run's Permissions and LivePermissions, and check the krew
// manifest template.
// test-admission-policy.sh checks the admission policy and RBAC on a real
// API server.
package deploy
