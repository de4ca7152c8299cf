package probe

// Request is one connection attempt, run by the probe program inside a
// source pod. A batch is a JSON array of Requests.
type Request struct {
	// ID is echoed in the Response so the caller can match lines to probes.
	ID string `json:"id"`
	// Protocol is "tcp", "udp", "sctp" or "dns" (a lookup of Host; Port unused).
	Protocol string `json:"proto"`
	// Host is an IP address or a name resolved with the pod's resolver.
	Host string `json:"host"`
	Port int    `json:"port,omitempty"`
	// Identity, when set, is the identity the server must answer with
	// ("namespace/pod"). Empty means any answer (or none, for TCP) counts.
	Identity string `json:"identity,omitempty"`
	// TimeoutMs bounds the attempt (dial + identity read). Default 1000.
	TimeoutMs int `json:"timeoutMs,omitempty"`
}

// Response is the probe program's answer for one Request: one JSON line.
type Response struct {
	ID string `json:"id"`
	// Verdict is "allowed", "blocked" or "error".
	Verdict string `json:"verdict"`
	// Reason is one of: connected, resolved, timeout, refused, unreachable,
	// dns, wrong-identity, no-identity, unsupported, error.
	Reason string `json:"reason"`
	// AnsweredBy is the identity the server sent, if any.
	AnsweredBy string `json:"answeredBy,omitempty"`
	// Detail is free text (an error message, resolved addresses…).
	Detail string `json:"detail,omitempty"`
	// Ms is how long the attempt took.
	Ms int64 `json:"ms"`
}
