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
	if vs := h.Values(name); len(vs) > 0 {
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
