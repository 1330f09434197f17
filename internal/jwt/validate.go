package jwt

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// Expect says what the receiving interaction requires.
type Expect struct {
	// Audience is the receiving service root, compared verbatim with aud
	// when CheckAudience is set.
	Audience string
	// Scope is the interaction's requested_scope (gpc.InteractionInfo.Scope);
	// "" skips JWT_SCOPE_WRONG_FOR_INTERACTION.
	Scope gpc.Scope
	// Now is the receiver's clock; the zero time skips JWT_EXPIRED.
	Now time.Time
	// CheckAudience enables JWT_AUD_NOT_SERVICE_ROOT. The SSP sees tokens
	// for many providers and may leave it off.
	CheckAudience bool
}

// Violation is one broken rule.
type Violation struct {
	Rule    string   `json:"rule"`    // a Rule's Name
	Status  int      `json:"status"`  // the HTTP status a provider answers with
	Code    gpc.Code `json:"code"`    // the Spine error code
	Message string   `json:"message"` // what exactly was wrong, for diagnostics
	Section string   `json:"section"` // gpconnect-1.6.md section
}

// String returns "RULE: message".
func (v Violation) String() string { return v.Rule + ": " + v.Message }

// Err returns v as the typed error a provider handler returns.
func (v Violation) Err() *gpc.Error {
	return gpc.StatusErrorf(v.Status, v.Code, "%s", v.Message)
}

// Rule is one check Validate applies.
type Rule struct {
	Name    string   `json:"name"`    // stable UPPER_SNAKE identifier
	What    string   `json:"what"`    // what the rule requires
	Section string   `json:"section"` // gpconnect-1.6.md section
	Status  int      `json:"status"`  // HTTP status when broken
	Code    gpc.Code `json:"code"`    // Spine code when broken
}

// The rule names, in the order Validate applies them.
const (
	RuleMissing                  = "JWT_MISSING"
	RuleNotBearer                = "JWT_NOT_BEARER"
	RuleMalformed                = "JWT_MALFORMED"
	RuleNotBase64URL             = "JWT_NOT_BASE64URL"
	RuleSignaturePresent         = "JWT_SIGNATURE_PRESENT"
	RuleHeaderInvalid            = "JWT_HEADER_INVALID"
	RulePayloadNotJSON           = "JWT_PAYLOAD_NOT_JSON"
	RuleClaimMissing             = "JWT_CLAIM_MISSING"
	RuleClaimWrongType           = "JWT_CLAIM_WRONG_TYPE"
	RuleRequestedRecordPresent   = "JWT_REQUESTED_RECORD_PRESENT"
	RuleExpNotIatPlus300         = "JWT_EXP_NOT_IAT_PLUS_300"
	RuleExpired                  = "JWT_EXPIRED"
	RuleReasonNotDirectCare      = "JWT_REASON_NOT_DIRECTCARE"
	RuleScopeInvalid             = "JWT_SCOPE_INVALID"
	RuleScopeWrongForInteraction = "JWT_SCOPE_WRONG_FOR_INTERACTION"
	RuleAudNotServiceRoot        = "JWT_AUD_NOT_SERVICE_ROOT"
	RuleDeviceInvalid            = "JWT_DEVICE_INVALID"
	RuleDeviceIncomplete         = "JWT_DEVICE_INCOMPLETE"
	RuleOrganizationInvalid      = "JWT_ORGANIZATION_INVALID"
	RuleOrganizationIncomplete   = "JWT_ORGANIZATION_INCOMPLETE"
	RulePractitionerInvalid      = "JWT_PRACTITIONER_INVALID"
	RulePractitionerIncomplete   = "JWT_PRACTITIONER_INCOMPLETE"
	RuleSubNotPractitionerID     = "JWT_SUB_NOT_PRACTITIONER_ID"
)

