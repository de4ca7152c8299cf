// Package probe is netverify's probe program and its caller side.
//
// The program, netverify-probe (cmd/netverify-probe), runs in every probe
// pod: non-root, no capabilities, read-only root filesystem. It writes no
// files. Results go to stdout, one JSON line each; logs and human summaries
// go to stderr.
//
// # Subcommands
//
//	netverify-probe serve --identity NS/POD --listen tcp:8080,udp:53,sctp:132
//
// Answers on every listed port with the pod's identity: a TCP connection
// gets "NS/POD\n" and is closed; a UDP datagram gets "NS/POD" back. SCTP is
// not in Go's standard library: such ports are logged ("sctp unsupported,
// port N not served") and skipped. --identity defaults to
// $POD_NAMESPACE/$POD_NAME and --listen to $NETVERIFY_LISTEN. Every port is
// bound before anything is served; if one cannot be (in use, or below 1024
// without net.ipv4.ip_unprivileged_port_start=0), serve names it on stderr
// and exits 2. SIGTERM ends it with exit 0.
//
//	netverify-probe batch [JSON | -]
//
// Runs a JSON array of Requests (the argument, or stdin when it is absent or
// "-"), up to 256 at once, and prints one Response line per request as each
// completes. Exit 0 once every request was attempted, whatever the verdicts;
// 3 if the input is not a JSON array of requests (null, an object… too), or
// if stdin holds more than 4 MiB (MaxBatchStdinBytes; it is not read
// further). An invalid request (unknown protocol, no host, timeoutMs over
// 600000…) gets an error Response, not an exit code.
//
//	netverify-probe connect --proto tcp --host H --port P [--identity NS/POD] [--timeout 1s] [--id ID]
//
// One request: the Response line on stdout, a human summary on stderr, and
// the verdict as the exit code. This is the form of "kubectl exec … --"
// repro lines (ConnectCommand).
//
//	netverify-probe version
//
// # Exit codes
//
//	0  allowed (connect); success (serve, batch, version)
//	1  blocked (connect)
//	2  error verdict (connect); cannot listen (serve); cannot write results (batch)
//	3  bad usage or input: flags, arguments, batch JSON
//
// # Verdicts
//
// Every attempt ends in one of three verdicts, with a reason. "error" means
// the probe could not tell, and must never be read as "blocked".
//
// tcp: dial within the timeout. Once connected, read the server's greeting
// up to "\n" or EOF.
//   - With Identity set, the rest of the timeout is allowed for it: the
//     identity → allowed/connected; another non-empty answer →
//     error/wrong-identity; nothing (timeout, EOF, reset) → error/no-identity.
//   - Without Identity → allowed/connected; AnsweredBy is whatever arrived
//     within a short grace (200ms), not the whole timeout.
//   - Dial failures: timeout → blocked/timeout; ECONNREFUSED → blocked/refused;
//     EHOSTUNREACH, ENETUNREACH → blocked/unreachable; the name did not
//     resolve (any *net.DNSError, timeouts included) → error/dns; anything
//     else → error/error with the error in Detail.
//
// udp: send "netverify-probe" and wait for a reply, resending a few times
// within the timeout in case of loss. A reply is judged like a TCP greeting
// with Identity set (or allowed/connected without). No reply → blocked/timeout;
// ECONNREFUSED (ICMP port unreachable) → blocked/refused; dial failures as
// for tcp.
//
// sctp: error/unsupported ("sctp not supported by this probe build");
// callers report it as skipped.
//
// dns: look Host up with the pod's resolver. Addresses →
// allowed/resolved with Detail the comma-separated addresses; the resolver
// timed out or was unreachable (DNSError IsTimeout or IsTemporary) →
// blocked/timeout; NXDOMAIN (IsNotFound) → error/dns, since a name that does
// not exist is a broken probe, not a block.
//
// The timeout (TimeoutMs, default 1000, at most 600000 — MaxTimeout) bounds
// the whole attempt; connect's --timeout is limited the same way. If the
// program itself is interrupted (SIGTERM, a cancelled exec) an unfinished
// attempt reports error ("interrupted"), never blocked. Errors are
// classified with errors.Is/errors.As on syscall errnos, net.Error and
// *net.DNSError, never by their text.
//
// Refused is reported as blocked because serve listens on every port the
// probes target: with the server up, a refusal comes from a policy (a
// REJECT rule) rather than a closed port.
//
// # Caller side
//
// The orchestrator builds argv with BatchCommand (splitting large batches
// with ChunkRequests: one exec argument is limited to 128 KiB) and reads the
// output with ParseBatchOutput; ConnectCommand gives the repro line. For
// clusters where only agnhost images can run, AgnhostConnectCommand and
// ParseAgnhostConnect give the same Responses from agnhost's connect
// subcommand, without an identity check.
package probe
