// Package scenarios defines netverify's scenario files and loads them.
//
// A scenario file holds one or more YAML documents (separated by "---"),
// each a Scenario: logical namespaces, probe pods, Services, ordinary
// networking.k8s.io/v1 NetworkPolicy manifests, and the connections expected
// to be allowed or blocked. examples/frontend-backend.yaml is an annotated
// example and docs/scenario.schema.json a JSON Schema for editors.
//
// Loading is strict and happens in three steps, like kubectl's:
//
//  1. decode: YAML syntax, unknown fields (at any depth, including inside
//     the policies) and values of the wrong type are errors. A value of the
//     wrong type is left out, so that the rest of its document is still
//     checked (problems it causes are not reported twice). A policy's
//     metadata may set only name, namespace, labels and annotations: the
//     policy is created as written, and finalizers, owner references and
//     the fields the API server sets have no place in a scenario;
//  2. default: omitted namespaces, protocols and target ports are filled in
//     (see the field comments on the types), and "pod"/"svc:name"
//     references are rewritten to "ns/pod"/"svc:ns/name" when the scenario
//     has a single namespace;
//  3. validate: names, labels, annotations, ports, CIDRs and every
//     reference between objects are checked. An expectation sets allowed,
//     or implementationDefined (why the API leaves the connection to the
//     implementation) with an optional accept list; the loader then turns
//     the latter into what the rest of netverify reads (see
//     Expectation.Accept).
//
// Every problem in every file is reported at once, each as an *Error
// prefixed by the file and the scenario name, joined with errors.Join:
// an unreadable file in a directory does not stop the others from being
// loaded, and scenario names must be unique across every document that
// parses, valid or not. A file (or stdin) may hold at most MaxInputBytes
// (8 MiB); a larger one is rejected without being read further.
//
// Each run creates fresh namespaces with run-unique names for a scenario's
// logical namespaces; RewritePolicies translates the policies to them.
package scenarios
