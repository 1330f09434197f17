// Package ssp is the mock Spine Secure Proxy (gpconnect-1.6.md §1): it
// reads the provider's service root from the raw request path
// ({prefix}{service root}/{FHIR path}), applies the SSP's checks in one
// documented order (Checks), and forwards what passes to the provider with
// net/http/httputil.ReverseProxy, streaming the answer back unchanged, or
// with a direct call when the provider is served in process (Local).
//
// It is never an open proxy. A request is forwarded only to a service root
// registered in SDS (the world's practices), only when the target begins
// with that root byte for byte, and only when what follows the root is a
// plain path and query whose raw form is exactly what will be forwarded: no
// encoded slashes or dots, no dot segments, no userinfo, no fragment, no
// control characters. Lenient mode records failed checks and forwards
// anyway, but still refuses overlong URIs and any target that is not a
// registered service root.
//
// An OPTIONS below a registered service root is a CORS preflight the SSP
// answers itself (cors.go); it is never forwarded.
//
// Errors are the SSP's own OperationOutcome shape (gpc.SSPOutcome, §1.5),
// with a fresh UUID as id.
package ssp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// DefaultTimeout is how long the SSP waits for a provider when
// Config.Timeout is zero. Spine does not publish its own figure; 30 s is
// far above any GP Connect provider's expected latency.
const DefaultTimeout = 30 * time.Second

