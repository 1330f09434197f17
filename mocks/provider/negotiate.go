package provider

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
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

// The representations the provider writes (§1.3: JSON is mandatory, XML
// SHOULD be supported; charset with no space before it).
const (
	contentType    = "application/fhir+json;charset=utf-8"
	contentTypeXML = "application/fhir+xml;charset=utf-8"
)

// formatOf classifies a media type or _format value (FHIR STU3 http.html
// #mime-type: the short forms json/xml, and the generic and DSTU2 types,
// are allowed in _format and Accept).
func formatOf(v string) format {
	if f := formatNamed(strings.TrimSpace(v)); f != formatUnknown {
		// Spelt as in the table (lower case, no parameters): what
		// mime.ParseMediaType would make of it, so the common Accept is
		// not parsed again for every request.
		return f
	}
	return parsedFormat(v)
}

// parsedFormat is formatOf for any spelling: v parsed as a media type.
func parsedFormat(v string) format {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(v))
	}
	return formatNamed(mt)
}

// formatNamed classifies a media type already lower-cased and without
// parameters.
func formatNamed(mt string) format {
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

// negotiate applies §1.3's content negotiation: a POST or PUT needs a FHIR
// JSON or XML Content-Type (none is 415 BAD_REQUEST, the demonstrator's
// WebTokenFactory; another type 415), and the answer's format must be one
// the provider writes (answerFormat).
func negotiate(r *http.Request) error {
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		ct := gpc.Get(r.Header, "Content-Type")
		switch formatOf(ct) {
		case formatJSON, formatXML:
		default:
			if strings.TrimSpace(ct) == "" {
				return gpc.StatusErrorf(http.StatusUnsupportedMediaType, gpc.BadRequest, "Content-Type header is required on %s", r.Method)
			}
			return gpc.Errorf(gpc.UnsupportedMediaType, "Content-Type %q is not supported; send application/fhir+json or application/fhir+xml", ct)
		}
	}
	_, err := answerFormat(r)
	return err
}

// answerFormat is the format of the answer to r (§1.3): _format overrides
// Accept (the last _format when repeated); Accept's most preferred type
// the provider writes, the first of equal quality; with neither, the
// request's Content-Type; with none of them, JSON. */* is JSON. A format
// the provider does not write is 415, answered in JSON.
func answerFormat(r *http.Request) (format, error) {
	if mayName(r.URL.RawQuery, "_format") {
		if f := r.URL.Query()["_format"]; len(f) > 0 {
			return wants("_format", f[len(f)-1], formatOf(f[len(f)-1]))
		}
	}
	if accept := r.Header.Values("Accept"); len(accept) > 0 {
		best, bestQ := formatUnknown, -1.0
		for _, line := range accept { // the lines' entries in order, as joined with ","
			for a := range strings.SplitSeq(line, ",") {
				if strings.TrimSpace(a) == "" {
					continue
				}
				f, q := formatOf(a), quality(a)
				if f == formatUnknown || q <= 0 || q <= bestQ {
					continue
				}
				best, bestQ = f, q
			}
		}
		if best != formatUnknown {
			return wants("Accept", "", best) // the value is named only in the error
		}
		return wants("Accept", strings.Join(accept, ", "), best)
	}
	if ct := gpc.Get(r.Header, "Content-Type"); ct != "" {
		return wants("Content-Type", ct, formatOf(ct))
	}
	return formatJSON, nil
}

// quality is the q parameter of one Accept entry (RFC 9110 §12.4.2), 1
// when absent or unreadable.
func quality(entry string) float64 {
	if !strings.Contains(entry, ";") {
		return 1 // no parameters, no q
	}
	return parsedQuality(entry)
}

// parsedQuality is quality for any entry: its parameters parsed.
func parsedQuality(entry string) float64 {
	_, params, err := mime.ParseMediaType(entry)
	if err != nil {
		return 1
	}
	q, err := strconv.ParseFloat(params["q"], 64)
	if err != nil {
		return 1
	}
	return q
}

// mayName reports whether the raw query may hold a parameter named name:
// false only when it holds neither name nor an escape that could spell it,
// so a request without the parameter is not parsed for it.
func mayName(rawQuery, name string) bool {
	return strings.Contains(rawQuery, name) || strings.Contains(rawQuery, "%")
}

func wants(where, value string, f format) (format, error) {
	switch f {
	case formatJSON, formatAny:
		return formatJSON, nil
	case formatXML:
		return formatXML, nil
	}
	return formatJSON, gpc.Errorf(gpc.UnsupportedMediaType,
		"%s %q is not a FHIR format; use application/fhir+json or application/fhir+xml", where, value)
}

// wantsXML reports whether the answer to r is FHIR XML. Every answer,
// errors before negotiation included, follows it; one whose format is
// unsupported is JSON.
func wantsXML(r *http.Request) bool {
	f, err := answerFormat(r)
	return err == nil && f == formatXML
}

// requestJSON returns a POST or PUT body as JSON: an XML body (by its
// Content-Type) is converted first, so every rule and Spine code is the
// JSON path's. A body that is neither is 400 BAD_REQUEST (§6.2: a
// malformed JSON/XML body).
func requestJSON(h http.Header, body []byte) ([]byte, error) {
	if formatOf(h.Get("Content-Type")) == formatXML {
		j, err := fhirxml.XMLToJSON(body)
		if err != nil {
			return nil, gpc.Errorf(gpc.BadRequest, "Request body is not valid FHIR XML: %s", strings.TrimPrefix(err.Error(), "fhirxml: "))
		}
		return j, nil
	}
	if err := jsonBody(body); err != nil {
		return nil, err
	}
	return body, nil
}
