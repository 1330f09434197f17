package ssp_test

import (
	"context"
	"errors"
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
		{name: "trailers asked for", method: http.MethodGet, header: te, provider: answers(http.StatusOK), proxy: true},
		{name: "upgrade", method: http.MethodGet, header: upgrade, provider: answers(http.StatusOK), proxy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := func(local bool) (atProvider, answer, bool) {
				var seen atProvider
				traced := false
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
				if !local {
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
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				res := rec.Result()
				b, _ := io.ReadAll(res.Body)
				return seen, answer{res.StatusCode, res.Header, outcomeID.ReplaceAllString(string(b), `"id":""`)}, traced
			}
			proxySeen, proxyAnswer, _ := run(false)
			if proxySeen.Method == "" {
				t.Fatal("the provider was not reached")
			}
			localSeen, localAnswer, traced := run(true)
			assert.DeepEqual(t, localSeen, proxySeen, "the request at the provider")
			assert.DeepEqual(t, localAnswer, proxyAnswer, "the consumer's answer")
			assert.Equal(t, traced, tc.proxy, "went through ReverseProxy (its client trace)")
		})
	}
}
