package gpc

import (
	"net/http"
	"testing"
)

// TestCanonicalKey: the spellings canonicalKey knows are what
// http.CanonicalHeaderKey makes of them, and a lookup by them allocates
// nothing.
func TestCanonicalKey(t *testing.T) {
	for _, name := range []string{"Ssp-TraceID", "Ssp-InteractionID", "Ssp-From", "Ssp-To", "accept", "If-Match",
		"Authorization", "Accept", "Accept-Encoding", "Content-Type", "Content-Encoding"} {
		if got, want := canonicalKey(name), http.CanonicalHeaderKey(name); got != want {
			t.Errorf("canonicalKey(%q) = %q, want %q", name, got, want)
		}
	}
	h := http.Header{"Ssp-Traceid": {"a"}, "Ssp-Interactionid": {"b"}}
	if n := testing.AllocsPerRun(100, func() {
		HeaderValue(h, "Ssp-TraceID")
		HeaderValue(h, "Ssp-InteractionID")
	}); n != 0 {
		t.Errorf("%v allocations per lookup of the Ssp-* headers, want 0", n)
	}
	// Get is Header.Get: the canonical key only, not another spelling.
	odd := http.Header{"Ssp-Traceid": {"a"}, "ssp-interactionid": {"b"}}
	for _, name := range []string{"Ssp-TraceID", "Ssp-InteractionID", "ssp-traceid", "Ssp-From"} {
		if got, want := Get(odd, name), odd.Get(name); got != want {
			t.Errorf("Get(%q) = %q, Header.Get gives %q", name, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		Get(h, "Ssp-TraceID")
		Get(h, "Ssp-InteractionID")
	}); n != 0 {
		t.Errorf("%v allocations per Get of the Ssp-* headers, want 0", n)
	}
}
