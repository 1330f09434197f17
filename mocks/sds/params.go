package sds

import (
	"net/url"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Query parameter names (pds-sds-fhir.md §3.1, §3.2).
const (
	paramOrganization  = "organization"
	paramIdentifier    = "identifier"
	paramManufacturing = "manufacturing-organization"
)

// query is a parsed query string that keeps the order in which parameter
// names first appear: the service checks them in that order, so the first
// bad parameter decides the diagnostics.
type query struct {
	names  []string
	values map[string][]string
}

// parseQuery parses raw as Python's parse_qs does for Tornado: pairs split on
// "&", blank values kept ("organization" alone has the value ""), "+" and
// %-escapes decoded.
func parseQuery(raw string) (query, error) {
	q := query{values: map[string][]string{}}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return q, badRequest("Invalid query string: %v", err)
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return q, badRequest("Invalid query string: %v", err)
		}
		if _, seen := q.values[name]; !seen {
			q.names = append(q.names, name)
		}
		q.values[name] = append(q.values[name], value)
	}
	return q, nil
}

// token returns the value of the last occurrence of param whose system is
// system and whose value is not blank, or "" (the service's
// get_optional_query_param: the last one wins).
func (q query) token(param, system string) string {
	vs := q.values[param]
	for i := len(vs) - 1; i >= 0; i-- {
		sys, value, ok := strings.Cut(vs[i], "|")
		if ok && sys == system && strings.TrimSpace(value) != "" {
			return value
		}
	}
	return ""
}

// checkNames rejects any parameter not in allowed and any value without the
// right "system|" prefix, in the order the parameters came (§3.1: "Illegal
// query parameter", "Missing or invalid ... query parameter"). With blank
// set (strict mode, once the service's own checks have passed) it also
// rejects a blank value after the prefix ("system|"), with the service's
// own words for that parameter: the service ignores one in an optional
// parameter, strict mode holds the consumer to §3.1's system|value. The
// strict pass comes last so that a request the service itself refuses
// gets the service's answer, never a stricter wording.
func (q query) checkNames(blank bool, allowed ...string) error {
	for _, name := range q.names {
		known := false
		for _, a := range allowed {
			known = known || name == a
		}
		if !known {
			return badRequest("Illegal query parameter '%s'", name)
		}
		for _, v := range q.values[name] {
			blank := blank && strings.HasSuffix(v, "|")
			switch name {
			case paramOrganization, paramManufacturing:
				if blank || !strings.HasPrefix(v, gpc.SystemODSCode+"|") {
					return invalidParam(name, gpc.SystemODSCode)
				}
			case paramIdentifier:
				if blank || !strings.HasPrefix(v, gpc.SystemInteractionID+"|") && !strings.HasPrefix(v, gpc.SystemPartyKey+"|") {
					// The service's text lacks the closing "]"; kept verbatim.
					return badRequest("Missing or invalid '%s' query parameter. Should be one or both of: ['%s=%s|value', '%s=%s|value'",
						paramIdentifier, paramIdentifier, gpc.SystemInteractionID, paramIdentifier, gpc.SystemPartyKey)
				}
			}
		}
	}
	return nil
}

func invalidParam(name, system string) error {
	return badRequest("Missing or invalid '%s' query parameter. Should be '%s=%s|value'", name, name, system)
}

// endpointQuery is a valid GET /Endpoint search.
type endpointQuery struct {
	org, interaction, partyKey string
}

// parseEndpointQuery applies §3.2: organization optional, identifier
// (interaction and/or party key) required, in one of four combinations.
func parseEndpointQuery(raw string, strict bool) (endpointQuery, error) {
	q, err := parseQuery(raw)
	if err != nil {
		return endpointQuery{}, err
	}
	if err := q.checkNames(false, paramOrganization, paramIdentifier); err != nil {
		return endpointQuery{}, err
	}
	e := endpointQuery{
		org:         q.token(paramOrganization, gpc.SystemODSCode),
		interaction: q.token(paramIdentifier, gpc.SystemInteractionID),
		partyKey:    q.token(paramIdentifier, gpc.SystemPartyKey),
	}
	if (e.org != "" && e.interaction == "" && e.partyKey == "") || (e.org == "" && (e.interaction == "" || e.partyKey == "")) {
		org := paramOrganization + "=" + gpc.SystemODSCode + "|value"
		in := paramIdentifier + "=" + gpc.SystemInteractionID + "|value"
		pk := paramIdentifier + "=" + gpc.SystemPartyKey + "|value"
		// The service's list has no commas between its items; kept verbatim.
		return endpointQuery{}, badRequest("Missing or invalid query parameters. Should one of following combinations: ['%s''%s''%s''%s']",
			org+"&"+in+"&"+pk, org+"&"+in, org+"&"+pk, in+"&"+pk)
	}
	if strict {
		if err := q.checkNames(true, paramOrganization, paramIdentifier); err != nil {
			return endpointQuery{}, err
		}
	}
	return e, nil
}

// deviceQuery is a valid GET /Device search.
type deviceQuery struct {
	org, interaction, partyKey, manufacturer string
}

// parseDeviceQuery applies §3.1: organization and interaction required,
// party key and manufacturing-organization optional.
func parseDeviceQuery(raw string, strict bool) (deviceQuery, error) {
	q, err := parseQuery(raw)
	if err != nil {
		return deviceQuery{}, err
	}
	if err := q.checkNames(false, paramOrganization, paramIdentifier, paramManufacturing); err != nil {
		return deviceQuery{}, err
	}
	d := deviceQuery{
		org:          q.token(paramOrganization, gpc.SystemODSCode),
		interaction:  q.token(paramIdentifier, gpc.SystemInteractionID),
		partyKey:     q.token(paramIdentifier, gpc.SystemPartyKey),
		manufacturer: q.token(paramManufacturing, gpc.SystemODSCode),
	}
	if d.org == "" {
		return deviceQuery{}, invalidParam(paramOrganization, gpc.SystemODSCode)
	}
	if d.interaction == "" {
		return deviceQuery{}, invalidParam(paramIdentifier, gpc.SystemInteractionID)
	}
	if strict {
		if err := q.checkNames(true, paramOrganization, paramIdentifier, paramManufacturing); err != nil {
			return deviceQuery{}, err
		}
	}
	return d, nil
}
