package sandbox

import (
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Direct returns a transport that hands requests for the sandbox's public
// URL to the sandbox in process, as its listener would receive them from
// Go's default transport over loopback — the same request line, Host and
// headers (a User-Agent, Accept-Encoding: gzip, Content-Length), a gzip
// answer decoded for the caller as that transport does — without sockets
// or the HTTP/1.1 wire format. A dropped connection is an error, as over
// the network. Requests for any other host are refused.
//
// It is for measuring the sandbox in process (BenchmarkJourney's direct
// arm): the runner, serve and the public package keep the loopback
// listener, which is what consumers see. Unlike the listener it runs the
// handler on the caller's goroutine — a client that gives up cancels the
// handler's context, as closing a connection does, but waits for the
// handler to return — and it gives no TLS.
func (s *Server) Direct() http.RoundTripper { return direct{s} }

type direct struct{ s *Server }

var errNotSandbox = errors.New("spine-sandbox: the direct transport serves only the sandbox's public URL")

func (t direct) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isOrigin(req.URL, t.s.cfg.PublicURL) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNotSandbox
	}
	// The server's request context is its own, as a connection's is: it
	// ends (cancelled, not past a deadline) when the client gives up.
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := directContext{cctx}
	defer context.AfterFunc(req.Context(), cancel)()
	// A shallow copy: what the handler may change of it (Header, URL,
	// Trailer) is made afresh below, so the client's request stays as it
	// was, as over a connection.
	in := req.WithContext(ctx)
	in.Trailer = req.Trailer.Clone()
	in.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	in.RequestURI = req.URL.RequestURI()
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/1.1", 1, 1
	in.Host = req.Host
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.RemoteAddr = "127.0.0.1:1"
	// The server reads header names canonicalised (a consumer may set
	// req.Header["X-Request-ID"] directly).
	in.Header = make(http.Header, len(req.Header)+3)
	for k, vs := range req.Header {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		in.Header[ck] = append(in.Header[ck], vs...)
	}
	// What Go's transport adds on the wire.
	if _, ok := in.Header["User-Agent"]; !ok {
		in.Header.Set("User-Agent", "Go-http-client/1.1")
	}
	gunzip := false
	if in.Header.Get("Accept-Encoding") == "" && in.Header.Get("Range") == "" && in.Method != http.MethodHead {
		in.Header.Set("Accept-Encoding", "gzip")
		gunzip = true
	}
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		in.Body, in.ContentLength = http.NoBody, 0
		if req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
			in.Header.Set("Content-Length", "0")
		}
	case req.ContentLength > 0:
		in.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	default:
		in.ContentLength, in.TransferEncoding = -1, []string{"chunked"}
	}
	rec := newRecorder()
	if err := serveRecover(t.s, rec, in); err != nil {
		return nil, err
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	res := rec.response(req)
	if gunzip && strings.EqualFold(res.Header.Get("Content-Encoding"), "gzip") {
		zr := gunzipReaders.Get().(*gzip.Reader)
		if err := zr.Reset(res.Body); err != nil {
			gunzipReaders.Put(zr)
			return nil, err
		}
		res.Body = &gunzipBody{zr: zr}
		res.Header.Del("Content-Encoding")
		res.Header.Del("Content-Length")
		res.ContentLength = -1
		res.Uncompressed = true
	}
	return res, nil
}

// directKey marks a request Direct handed to the sandbox: its header map
// was made for it (ownHeader).
type directKey struct{}

// directContext is a request's context from Direct: a connection's
// context, marked (directKey).
type directContext struct{ context.Context }

func (c directContext) Value(key any) any {
	if _, ok := key.(directKey); ok {
		return true
	}
	return c.Context.Value(key)
}

// isOrigin reports whether u is at origin ("scheme://host"), without
// joining the two for every request.
func isOrigin(u *url.URL, origin string) bool {
	rest, ok := strings.CutPrefix(origin, u.Scheme)
	rest, ok2 := strings.CutPrefix(rest, "://")
	return ok && ok2 && rest == u.Host
}

// gunzipReaders are reused across answers: a gzip reader's window and
// tables are about 40 KB, allocated afresh by each gzip.NewReader.
var gunzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}

// errBodyClosed is what a read after Close gets, as from Go's transport.
var errBodyClosed = errors.New("http: read on closed response body")

// gunzipBody is a gzip answer decoded as it is read; Close gives its reader
// back for the next answer. Read and Close may be called from different
// goroutines (a client that gives up closes the body it is reading).
type gunzipBody struct {
	mu sync.Mutex
	zr *gzip.Reader // nil once closed
}

func (b *gunzipBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.zr == nil {
		return 0, errBodyClosed
	}
	return b.zr.Read(p)
}

func (b *gunzipBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.zr != nil {
		gunzipReaders.Put(b.zr)
		b.zr = nil
	}
	return nil
}
