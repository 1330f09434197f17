package runner

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spine-sandbox/spine-sandbox/internal/fhirxml"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// tamperer is the http.RoundTripper that applies a scenario's run.tamper
// edits to the built-in consumer's requests, so a scenario can prove what
// PDS, SDS, the SSP or the provider answer to a faulty request the
// (correct) consumer would never send. A tamper that cannot apply (a
// JSON Pointer that names nothing, a body that is not JSON) stops the
// request and is reported as a run failure, never a panic.
type tamperer struct {
	next    http.RoundTripper
	bases   map[scenario.Hop]string // hop → base URL of the session's service
	tampers []scenario.Tamper

	mu        sync.Mutex
	matched   []int  // requests each tamper was applied to
	lastTrace string // Ssp-TraceID of the previous SSP request sent
	err       error  // first tamper that could not apply
}

func newTamperer(next http.RoundTripper, pds, sds, ssp string, tampers []scenario.Tamper) *tamperer {
	return &tamperer{next: next, tampers: tampers, matched: make([]int, len(tampers)),
		bases: map[scenario.Hop]string{scenario.HopPDS: pds, scenario.HopSDS: sds, scenario.HopSSP: ssp}}
}

// Err reports the first tamper that could not apply, then every tamper
// that never matched a request (a scenario whose tamper never fired
// proves nothing).
func (t *tamperer) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	for i, n := range t.matched {
		if n == 0 {
			tp := t.tampers[i]
			what := string(tp.Hop)
			if tp.Interaction != "" {
				what += " " + tp.Interaction
			}
			return fmt.Errorf("run.tamper[%d] (%s) matched no request the consumer sent", i, what)
		}
	}
	return nil
}

// target is a request as the tamperer sees it: which hop, which request
// there, and its URL cut into base (scheme, host and the session's service
// prefix, with for the SSP the proxied service root) and the FHIR path.
type target struct {
	hop         scenario.Hop
	name        string          // retrieve, search, endpoint, device; "" for ssp
	interaction gpc.Interaction // ssp: the Ssp-InteractionID sent
	prefix      string          // up to and including the service's base path
	root        string          // ssp: the proxied service root
	path        string          // the FHIR path, escaped as sent
}

func (t *tamperer) classify(r *http.Request) (target, bool) {
	full := r.URL.Scheme + "://" + r.URL.Host + r.URL.EscapedPath()
	for _, hop := range []scenario.Hop{scenario.HopPDS, scenario.HopSDS, scenario.HopSSP} {
		base := strings.TrimSuffix(t.bases[hop], "/")
		rest, ok := strings.CutPrefix(full, base)
		if !ok || (rest != "" && rest[0] != '/') {
			continue
		}
		x := target{hop: hop, prefix: base, path: rest}
		switch hop {
		case scenario.HopPDS:
			x.name = "retrieve"
			if strings.Trim(rest, "/") == "Patient" {
				x.name = "search"
			}
		case scenario.HopSDS:
			x.name = strings.ToLower(strings.Trim(rest, "/"))
		case scenario.HopSSP:
			x.interaction = gpc.Interaction(gpc.HeaderValue(r.Header, "Ssp-InteractionID"))
			x.prefix, x.root, x.path = splitSSP(base, rest, x.interaction)
		}
		return x, true
	}
	return target{}, false
}

// splitSSP cuts {ssp}/{service root}{path} (gpconnect-1.6.md §1.2): the
// FHIR path has as many segments as the interaction's path pattern.
func splitSSP(base, rest string, in gpc.Interaction) (prefix, root, path string) {
	prefix, rest = base+"/", strings.TrimPrefix(rest, "/")
	info, ok := gpc.Lookup(in)
	if !ok {
		return prefix, rest, ""
	}
	n := strings.Count(info.Path, "/")
	cut := len(rest)
	for range n {
		cut = strings.LastIndexByte(rest[:cut], '/')
		if cut < 0 {
			return prefix, rest, ""
		}
	}
	return prefix, rest[:cut], rest[cut:]
}

