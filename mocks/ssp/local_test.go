package ssp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// localTransport serves the provider in process, as the sandbox's own
// transport does: the answer is whole when RoundTrip returns, and an
// exchange the SSP's deadline ended is its context's error.
type localTransport struct {
	handlerTransport
	fault error // returned instead of the answer: a provider that dropped the connection
}

func (t localTransport) Serves(context.Context, *url.URL) bool { return true }

func (t localTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, _ := t.handlerTransport.RoundTrip(r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if t.fault != nil {
		return nil, t.fault
	}
	return res, nil
}

// throughTransport is localTransport serving straight into the SSP's
// answer (ssp.Through): a fault or an ended deadline is an error before
// anything is written.
type throughTransport struct {
	localTransport
	served  *bool // set, when not nil, when the SSP called ServeThrough
	inPlace bool  // what InPlace answers
	// added is what the SSP said it added to the inbound request's map.
	added *[]string
}

func (t throughTransport) InPlace(*http.Request) bool { return t.inPlace }

func (t throughTransport) ServeThrough(w http.ResponseWriter, r *http.Request, added []string) error {
	if t.served != nil {
		*t.served = true
	}
	if t.added != nil {
		*t.added = added
	}
	if t.fault != nil {
		// The provider set its headers and dropped the connection before
		// writing: the SSP drops them.
		t.h.ServeHTTP(headersOnly{w.Header()}, r)
		return t.fault
	}
	rec := &deadlineWriter{ResponseWriter: w, ctx: r.Context()}
	t.h.ServeHTTP(rec, r)
	if !rec.wrote {
		if err := r.Context().Err(); err != nil {
			return err
		}
	}
	return nil
}

// headersOnly is an answer of which only the headers are set.
type headersOnly struct{ h http.Header }

func (w headersOnly) Header() http.Header         { return w.h }
func (w headersOnly) WriteHeader(int)             {}
func (w headersOnly) Write(b []byte) (int, error) { return len(b), nil }

// deadlineWriter notes whether its handler wrote anything.
type deadlineWriter struct {
	http.ResponseWriter
	ctx   context.Context
	wrote bool
}

func (w *deadlineWriter) WriteHeader(code int) {
	if w.ctx.Err() == nil { // a handler that outlived the deadline answers nothing
		w.wrote = true
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	if w.ctx.Err() != nil {
		return 0, w.ctx.Err()
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// proxied hides Serves: the SSP forwards through ReverseProxy, as to a
// network upstream.
type proxied struct{ http.RoundTripper }

// atProvider is what the provider's handler saw of a request.
type atProvider struct {
	Method, URL, Host, RequestURI, RemoteAddr string
	Header                                    http.Header
	Body                                      string
	ContentLength                             int64
	Close, Deadline, NoBody                   bool
}

// answer is what the consumer got, the SSP's OperationOutcome id blanked
// (a new UUID each time).
type answer struct {
	Status int
	Header http.Header
	Body   string
}

var outcomeID = regexp.MustCompile(`"id":"[0-9a-f-]{36}"`)

// TestLocalLikeProxy: a request the SSP forwards to a Local transport
// with a direct call reaches the provider as ReverseProxy sends it, and
// the consumer gets the same answer, errors and timeouts included; a
// protocol upgrade or a request for trailers still takes the proxy.
func TestLocalLikeProxy(t *testing.T) {
	t.Parallel()
	root := "http://sandbox.invalid/provider/A20047/STU3/1/gpconnect"
	put := sspHeaders(gpc.AmendAppointment)
	put["Content-Type"] = []string{"application/fhir+json"}
	put["x-lower"] = []string{"as sent"}
	put["User-Agent"] = []string{"consumer/1"}
	put["X-Custom"] = []string{"one", "two"}
	put["X-Forwarded-For"] = []string{"192.0.2.7"}
	put["X-Forwarded-Host"] = []string{"client.example"}
	put["Forwarded"] = []string{"for=192.0.2.7;proto=https"}
	put["Connection"] = []string{"X-Hop, keep-alive"}
	put["X-Hop"] = []string{"drop me"}
	put["Keep-Alive"] = []string{"timeout=5"}
	put["Proxy-Authorization"] = []string{"Basic eA=="}
	withUA := sspHeaders(gpc.SearchSlots)
	withUA["User-Agent"] = []string{"consumer/1"}
	forwardedProto := sspHeaders(gpc.SearchSlots)
	forwardedProto["X-Forwarded-Proto"] = []string{"https"}
	hopOnly := sspHeaders(gpc.SearchSlots)
	hopOnly["Proxy-Authorization"] = []string{"Basic eA=="}
	te := sspHeaders(gpc.SearchSlots)
	te["Te"] = []string{"trailers"}
	upgrade := sspHeaders(gpc.SearchSlots)
	upgrade["Connection"] = []string{"Upgrade"}
	upgrade["Upgrade"] = []string{"websocket"}

	answers := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["ETag"] = []string{`W/"2"`} // not canonical: the proxy's copy canonicalises it
			h.Set("Content-Type", "application/fhir+json;charset=utf-8")
			h.Set("Connection", "X-Secret")
			h.Set("X-Secret", "hop")
			h.Set("Keep-Alive", "timeout=5")
			h.Add("X-Many", "1")
			h.Add("X-Many", "2")
			w.WriteHeader(status)
			io.WriteString(w, strings.Repeat(`{"resourceType":"Bundle"}`, 3000)) // beyond one copy buffer
		}
	}
	// clean answers as the sandbox's provider does: end-to-end headers
	// only, in canonical form (what ssp.Through asks of an upstream).
	clean := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Etag", `W/"2"`)
			h.Set("Content-Type", "application/fhir+json;charset=utf-8")
			h.Add("X-Many", "1")
			h.Add("X-Many", "2")
			w.WriteHeader(status)
			for range 3 { // in pieces, as a gzip writer writes
				io.WriteString(w, strings.Repeat(`{"resourceType":"Bundle"}`, 1000))
			}
		}
	}
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	tests := []struct {
		name     string
		method   string
		header   http.Header
		body     string
		provider http.HandlerFunc
		fault    error
		close    bool // the consumer asked to close its connection
		proxy    bool // the SSP takes ReverseProxy's path even to a Local transport
		through  bool // the provider answers as a Through transport may: compare that too
		inPlace  bool // served through, the consumer's map may be forwarded in place: it only gains keys
		// timeout is the SSP's: long enough that only the slow provider
		// meets it, however loaded the machine (the race detector in CI).
		timeout time.Duration
	}{
		{name: "search", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: answers(http.StatusOK)},
		{name: "amend with hop-by-hop and forwarding headers", method: http.MethodPut, header: put, body: `{"resourceType":"Appointment"}`, provider: answers(http.StatusOK), close: true},
		{name: "provider 500", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: answers(http.StatusInternalServerError)},
		{name: "provider 503", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: answers(http.StatusServiceUnavailable)},
		{name: "provider dropped the connection", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: answers(http.StatusOK), fault: errors.New("connection closed by the provider")},
		{name: "timeout", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: slow, timeout: 50 * time.Millisecond},
		{name: "search, end-to-end headers", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: clean(http.StatusOK), through: true, inPlace: true},
		{name: "search with a User-Agent, end-to-end headers", method: http.MethodGet, header: withUA, provider: clean(http.StatusOK), through: true, inPlace: true},
		{name: "search with a forwarding header, end-to-end headers", method: http.MethodGet, header: forwardedProto, provider: clean(http.StatusOK), through: true},
		{name: "search with a hop-by-hop header, end-to-end headers", method: http.MethodGet, header: hopOnly, provider: clean(http.StatusOK), through: true},
		{name: "amend, end-to-end headers", method: http.MethodPut, header: put, body: `{"resourceType":"Appointment"}`, provider: clean(http.StatusOK), close: true, through: true},
		{name: "provider 500, end-to-end headers", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: clean(http.StatusInternalServerError), through: true, inPlace: true},
		{name: "provider dropped the connection, through", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: clean(http.StatusOK), fault: errors.New("connection closed by the provider"), through: true, inPlace: true},
		{name: "timeout, through", method: http.MethodGet, header: sspHeaders(gpc.SearchSlots), provider: slow, timeout: 50 * time.Millisecond, through: true, inPlace: true},
		{name: "trailers asked for", method: http.MethodGet, header: te, provider: answers(http.StatusOK), proxy: true},
		{name: "upgrade", method: http.MethodGet, header: upgrade, provider: answers(http.StatusOK), proxy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := func(local, through, inPlace bool) (atProvider, answer, bool) {
				var seen atProvider
				var added []string
				traced, servedThrough := false, false
				provider := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var b []byte
					if r.Body != nil { // none without a body (ReverseProxy's outbound request)
						b, _ = io.ReadAll(r.Body)
					}
					_, deadline := r.Context().Deadline()
					seen = atProvider{r.Method, r.URL.String(), r.Host, r.RequestURI, r.RemoteAddr, r.Header.Clone(), string(b), r.ContentLength, r.Close, deadline, r.Body == nil}
					traced = httptrace.ContextClientTrace(r.Context()) != nil
					tc.provider(w, r)
				})
				var tr http.RoundTripper = localTransport{handlerTransport{provider}, tc.fault}
				switch {
				case through:
					tr = throughTransport{localTransport{handlerTransport{provider}, tc.fault}, &servedThrough, inPlace, &added}
				case !local:
					tr = proxied{tr}
				}
				timeout := tc.timeout
				if timeout == 0 {
					timeout = time.Minute
				}
				h := ssp.New(ssp.Config{World: newWorld(root, ""), Prefix: "/ssp/", Transport: tr, Timeout: timeout})
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				req := httptest.NewRequest(tc.method, "/ssp/"+root+"/Slot?status=free&start=ge2026-03-02", body)
				for k, vs := range tc.header {
					req.Header[k] = vs
				}
				req.Close = tc.close
				sent := req.Header.Clone()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				res := rec.Result()
				b, _ := io.ReadAll(res.Body)
				if through && servedThrough == tc.proxy {
					t.Errorf("served through: %v, want %v", servedThrough, !tc.proxy)
				}
				// Forwarded in place, the consumer's own map became the
				// provider's: what was sent plus keys it did not send, and
				// the SSP named exactly those. Otherwise it is as sent.
				if want := inPlace && tc.inPlace; (added != nil) != want {
					t.Errorf("forwarded in place: %v (added %q), want %v", added != nil, added, want)
				}
				after := req.Header.Clone()
				for _, k := range added {
					if _, ok := sent[k]; ok {
						t.Errorf("the SSP says it added %s, which the consumer sent", k)
					}
					delete(after, k)
				}
				assert.DeepEqual(t, after, sent, "the consumer's request headers, less what the SSP said it added")
				if added != nil {
					assert.DeepEqual(t, req.Header, seen.Header, "the consumer's map forwarded in place, as the provider saw it")
				}
				return seen, answer{res.StatusCode, res.Header, outcomeID.ReplaceAllString(string(b), `"id":""`)}, traced
			}
			proxySeen, proxyAnswer, _ := run(false, false, false)
			if proxySeen.Method == "" {
				t.Fatal("the provider was not reached")
			}
			localSeen, localAnswer, traced := run(true, false, false)
			assert.DeepEqual(t, localSeen, proxySeen, "the request at the provider")
			assert.DeepEqual(t, localAnswer, proxyAnswer, "the consumer's answer")
			assert.Equal(t, traced, tc.proxy, "went through ReverseProxy (its client trace)")
			if tc.through {
				for _, inPlace := range []bool{false, true} {
					throughSeen, throughAnswer, traced := run(true, true, inPlace)
					assert.DeepEqual(t, throughSeen, proxySeen, fmt.Sprintf("the request at the provider, served through (in place allowed: %v)", inPlace))
					assert.DeepEqual(t, throughAnswer, proxyAnswer, fmt.Sprintf("the consumer's answer, served through (in place allowed: %v)", inPlace))
					assert.Equal(t, traced, false, "went through ReverseProxy (its client trace)")
				}
			}
		})
	}
}

