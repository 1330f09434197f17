package ssp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// hostileTargets are targets that must never be forwarded: each tries to
// make the SSP reach a host, port, scheme or path other than the registered
// service root, or to forward a path a provider would read differently. A
// is the registered root, hp its host:port, evil the evil upstream's
// host:port. Each is sent as a slot search with valid headers.
func hostileTargets(rg *rig) []struct{ name, target string } {
	A := rg.rootA
	hp := strings.TrimPrefix(strings.TrimSuffix(A, "/A20047/STU3/1/gpconnect"), "http://")
	port := hp[strings.LastIndexByte(hp, ':')+1:]
	path := "/A20047/STU3/1/gpconnect/Slot"
	evil := rg.evilHost
	return []struct{ name, target string }{
		{"empty target", ""},
		{"only a scheme", "http://"},
		{"scheme without slashes", "http:"},
		{"scheme-relative evil host", "//" + evil + path},
		{"other host", "http://" + evil + path},
		{"other port", "http://127.0.0.1:1" + path},
		{"https instead of http", "https://" + hp + path},
		{"upper-case scheme", "HTTP://" + hp + path},
		{"localhost for 127.0.0.1", "http://localhost:" + port + path},
		{"trailing-dot host", "http://127.0.0.1.:" + port + path},
		{"decimal IPv4 host", "http://2130706433:" + port + path},
		{"IPv6 loopback literal", "http://[::1]:" + port + path},
		{"IPv4-mapped IPv6 literal", "http://[::ffff:127.0.0.1]:" + port + path},
		{"userinfo then evil host", "http://" + hp + "@" + evil + path},
		{"userinfo before the registered host", "http://user:pw@" + hp + path},
		{"root followed by @evil", A + "@" + evil + "/Slot"},
		{"root followed by other characters", A + "X/Slot"},
		{"root followed by a dot", A + ".evil/Slot"},
		{"root followed by a semicolon", A + ";x=1/Slot"},
		{"encoded slash after root", A + "%2F..%2F..%2Fevil"},
		{"encoded slashes in path", A + "/%2F%2F" + evil + "/Slot"},
		{"lower-case encoded slash with dots", A + "/..%2f..%2fevil"},
		{"encoded dot segments", A + "/%2e%2e/%2e%2e/evil"},
		{"upper-case encoded dot segment", A + "/%2E%2E/Slot"},
		{"half-encoded dot segment", A + "/.%2e/Slot"},
		{"double-encoded dots", A + "/%252e%252e/evil"},
		{"dot-dot segments", A + "/../../../evil/Slot"},
		{"dot segment", A + "/./Slot"},
		{"trailing dot-dot", A + "/Slot/.."},
		{"Tomcat dot-dot parameter", A + "/..;/..;/evil"},
		{"backslash after root", A + `\..\evil`},
		{"backslash in path", A + `/Slot\..\..\evil`},
		{"encoded backslash", A + "/%5C..%5Cevil"},
		{"double slash after root", A + "//" + evil + "/Slot"},
		{"double slash in path", A + "/Patient//Appointment"},
		{"encoded CR LF", A + "/Slot%0d%0aX-Injected:%20yes"},
		{"encoded NUL", A + "/Slot%00"},
		{"encoded tab", A + "/Slot%09"},
		{"raw CR LF", A + "/Slot\r\nX-Injected: yes"},
		{"raw NUL", A + "/Slot\x00"},
		{"raw space", A + "/Slot x"},
		{"Cyrillic lookalike in path", "http://" + hp + "/A20047/STU3/1/gp\u0441onnect/Slot"},
		{"fullwidth digits in host", "http://\uff11\uff12\uff17.0.0.1:" + port + path},
		{"encoded non-ASCII in path", A + "/Sl%D0%BEt"},
		{"overlong UTF-8 slash", A + "/%C0%AF..%C0%AFevil"},
		{"fragment", A + "/Slot#frag"},
		{"fragment in query", A + "/Slot?status=free#frag"},
		{"query only", "?target=http://" + evil + path},
		{"fully percent-encoded target", "http%3A%2F%2F" + hp + "%2FA20047%2FSTU3%2F1%2Fgpconnect%2FSlot"},
		{"single slash after scheme", "http:/" + hp + path},
		{"backslashes after scheme", `http:\\` + hp + path},
		{"lower-case ODS code", "http://" + hp + "/a20047/STU3/1/gpconnect/Slot"},
		{"unregistered practice on the same host", "http://" + hp + "/Z99999/STU3/1/gpconnect/Slot"},
		{"parent of the root", "http://" + hp + "/A20047/STU3/1/Slot"},
		{"explicit default port appended", "http://" + hp + ":80" + path},
		{"overly long path", A + "/" + strings.Repeat("a", 9000)},
	}
}

