package ssp

import (
	"net/url"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// matchRoot accepts target when it is root followed by nothing, a clean
// "/path" and/or a "?query", and returns the URL to forward to. It is the
// SSP's whole defence against being an open proxy, so it is strict twice:
//
//  1. On the raw string: target must start with root byte for byte (no
//     normalising of scheme or host case, ports, trailing dots or
//     encodings, §1.2 and §9.1), and the rest must be a plain path (see
//     cleanPath) and query (see cleanQuery).
//  2. On the parsed URL: scheme, host (with port) and path prefix must
//     equal the root's, there must be no userinfo, fragment or opaque part,
//     and the URL the transport will send must print as the target itself.
func matchRoot(target, root string) (*url.URL, bool) {
	return matchUnder(target, root, parseRoot)
}

// matchUnder is matchRoot with the root parsed by parse: parseRoot, or the
// server's copy of what parseRoot gave for it (server.rootURL).
func matchUnder(target, root string, parse func(string) *url.URL) (*url.URL, bool) {
	if root == "" || !strings.HasPrefix(target, root) {
		return nil, false
	}
	rest := target[len(root):]
	if strings.HasSuffix(root, "/") {
		rest = "/" + rest // a root registered with a trailing "/" (the spec says none) keeps its boundary
	} else if rest != "" && rest[0] != '/' && rest[0] != '?' {
		return nil, false // e.g. .../gpconnectX or ...:4000@evil
	}
	p, q, hasQuery := strings.Cut(rest, "?")
	if !cleanPath(p) || !cleanQuery(q) {
		return nil, false
	}
	ru := parse(root)
	if ru == nil {
		return nil, false
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Opaque != "" || u.Fragment != "" || u.Scheme != ru.Scheme || u.Host != ru.Host ||
		!strings.HasPrefix(u.EscapedPath(), ru.EscapedPath()) {
		return nil, false
	}
	out := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: hasQuery && q == ""}
	if out.String() != target {
		return nil, false // the request would not go out as it came in
	}
	return out, true
}

// parseRoot parses a service root a target may be forwarded below: an
// http or https URL with a host and no userinfo, opaque part, query or
// fragment. Anything else is nil.
func parseRoot(root string) *url.URL {
	ru, err := url.Parse(root)
	if err != nil || ru.User != nil || ru.Host == "" || ru.Opaque != "" || ru.RawQuery != "" || ru.Fragment != "" ||
		(ru.Scheme != "http" && ru.Scheme != "https") {
		return nil
	}
	return ru
}

// cleanPath reports whether p, the raw path after the service root, is ""
// or "/" followed by plain segments: RFC 3986 pchars only, no empty
// segment except a final one, no "." or ".." segment (also before a ";"
// parameter, as Tomcat reads "..;"), and percent-encoding only of printable
// ASCII that is not "/", "\", "." or "%", so that no server behind us can
// decode the path into a different one.
func cleanPath(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != '/' {
		return false
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		if seg == "" && i != len(segs)-1 {
			return false // "//": an empty segment some servers collapse
		}
		name, _, _ := strings.Cut(seg, ";")
		if name == "." || name == ".." {
			return false
		}
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			if c == '%' {
				if j+2 >= len(seg) || !isHex(seg[j+1]) || !isHex(seg[j+2]) {
					return false
				}
				d := unhex(seg[j+1])<<4 | unhex(seg[j+2])
				if d < 0x21 || d > 0x7e || d == '/' || d == '\\' || d == '.' || d == '%' {
					return false
				}
				j += 2
				continue
			}
			if !isPathByte(c) {
				return false
			}
		}
	}
	return true
}

// cleanQuery reports whether q, the raw query, is printable ASCII without
// "#". The query never changes where a request goes, and GP Connect
// consumers send "|" both raw and encoded (§9.5), so it is otherwise the
// provider's to judge.
func cleanQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		if c := q[i]; c < 0x21 || c > 0x7e || c == '#' {
			return false
		}
	}
	return true
}

// isPathByte reports whether c may appear unencoded in a path segment
// (RFC 3986 pchar less pct-encoded).
func isPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// cpaID is the CPA id of the receiver's MHS record for the interaction,
// quoted in the target-mismatch error (§1.5). The world does not model CPA
// ids; like real SDS records, where the CPA id and the MHS record's
// uniqueIdentifier coincide, this is the nhsMHSId mocks/sds publishes for
// the record (world.MHSID).
func (x *exchange) cpaID() string {
	to, _ := x.value(hTo)
	for _, p := range x.s.cfg.World.Practices() {
		if p.ProviderASID == to {
			return world.MHSID(p.ODS, x.interaction)
		}
	}
	return ""
}
