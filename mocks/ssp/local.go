package ssp

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/kept"
)

// Local is a Transport that serves some upstreams in process (the
// sandbox's own provider), its answer whole when RoundTrip returns. The SSP
// forwards to those with forwardLocal instead of ReverseProxy: the
// streaming of §1.1, the proxy's reason to be here, gains nothing on an
// answer that is already whole, and its request clone, client trace and
// copy loop were a tenth of the SSP's CPU (docs/performance.md).
type Local interface {
	http.RoundTripper
	// Serves reports whether RoundTrip serves u in process for a request
	// with context ctx.
	Serves(ctx context.Context, u *url.URL) bool
}

// Through is a Local transport that can also serve a request straight into
// the SSP's answer, as it is made, rather than whole into a response the
// SSP then copies: the sandbox's own provider, whose answer the SSP would
// only copy unchanged (ForwardedLocally).
type Through interface {
	Local
	// InPlace reports whether the SSP may forward the inbound request r
	// with r's own header map, its forwarding headers added to it, rather
	// than a copy: nobody reads r's map once the SSP has it but whoever
	// ServeThrough tells what was added (the Handler contract lets a
	// handler change its request only when it knows that).
	InPlace(r *http.Request) bool
	// ServeThrough serves req as RoundTrip would, writing the answer to w.
	// It returns the error RoundTrip would return only when it has written
	// nothing to w, but perhaps headers to w.Header(), which the SSP
	// drops. The answer's headers reach the consumer as the upstream sets
	// them: it sets only end-to-end ones, in canonical form, which is all
	// ReverseProxy would pass on (TestThroughLikeLocal). added, when not
	// nil, names the keys the SSP put into the inbound request's own map to
	// make req's (InPlace): the consumer sent none of them.
	ServeThrough(w http.ResponseWriter, req *http.Request, added []string) error
}

// throughWriter is the consumer's answer as a Through transport writes it:
// it notes whether anything was written and the first write that failed.
type throughWriter struct {
	http.ResponseWriter
	wrote bool
	err   error
}

func (w *throughWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *throughWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// WriteKept hands on bytes that never change (kept.Writer).
func (w *throughWriter) WriteKept(b []byte) (int, error) {
	w.wrote = true
	n, err := kept.Write(w.ResponseWriter, b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *throughWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// local reports whether x goes to an upstream the transport serves in
// process, and the request is one forwardLocal sends as ReverseProxy
// would: a protocol upgrade or a request for trailers ("Te") takes the
// proxy's own path.
func (s *server) local(ctx context.Context, x *exchange) bool {
	l, ok := s.cfg.Transport.(Local)
	if !ok || !l.Serves(ctx, x.fwd) {
		return false
	}
	_, te := x.r.Header["Te"]
	_, upgrade := x.r.Header["Upgrade"]
	return !te && !upgrade
}

// forwardLocal sends r, with context ctx, to x.fwd through the Local
// transport and copies the answer back, doing what ReverseProxy (with
// rewrite and upstreamError) does for such a request, so that the provider
// sees the same request and the consumer the same answer
// (TestLocalLikeProxy): the headers less the hop-by-hop ones, this hop's
// forwarding headers after the client's, an empty User-Agent when none was
// sent, no body when none is announced; the answer's status, its headers
// less the hop-by-hop ones, and its body; 502 or 504 when the exchange
// fails.
func (s *server) forwardLocal(ctx context.Context, rw http.ResponseWriter, r *http.Request, x *exchange) {
	t, through := s.cfg.Transport.(Through)
	through = through && len(rw.Header()) == 0
	out := r.WithContext(ctx)
	var added []string
	if through && addsOnly(r.Header) && t.InPlace(r) {
		// The forwarded headers are the consumer's plus the forwarding
		// ones, none of which it sent: they go into its own map.
		added = forwardingKeys[:4]
		if _, ok := r.Header["User-Agent"]; !ok {
			added = forwardingKeys[:]
		}
	} else {
		out.Header = cloneEndToEnd(r.Header, 5) // room for the forwarding headers and User-Agent
	}
	s.setForwardedCached(out.Header, r) // replaces the client's forwarding headers, as ReverseProxy's Rewrite does
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // not Go's default (ReverseProxy)
	}
	out.URL, out.Host, out.Close = x.fwd, "", false
	if r.ContentLength == 0 {
		out.Body = nil
	} else if out.Body != nil {
		out.Body = io.NopCloser(out.Body) // the transport may close it; the inbound body is the server's
	}
	if through {
		// The answer goes to the consumer as the upstream writes it: the
		// same status, headers and bytes as the copy below, without the
		// copy.
		w := &x.through
		w.ResponseWriter = rw
		err := t.ServeThrough(w, out, added)
		switch {
		case err != nil && !w.wrote:
			clear(rw.Header()) // the upstream's, if it set some before failing
			writeUpstreamError(rw, x.target, err)
		case (err != nil || w.err != nil) && r.Context().Value(http.ServerContextKey) != nil:
			panic(http.ErrAbortHandler) // the consumer is gone, or the answer broke off: abort as the copy below does
		}
		return
	}
	res, err := s.cfg.Transport.RoundTrip(out)
	if err != nil {
		writeUpstreamError(rw, x.target, err)
		return
	}
	defer res.Body.Close()
	addHeader(rw.Header(), res.Header) // the answer's headers stay as they came (ForwardedLocally)
	rw.WriteHeader(res.StatusCode)
	buf := bufferPool{}.Get()
	defer bufferPool{}.Put(buf)
	if _, err := io.CopyBuffer(rw, res.Body, buf); err != nil && r.Context().Value(http.ServerContextKey) != nil {
		panic(http.ErrAbortHandler) // the consumer is gone: abort as ReverseProxy does
	}
}

// forwardingKeys are the keys forwardLocal may add to a request's
// headers: setForwarded's four, then User-Agent.
var forwardingKeys = [...]string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "User-Agent"}

// addsOnly reports whether forwarding a request with headers h only adds
// keys to them: h holds no hop-by-hop header to leave out (so none that a
// Connection header names) and none of the forwarding headers, which
// setForwarded appends to or replaces.
func addsOnly(h http.Header) bool {
	for k := range h {
		if isHopHeader(k) {
			return false
		}
	}
	for _, k := range forwardingKeys[:4] {
		if _, ok := h[k]; ok {
			return false
		}
	}
	return true
}

// namedIn reports whether a Connection header's values name k, as
// ReverseProxy's removeHopByHopHeaders reads them (Header.Del canonicalises
// the name).
func namedIn(conn []string, k string) bool {
	for _, f := range conn {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" && textproto.CanonicalMIMEHeaderKey(sf) == k {
				return true
			}
		}
	}
	return false
}