// TestHostileTargets sends every hostile target to the strict and the
// lenient SSP, over the wire (byte for byte) and in process (so that bytes
// net/http would refuse still reach our checks). Nothing may reach any
// upstream: A fails the test when hit, and the rig fails it when the evil
// upstream counted a hit.
func TestHostileTargets(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opts []rigOption
	}{{"strict", nil}, {"lenient", []rigOption{lenient}}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			rg := newRig(t, true, mode.opts...)
			cases := hostileTargets(rg)
			if len(cases) < 30 {
				t.Fatalf("only %d hostile targets", len(cases))
			}
			addr := strings.TrimPrefix(rg.ssp.URL, "http://")
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					status, message := 400, varies(rg, tc.target)
					issue := "invalid"
					if len("/ssp/"+tc.target) > 8<<10 {
						status, issue, message = 414, "too-long", "REQUEST_URI_TOO_LONG"
					}
					h := sspHeaders(gpc.SearchSlots)

					// In process: our own checks answer.
					req := httptest.NewRequest(http.MethodGet, "/", nil)
					req.RequestURI = "/ssp/" + tc.target
					for k, vs := range h {
						req.Header[k] = vs
					}
					rec := httptest.NewRecorder()
					rg.handler.ServeHTTP(rec, req)
					assertOutcome(t, response{rec.Code, rec.Header(), rec.Body.Bytes()}, status, issue, message)

					// Over the wire: net/http itself refuses some request
					// lines (CR, LF, NUL, space) with a plain 400 first.
					got := sendRaw(t, addr, http.MethodGet, "/ssp/"+tc.target, h)
					assert.Equal(t, got.status, status, "status over the wire")
				})
			}
			assert.Equal(t, rg.hitsA.Load(), int64(0), "hits on the registered upstream")
			assert.Equal(t, rg.hitsB.Load(), int64(0), "hits on the other practice's upstream")
		})
	}
}

// TestPrefixIsRaw checks the SSP reads the target from the raw request URI:
// a sandbox that strips a session prefix from URL.Path (as StripPrefix or
// ServeMux do) must still see the target as sent.
func TestPrefixIsRaw(t *testing.T) {
	t.Parallel()
	rg := newRig(t, false)
	req := httptest.NewRequest(http.MethodGet, "/ssp/"+rg.rootA+"/metadata", nil)
	req.URL.Path = "/ssp/http:/cleaned-by-a-mux/metadata" // what a cleaning router leaves
	req.URL.RawPath = ""
	for k, vs := range sspHeaders(gpc.ReadMetadata) {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	rg.handler.ServeHTTP(rec, req)
	assert.Equal(t, rec.Code, 200, "status")
	assert.Equal(t, rec.Body.String(), "ok", "body")

	// An absolute-form request line keeps its path and query.
	got := sendRaw(t, strings.TrimPrefix(rg.ssp.URL, "http://"), http.MethodGet, rg.ssp.URL+"/ssp/"+rg.rootA+"/metadata", sspHeaders(gpc.ReadMetadata))
	assert.Equal(t, got.status, 200, "absolute-form status")
	assert.Equal(t, rg.hitsA.Load(), int64(2), "provider hits")
}
