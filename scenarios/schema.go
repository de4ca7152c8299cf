package scenarios

import (
	"encoding/json"
	"fmt"
	"reflect"

	networkingv1 "k8s.io/api/networking/v1"
	cnpv1 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://github.com/netverify/netverify/docs/scenario.schema.json"

// schemaDescriptions documents fields in the schema, keyed by Go type name
// and JSON field name; editors show them on hover.
var schemaDescriptions = map[string]string{
	"Scenario":                    "A netverify scenario: namespaces, probe pods, Services and NetworkPolicies created in fresh run-unique namespaces, and the connections expected to be allowed or blocked.",
	"Metadata.name":               "A DNS-1123 label of at most 40 characters, unique among the scenarios of a run.",
	"Namespace.name":              "A logical namespace name; each run creates a namespace with a run-unique name for it. With existing: the name of a namespace of the cluster.",
	"Namespace.existing":          "A live namespace, checked in place: netverify creates only its probe pods there (sources, never adopted, never Ready) and applies no policy; the namespace's own policies are what is tested.",
	"Pod.impersonate":             "In an existing namespace: a workload there (deployment/NAME, statefulset/NAME, daemonset/NAME, replicaset/NAME) whose pod template labels the probe pod carries.",
	"Pod.namespace":               "A logical namespace; defaults to the only namespace when there is one.",
	"Service.namespace":           "A logical namespace; defaults to the only namespace when there is one.",
	"ServicePort.targetPort":      "A port number or a pod port name; defaults to port.",
	"Spec.policies":               "networking.k8s.io/v1 NetworkPolicy manifests. metadata.namespace names a logical namespace (default: the only one). namespaceSelector terms on kubernetes.io/metadata.name with a logical namespace name are rewritten to the run-unique name.",
	"Spec.clusterNetworkPolicies": "policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy manifests (cluster-scoped). Namespace selectors match the logical namespaces. A live run creates them confined to the scenario's namespaces (skipped where the cluster does not serve the kind); validate, explain, run --dry-run and --expect=policies evaluate them.",
	"Expectation.from":            "The source pod: \"ns/pod\", or \"pod\" when the scenario has one namespace.",
	"Expectation.to":              "The target: \"ns/pod\" or \"pod\", \"svc:ns/name\" or \"svc:name\", \"dns:NAME\" (a lookup through the pod's resolver), \"ip:ADDR\" or \"host:NAME\"; in an existing namespace \"svc:ns/name\" names a live Service and \"workload:ns/KIND/NAME\" a live workload (one of its running pods, by pod IP).",
	"Expectation.port":            "A port number or a port name of the target pod or Service; required except for dns: targets.",
	"Expectation.allowed":         "true if the connection must succeed, false if it must be blocked. Required, unless implementationDefined is given.",
	"Expectation.implementationDefined": "In place of allowed: why the API leaves this connection to the implementation (e.g. an ipBlock that covers pod IPs). " +
		"Reported as implementation-defined with what was observed, never as a mismatch, unless accept names one outcome.",
	"Expectation.accept": "With implementationDefined only: the outcomes that pass, [allowed, blocked] by default. " +
		"With one outcome the probe is an ordinary check of it (pass or fail).",
}

// schemaConstraints adds keywords to the schemas of some types and fields
// (keyed as schemaDescriptions), for what a field list cannot say.
var schemaConstraints = map[string]map[string]any{
	// allowed or implementationDefined, not both; accept only with the
	// latter.
	"Expectation": {
		"oneOf": []any{
			map[string]any{"required": []string{"allowed"}},
			map[string]any{"required": []string{"implementationDefined"}},
		},
		"dependentRequired": map[string]any{"accept": []string{"implementationDefined"}},
	},
	"Expectation.accept": {"minItems": 1, "uniqueItems": true},
}

// Schema returns a JSON Schema (draft 2020-12) for scenario documents,
// generated from the Go types: every object rejects unknown properties,
// fields without omitempty are required (an expectation needs allowed or
// implementationDefined), protocols and outcomes are enums. Policies
// are only required to be objects; the loader checks them fully.
// docs/scenario.schema.json is a copy (see TestSchema).
func Schema() ([]byte, error) {
	root, err := typeSchema(reflect.TypeFor[Scenario](), "Scenario")
	if err != nil {
		return nil, err
	}
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "netverify scenario"
	props := root["properties"].(map[string]any)
	props["apiVersion"].(map[string]any)["enum"] = []string{APIVersion}
	props["kind"].(map[string]any)["enum"] = []string{Kind}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// typeSchema returns the schema for values of t; name is the Go type name
// used to look up descriptions.
func typeSchema(t reflect.Type, name string) (map[string]any, error) {
	switch t {
	case reflect.TypeFor[Protocol]():
		return map[string]any{"type": "string", "enum": []Protocol{TCP, UDP, SCTP}}, nil
	case reflect.TypeFor[Outcome]():
		return map[string]any{"type": "string", "enum": []Outcome{OutcomeAllowed, OutcomeBlocked}}, nil
	case reflect.TypeFor[networkingv1.NetworkPolicy](), reflect.TypeFor[cnpv1.ClusterNetworkPolicy]():
		return map[string]any{"type": "object"}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeSchema(t.Elem(), t.Elem().Name())
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Slice:
		items, err := typeSchema(t.Elem(), t.Elem().Name())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		values, err := typeSchema(t.Elem(), t.Elem().Name())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		props := map[string]any{}
		required := []string{}
		for _, f := range jsonFields(t) {
			var s map[string]any
			if f.intOrString {
				s = map[string]any{"type": []string{"integer", "string"}}
			} else {
				var err error
				if s, err = typeSchema(f.typ, f.typ.Name()); err != nil {
					return nil, fmt.Errorf("%s.%s: %w", name, f.name, err)
				}
			}
			if d, ok := schemaDescriptions[name+"."+f.name]; ok {
				s["description"] = d
			}
			for k, v := range schemaConstraints[name+"."+f.name] {
				s[k] = v
			}
			props[f.name] = s
			if f.required {
				required = append(required, f.name)
			}
		}
		s := map[string]any{
			"type":                 "object",
			"properties":           props,
			"required":             required,
			"additionalProperties": false,
		}
		if d, ok := schemaDescriptions[name]; ok {
			s["description"] = d
		}
		for k, v := range schemaConstraints[name] {
			s[k] = v
		}
		return s, nil
	}
	return nil, fmt.Errorf("no schema for %s", t)
}