// brokenWriter is a consumer's connection that is gone: every write fails.
type brokenWriter struct{ h http.Header }

func (w brokenWriter) Header() http.Header       { return w.h }
func (w brokenWriter) WriteHeader(int)           {}
func (w brokenWriter) Write([]byte) (int, error) { return 0, errors.New("write: broken pipe") }

// TestLocalAbortsWhenTheConsumerIsGone: when the consumer's connection
// fails under the answer, the SSP aborts its handler as ReverseProxy does
// (http.ErrAbortHandler) in a server's handler, and returns otherwise —
// copying the answer or serving it through.
func TestLocalAbortsWhenTheConsumerIsGone(t *testing.T) {
	t.Parallel()
	root := "http://sandbox.invalid/provider/A20047/STU3/1/gpconnect"
	provider := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		io.WriteString(w, `{"resourceType":"Bundle"}`)
	})
	for _, tc := range []struct {
		name      string
		transport http.RoundTripper
	}{
		{"copied", localTransport{handlerTransport{provider}, nil}},
		// served and added nil: the table's transports are shared by
		// parallel subtests.
		{"through", throughTransport{localTransport{handlerTransport{provider}, nil}, nil, false, nil}},
		{"through in place", throughTransport{localTransport{handlerTransport{provider}, nil}, nil, true, nil}},
		{"proxied", proxied{localTransport{handlerTransport{provider}, nil}}},
	} {
		for _, server := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, in a server %v", tc.name, server), func(t *testing.T) {
				t.Parallel()
				h := ssp.New(ssp.Config{World: newWorld(root, ""), Prefix: "/ssp/", Transport: tc.transport, Timeout: time.Minute})
				req := httptest.NewRequest(http.MethodGet, "/ssp/"+root+"/Slot?status=free&start=ge2026-03-02", nil)
				for k, vs := range sspHeaders(gpc.SearchSlots) {
					req.Header[k] = vs
				}
				if server {
					req = req.WithContext(context.WithValue(req.Context(), http.ServerContextKey, &http.Server{}))
				}
				var aborted any
				func() {
					defer func() { aborted = recover() }()
					h.ServeHTTP(brokenWriter{http.Header{}}, req)
				}()
				var want any
				if server {
					want = http.ErrAbortHandler
				}
				if aborted != want {
					t.Errorf("recovered %v, want %v", aborted, want)
				}
			})
		}
	}
}
