package provider

import (
	"mime"
	"net/http"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// format is what a media type or _format value asks for.
type format int

const (
	formatUnknown format = iota
	formatJSON
	formatXML
	formatAny
)

// formatOf classifies a media type or _format value (FHIR STU3 http.html
// #mime-type: the short forms json/xml are allowed in _format).
func formatOf(v string) format {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(v))
	}
	switch mt {
	case "application/fhir+json", "application/json+fhir", "application/json", "json":
		return formatJSON
	case "application/fhir+xml", "application/xml+fhir", "application/xml", "text/xml", "xml":
		return formatXML
	case "*/*", "application/*":
		return formatAny
	}
	return formatUnknown
}

// negotiate applies §1.3's content negotiation. _format overrides Accept;
// with neither, the request's Content-Type decides; with none of them, JSON.
// Only JSON is implemented, so an XML request gets 415 like any other
// unsupported format. POST and PUT need a JSON Content-Type: none is 415
// BAD_REQUEST (the demonstrator's WebTokenFactory), another type 415.
func negotiate(r *http.Request) error {
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		ct := r.Header.Get("Content-Type")
		switch formatOf(ct) {
		case formatJSON:
		case formatUnknown, formatAny:
			if strings.TrimSpace(ct) == "" {
				return gpc.StatusErrorf(http.StatusUnsupportedMediaType, gpc.BadRequest, "Content-Type header is required on %s", r.Method)
			}
			return gpc.Errorf(gpc.UnsupportedMediaType, "Content-Type %q is not supported; send application/fhir+json", ct)
		case formatXML:
			return gpc.Errorf(gpc.UnsupportedMediaType, "Content-Type %q is not supported: this provider implements application/fhir+json only", ct)
		}
	}
	if f := r.URL.Query()["_format"]; len(f) > 0 {
		return wants("_format", f[len(f)-1], formatOf(f[len(f)-1]))
	}
	if accept := r.Header.Values("Accept"); len(accept) > 0 {
		best := formatUnknown
		for _, a := range strings.Split(strings.Join(accept, ","), ",") {
			if strings.TrimSpace(a) == "" {
				continue
			}
			switch f := formatOf(a); {
			case f == formatJSON || f == formatAny:
				return nil
			case f == formatXML:
				best = formatXML
			}
		}
		return wants("Accept", strings.Join(accept, ", "), best)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		return wants("Content-Type", ct, formatOf(ct))
	}
	return nil
}

func wants(where, value string, f format) error {
	switch f {
	case formatJSON, formatAny:
		return nil
	case formatXML:
		return gpc.Errorf(gpc.UnsupportedMediaType, "%s %q asks for XML; this provider implements application/fhir+json only", where, value)
	}
	return gpc.Errorf(gpc.UnsupportedMediaType, "%s %q is not a FHIR format; use application/fhir+json", where, value)
}
