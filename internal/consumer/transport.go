package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/jwt"
)

// maxTries bounds retries of idempotent GETs: Spine Core allows at most 3
// (gpconnect-1.6.md §1.4).
const maxTries = 3

// maxBody bounds what the consumer reads from any answer.
const maxBody = 16 << 20

// call is one HTTP exchange the consumer wants made.
type call struct {
	step        string
	service     string // pds, sds or ssp
	interaction gpc.Interaction
	method      string
	url         string
	body        []byte
	// header builds the headers of one attempt: SSP calls need a fresh
	// Ssp-TraceID and JWT on every try.
	header func() (http.Header, error)
	retry  bool // idempotent: retry on 429, 5xx and no answer
}

type response struct {
	status int
	header http.Header
	body   []byte
	buf    *[]byte // body's pooled buffer (bodies), until release
}

// release gives the body's buffer back for another answer; resp.body must
// not be used after. Every decode here copies what it keeps out of the
// body (strings, json.RawMessage), which TestDecodesCopyTheirAnswer holds
// them to, so a caller releases once its answer is decoded. A response
// never released only costs its buffer to the garbage collector.
func (r *response) release() {
	if r.buf != nil && cap(*r.buf) <= maxPooledBody {
		bodies.Put(r.buf)
	}
	r.buf, r.body = nil, nil
}

// bodies recycles answer buffers: a journey reads ~200 KB of answers, the
// slot searchset alone 111 KB, of unknown length when gzipped (Go's
// transport decodes it), which a fresh buffer would grow to by copying.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody is the largest buffer kept for reuse: a rare huge answer
// is left to the garbage collector rather than held by the pool.
const maxPooledBody = 1 << 20

// do makes c, retrying idempotent calls with exponential back-off, and
// reports each attempt to the Observer. A non-2xx answer is a *Error
// (ErrRemote) that carries the response.
func (cl *Client) do(ctx context.Context, c call) (*response, error) {
	var lastErr error
	tries := 1
	if c.retry {
		tries = maxTries
	}
	for attempt := 1; attempt <= tries; attempt++ {
		if attempt > 1 {
			wait := cl.cfg.Backoff << (attempt - 2)
			select {
			case <-ctx.Done():
				return nil, cl.transportError(c, ctx.Err())
			case <-time.After(wait):
			}
		}
		resp, err := cl.once(ctx, c, attempt)
		if err != nil {
			lastErr = cl.transportError(c, err)
			if ctx.Err() != nil {
				return nil, lastErr
			}
			continue
		}
		if resp.status >= 200 && resp.status < 300 {
			return resp, nil
		}
		lastErr = remoteError(c, resp) // copies what it keeps of the body
		resp.release()
		if resp.status != http.StatusTooManyRequests && resp.status < 500 {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

func (cl *Client) once(ctx context.Context, c call, attempt int) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.cfg.Timeout)
	defer cancel()
	start := time.Now()
	hop := Hop{Step: c.step, Service: c.service, Interaction: c.interaction, Method: c.method, URL: c.url, Attempt: attempt}
	report := func(status int, err error) {
		hop.Status, hop.Err, hop.Duration = status, err, time.Since(start)
		if cl.cfg.Observer != nil {
			cl.cfg.Observer(hop)
		}
	}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		report(0, err)
		return nil, err
	}
	if c.header != nil {
		h, err := c.header()
		if err != nil {
			report(0, err)
			return nil, err
		}
		req.Header = h // built for this attempt alone: no copy
	}
	res, err := cl.http.Do(req)
	if err != nil {
		report(0, err)
		return nil, err
	}
	defer res.Body.Close()
	buf := bodies.Get().(*[]byte)
	b, err := readBody(res, (*buf)[:0])
	*buf = b
	if err != nil {
		report(res.StatusCode, err)
		bodies.Put(buf)
		return nil, err
	}
	report(res.StatusCode, nil)
	return &response{status: res.StatusCode, header: res.Header, body: b, buf: buf}, nil
}