// Rules lists every rule, in the order Validate applies them: name, what,
// spec section, status and code. The conformance table reads it.
//
// Statuses follow gpconnect-1.6.md §2.4: everything is 400 BAD_REQUEST
// except a claim resource of the wrong type or not a valid resource, which
// is 422 INVALID_RESOURCE (JWT.feature). A future iat is accepted
// (JWT.feature, GitHub #188), so there is no rule for it.
var Rules = []Rule{
	{RuleMissing, "the Authorization header is present", "§2.1, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleNotBearer, "the Authorization scheme is Bearer", "§2.1", http.StatusBadRequest, gpc.BadRequest},
	{RuleMalformed, "the token is header.payload.signature with a non-empty header and payload", "§2.1", http.StatusBadRequest, gpc.BadRequest},
	{RuleNotBase64URL, "each part is base64url without padding (no '=', '+', '/')", "§2.1", http.StatusBadRequest, gpc.BadRequest},
	{RuleSignaturePresent, "the signature part is empty: the token ends with '.'", "§2.1", http.StatusBadRequest, gpc.BadRequest},
	{RuleHeaderInvalid, `the JOSE header is exactly {"alg":"none","typ":"JWT"}`, "§2.1", http.StatusBadRequest, gpc.BadRequest},
	{RulePayloadNotJSON, "the payload is a JSON object", "§2.4, §6.2", http.StatusBadRequest, gpc.BadRequest},
	{RuleClaimMissing, "every required claim is present, not null and not empty", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleClaimWrongType, "iss, sub, aud, reason_for_request and requested_scope are strings; exp and iat integers", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleRequestedRecordPresent, "the DSTU2 requested_record claim is absent", "§2.2", http.StatusBadRequest, gpc.BadRequest},
	{RuleExpNotIatPlus300, "exp is exactly iat + 300 seconds", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleExpired, "exp is not in the past", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleReasonNotDirectCare, "reason_for_request is directcare", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleScopeInvalid, "requested_scope is one of the four base scopes", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleScopeWrongForInteraction, "requested_scope is the interaction's scope", "§1.6, §2.3", http.StatusBadRequest, gpc.BadRequest},
	{RuleAudNotServiceRoot, "aud is the provider's service root, verbatim", "§2.2", http.StatusBadRequest, gpc.BadRequest},
	{RuleDeviceInvalid, "requesting_device is a valid STU3 Device resource", "§2.2, §2.4", http.StatusUnprocessableEntity, gpc.InvalidResource},
	{RuleDeviceIncomplete, "requesting_device has identifier[0].system and .value, model and version", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleOrganizationInvalid, "requesting_organization is a valid STU3 Organization resource", "§2.2, §2.4", http.StatusUnprocessableEntity, gpc.InvalidResource},
	{RuleOrganizationIncomplete, "requesting_organization has a name and an ODS code identifier", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RulePractitionerInvalid, "requesting_practitioner is a valid STU3 Practitioner resource", "§2.2, §2.4", http.StatusUnprocessableEntity, gpc.InvalidResource},
	{RulePractitionerIncomplete, "requesting_practitioner has id, name[0].family, name[0].given[0] and an sds-user-id identifier (UNK allowed)", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
	{RuleSubNotPractitionerID, "sub equals requesting_practitioner.id", "§2.2, §2.4", http.StatusBadRequest, gpc.BadRequest},
}

// RuleByName returns the rule called name.
func RuleByName(name string) (Rule, bool) {
	for _, r := range Rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// requiredClaims are checked for presence in this order (§2.2).
var requiredClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "reason_for_request", "requested_scope",
	"requesting_device", "requesting_organization", "requesting_practitioner",
}

// validator collects violations. It judges a token alone; the three rules
// that depend on what the receiver expects (JWT_EXPIRED,
// JWT_SCOPE_WRONG_FOR_INTERACTION, JWT_AUD_NOT_SERVICE_ROOT) are left to
// finish, which inserts them where they belong in the order of Rules — so
// one reading of a token serves every hop that judges it.
type validator struct {
	authz string // the Authorization value read
	vs    []Violation
	// expAt and scopeAt are where in vs the expectation-dependent rules
	// go (-1: the token could not be read that far).
	expAt, scopeAt int
	exp            int64
	hasExp         bool
	scope          gpc.Scope // a base scope, when scopeBase
	scopeBase      bool
	aud            string
	hasAud         bool
}

func (v *validator) add(rule, format string, args ...any) {
	r, ok := RuleByName(rule)
	if !ok {
		panic("jwt: unknown rule " + rule) // a programming error, caught by tests
	}
	v.vs = append(v.vs, Violation{Rule: r.Name, Status: r.Status, Code: r.Code, Message: fmt.Sprintf(format, args...), Section: r.Section})
}

// Validate applies every rule, in the order of Rules, and returns all
// violations (empty = valid). authorizationHeader is the whole header value,
// "Bearer <jwt>". When the token cannot be read (JWT_MISSING to
// JWT_NOT_BASE64URL, JWT_PAYLOAD_NOT_JSON) Validate stops there, since no
// later rule can be judged; otherwise it reports every broken rule. A
// provider answers with the first violation.
func Validate(authorizationHeader string, want Expect) []Violation {
	return read(authorizationHeader).finish(want)
}

// maxReadTokens bounds the tokens kept read. A request is judged by the
// SSP's conformance check and by the provider, with one token; a small
// store makes the second judgement a lookup.
const maxReadTokens = 256

var readTokens struct {
	mu sync.Mutex
	m  map[string]*validator
}

// lastRead is the token read last, looked at before the store: the
// provider's judgement of a request the SSP judged a moment before finds
// it without hashing the token again (its header value is the very string
// the SSP's was) or taking the store's lock.
var lastRead atomic.Pointer[validator]

// read judges a token alone, once: a validator in the store is never
// changed again.
func read(authz string) *validator {
	if v := lastRead.Load(); v != nil && v.authz == authz {
		return v
	}
	readTokens.mu.Lock()
	v, ok := readTokens.m[authz]
	readTokens.mu.Unlock()
	if ok {
		lastRead.Store(v)
		return v
	}
	v = &validator{authz: authz, expAt: -1, scopeAt: -1}
	v.validate(authz)
	lastRead.Store(v)
	readTokens.mu.Lock()
	if readTokens.m == nil || len(readTokens.m) >= maxReadTokens {
		readTokens.m = make(map[string]*validator, maxReadTokens)
	}
	readTokens.m[authz] = v
	readTokens.mu.Unlock()
	return v
}

// finish returns the token's violations with the expectation-dependent
// rules judged against want, in the order of Rules; nil when valid.
func (v *validator) finish(want Expect) []Violation {
	if v.expAt < 0 {
		return slices.Clone(v.vs)
	}
	var out []Violation // nil for a valid token: no array for its no violations
	out = append(out, v.vs[:v.expAt]...)
	d := &validator{}
	// A future iat is deliberately accepted (§2.4, JWT.feature, GitHub #188).
	if v.hasExp && !want.Now.IsZero() && v.exp < want.Now.Unix() {
		d.add(RuleExpired, "JWT has expired: exp %d is before now %d", v.exp, want.Now.Unix())
	}
	out = append(append(out, d.vs...), v.vs[v.expAt:v.scopeAt]...)
	d.vs = nil
	if v.scopeBase && want.Scope != "" && v.scope != want.Scope {
		d.add(RuleScopeWrongForInteraction, "JWT requested_scope %q is wrong for this interaction, which requires %q", v.scope, want.Scope)
	}
	if v.hasAud && want.CheckAudience && v.aud != want.Audience {
		d.add(RuleAudNotServiceRoot, "JWT aud %q is not the provider's service root %q", v.aud, want.Audience)
	}
	out = append(append(out, d.vs...), v.vs[v.scopeAt:]...)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (v *validator) validate(authz string) {
	authz = strings.TrimSpace(authz)
	if authz == "" {
		v.add(RuleMissing, "Authorization header is missing or empty")
		return
	}
	// The auth scheme is case-insensitive (RFC 7235 §2.1).
	scheme, token, _ := strings.Cut(authz, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		v.add(RuleNotBearer, "Authorization header is not a Bearer token")
		return
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		v.add(RuleMissing, "Bearer token is empty")
		return
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		v.add(RuleMalformed, "JWT must have a non-empty header and payload and end with '.' (found %d parts)", len(parts))
		return
	}
	if i := notBase64URL(token); i >= 0 {
		v.add(RuleNotBase64URL, "JWT is not base64url encoded without padding: unexpected %q at offset %d", token[i], i)
		return
	}
	hb, herr := base64.RawURLEncoding.DecodeString(parts[0])
	pb, perr := base64.RawURLEncoding.DecodeString(parts[1])
	if herr != nil || perr != nil {
		v.add(RuleNotBase64URL, "JWT is not base64url encoded: %v", firstErr(herr, perr))
		return
	}
	if parts[2] != "" {
		v.add(RuleSignaturePresent, "JWT must be unsecured (alg none) with an empty signature part")
	}
	v.header(hb)

	var claims map[string]jsontext.Value
	if err := json.Unmarshal(pb, &claims); err != nil || claims == nil {
		v.add(RulePayloadNotJSON, "JWT payload is not a JSON object")
		return
	}
	v.claims(claims)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// notBase64URL returns the offset of the first byte of token that is neither
// base64url nor '.', or -1. A byte loop: strings.IndexFunc decodes runes
// through a closure, a tenth of a token's judgement.
func notBase64URL(token string) int {
	for i := 0; i < len(token); i++ {
		if c := token[i]; !isBase64URL(c) && c != '.' {
			return i
		}
	}
	return -1
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// header checks the JOSE header: alg none, typ JWT, nothing else (§2.1; the
// demonstrator rejects any other key).
func (v *validator) header(hb []byte) {
	var h map[string]jsontext.Value
	if err := json.Unmarshal(hb, &h); err != nil || h == nil {
		v.add(RuleHeaderInvalid, "JWT header is not a JSON object")
		return
	}
	var problems []string
	if s, ok := stringOf(h["alg"]); !ok || s != "none" {
		problems = append(problems, fmt.Sprintf("alg must be \"none\", got %s", shown(h["alg"])))
	}
	if s, ok := stringOf(h["typ"]); !ok || s != "JWT" {
		problems = append(problems, fmt.Sprintf("typ must be \"JWT\", got %s", shown(h["typ"])))
	}
	var extra []string
	for k := range h {
		if k != "alg" && k != "typ" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		problems = append(problems, "unexpected header keys "+strings.Join(extra, ", "))
	}
	if len(problems) > 0 {
		v.add(RuleHeaderInvalid, "JWT header invalid: %s", strings.Join(problems, "; "))
	}
}

// jsonKind is the JSON type of a raw value.
type jsonKind int

const (
	kindAbsent jsonKind = iota
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func (k jsonKind) String() string {
	return [...]string{"absent", "null", "a string", "a number", "a boolean", "an object", "an array"}[k]
}

func kind(raw jsontext.Value) jsonKind {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return kindAbsent
	}
	switch b[0] {
	case 'n':
		return kindNull
	case '"':
		return kindString
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 't', 'f':
		return kindBool
	}
	return kindNumber
}

// stringOf unquotes a string value without a decoder: the value comes
// from a decoded object, so it is valid JSON already, and one without
// escapes is its bytes between the quotes.
func stringOf(raw jsontext.Value) (string, bool) {
	if kind(raw) != kindString {
		return "", false
	}
	raw = bytes.TrimSpace(raw)
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	s, err := jsontext.AppendUnquote(nil, raw)
	return string(s), err == nil
}

// intOf reads an integer as encoding/json's Number.Int64 did: a decoded
// value is valid JSON, so a number is its literal.
func intOf(raw jsontext.Value) (int64, bool) {
	if kind(raw) != kindNumber {
		return 0, false
	}
	i, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	return i, err == nil
}

func shown(raw jsontext.Value) string {
	if len(raw) == 0 {
		return "nothing"
	}
	const max = 40
	s := string(bytes.TrimSpace(raw))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

var stringClaims = []string{"iss", "sub", "aud", "reason_for_request", "requested_scope"}
var intClaims = []string{"exp", "iat"}

// claims applies the claim rules in the order of Rules.
func (v *validator) claims(c map[string]jsontext.Value) {
	// Presence (§2.2: all required). An empty string counts as missing, as
	// the error-handling page's "Empty JWT aud claim" example shows.
	present := map[string]bool{}
	for _, name := range requiredClaims {
		raw, ok := c[name]
		switch k := kind(raw); {
		case !ok:
			v.add(RuleClaimMissing, "JWT claim %s is missing", name)
		case k == kindNull:
			v.add(RuleClaimMissing, "Empty JWT %s claim (null)", name)
		case k == kindString && string(bytes.TrimSpace(raw)) == `""`:
			v.add(RuleClaimMissing, "Empty JWT %s claim", name)
		default:
			present[name] = true
		}
	}

	// Types of the scalar claims; the resources' are judged by their own
	// rules (422: not a valid resource).
	str := map[string]string{}
	for _, name := range stringClaims {
		if !present[name] {
			continue
		}
		if s, ok := stringOf(c[name]); ok {
			str[name] = s
		} else {
			v.add(RuleClaimWrongType, "JWT claim %s must be a string, got %s", name, kind(c[name]))
		}
	}
	num := map[string]int64{}
	for _, name := range intClaims {
		if !present[name] {
			continue
		}
		if n, ok := intOf(c[name]); ok {
			num[name] = n
		} else {
			v.add(RuleClaimWrongType, "JWT claim %s must be an integer (Unix seconds), got %s", name, shown(c[name]))
		}
	}

	if _, ok := c["requested_record"]; ok {
		v.add(RuleRequestedRecordPresent, "JWT claim requested_record is not allowed in GP Connect 1.6")
	}

	exp, hasExp := num["exp"]
	iat, hasIat := num["iat"]
	if hasExp && hasIat && !(exp > iat && exp-iat == int64(Lifetime/time.Second)) {
		// The demonstrator's message (WebTokenValidator.java).
		v.add(RuleExpNotIatPlus300, "JWT expiry time is not 5 minutes after the creation time (exp - iat must be 300)")
	}
	v.expAt, v.exp, v.hasExp = len(v.vs), exp, hasExp // JWT_EXPIRED goes here (finish)

	if s, ok := str["reason_for_request"]; ok && s != ReasonDirectCare {
		v.add(RuleReasonNotDirectCare, "JWT reason_for_request must be %q, got %q", ReasonDirectCare, s)
	}

	if s, ok := str["requested_scope"]; ok {
		scope := gpc.Scope(s)
		if slices.Contains(baseScopes, scope) {
			v.scope, v.scopeBase = scope, true
		} else {
			v.add(RuleScopeInvalid, "JWT requested_scope %q is not one of %s", s, joinScopes(baseScopes))
		}
	}
	// JWT_SCOPE_WRONG_FOR_INTERACTION and JWT_AUD_NOT_SERVICE_ROOT go here
	// (finish).
	v.scopeAt = len(v.vs)
	v.aud, v.hasAud = str["aud"]

	if present["requesting_device"] {
		v.judged(judgedDevices, c["requesting_device"], func(raw jsontext.Value) (string, bool) { v.device(raw); return "", false })
	}
	if present["requesting_organization"] {
		v.judged(judgedOrganizations, c["requesting_organization"], func(raw jsontext.Value) (string, bool) { v.organization(raw); return "", false })
	}
	var practitionerID string
	practitionerOK := false
	if present["requesting_practitioner"] {
		practitionerID, practitionerOK = v.judged(judgedPractitioners, c["requesting_practitioner"], v.practitioner)
	}
	if sub, ok := str["sub"]; ok && practitionerOK && sub != practitionerID {
		v.add(RuleSubNotPractitionerID, "JWT sub %q does not equal requesting_practitioner.id %q", sub, practitionerID)
	}
}

var baseScopes = []gpc.Scope{gpc.PatientRead, gpc.PatientWrite, gpc.OrganizationRead, gpc.OrganizationWrite}

func joinScopes(ss []gpc.Scope) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// resource decodes a claim resource, reporting invalidRule (422) when it is
// not a JSON object of resourceType want whose elements have the right JSON
// types, as HAPI's parser would.
func resource[T any](v *validator, raw jsontext.Value, claim, want, invalidRule string) (*T, bool) {
	if k := kind(raw); k != kindObject {
		v.add(invalidRule, "JWT claim %s is not a valid FHIR resource: got %s", claim, k)
		return nil, false
	}
	var elements map[string]jsontext.Value
	if json.Unmarshal(raw, &elements) != nil {
		v.add(invalidRule, "JWT claim %s is not a valid FHIR resource", claim)
		return nil, false
	}
	if s, ok := stringOf(elements["resourceType"]); !ok || s != want {
		v.add(invalidRule, "JWT claim %s must be a %s resource, resourceType is %s", claim, want, shown(elements["resourceType"]))
		return nil, false
	}
	if bad := unknownElements(elements, want); len(bad) > 0 {
		// A parser that knows STU3 (HAPI, the .NET API) refuses an element
		// the resource does not define; NHS's JWT.feature ("Requesting
		// Device - invalid") adds one and expects 422.
		v.add(invalidRule, "JWT claim %s is not a valid %s: unknown element %s", claim, want, strings.Join(bad, ", "))
		return nil, false
	}
	out := new(T)
	// Names in any case, as encoding/json took them: a top-level one in
	// another case is already an unknown element.
	if err := json.Unmarshal(raw, out, json.MatchCaseInsensitiveNames(true)); err != nil {
		v.add(invalidRule, "JWT claim %s is not a valid %s: %v", claim, want, err)
		return nil, false
	}
	return out, true
}

// judgedResources keeps, for each claim resource, what judging it found,
// by its bytes: a consumer sends the same three resources in every token,
// each token otherwise new (its iat, aud and scope), and the resources
// were half of reading one (36 % of BenchmarkBuild, reading 74 %). Judging a resource
// depends on its bytes alone. At most maxJudgedResources of at most
// maxJudgedResourceBytes each are kept per claim (about 1.5 MB in all);
// when full, a store starts again.
type judgedResources struct {
	mu sync.Mutex
	m  map[string]judgedResource
}

// judgedResource is what judging a resource added to a validator's
// violations, and what it returned.
type judgedResource struct {
	vs []Violation
	id string
	ok bool
}

const (
	maxJudgedResources     = 256
	maxJudgedResourceBytes = 2 << 10
)

var judgedDevices, judgedOrganizations, judgedPractitioners = new(judgedResources), new(judgedResources), new(judgedResources)

// judged is judge(raw), or what it added and returned when the same bytes
// were judged before.
func (v *validator) judged(store *judgedResources, raw jsontext.Value, judge func(jsontext.Value) (string, bool)) (string, bool) {
	store.mu.Lock()
	j, ok := store.m[string(raw)]
	store.mu.Unlock()
	if ok {
		v.vs = append(v.vs, j.vs...)
		return j.id, j.ok
	}
	before := len(v.vs)
	id, idOK := judge(raw)
	if len(raw) > maxJudgedResourceBytes {
		return id, idOK
	}
	j = judgedResource{vs: slices.Clone(v.vs[before:]), id: id, ok: idOK}
	store.mu.Lock()
	if store.m == nil || len(store.m) >= maxJudgedResources {
		store.m = make(map[string]judgedResource)
	}
	store.m[string(raw)] = j
	store.mu.Unlock()
	return id, idOK
}

func (v *validator) device(raw jsontext.Value) {
	d, ok := resource[Device](v, raw, "requesting_device", "Device", RuleDeviceInvalid)
	if !ok {
		return
	}
	var missing []string
	if len(d.Identifier) == 0 || d.Identifier[0].System == "" {
		missing = append(missing, "identifier[0].system")
	}
	if len(d.Identifier) == 0 || d.Identifier[0].Value == "" {
		missing = append(missing, "identifier[0].value")
	}
	if d.Model == "" {
		missing = append(missing, "model")
	}
	if d.Version == "" {
		missing = append(missing, "version")
	}
	if len(missing) > 0 {
		v.add(RuleDeviceIncomplete, "JWT requesting_device is missing %s", strings.Join(missing, ", "))
	}
}

func (v *validator) organization(raw jsontext.Value) {
	o, ok := resource[Organization](v, raw, "requesting_organization", "Organization", RuleOrganizationInvalid)
	if !ok {
		return
	}
	var missing []string
	if o.Name == "" {
		missing = append(missing, "name")
	}
	if ods, ok := IdentifierValue(o.Identifier, gpc.SystemODSCode); !ok || ods == "" {
		missing = append(missing, "an identifier with system "+gpc.SystemODSCode)
	}
	if len(missing) > 0 {
		v.add(RuleOrganizationIncomplete, "JWT requesting_organization is missing %s", strings.Join(missing, ", "))
	}
}

// practitioner returns the practitioner's id when the resource is valid and
// has one.
func (v *validator) practitioner(raw jsontext.Value) (string, bool) {
	p, ok := resource[Practitioner](v, raw, "requesting_practitioner", "Practitioner", RulePractitionerInvalid)
	if !ok {
		return "", false
	}
	var missing []string
	if p.ID == "" {
		missing = append(missing, "id")
	}
	if len(p.Name) == 0 || p.Name[0].Family == "" {
		missing = append(missing, "name[0].family")
	}
	if len(p.Name) == 0 || len(p.Name[0].Given) == 0 || p.Name[0].Given[0] == "" {
		missing = append(missing, "name[0].given[0]")
	}
	// UNK is an accepted sds-user-id; role profile and user guid are
	// optional (§2.2, JWT.feature).
	if id, ok := IdentifierValue(p.Identifier, gpc.SystemSDSUserID); !ok || id == "" {
		missing = append(missing, "an identifier with system "+gpc.SystemSDSUserID)
	}
	if len(missing) > 0 {
		v.add(RulePractitionerIncomplete, "JWT requesting_practitioner is missing %s", strings.Join(missing, ", "))
	}
	// Without an id, JWT_PRACTITIONER_INCOMPLETE already says it all.
	return p.ID, p.ID != ""
}

// stu3Elements are the elements FHIR STU3 defines for the three resources a
// JWT carries (http://hl7.org/fhir/STU3: Device, Organization,
// Practitioner), beside the ones every DomainResource has.
var stu3Elements = map[string][]string{
	"Device": {"identifier", "udi", "status", "type", "lot", "manufacturer", "manufactureDate", "expirationDate",
		"model", "version", "patient", "owner", "contact", "location", "url", "note", "safety"},
	"Organization": {"identifier", "active", "type", "name", "alias", "telecom", "address", "partOf", "contact", "endpoint"},
	"Practitioner": {"identifier", "active", "name", "telecom", "address", "gender", "birthDate", "photo",
		"qualification", "communication"},
}

// domainResource are the elements of every STU3 DomainResource.
var domainResource = []string{"resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
	"extension", "modifierExtension"}

// unknownElements lists, sorted, the top-level elements of a resource of
// resourceType rt, m, that STU3 does not define; a primitive's "_name"
// companion counts as name.
func unknownElements(m map[string]jsontext.Value, rt string) []string {
	var bad []string
	for k := range m {
		name := strings.TrimPrefix(k, "_")
		if !slices.Contains(domainResource, name) && !slices.Contains(stu3Elements[rt], name) {
			bad = append(bad, k)
		}
	}
	slices.Sort(bad)
	return bad
}
