package ssp_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// seen is what the echo upstream received.
type seen struct {
	Method     string
	RequestURI string
	Host       string
	Header     http.Header
	Body       string
}

// TestForwardingFidelity: method, path below the service root, query,
// headers and body reach the provider unchanged (§1.4), with the proxy
// headers added and hop-by-hop ones dropped; the provider's status, headers
// and body come back unchanged.
func TestForwardingFidelity(t *testing.T) {
	t.Parallel()
	rg := newRig(t, false)
	got := make(chan seen, 1)
	upstreamHost := strings.TrimPrefix(strings.TrimSuffix(rg.rootA, "/A20047/STU3/1/gpconnect"), "http://")
	rg.setUpstream(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Host, r.Header.Clone(), string(b)}
		w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
		w.Header().Set("ETag", `W/"2"`)
		w.Header().Set("Location", "Appointment/7/_history/2")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"resourceType":"Appointment","id":"7"}`)
	})
	body := "{\"resourceType\":\"Appointment\",\n  \"description\":\"caf\u00e9 \\u00e9\"}  \n"
	query := "?identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000009&x=a|b&x=%2B01:00"
	h := sspHeaders(gpc.AmendAppointment)
	h["Content-Type"] = []string{"application/fhir+json;charset=utf-8"}
	h["If-Match"] = []string{`W/"1"`}
	h["Prefer"] = []string{"return=representation"}
	h["X-Custom"] = []string{"one", "two"}
	h["X-Forwarded-For"] = []string{"192.0.2.7"}
	h["Forwarded"] = []string{"for=192.0.2.7;proto=https"}
	h["Connection"] = []string{"X-Hop"}
	h["X-Hop"] = []string{"drop me"}
	h["Keep-Alive"] = []string{"timeout=5"}

	res := send(t, http.MethodPut, rg.ssp.URL+"/ssp/"+rg.rootA+"/Appointment/7"+query, h, body)

	assert.Equal(t, res.status, http.StatusCreated, "status")
	assert.Equal(t, string(res.body), `{"resourceType":"Appointment","id":"7"}`, "response body")
	assert.Equal(t, res.header.Get("ETag"), `W/"2"`, "ETag")
	assert.Equal(t, res.header.Get("Location"), "Appointment/7/_history/2", "Location")
	assert.Equal(t, res.header.Get("Content-Type"), "application/fhir+json;charset=utf-8", "Content-Type")
	assert.Equal(t, res.header.Get("Cache-Control"), "no-store", "Cache-Control")

	s := <-got
	assert.Equal(t, s.Method, http.MethodPut, "method")
	assert.Equal(t, s.RequestURI, "/A20047/STU3/1/gpconnect/Appointment/7"+query, "request URI at the provider")
	assert.Equal(t, s.Host, upstreamHost, "Host at the provider")
	assert.Equal(t, s.Body, body, "body")
	for _, name := range []string{"Ssp-Traceid", "Ssp-From", "Ssp-To", "Ssp-Interactionid", "Authorization", "Accept", "Content-Type", "If-Match", "Prefer"} {
		assert.DeepEqual(t, s.Header.Values(name), headerValuesFold(h, name), name)
	}
	assert.DeepEqual(t, s.Header.Values("X-Custom"), []string{"one", "two"}, "X-Custom")
	assert.Equal(t, s.Header.Get("Content-Length"), strconv.Itoa(len(body)), "Content-Length")
	for _, hop := range []string{"Connection", "X-Hop", "Keep-Alive"} {
		assert.Equal(t, s.Header.Get(hop), "", hop+" (hop-by-hop)")
	}
	assert.Equal(t, s.Header.Get("Accept-Encoding"), "gzip", "Accept-Encoding (the Go client's own)")
	assert.Equal(t, s.Header.Get("X-Forwarded-For"), "192.0.2.7, 127.0.0.1", "X-Forwarded-For")
	sspHost := strings.TrimPrefix(rg.ssp.URL, "http://")
	assert.Equal(t, s.Header.Get("X-Forwarded-Host"), sspHost, "X-Forwarded-Host")
	assert.Equal(t, s.Header.Get("X-Forwarded-Proto"), "http", "X-Forwarded-Proto")
	assert.Equal(t, s.Header.Get("Forwarded"), `for=192.0.2.7;proto=https, for=127.0.0.1;host="`+sspHost+`";proto=http`, "Forwarded")

	// A client that asks for no encoding gets none asked of the provider:
	// the SSP's transport must not add gzip and decompress behind its back.
	res = sendRaw(t, sspHost, http.MethodGet, "/ssp/"+rg.rootA+"/metadata", sspHeaders(gpc.ReadMetadata))
	assert.Equal(t, res.status, http.StatusCreated, "status without Accept-Encoding")
	s = <-got
	assert.DeepEqual(t, s.Header.Values("Accept-Encoding"), []string(nil), "Accept-Encoding at the provider")
	assert.Equal(t, s.Header.Get("Forwarded"), `for=127.0.0.1;host="`+sspHost+`";proto=http`, "Forwarded without a prior hop")
	assert.Equal(t, s.Header.Get("X-Forwarded-For"), "127.0.0.1", "X-Forwarded-For without a prior hop")
}

func headerValuesFold(h http.Header, name string) []string {
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

// TestProviderAnswersPassThrough: the provider's own errors are not the
// SSP's to change (§1.4).
func TestProviderAnswersPassThrough(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 400, 403, 404, 409, 422, 429, 500, 503} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			rg := newRig(t, false)
			oo, _ := json.Marshal(gpc.ProviderOutcome(gpc.Errorf(gpc.DuplicateRejected, "slot 3 is booked")))
			rg.setUpstream(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
				w.WriteHeader(status)
				w.Write(oo)
			})
			got := send(t, http.MethodGet, rg.ssp.URL+"/ssp/"+rg.rootA+"/Slot", sspHeaders(gpc.SearchSlots), "")
			assert.Equal(t, got.status, status, "status")
			assert.Equal(t, string(got.body), string(oo), "body")
		})
	}
}

// TestStreaming: the first part of the answer reaches the consumer while
// the provider is still writing (§1.1 "streams the response back").
func TestStreaming(t *testing.T) {
	t.Parallel()
	rg := newRig(t, false)
	release := make(chan struct{})
	rg.setUpstream(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "second\n")
	})
	req, err := http.NewRequest(http.MethodGet, rg.ssp.URL+"/ssp/"+rg.rootA+"/Slot", nil)
	assert.NilError(t, err)
	for k, vs := range sspHeaders(gpc.SearchSlots) {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	start := time.Now()
	line, err := br.ReadString('\n')
	assert.NilError(t, err)
	assert.Equal(t, line, "first\n", "first chunk")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("first chunk took %v: the SSP buffered the answer", d)
	}
	close(release)
	rest, err := io.ReadAll(br)
	assert.NilError(t, err)
	assert.Equal(t, string(rest), "second\n", "second chunk")
}

// TestProviderUnreachable: a closed port on 127.0.0.1 gives the SSP's 502
// (§1.5).
func TestProviderUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	root := "http://" + l.Addr().String() + "/A20047/STU3/1/gpconnect"
	l.Close()
	srv := httptest.NewServer(ssp.New(ssp.Config{World: newWorld(root, ""), Prefix: "/ssp/"}))
	defer srv.Close()
	target := root + "/Slot?status=free"
	got := send(t, http.MethodGet, srv.URL+"/ssp/"+target, sspHeaders(gpc.SearchSlots), "")
	assertOutcome(t, got, http.StatusBadGateway, "transient", "ERROR_COMMUNICATING_TO_ENDPOINT_URL_"+target)
}

// TestProviderTimeout: a provider slower than Config.Timeout gives 504
// (Spine Core's downstream timeout, §1.5 note), and the provider's request
// is cancelled.
func TestProviderTimeout(t *testing.T) {
	t.Parallel()
	cancelled := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(5 * time.Second):
		}
	}))
	defer up.Close()
	root := up.URL + "/A20047/STU3/1/gpconnect"
	srv := httptest.NewServer(ssp.New(ssp.Config{World: newWorld(root, ""), Prefix: "/ssp/", Timeout: 100 * time.Millisecond}))
	defer srv.Close()
	target := root + "/metadata"
	start := time.Now()
	got := send(t, http.MethodGet, srv.URL+"/ssp/"+target, sspHeaders(gpc.ReadMetadata), "")
	assertOutcome(t, got, http.StatusGatewayTimeout, "transient", "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_"+target)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("answer took %v, want about the 100ms timeout", d)
	}
	select {
	case <-cancelled:
	case <-time.After(3 * time.Second):
		t.Error("the provider's request was not cancelled")
	}
}

// TestInProcessTransport: the sandbox hands the SSP a RoundTripper that
// calls its own provider without a network.
func TestInProcessTransport(t *testing.T) {
	t.Parallel()
	root := "http://sandbox.invalid/provider/A20047/STU3/1/gpconnect"
	var path string
	provider := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.RequestURI()
		io.WriteString(w, "in-process")
	})
	h := ssp.New(ssp.Config{World: newWorld(root, ""), Prefix: "/s/abc/ssp/", Transport: handlerTransport{provider}})
	req := httptest.NewRequest(http.MethodGet, "/s/abc/ssp/"+root+"/Patient?identifier=x", nil)
	for k, vs := range sspHeaders(gpc.SearchPatient) {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, rec.Code, 200, "status")
	assert.Equal(t, rec.Body.String(), "in-process", "body")
	assert.Equal(t, path, "/provider/A20047/STU3/1/gpconnect/Patient?identifier=x", "path at the provider")
}

// handlerTransport is an in-process RoundTripper: it serves the request
// with a handler, as the sandbox does for its own provider.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// TestLenient: failed checks are reported and the request still goes out,
// but never to a target that is not a registered service root.
func TestLenient(t *testing.T) {
	t.Parallel()
	type want struct {
		check  string
		status int
	}
	tests := []struct {
		name     string
		method   string
		target   func(rg *rig) string
		edit     func(h http.Header)
		status   int
		body     func(rg *rig) string // forwarded answer; "" when refused
		message  func(rg *rig) string // refusal message
		failures []want
	}{
		{name: "clean request reports no failures", target: func(rg *rig) string { return rg.rootA + "/Slot" },
			status: 200, body: msg("ok")},
		{name: "header, method and Authorization failures forwarded", method: "DELETE",
			target: func(rg *rig) string { return rg.rootA + "/Appointment/7" },
			edit:   func(h http.Header) { delete(h, "Ssp-TraceID"); delete(h, "Authorization") },
			status: 200, body: msg("ok"),
			failures: []want{{ssp.CheckHeadersPresent, 400}, {ssp.CheckMethodAllowed, 405}, {ssp.CheckAuthorizationPresent, 400}}},
		{name: "format and directory failures forwarded",
			target: func(rg *rig) string { return rg.rootA + "/Slot" },
			edit: func(h http.Header) {
				h["Ssp-TraceID"] = []string{"nope"}
				h["Ssp-From"] = []string{unknownASID}
			},
			status: 200, body: msg("ok"),
			failures: []want{{ssp.CheckTraceIDUUID, 400}, {ssp.CheckSenderAuthorised, 403}}},
		{name: "another practice's root is forwarded there",
			target: func(rg *rig) string { return rg.rootB + "/Slot" },
			status: 200, body: func(rg *rig) string { return "b:/B82617/STU3/1/gpconnect/Slot" },
			failures: []want{{ssp.CheckTargetMatchesEndpoint, 400}}},
		{name: "unknown receiver, registered root forwarded",
			target: func(rg *rig) string { return rg.rootA + "/Slot" },
			edit:   func(h http.Header) { h["Ssp-To"] = []string{unknownASID} },
			status: 200, body: msg("ok"),
			failures: []want{{ssp.CheckReceiverAuthorised, 403}}},
		{name: "unregistered target refused",
			target: func(rg *rig) string { return "http://" + rg.evilHost + "/A20047/STU3/1/gpconnect/Slot" },
			status: 400, message: func(rg *rig) string { return varies(rg, "http://"+rg.evilHost+"/A20047/STU3/1/gpconnect/Slot") },
			failures: []want{{ssp.CheckTargetMatchesEndpoint, 400}}},
		{name: "unregistered target refused without headers",
			target: func(rg *rig) string { return "http://" + rg.evilHost + "/Slot" },
			edit: func(h http.Header) {
				for _, k := range []string{"Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID"} {
					delete(h, k)
				}
			},
			status: 400, message: func(rg *rig) string { return "ENDPOINT__CPAID__VARIES_FROM_TARGETURL_http://" + rg.evilHost + "/Slot" },
			failures: []want{{ssp.CheckHeadersPresent, 400}, {ssp.CheckTargetMatchesEndpoint, 400}}},
		{name: "overlong URI refused",
			target: func(rg *rig) string { return rg.rootA + "/Slot?x=" + strings.Repeat("a", ssp.MaxRequestURI) },
			status: 414, message: msg("REQUEST_URI_TOO_LONG"),
			failures: []want{{ssp.CheckURILength, 414}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rg := newRig(t, tc.body == nil, lenient)
			h := sspHeaders(gpc.SearchSlots)
			if tc.edit != nil {
				tc.edit(h)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			got := send(t, method, rg.ssp.URL+"/ssp/"+tc.target(rg), h, "")
			if tc.body != nil {
				assert.Equal(t, got.status, tc.status, "status")
				assert.Equal(t, string(got.body), tc.body(rg), "forwarded answer")
			} else {
				issue := "invalid"
				if tc.status == 414 {
					issue = "too-long"
				}
				assertOutcome(t, got, tc.status, issue, tc.message(rg))
				assert.Equal(t, rg.hitsA.Load()+rg.hitsB.Load(), int64(0), "provider hits")
			}
			reports := rg.allReports()
			if len(reports) != 1 {
				t.Fatalf("Report called %d times, want once", len(reports))
			}
			var gotFailures []want
			for _, f := range reports[0] {
				gotFailures = append(gotFailures, want{f.Check, f.Status})
			}
			assert.DeepEqual(t, gotFailures, tc.failures, "reported failures")
		})
	}
}
