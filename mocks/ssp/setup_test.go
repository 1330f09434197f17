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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// The test world's identities (gpconnect-1.6.md §1.2a shapes, own values).
const (
	consumerASID = "200000000115"
	providerASID = "918999198993" // practice A20047: every interaction
	otherASID    = "918999198994" // practice B82617: read metadata only
	unknownASID  = "200000000999"
	traceID      = "5f0e8c1a-3b4d-4e6f-9a1b-2c3d4e5f6a7b"
	bearer       = "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJ0ZXN0In0."
	// cpaSlotA20047 is the nhsMHSId mocks/sds publishes for A20047's slot
	// search MHS record; the SSP quotes it as the CPA id.
	cpaSlotA20047 = "64d366d4a02ea3c79dc4"
)

var allInteractions = func() []gpc.Interaction {
	var out []gpc.Interaction
	for _, in := range gpc.Interactions {
		out = append(out, in.ID)
	}
	return out
}()

func newWorld(endpointA, endpointB string) *world.World {
	return world.New(world.Data{
		Consumer: world.ConsumerSystem{ASID: consumerASID, ODS: "A1001", Name: "Test Consumer", Interactions: allInteractions},
		Practices: []world.Practice{
			{ODS: "A20047", Name: "Riverside Surgery", ProviderASID: providerASID, PartyKey: "A20047-821870",
				Interactions: allInteractions, Endpoint: endpointA, RefusedSenders: []string{otherASID}},
			{ODS: "B82617", Name: "Hillside Practice", ProviderASID: otherASID, PartyKey: "B82617-821871",
				Interactions: []gpc.Interaction{gpc.ReadMetadata}, Endpoint: endpointB},
		},
	}, "http://127.0.0.1:4000", func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) })
}

// rig is one SSP in front of two registered upstreams (A and B) and an
// unregistered evil one, each counting its hits.
type rig struct {
	ssp          *httptest.Server
	handler      http.Handler
	rootA, rootB string
	evilHost     string // host:port of the evil upstream
	hitsA, hitsB atomic.Int64
	hitsEvil     atomic.Int64

	mu       sync.Mutex
	reports  [][]ssp.Failure
	upstream http.HandlerFunc // what A answers; default 200 "ok"
}

type rigOption func(*ssp.Config)

func lenient(c *ssp.Config) { c.Lenient = true }

// newRig starts the rig. When forbidA is set, a request reaching upstream A
// fails the test: for cases that must be refused.
func newRig(t *testing.T, forbidA bool, opts ...rigOption) *rig {
	t.Helper()
	rg := &rig{}
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rg.hitsA.Add(1)
		if forbidA {
			t.Errorf("upstream A was reached: %s %s", r.Method, r.RequestURI)
		}
		rg.mu.Lock()
		h := rg.upstream
		rg.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rg.hitsB.Add(1)
		io.WriteString(w, "b:"+r.RequestURI)
	}))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rg.hitsEvil.Add(1)
		io.WriteString(w, "evil")
	}))
	rg.rootA = a.URL + "/A20047/STU3/1/gpconnect"
	rg.rootB = b.URL + "/B82617/STU3/1/gpconnect"
	rg.evilHost = strings.TrimPrefix(evil.URL, "http://")
	cfg := ssp.Config{
		World:  newWorld(rg.rootA, rg.rootB),
		Prefix: "/ssp/",
		Report: func(r *http.Request, f []ssp.Failure) {
			rg.mu.Lock()
			rg.reports = append(rg.reports, f)
			rg.mu.Unlock()
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	rg.handler = ssp.New(cfg)
	rg.ssp = httptest.NewServer(rg.handler)
	t.Cleanup(func() {
		rg.ssp.Close()
		a.Close()
		b.Close()
		evil.Close()
		if n := rg.hitsEvil.Load(); n != 0 {
			t.Errorf("evil upstream was reached %d times", n)
		}
	})
	return rg
}

func (rg *rig) setUpstream(h http.HandlerFunc) {
	rg.mu.Lock()
	rg.upstream = h
	rg.mu.Unlock()
}

func (rg *rig) allReports() [][]ssp.Failure {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	return append([][]ssp.Failure(nil), rg.reports...)
}

// sspHeaders are the headers of a valid slot search, with the spec's
// spelling as map keys so they go on the wire as written.
func sspHeaders(in gpc.Interaction) http.Header {
	return http.Header{
		"Ssp-TraceID":       {traceID},
		"Ssp-From":          {consumerASID},
		"Ssp-To":            {providerASID},
		"Ssp-InteractionID": {string(in)},
		"Authorization":     {bearer},
		"Accept":            {"application/fhir+json"},
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request through the real client; the URL's path is sent as
// written (no dot segments or encodings for url.Parse to alter).
func send(t *testing.T, method, url string, h http.Header, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	assert.NilError(t, err)
	for k, vs := range h {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	assert.NilError(t, err)
	return response{res.StatusCode, res.Header, b}
}

// sendRaw writes the request line and headers byte for byte over TCP, so
// hostile targets reach the server exactly as written.
func sendRaw(t *testing.T, addr, method, requestURI string, h http.Header) response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	assert.NilError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var sb strings.Builder
	sb.WriteString(method + " " + requestURI + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n")
	for k, vs := range h {
		for _, v := range vs {
			sb.WriteString(k + ": " + v + "\r\n")
		}
	}
	sb.WriteString("\r\n")
	_, err = io.WriteString(conn, sb.String())
	assert.NilError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	assert.NilError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// assertOutcome checks an SSP error: status, the SSP's own OperationOutcome
// shape (§1.5) with a UUID id, issue code and message.
func assertOutcome(t *testing.T, got response, status int, issue, message string) {
	t.Helper()
	assert.Equal(t, got.status, status, "status")
	var oo gpc.OperationOutcome
	if err := json.Unmarshal(got.body, &oo); err != nil {
		t.Fatalf("body is not an OperationOutcome: %v: %s", err, got.body)
	}
	assert.Equal(t, oo.ResourceType, "OperationOutcome", "resourceType")
	assert.Equal(t, len(oo.ID), 36, "id length (a UUID)")
	if oo.Meta != nil {
		t.Errorf("meta = %+v, want none: SSP errors carry no profile", oo.Meta)
	}
	if len(oo.Issue) != 1 || oo.Issue[0].Details == nil || len(oo.Issue[0].Details.Coding) != 1 {
		t.Fatalf("issue = %+v, want one issue with one coding", oo.Issue)
	}
	is := oo.Issue[0]
	assert.Equal(t, is.Code, issue, "issue code")
	assert.Equal(t, is.Diagnostics, message, "diagnostics")
	c := is.Details.Coding[0]
	assert.Equal(t, c.Code, strconv.Itoa(status), "coding code (the HTTP status)")
	if status == http.StatusMethodNotAllowed {
		assert.Equal(t, c.System, gpc.SystemSSPOperationOutcome, "coding system")
		assert.Equal(t, c.Display, "405: Method Not Allowed", "display")
	} else {
		assert.Equal(t, c.System, gpc.SystemSSPResponseCode, "coding system")
		assert.Equal(t, c.Display, message, "display")
	}
	assert.Equal(t, got.header.Get("Content-Type"), "application/fhir+json;charset=utf-8", "Content-Type")
}