func (t *tamperer) matches(tp scenario.Tamper, x target) bool {
	if tp.Hop != x.hop {
		return false
	}
	switch {
	case tp.Interaction == "":
		return true
	case x.hop == scenario.HopSSP:
		return tp.InteractionID == x.interaction
	default:
		return tp.Interaction == x.name
	}
}

// RoundTrip applies every tamper that matches r, in the order written,
// to a copy of r and sends the copy. The runner's own slot-taking request
// is sent untouched.
func (t *tamperer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get(takeHeader) != "" {
		return t.next.RoundTrip(r)
	}
	x, ok := t.classify(r)
	if !ok {
		return t.next.RoundTrip(r)
	}
	t.mu.Lock()
	out, tampered, err := t.apply(r, x)
	if err != nil && t.err == nil {
		t.err = err
	}
	if err == nil && x.hop == scenario.HopSSP {
		t.lastTrace = gpc.HeaderValue(out.Header, "Ssp-TraceID")
	}
	t.mu.Unlock()
	if err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	res, err := t.next.RoundTrip(out)
	if err != nil || !tampered {
		return res, err
	}
	return xmlAnswerAsJSON(res)
}

// apply runs the matching tampers on a copy of r, and reports whether any
// applied. Called with t.mu held.
func (t *tamperer) apply(r *http.Request, x target) (*http.Request, bool, error) {
	var use []int
	for i, tp := range t.tampers {
		if t.matches(tp, x) && (tp.Times == 0 || t.matched[i] < tp.Times) {
			use = append(use, i)
		}
	}
	if len(use) == 0 {
		return r, false, nil
	}
	out := r.Clone(r.Context())
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, false, err
		}
		body = b
	}
	query := r.URL.RawQuery
	for _, i := range use {
		t.matched[i]++
		tp := t.tampers[i]
		var err error
		body, query, err = t.edit(out, &x, query, body, tp)
		if err != nil {
			return nil, false, fmt.Errorf("run.tamper[%d] on %s: %w", i, describe(x), err)
		}
	}
	raw := x.prefix + x.root + x.path
	if query != "" {
		raw += "?" + query
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, false, fmt.Errorf("run.tamper on %s: the edited URL %q does not parse: %v", describe(x), raw, err)
	}
	out.URL = u
	out.Host = ""
	out.ContentLength = int64(len(body))
	out.Body, out.GetBody = http.NoBody, nil
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return out, true, nil
}

func describe(x target) string {
	if x.hop == scenario.HopSSP {
		return "ssp " + x.interaction.Name()
	}
	return string(x.hop) + " " + x.name
}

// edit applies one tamper in the documented order: trace id, headers,
// content type, JWT, method, target, path, query, body.
func (t *tamperer) edit(out *http.Request, x *target, query string, body []byte, tp scenario.Tamper) ([]byte, string, error) {
	if tp.ReuseTraceID {
		if t.lastTrace == "" {
			return nil, "", fmt.Errorf("reuse_trace_id: no earlier SSP request to take an Ssp-TraceID from")
		}
		setHeader(out.Header, "Ssp-TraceID", t.lastTrace)
	}
	if e := tp.Headers; e != nil {
		for _, v := range e.Set {
			setHeader(out.Header, v.Name, v.Values...)
		}
		for _, name := range e.Del {
			if !delHeader(out.Header, name) {
				return nil, "", fmt.Errorf("headers.del: the request has no %s header", name)
			}
		}
	}
	if tp.ContentType != "" {
		setHeader(out.Header, "Content-Type", tp.ContentType)
	}
	if tp.JWT != nil {
		if err := editJWT(out.Header, *tp.JWT); err != nil {
			return nil, "", fmt.Errorf("jwt: %w", err)
		}
	}
	if tp.Method != "" {
		out.Method = tp.Method
	}
	if tp.ServiceRoot != "" {
		x.root = tp.ServiceRoot
	}
	if tp.Path != "" {
		x.path = tp.Path
	}
	if e := tp.Query; e != nil {
		var err error
		if query, err = editQuery(query, *e); err != nil {
			return nil, "", fmt.Errorf("query: %w", err)
		}
	}
	if e := tp.Body; e != nil {
		if body == nil {
			return nil, "", fmt.Errorf("body: the request has no body to edit")
		}
		var err error
		if body, err = editJSON(body, e.Set, e.Del, func(k string) string { return k }); err != nil {
			return nil, "", fmt.Errorf("body: %w", err)
		}
	}
	if tp.Format == "xml" {
		setHeader(out.Header, "Accept", "application/fhir+xml")
		if len(body) > 0 {
			x, err := fhirxml.JSONToXML(body)
			if err != nil {
				return nil, "", fmt.Errorf("format: %w", err)
			}
			body = x
			setHeader(out.Header, "Content-Type", "application/fhir+xml;charset=utf-8")
		}
	}
	return body, query, nil
}

