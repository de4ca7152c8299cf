package probe

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/netverify/netverify/internal/version"
	"github.com/netverify/netverify/results"
)

// Exit codes of the probe program; see the package documentation.
const (
	ExitAllowed = 0 // connect: allowed; other subcommands: success
	ExitBlocked = 1 // connect: blocked
	ExitFailed  = 2 // connect: error verdict; serve: cannot listen; batch: cannot write
	ExitUsage   = 3 // bad flags, arguments or input JSON
)

// Streams are the program's standard streams.
type Streams struct {
	In     io.Reader
	Out    io.Writer // results only
	ErrOut io.Writer // logs, summaries, errors
}

// ExitError carries the exit code a subcommand ends with. Err may be nil
// when there is nothing more to say (the verdict or usage is already printed).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit code for Run's error: 0 for nil, the Code of
// an *ExitError, ExitFailed otherwise.
func ExitCode(err error) int {
	if err == nil {
		return ExitAllowed
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailed
}

func usageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

const usage = `netverify-probe runs inside netverify's probe pods.

Usage:
  netverify-probe serve --identity NS/POD --listen tcp:8080,udp:53,...
  netverify-probe batch [JSON | -]
  netverify-probe connect --proto tcp --host HOST --port PORT [--identity NS/POD] [--timeout 1s] [--id ID]
  netverify-probe version

Exit codes: 0 allowed/success, 1 blocked (connect), 2 error, 3 bad usage or input.
`

// Run runs the program with args (without the program name) and returns
// what it ends with: nil, or an error whose ExitCode is the exit code. It
// never exits the process; main does, once.
func Run(ctx context.Context, streams Streams, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(streams.ErrOut, usage)
		return &ExitError{Code: ExitUsage}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, streams, args[1:])
	case "batch":
		return runBatch(ctx, streams, args[1:])
	case "connect":
		return runConnect(ctx, streams, args[1:])
	case "version", "--version":
		fmt.Fprintln(streams.Out, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(streams.Out, usage)
		return nil
	default:
		fmt.Fprint(streams.ErrOut, usage)
		return usageErr("unknown subcommand %q", args[0])
	}
}

func versionString() string {
	s := "netverify-probe " + version.Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s += " (" + kv.Value + ")"
			}
		}
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// parseFlags parses args into fs, which has been given its flags; it allows
// no positional arguments beyond maxArgs.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &ExitError{Code: ExitUsage} // flag has printed the problem and usage
	}
	if fs.NArg() > maxArgs {
		return usageErr("%s: unexpected arguments %q", fs.Name(), fs.Args()[maxArgs:])
	}
	return nil
}

func newFlagSet(name string, streams Streams, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(streams.ErrOut)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: netverify-probe %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// serveOptions are serve's flags.
type serveOptions struct {
	identity string
	listen   string
	host     string

	endpoints []Endpoint
}

func runServe(ctx context.Context, streams Streams, args []string) error {
	var o serveOptions
	fs := newFlagSet("serve", streams, "--identity NS/POD --listen tcp:8080,udp:53,...")
	fs.StringVar(&o.identity, "identity", "", "identity to answer with (default $POD_NAMESPACE/$POD_NAME)")
	fs.StringVar(&o.listen, "listen", "", "comma-separated PROTO:PORT list (default $NETVERIFY_LISTEN)")
	fs.StringVar(&o.host, "host", "", "address to bind (default: all)")
	if err := parseFlags(fs, args, 0); err != nil {
		return helpIsSuccess(err)
	}
	// Complete: defaults from the pod's environment (downward API).
	if o.identity == "" {
		ns, pod := os.Getenv("POD_NAMESPACE"), os.Getenv("POD_NAME")
		if ns != "" && pod != "" {
			o.identity = ns + "/" + pod
		}
	}
	if o.listen == "" {
		o.listen = os.Getenv("NETVERIFY_LISTEN")
	}
	// Validate: everything before binding anything.
	var errs []error
	if o.identity == "" {
		errs = append(errs, errors.New("no identity: pass --identity NS/POD or set POD_NAMESPACE and POD_NAME"))
	}
	if o.listen == "" {
		// A pod that only sends probes serves nothing: it waits to be stopped.
		if len(errs) == 0 {
			fmt.Fprintf(streams.ErrOut, "netverify-probe: %s serves no ports; idle until stopped\n", o.identity)
			<-ctx.Done()
			return nil
		}
	} else {
		eps, err := ParseEndpoints(o.listen)
		if err != nil {
			errs = append(errs, fmt.Errorf("--listen: %w", err))
		}
		o.endpoints = eps
	}
	if err := errors.Join(errs...); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}

	srv := &Server{Identity: o.identity, Endpoints: o.endpoints, Host: o.host, Log: streams.ErrOut}
	if err := srv.Run(ctx); err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return nil
}