// Config is how the sandbox wires one session's SSP.
type Config struct {
	// World is the session's state: the AS and MHS records the checks
	// consult.
	World *world.World
	// Prefix is the raw path before the target, e.g. "/ssp/" or
	// "/s/abc/ssp/". It is matched against r.RequestURI, which net/http
	// leaves as the client sent it.
	Prefix string
	// Transport reaches the providers; nil means a shared, tuned
	// *http.Transport (many idle connections per host, timeouts, no
	// proxy from the environment, no transparent compression).
	Transport http.RoundTripper
	// Lenient records failed checks and forwards anyway, except to a
	// target that is not a registered service root (and overlong URIs).
	Lenient bool
	// Report, when set, is called once per request, before the request is
	// forwarded or refused, with the checks that failed (none when all
	// passed).
	Report func(r *http.Request, failures []Failure)
	// Timeout bounds the whole upstream exchange; when it passes the SSP
	// answers 504 (Spine Core's downstream timeout). Zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Failure is one failed check: its name (Checks), the HTTP status and FHIR
// issue code the SSP answers with, and the message that becomes the
// coding's display and the diagnostics (§1.5). A *Failure is an error.
type Failure struct {
	Check     string
	Status    int
	IssueCode string
	Message   string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%s: %d %s %s", f.Check, f.Status, f.IssueCode, f.Message)
}

type server struct {
	cfg   Config
	proxy *httputil.ReverseProxy
	// roots holds parseRoot's answer for each service root met (nil ones
	// too): the world's registered endpoints, a bounded set, each parsed
	// once instead of on every request.
	roots sync.Map
	// matched holds the URL each recent target was accepted with
	// (matchRoot); the URLs are never changed.
	matchedMu sync.Mutex
	matched   map[matchKey]*url.URL
	// forwarding is the forwarding headers' values made last
	// (setForwardedCached), kept for the next request from the same client
	// host: they are the same for every request from it, whatever its port.
	forwarding atomic.Pointer[forwarding]
}

// forwarding is setForwarded's four values for requests to host, over TLS
// or not, that carried no forwarding headers of their own, from a client
// whose RemoteAddr begins with addr (its host and the colon before its
// port: "127.0.0.1:", "[::1]:").
type forwarding struct {
	addr, host string
	tls        bool
	h          http.Header // the four keys, each with one value, in arrays of one
}

// setForwardedCached is setForwarded, with the values of a request that
// carries no forwarding headers of its own taken from the last such
// request's when it came from the same client host to the same host: the
// same four strings, shared (each value a full slice of one, so a later
// Add copies it rather than writing into another request's). The values
// name the client's host, never its port, so the many connections of one
// client share them; a RemoteAddr that is not host:port is never kept.
func (s *server) setForwardedCached(h http.Header, in *http.Request) {
	_, xff := in.Header["X-Forwarded-For"]
	_, fwd := in.Header["Forwarded"]
	addr, ok := addrLessPort(in.RemoteAddr)
	if xff || fwd || !ok {
		setForwarded(h, in)
		return
	}
	tls := in.TLS != nil
	f := s.forwarding.Load()
	if f == nil || f.addr != addr || f.host != in.Host || f.tls != tls {
		f = &forwarding{addr: addr, host: in.Host, tls: tls, h: make(http.Header, 4)}
		setForwarded(f.h, in)
		s.forwarding.Store(f)
	}
	for k, v := range f.h {
		h[k] = v // X-Forwarded-For among them: addrLessPort keeps only addresses setForwarded splits
	}
}

// addrLessPort is a RemoteAddr's host and the colon before its port, when
// it is host:port with a host setForwarded reads (net.SplitHostPort takes
// it) and a port of digits: two addresses with the same one are the same
// host to setForwarded.
func addrLessPort(remoteAddr string) (string, bool) {
	i := strings.LastIndexByte(remoteAddr, ':')
	if i < 0 || i == len(remoteAddr)-1 {
		return "", false
	}
	for _, c := range []byte(remoteAddr[i+1:]) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	if remoteAddr[0] == '[' {
		if remoteAddr[i-1] != ']' || strings.IndexByte(remoteAddr[1:i-1], ']') >= 0 || strings.IndexByte(remoteAddr[1:i-1], '[') >= 0 {
			return "", false
		}
	} else if strings.IndexByte(remoteAddr[:i], ':') >= 0 || strings.IndexByte(remoteAddr[:i], '[') >= 0 || strings.IndexByte(remoteAddr[:i], ']') >= 0 {
		return "", false
	}
	return remoteAddr[:i+1], true
}

// rootURL is parseRoot(root), parsed once per root; callers only read it.
func (s *server) rootURL(root string) *url.URL {
	if v, ok := s.roots.Load(root); ok {
		return v.(*url.URL)
	}
	ru := parseRoot(root)
	s.roots.Store(root, ru)
	return ru
}

// matchRoot is the package's matchRoot with the root parsed once, and the
// URL a target was accepted with kept for the next request to it
// (matched): a consumer sends the same targets again and again (the
// metadata, a week's slots, a patient's search). Each caller gets its own
// copy of the URL.
func (s *server) matchRoot(target, root string) (*url.URL, bool) {
	k := matchKey{target, root}
	s.matchedMu.Lock()
	u, ok := s.matched[k]
	s.matchedMu.Unlock()
	if !ok {
		if u, ok = matchUnder(target, root, s.rootURL); !ok {
			return nil, false // refusals are not kept: a hostile client's targets fill nothing
		}
		if len(target) <= maxMatchedTarget {
			s.matchedMu.Lock()
			if len(s.matched) >= maxMatched {
				clear(s.matched)
			}
			if s.matched == nil {
				s.matched = make(map[matchKey]*url.URL)
			}
			s.matched[k] = u
			s.matchedMu.Unlock()
		}
	}
	c := *u
	return &c, true
}

// matchKey is a target and the root it was accepted below.
type matchKey struct{ target, root string }

// The bounds of the accepted targets kept (server.matched): at most
// maxMatched of at most maxMatchedTarget bytes each, 128 KiB of targets
// per SSP; when full it starts again.
const (
	maxMatched       = 256
	maxMatchedTarget = 512
)

// exchangeKey carries the accepted target from ServeHTTP to Rewrite and
// the error handler, which only see the request.
type exchangeKey struct{}

// New returns the SSP for one session.
func New(cfg Config) http.Handler {
	if cfg.Transport == nil {
		cfg.Transport = defaultTransport()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &server{cfg: cfg}
	s.proxy = &httputil.ReverseProxy{
		Rewrite:       rewrite,
		Transport:     cfg.Transport,
		FlushInterval: -1, // stream every write straight back (§1.1)
		BufferPool:    bufferPool{},
		ErrorHandler:  upstreamError,
	}
	return s
}

// ServeHTTP runs the checks in the order of Checks, then forwards.
func (s *server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	x := newExchange(s, r)
	if r.Method == http.MethodOptions {
		s.preflight(rw, x)
		return
	}
	failures, refusal := s.check(x)
	if s.cfg.Report != nil {
		s.cfg.Report(r, failures)
	}
	if refusal != nil {
		writeError(rw, refusal)
		return
	}
	if s.local(r.Context(), x) {
		ctx := &x.deadline // in the exchange's allocation
		ctx.start(r.Context(), s.cfg.Timeout)
		defer ctx.stop()
		s.forwardLocal(ctx, rw, r, x)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	s.proxy.ServeHTTP(rw, r.WithContext(context.WithValue(ctx, exchangeKey{}, x)))
}

// check runs every check in order. Strict mode stops at the first failure
// and refuses with it. Lenient mode runs them all and refuses only when the
// request cannot be forwarded safely, with the failure that says why.
func (s *server) check(x *exchange) (failures []Failure, refusal *Failure) {
	for _, c := range pipeline {
		f := c.run(x)
		if f == nil {
			continue
		}
		failures = append(failures, *f)
		if !s.cfg.Lenient || c.always {
			return failures, f
		}
	}
	if x.fwd == nil {
		// Only reachable in lenient mode when the target check failed
		// without finding any registered root; it recorded why.
		for i := range failures {
			if failures[i].Check == CheckTargetMatchesEndpoint {
				return failures, &failures[i]
			}
		}
		return failures, targetFailure(x)
	}
	return failures, nil
}

// rewrite points the outbound request at the accepted target. Method,
// headers (less hop-by-hop ones, which ReverseProxy drops), query and body
// are left as they came; the SSP's own prefix is gone (§1.2).
func rewrite(pr *httputil.ProxyRequest) {
	x := pr.In.Context().Value(exchangeKey{}).(*exchange)
	*pr.Out.URL = *x.fwd // Out.URL is the proxy's own copy of In's
	pr.Out.Host = ""     // the Host header becomes the provider's
	setForwarded(pr.Out.Header, pr.In)
}

// setForwarded sets the RFC 7239 and the de facto X-Forwarded-* headers
// (§1.4), appended to any the client sent, as a chain of proxies would:
// what httputil.ProxyRequest.SetXForwarded sets, and Forwarded. The four
// values share one array (a Header.Set allocates one per value).
func setForwarded(h http.Header, in *http.Request) {
	vals := make([]string, 4)
	set := func(i int, key, v string) {
		vals[i] = v
		h[key] = vals[i : i+1 : i+1]
	}
	if client, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		if prior := in.Header["X-Forwarded-For"]; len(prior) > 0 {
			client = strings.Join(prior, ", ") + ", " + client
		}
		set(0, "X-Forwarded-For", client)
	} else {
		delete(h, "X-Forwarded-For") // as SetXForwarded does
	}
	set(1, "X-Forwarded-Host", in.Host)
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	set(2, "X-Forwarded-Proto", proto)
	set(3, "Forwarded", forwarded(in))
}

// forwarded is the Forwarded header value: the client's elements followed
// by this hop's for, host and proto.
func forwarded(in *http.Request) string {
	host, _, err := net.SplitHostPort(in.RemoteAddr)
	if err != nil {
		host = in.RemoteAddr
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 node names are bracketed (RFC 7239 §6)
	}
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	el := "for=" + quoteIfNeeded(host) + ";host=" + quoteIfNeeded(in.Host) + ";proto=" + proto
	if prior := strings.Join(in.Header.Values("Forwarded"), ", "); prior != "" {
		return prior + ", " + el
	}
	return el
}

// quoteIfNeeded returns v as an RFC 7230 token, or as a quoted string when
// it holds other characters (":" in host:port, "[" in IPv6).
func quoteIfNeeded(v string) string {
	for i := 0; i < len(v); i++ {
		if !isTokenByte(v[i]) {
			return `"` + quotedPair.Replace(v) + `"`
		}
	}
	if v == "" {
		return `""`
	}
	return v
}

// quotedPair escapes a quoted string's backslashes and quotes (RFC 7230).
var quotedPair = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// upstreamError is ReverseProxy's error handler (writeUpstreamError).
func upstreamError(rw http.ResponseWriter, r *http.Request, err error) {
	x, _ := r.Context().Value(exchangeKey{}).(*exchange)
	target := ""
	if x != nil {
		target = x.target
	}
	writeUpstreamError(rw, target, err)
}

// writeUpstreamError answers a failed exchange with the provider at
// target: 504 when the SSP's deadline (or a network timeout) ended it, 502
// otherwise (§1.5).
func writeUpstreamError(rw http.ResponseWriter, target string, err error) {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		writeError(rw, &Failure{Check: "upstream", Status: http.StatusGatewayTimeout, IssueCode: "transient",
			Message: "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_" + target})
		return
	}
	writeError(rw, &Failure{Check: "upstream", Status: http.StatusBadGateway, IssueCode: "transient",
		Message: "ERROR_COMMUNICATING_TO_ENDPOINT_URL_" + target})
}

// WriteFailure answers with f as the SSP answers its own refusals, for
// callers that refuse on the SSP's behalf (the sandbox's strict mode).
func WriteFailure(rw http.ResponseWriter, f *Failure) { writeError(rw, f) }

// WriteFault answers with status as the SSP answers, for answers given in
// its name (the sandbox's injected faults): message, or when it is "" the
// SSP's own for status (§1.5) naming target, the URL after the SSP's
// prefix; issue type transient.
func WriteFault(rw http.ResponseWriter, status int, message, target string) {
	if message == "" {
		switch status {
		case http.StatusBadGateway:
			message = "ERROR_COMMUNICATING_TO_ENDPOINT_URL_" + target
		case http.StatusGatewayTimeout:
			message = "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_" + target
		default:
			message = strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		}
	}
	writeError(rw, &Failure{Check: "fault", Status: status, IssueCode: "transient", Message: message})
}

// writeError is the one place an SSP error becomes a response: the SSP's
// own OperationOutcome (§1.5) with a new UUID as id. Anything that is not a
// *Failure is a generic 500.
func writeError(rw http.ResponseWriter, err error) {
	var f *Failure
	if !errors.As(err, &f) {
		f = &Failure{Status: http.StatusInternalServerError, IssueCode: "exception", Message: "INTERNAL_SERVER_ERROR"}
	}
	body, _ := json.Marshal(gpc.SSPOutcome(gpc.NewUUID(), f.Status, f.IssueCode, f.Message)) // plain structs: cannot fail
	h := rw.Header()
	h.Set("Content-Type", "application/fhir+json;charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if f.Status == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, POST, PUT") // RFC 9110 §15.5.6
	}
	rw.WriteHeader(f.Status)
	_, _ = rw.Write(body)
}

// defaultTransport is shared by every session's SSP, so idle connections to
// a provider are reused across sessions. The standard transport keeps only
// 2 idle connections per host, which churns connections under concurrent
// consumers (STYLE.md library notes).
var defaultTransport = sync.OnceValue(func() http.RoundTripper {
	return &http.Transport{
		Proxy: nil, // never route provider traffic through an environment proxy
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// The SSP forwards headers unchanged: the transport must not add
		// Accept-Encoding: gzip of its own and decompress behind our back.
		DisableCompression: true,
	}
})

// bufferPool recycles the copy buffers of ReverseProxy (httputil.BufferPool)
// and forwardLocal.
// It pools array pointers, which a buffer converts back to without an
// allocation: pooling a *[]byte would allocate a slice header per Put.
type bufferPool struct{}

const bufferSize = 32 << 10

var buffers = sync.Pool{New: func() any { return new([bufferSize]byte) }}

func (bufferPool) Get() []byte { return buffers.Get().(*[bufferSize]byte)[:] }

func (bufferPool) Put(b []byte) {
	if cap(b) >= bufferSize { // always: its users return what Get gave
		buffers.Put((*[bufferSize]byte)(b[:bufferSize]))
	}
}