// xmlAnswerAsJSON gives the consumer, which reads FHIR JSON only, the
// provider's FHIR XML answer to a tampered request (format: xml, or a
// _format or Accept edit) as JSON; the journal has kept the XML. Any
// other answer (the SSP's own JSON refusals, say) passes unchanged.
func xmlAnswerAsJSON(res *http.Response) (*http.Response, error) {
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/fhir+xml") {
		return res, nil
	}
	var rd io.Reader = res.Body
	if strings.EqualFold(res.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			res.Body.Close()
			return nil, fmt.Errorf("format: the XML answer: %w", err)
		}
		rd = zr
	}
	b, err := io.ReadAll(io.LimitReader(rd, 64<<20))
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("format: reading the XML answer: %w", err)
	}
	j, err := fhirxml.XMLToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("format: the provider's XML answer does not convert: %w", err)
	}
	res.Header.Del("Content-Encoding")
	res.Header.Set("Content-Type", "application/fhir+json;charset=utf-8")
	res.Header.Set("Content-Length", strconv.Itoa(len(j)))
	res.ContentLength = int64(len(j))
	res.Uncompressed = true
	res.Body = io.NopCloser(bytes.NewReader(j))
	return res, nil
}

// setHeader replaces every spelling of name with name as written, so a
// tamper never sends a header twice under two spellings.
func setHeader(h http.Header, name string, values ...string) {
	delHeader(h, name)
	h[name] = values
}

func delHeader(h http.Header, name string) bool {
	found := false
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
			found = true
		}
	}
	return found
}

// editQuery sets and deletes parameters of a raw query, keeping the order
// of the others: a set parameter takes the place of its first occurrence.
func editQuery(raw string, e scenario.Edits) (string, error) {
	type param struct{ name, raw string }
	var ps []param
	if raw != "" {
		for _, p := range strings.Split(raw, "&") {
			n, _, _ := strings.Cut(p, "=")
			name, err := url.QueryUnescape(n)
			if err != nil {
				name = n
			}
			ps = append(ps, param{name, p})
		}
	}
	for _, v := range e.Set {
		at := slices.IndexFunc(ps, func(p param) bool { return p.name == v.Name })
		ps = slices.DeleteFunc(ps, func(p param) bool { return p.name == v.Name })
		if at < 0 || at > len(ps) {
			at = len(ps)
		}
		var add []param
		for _, val := range v.Values {
			add = append(add, param{v.Name, url.QueryEscape(v.Name) + "=" + url.QueryEscape(val)})
		}
		ps = slices.Insert(ps, at, add...)
	}
	for _, name := range e.Del {
		before := len(ps)
		ps = slices.DeleteFunc(ps, func(p param) bool { return p.name == name })
		if len(ps) == before {
			return "", fmt.Errorf("del: the request has no %q parameter", name)
		}
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.raw
	}
	return strings.Join(out, "&"), nil
}

// editJWT changes the Bearer token of the Authorization header: header
// fields, claims and signature, re-encoded as base64url without padding
// (gpconnect-1.6.md §2).
func editJWT(h http.Header, e scenario.JWTEdits) error {
	tok, ok := strings.CutPrefix(gpc.HeaderValue(h, "Authorization"), "Bearer ")
	if !ok {
		return fmt.Errorf("the request has no Authorization: Bearer token")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("the token has %d parts, not 3", len(parts))
	}
	if len(e.Header) > 0 {
		hb, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil {
			return fmt.Errorf("header: not base64url: %v", err)
		}
		if hb, err = editJSON(hb, e.Header, nil, scenario.ClaimPointer); err != nil {
			return fmt.Errorf("header: %w", err)
		}
		parts[0] = base64.RawURLEncoding.EncodeToString(hb)
	}
	if len(e.Set) > 0 || len(e.Del) > 0 {
		cb, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return fmt.Errorf("claims: not base64url: %v", err)
		}
		if cb, err = editJSON(cb, e.Set, e.Del, scenario.ClaimPointer); err != nil {
			return err
		}
		parts[1] = base64.RawURLEncoding.EncodeToString(cb)
	}
	if e.Signature != nil {
		parts[2] = *e.Signature
	}
	setHeader(h, "Authorization", "Bearer "+strings.Join(parts, "."))
	return nil
}