// batchOptions are batch's flags.
type batchOptions struct {
	parallel int
	input    string // the JSON, or "-" for stdin
}

func runBatch(ctx context.Context, streams Streams, args []string) error {
	var o batchOptions
	fs := newFlagSet("batch", streams, "[JSON | -]")
	fs.IntVar(&o.parallel, "parallel", DefaultParallel, "requests run at once")
	if err := parseFlags(fs, args, 1); err != nil {
		return helpIsSuccess(err)
	}
	o.input = fs.Arg(0)
	if o.parallel < 1 {
		return usageErr("--parallel must be at least 1, got %d", o.parallel)
	}

	var data []byte
	if o.input == "" || o.input == "-" {
		var err error
		if data, err = io.ReadAll(io.LimitReader(streams.In, MaxBatchStdinBytes+1)); err != nil {
			return usageErr("reading requests from stdin: %w", err)
		}
		if len(data) > MaxBatchStdinBytes {
			return usageErr("requests on stdin: more than %d MiB, the limit of a batch; split it into several batches", MaxBatchStdinBytes>>20)
		}
	} else {
		data = []byte(o.input)
	}
	reqs, err := DecodeRequests(data)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if err := RunBatch(ctx, &Prober{}, reqs, streams.Out, o.parallel); err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return nil
}

// connectOptions are connect's flags.
type connectOptions struct {
	req     Request
	timeout time.Duration
}

func runConnect(ctx context.Context, streams Streams, args []string) error {
	o, err := parseConnect(streams, args)
	if err != nil {
		return helpIsSuccess(err)
	}

	resp := (&Prober{}).Probe(ctx, o.req)
	line, _ := json.Marshal(resp) // strings and ints: cannot fail
	if _, err := fmt.Fprintf(streams.Out, "%s\n", line); err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("writing result: %w", err)}
	}
	fmt.Fprintln(streams.ErrOut, Summary(o.req, resp))
	switch resp.Verdict {
	case results.Allowed:
		return nil
	case results.Blocked:
		return &ExitError{Code: ExitBlocked}
	default:
		return &ExitError{Code: ExitFailed}
	}
}

// parseConnect parses and validates connect's flags (Complete, Validate):
// the request it returns is valid. The error is flag.ErrHelp for -h, or a
// usage error.
func parseConnect(streams Streams, args []string) (connectOptions, error) {
	o := connectOptions{req: Request{ID: "connect"}}
	fs := newFlagSet("connect", streams, "--proto tcp --host HOST --port PORT [--identity NS/POD] [--timeout 1s] [--id ID]")
	fs.StringVar(&o.req.Protocol, "proto", ProtocolTCP, "tcp, udp, sctp or dns")
	fs.StringVar(&o.req.Host, "host", "", "address or name to connect to (the name to look up, for dns)")
	fs.IntVar(&o.req.Port, "port", 0, "port (not for dns)")
	fs.StringVar(&o.req.Identity, "identity", "", "identity NS/POD the server must answer with")
	fs.DurationVar(&o.timeout, "timeout", DefaultTimeout, "time budget of the attempt (at most "+MaxTimeout.String()+")")
	fs.StringVar(&o.req.ID, "id", o.req.ID, "ID echoed in the JSON result")
	if err := parseFlags(fs, args, 0); err != nil {
		return o, err
	}
	if o.timeout <= 0 || o.timeout > MaxTimeout {
		return o, usageErr("--timeout must be positive and at most %s, got %s", MaxTimeout, o.timeout)
	}
	o.req.TimeoutMs = int(max(o.timeout.Milliseconds(), 1))
	if err := o.req.Validate(); err != nil {
		return o, &ExitError{Code: ExitUsage, Err: err}
	}
	return o, nil
}

// Summary is a one-line human account of a probe:
// "BLOCKED tcp 10.0.0.5:8080 as ns/pod: timeout (dial tcp …: i/o timeout) after 1000ms".
func Summary(req Request, resp Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", strings.ToUpper(string(resp.Verdict)), req, resp.Reason)
	if resp.AnsweredBy != "" {
		fmt.Fprintf(&b, ", answered by %s", resp.AnsweredBy)
	}
	if resp.Detail != "" {
		fmt.Fprintf(&b, " (%s)", resp.Detail)
	}
	fmt.Fprintf(&b, " after %dms", resp.Ms)
	return b.String()
}

func helpIsSuccess(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
