package gpc

import (
	"net/http"
	"strings"
)

// HeaderValues returns every value of the header name, matching names in
// any case (gpconnect-1.6.md §1.3: header names are case-insensitive).
// net/http canonicalises names read from the wire, but a header map built
// in process may hold a key such as "Ssp-TraceID", which Header.Get would
// miss.
func HeaderValues(h http.Header, name string) []string {
	if vs := h[canonicalKey(name)]; len(vs) > 0 { // h.Values(name)
		return vs
	}
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

// Header returns the first value of the header name, matching names in any
// case, and whether there was one.
func Header(h http.Header, name string) (string, bool) {
	if vs := HeaderValues(h, name); len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// HeaderValue is Header's value alone: "" when the header is absent.
func HeaderValue(h http.Header, name string) string {
	v, _ := Header(h, name)
	return v
}

// Get is h.Get(name), without allocating for the two headers the spec
// spells in a case http.Header does not keep (canonicalKey).
func Get(h http.Header, name string) string {
	return h.Get(canonicalKey(name))
}

// canonicalKey is http.CanonicalHeaderKey(name) without allocating for the
// two headers the spec spells otherwise, which every GP Connect request
// looks up several times (the judge, the SSP, the journal, the provider),
// and without reading again the names every request looks up.
func canonicalKey(name string) string {
	switch name {
	case "Ssp-TraceID":
		return "Ssp-Traceid"
	case "Ssp-InteractionID":
		return "Ssp-Interactionid"
	case "Ssp-From", "Ssp-To", "Authorization", "Accept", "Accept-Encoding", "Content-Type", "Content-Encoding":
		return name // canonical already: not checked byte by byte again
	}
	return http.CanonicalHeaderKey(name)
}