// editJSON sets then deletes by JSON Pointer (RFC 6901); key turns an
// edit's key into its pointer. Numbers keep their exact text.
func editJSON(doc []byte, set scenario.JSONValues, del []string, key func(string) string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	for _, s := range set {
		var val any
		d := json.NewDecoder(bytes.NewReader(s.Value))
		d.UseNumber()
		if err := d.Decode(&val); err != nil {
			return nil, fmt.Errorf("set %s: %v", s.Key, err)
		}
		p := key(s.Key)
		toks, err := scenario.PointerTokens(p)
		if err != nil {
			return nil, err
		}
		if v, err = setPointer(v, toks, val, p); err != nil {
			return nil, fmt.Errorf("set %w", err)
		}
	}
	for _, k := range del {
		p := key(k)
		toks, err := scenario.PointerTokens(p)
		if err != nil {
			return nil, err
		}
		if len(toks) == 0 {
			return nil, fmt.Errorf("del: the whole document cannot be deleted")
		}
		if v, err = delPointer(v, toks, p); err != nil {
			return nil, fmt.Errorf("del %w", err)
		}
	}
	return json.Marshal(v)
}

// setPointer sets the value at toks: an object member is added or
// replaced; an array element is replaced, or appended at index len or
// "-"; anything else the pointer names must exist.
func setPointer(node any, toks []string, val any, p string) (any, error) {
	if len(toks) == 0 {
		return val, nil
	}
	tok, last := toks[0], len(toks) == 1
	switch n := node.(type) {
	case map[string]any:
		if last {
			n[tok] = val
			return n, nil
		}
		c, ok := n[tok]
		if !ok {
			return nil, fmt.Errorf("%s: no member %q", p, tok)
		}
		c, err := setPointer(c, toks[1:], val, p)
		n[tok] = c
		return n, err
	case []any:
		i, err := index(tok, len(n), last, p)
		if err != nil {
			return nil, err
		}
		if i == len(n) {
			return append(n, val), nil
		}
		c, err := setPointer(n[i], toks[1:], val, p)
		n[i] = c
		return n, err
	}
	return nil, fmt.Errorf("%s: %q is inside %s, which has no members", p, tok, jsonKind(node))
}

func delPointer(node any, toks []string, p string) (any, error) {
	tok, last := toks[0], len(toks) == 1
	switch n := node.(type) {
	case map[string]any:
		c, ok := n[tok]
		if !ok {
			return nil, fmt.Errorf("%s: no member %q", p, tok)
		}
		if last {
			delete(n, tok)
			return n, nil
		}
		c, err := delPointer(c, toks[1:], p)
		n[tok] = c
		return n, err
	case []any:
		i, err := index(tok, len(n), false, p)
		if err != nil {
			return nil, err
		}
		if last {
			return slices.Delete(n, i, i+1), nil
		}
		c, err := delPointer(n[i], toks[1:], p)
		n[i] = c
		return n, err
	}
	return nil, fmt.Errorf("%s: %q is inside %s, which has no members", p, tok, jsonKind(node))
}

// index reads an array index token; appending allows len and "-".
func index(tok string, n int, appending bool, p string) (int, error) {
	if tok == "-" && appending {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || (tok != "0" && strings.HasPrefix(tok, "0")) {
		return 0, fmt.Errorf("%s: %q is not an array index", p, tok)
	}
	if i > n || (i == n && !appending) {
		return 0, fmt.Errorf("%s: index %d is out of range (the array has %d elements)", p, i, n)
	}
	return i, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}