// isHopHeader reports whether k is a hop-by-hop header ReverseProxy
// removes (RFC 9110 §7.6.1 and the older RFC 2616 list), in its canonical
// form: Header.Del would find only the canonical key too.
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// addHeader adds every value of src to dst, as Header.Add does one by one
// (ReverseProxy's copy), with the values of keys new to dst in one array
// rather than one per key, less the hop-by-hop headers and those src's
// Connection names: what ReverseProxy copies after removeHopByHopHeaders,
// without changing src. The values share an array made for one per key
// (the common case); a key with more makes it grow, which the keys already
// copied do not notice (each slice is full).
func addHeader(dst, src http.Header) {
	sv := make([]string, 0, len(src))
	conn := src["Connection"]
	for k, vs := range src {
		if len(vs) == 0 {
			continue // Add adds nothing, not even the key
		}
		if isHopHeader(k) || namedIn(conn, k) {
			continue
		}
		k = http.CanonicalHeaderKey(k)
		if len(dst[k]) > 0 {
			dst[k] = append(dst[k], vs...)
			continue
		}
		n := len(sv)
		sv = append(sv, vs...)
		dst[k] = sv[n:len(sv):len(sv)] // full: a later Add copies, never writes into the next key's values
	}
}

// cloneEndToEnd is http.Header.Clone with room for extra more keys, so
// the forwarding headers do not grow the map, less the hop-by-hop headers
// and those the Connection header names: what ReverseProxy forwards after
// its removeHopByHopHeaders, in one pass. The values share an array made
// for one per key, as in addHeader.
func cloneEndToEnd(h http.Header, extra int) http.Header {
	sv := make([]string, 0, len(h))
	out := make(http.Header, len(h)+extra)
	conn := h["Connection"]
	for k, vs := range h {
		switch {
		case isHopHeader(k) || namedIn(conn, k):
		case vs == nil:
			out[k] = nil
		default:
			n := len(sv)
			sv = append(sv, vs...)
			out[k] = sv[n:len(sv):len(sv)]
		}
	}
	return out
}
