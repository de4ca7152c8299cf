// Package inclusterreport publishes a netverify run's results inside the
// cluster it ran on, for the scheduled deployment in deploy/ (a CronJob):
//
//   - WriteConfigMap keeps one ConfigMap (by default netverify/netverify-report)
//     with the latest report (key latest.json, the `-o json` document) and a
//     bounded history of past runs (key history.json), trimmed so the object
//     stays well under the API server's 1 MiB limit even for large suites.
//   - EmitMismatchEvent records a Warning Event on that ConfigMap when a run
//     had failed, error or inconclusive results, so `kubectl get events -n
//     netverify` and event exporters see it.
//   - WriteMetrics and Push expose the run as Prometheus metrics: in the text
//     format (for node-exporter's textfile collector, or `-o prometheus`), or
//     pushed to a Pushgateway.
//
// The ConfigMap and Events carry app.kubernetes.io/managed-by=netverify but
// never netverify.io/run-id, so `netverify cleanup` (which only deletes
// objects of a run) never touches them.
//
// Every function takes the narrow kubernetes.Interface and a context, and
// returns errors rather than logging: the caller decides whether a failed
// publication fails the run.
package inclusterreport