// readBody reads at most maxBody bytes of res's body into b's array,
// growing it only as needed: to the answer's size at once when the answer
// says it (io.ReadAll grows and copies its buffer a dozen times for a
// 111 KB slot searchset).
func readBody(res *http.Response, b []byte) ([]byte, error) {
	if n := res.ContentLength; n >= 0 && n <= maxBody {
		if int64(cap(b)) < n {
			b = make([]byte, n)
		}
		b = b[:n]
		_, err := io.ReadFull(res.Body, b)
		return b, err
	}
	r := io.LimitReader(res.Body, maxBody)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // room to read into
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (cl *Client) transportError(c call, err error) *Error {
	return &Error{Kind: ErrTransport, Hop: c.service, Step: c.step, Interaction: string(c.interaction), Err: err}
}

// isTimeout reports whether err is a deadline or network timeout.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// remoteError reads the Spine code from an error answer. Through the SSP,
// the SSP's own OperationOutcome (gpconnect-1.6.md §1.5) or a bare 502/504
// means the SSP failed; anything else came from the provider.
func remoteError(c call, r *response) *Error {
	code, diag := gpc.SpineCode(r.body)
	if code == "" && diag == "" {
		diag = snippet(r.body)
	}
	hop := c.service
	if c.service == HopSSP {
		hop = HopProvider
		if sspShaped(r.body) || code == "" && (r.status == http.StatusBadGateway || r.status == http.StatusGatewayTimeout) {
			hop = HopSSP
		}
	}
	return &Error{Kind: ErrRemote, Hop: hop, Step: c.step, Interaction: string(c.interaction), Status: r.status, Code: code, Diagnostics: diag}
}

func sspShaped(body []byte) bool {
	var oo gpc.OperationOutcome
	if unmarshal(body, &oo) != nil || len(oo.Issue) == 0 || oo.Issue[0].Details == nil || len(oo.Issue[0].Details.Coding) == 0 {
		return false
	}
	s := oo.Issue[0].Details.Coding[0].System
	return s == gpc.SystemSSPResponseCode || s == gpc.SystemSSPOperationOutcome
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// badResponse is a 2xx answer the consumer cannot use.
func badResponse(c call, status int, format string, args ...any) *Error {
	hop := c.service
	if hop == HopSSP {
		hop = HopProvider
	}
	return &Error{Kind: ErrBadResponse, Hop: hop, Step: c.step, Interaction: string(c.interaction), Status: status, Diagnostics: fmt.Sprintf(format, args...)}
}

// header is a request's headers from name, value pairs, in one map and
// one array of values (issue 15: a slice per header otherwise). Names go
// on the wire as given: the spec's spelling (Ssp-TraceID), or canonical.
func header(pairs ...string) http.Header {
	h := make(http.Header, len(pairs)/2)
	values := make([]string, len(pairs)/2)
	for i := range values {
		values[i] = pairs[2*i+1]
		h[pairs[2*i]] = values[i : i+1 : i+1]
	}
	return h
}

// Query is an ordered list of query parameters; Encode percent-encodes every
// value, so "|" becomes %7C and "+" %2B (gpconnect-1.6.md §3.2, §9.5).
type Query [][2]string

// Add appends one parameter.
func (q *Query) Add(name, value string) { *q = append(*q, [2]string{name, value}) }

// Encode returns the query string without "?", in the order added.
func (q Query) Encode() string {
	var b strings.Builder
	n := 0
	for _, p := range q {
		n += len(p[0]) + len(p[1]) + 8 // "=", "&" and a few escapes
	}
	b.Grow(n) // one buffer, not one per doubling
	for i, p := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}

// sspURL is {ssp}/{service root}/{path}: the service root verbatim,
// including its scheme (gpconnect-1.6.md §1.2).
func (cl *Client) sspURL(root, path string, q Query) string {
	u := strings.TrimSuffix(cl.cfg.SSP, "/") + "/" + strings.TrimSuffix(root, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// sspCall prepares a call to the provider through the SSP, with the four
// Ssp-* headers and a fresh JWT per attempt (gpconnect-1.6.md §1.3, §2).
func (cl *Client) sspCall(step string, ep *Endpoint, method, path string, q Query, body []byte, extra http.Header) call {
	in, _ := gpc.Lookup(ep.Interaction)
	return call{
		step: step, service: HopSSP, interaction: ep.Interaction, method: method,
		url: cl.sspURL(ep.Address, path, q), body: body, retry: method == http.MethodGet,
		header: func() (http.Header, error) {
			tok, err := jwt.Build(cl.cfg.Identity, ep.Address, in.Scope, cl.cfg.Now())
			if err != nil {
				return nil, err
			}
			h := header(
				"Ssp-TraceID", gpc.NewUUID(),
				"Ssp-From", cl.cfg.ASID,
				"Ssp-To", ep.ASID,
				"Ssp-InteractionID", string(ep.Interaction),
				"Authorization", "Bearer "+tok,
				"Accept", "application/fhir+json")
			if body != nil {
				h.Set("Content-Type", "application/fhir+json;charset=utf-8")
			}
			for k, v := range extra {
				h[k] = v
			}
			return h, nil
		},
	}
}
