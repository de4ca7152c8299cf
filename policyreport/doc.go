// Package policyreport publishes a netverify run as policy reports, the
// objects Kyverno, Policy Reporter and similar dashboards read, so the
// enforcement checks of a scheduled run show up beside other policy results.
//
// Only connections checked in place are reported: for every namespace named
// in a result's Live (the existing namespaces the connection was checked in),
// one report object holds one entry per expectation checked there. A
// connection between two live namespaces appears in both reports. Results in
// the namespaces a run creates are not reported: those namespaces are gone
// when the run ends, and a report would have nowhere to live.
//
// Two formats, both built as unstructured objects:
//
//   - OpenReports: openreports.io/v1alpha1 Report, built from the typed
//     structs of github.com/openreports/reports-api.
//   - PolicyReport: wgpolicyk8s.io/v1alpha2 PolicyReport (the Kubernetes
//     policy working group's API, served by Kyverno). Its result entries have
//     the same JSON fields as OpenReports' (source, policy, rule, category,
//     severity, timestamp, result, scored, resources, resourceSelector,
//     message, properties) and so does its summary; the report itself has no
//     top-level source, so each entry carries it.
//
// Each object is named Options.Name (DefaultName, "netverify") in its
// namespace, so the next scheduled run replaces the previous report instead
// of adding one: Write creates it, or updates it on AlreadyExists, keeping
// the existing resourceVersion (and any labels or annotations someone added).
// An object of that name that netverify does not manage is left alone.
//
// Mapping of a netverify result to a report entry:
//
//   - result: pass → pass, fail → fail, error → error. Both APIs allow only
//     pass, fail, warn, error and skip. inconclusive → error: the check could
//     not decide whether the policy is enforced, and both APIs define error
//     as a policy that could not be evaluated; warn would claim the
//     requirement was not met. skipped → skip, and implementation-defined →
//     skip as well: the NetworkPolicy API leaves that answer to the CNI, so
//     no requirement applied, which is what skip stands for in both APIs; a
//     pass would claim a requirement was met. The property "status" always
//     keeps netverify's own status, so nothing is lost.
//   - policy: the scenario's name ("netverify" when it has none); rule: the
//     expectation's name, or "from → to port" when it has none.
//   - message: what was expected and observed and why (the result's reason),
//     the policy rule that decided it (dry runs), and for every result that
//     did not pass the kubectl command that reproduces it.
//   - source "netverify", category "NetworkPolicy", scored, and a timestamp:
//     when the run ended (results carry no time of their own).
//   - properties: from, to, port, expected, observed, status, runID (and
//     decidedBy when set).
//   - the summary counts the entries of that report by result; the scope is
//     the Namespace; severity is not set (the allowed values differ between
//     versions of the PolicyReport CRD).
//
// Objects are labelled app.kubernetes.io/managed-by=netverify and
// netverify.io/reported-run-id=<run id>. They deliberately never carry
// netverify.io/run-id, the label `netverify cleanup` deletes by: a report
// is the result of a run, not one of its objects.
//
// Write discovers which formats the cluster serves and writes only those; a
// permission it lacks is a warning naming the verb and resource, not an
// error, so a CronJob without report permissions still publishes its other
// outputs.
package policyreport
