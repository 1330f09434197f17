package ssp

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/spinerules"
)

// The names of the SSP's checks, stable for journals, reports and
// scenarios (internal/spinerules, which the consumer-side judge reads too).
const (
	CheckURILength             = spinerules.SSPURILength
	CheckHeadersPresent        = spinerules.SSPHeadersPresent
	CheckTraceIDUUID           = spinerules.SSPTraceIDUUID
	CheckFromASIDFormat        = spinerules.SSPFromASIDFormat
	CheckToASIDFormat          = spinerules.SSPToASIDFormat
	CheckInteractionKnown      = spinerules.SSPInteractionKnown
	CheckSenderAuthorised      = spinerules.SSPSenderAuthorised
	CheckReceiverAuthorised    = spinerules.SSPReceiverAuthorised
	CheckSharingAgreement      = spinerules.SSPSharingAgreement
	CheckTargetMatchesEndpoint = spinerules.SSPTargetMatchesEndpoint
	CheckMethodAllowed         = spinerules.SSPMethodAllowed
	CheckContentType           = spinerules.SSPContentType
	CheckAuthorizationPresent  = spinerules.SSPAuthorizationPresent
)

// MaxRequestURI is the longest request URI (prefix, target and query) the
// SSP accepts, in bytes: the common front-end limit (nginx's 8 KiB header
// buffer). Longer ones get 414 in every mode.
const MaxRequestURI = 8 << 10

// CheckInfo describes one check for the docs and the conformance table.
type CheckInfo = spinerules.SSPCheck

// check is one step of the pipeline. always marks the checks lenient mode
// still enforces, because failing them would make the SSP an open proxy.
type check struct {
	info   CheckInfo
	run    func(x *exchange) *Failure
	always bool
}

// pipeline runs the SSP's checks in the order of spinerules.SSPChecks
// (the reasons for that order are there); TestPipelineOrder keeps the two
// in step.
var pipeline = []check{
	{info(CheckURILength), checkURILength, true},
	{info(CheckHeadersPresent), checkHeadersPresent, false},
	{info(CheckTraceIDUUID), checkTraceID, false},
	{info(CheckFromASIDFormat), checkFromFormat, false},
	{info(CheckToASIDFormat), checkToFormat, false},
	{info(CheckInteractionKnown), checkInteraction, false},
	{info(CheckSenderAuthorised), checkSender, false},
	{info(CheckClientCertMatchesFrom), checkClientCert, false},
	{info(CheckReceiverAuthorised), checkReceiver, false},
	{info(CheckSharingAgreement), checkSharing, false},
	{info(CheckTargetMatchesEndpoint), checkTarget, false},
	{info(CheckMethodAllowed), checkMethod, false},
	{info(CheckContentType), checkContentType, false},
	{info(CheckAuthorizationPresent), checkAuthorization, false},
}

// info is the shared description of the check called name.
func info(name string) CheckInfo {
	c, ok := spinerules.SSPCheckNamed(name)
	if !ok {
		panic("ssp: no check " + name + " in spinerules.SSPChecks")
	}
	return c
}

// Checks lists the SSP's checks in the order it applies them.
var Checks = func() []CheckInfo {
	out := make([]CheckInfo, len(pipeline))
	for i, c := range pipeline {
		out[i] = c.info
	}
	return out
}()

// The four Ssp-* headers, spelled as the spec spells them (§1.3).
const (
	hTraceID     = "Ssp-TraceID"
	hFrom        = "Ssp-From"
	hTo          = "Ssp-To"
	hInteraction = "Ssp-InteractionID"
)

var sspHeaders = [...]string{hTraceID, hFrom, hTo, hInteraction}

// exchange is one request as the checks see it; each check adds what it
// learnt.
type exchange struct {
	s      *server
	r      *http.Request
	raw    string // the request URI as received
	target string // raw, after the prefix: service root, path, query
	// sent holds the Ssp-* headers that were sent once and not blank, in
	// the order of sspHeaders (value).
	sent [len(sspHeaders)]struct {
		v  string
		ok bool
	}

	interaction gpc.Interaction // set once known
	registered  string          // root for (Ssp-To, interaction); "" unknown
	fwd         *url.URL        // where to forward; nil until a target is accepted
	deadline    deadline        // the context of a forward in process (forwardLocal)
	through     throughWriter   // the answer's writer for a Through transport (forwardLocal)
}

func newExchange(s *server, r *http.Request) *exchange {
	raw := rawRequestURI(r)
	target, ok := strings.CutPrefix(raw, s.cfg.Prefix)
	if !ok {
		target = raw // a wiring mistake; no root will match it
	}
	x := &exchange{s: s, r: r, raw: raw, target: target}
	for i, name := range sspHeaders {
		if vs := gpc.HeaderValues(r.Header, name); len(vs) == 1 && strings.TrimSpace(vs[0]) != "" {
			x.sent[i].v, x.sent[i].ok = vs[0], true
		}
	}
	return x
}

// value is the Ssp-* header name (one of sspHeaders) when it was sent once
// and not blank.
func (x *exchange) value(name string) (string, bool) {
	for i, n := range sspHeaders {
		if n == name {
			return x.sent[i].v, x.sent[i].ok
		}
	}
	return "", false
}

// rawRequestURI is the request target as the client sent it. net/http
// keeps it in RequestURI; ServeMux and StripPrefix only change URL.Path.
// An absolute-form request line (a client talking to us as a proxy) keeps
// only its path and query.
func rawRequestURI(r *http.Request) string {
	raw := r.RequestURI
	if raw == "" {
		raw = r.URL.RequestURI()
	}
	if !strings.HasPrefix(raw, "/") {
		if i := strings.Index(raw, "://"); i >= 0 {
			rest := raw[i+3:]
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				return rest[j:]
			}
		}
	}
	return raw
}

func fail(check string, status int, issue, message string) *Failure {
	return &Failure{Check: check, Status: status, IssueCode: issue, Message: message}
}

// headerMessage is the sandbox's own diagnostics for a header problem, in
// the SSP's upper-case machine style; the spec gives none (§1.5).
func headerMessage(problem, name string) string {
	return problem + "_HEADER_" + strings.ToUpper(name)
}

func checkURILength(x *exchange) *Failure {
	if len(x.raw) > MaxRequestURI {
		return fail(CheckURILength, http.StatusRequestURITooLong, "too-long", "REQUEST_URI_TOO_LONG")
	}
	return nil
}

// checkHeadersPresent reports the first Ssp-* header that is absent,
// blank, or sent more than once: a repeated header could let the SSP check
// one value while the provider reads another.
func checkHeadersPresent(x *exchange) *Failure {
	for _, name := range sspHeaders {
		if _, ok := x.value(name); ok {
			continue
		}
		problem := "MISSING"
		if len(gpc.HeaderValues(x.r.Header, name)) > 1 {
			problem = "DUPLICATE"
		}
		return fail(CheckHeadersPresent, http.StatusBadRequest, "invalid", headerMessage(problem, name))
	}
	return nil
}

func checkTraceID(x *exchange) *Failure {
	if v, ok := x.value(hTraceID); ok && !spinerules.IsUUID(v) {
		return fail(CheckTraceIDUUID, http.StatusBadRequest, "invalid", headerMessage("INVALID", hTraceID))
	}
	return nil
}

func checkFromFormat(x *exchange) *Failure {
	if v, ok := x.value(hFrom); ok && !spinerules.IsASID(v) {
		return fail(CheckFromASIDFormat, http.StatusBadRequest, "invalid", headerMessage("INVALID", hFrom))
	}
	return nil
}

func checkToFormat(x *exchange) *Failure {
	if v, ok := x.value(hTo); ok && !spinerules.IsASID(v) {
		return fail(CheckToASIDFormat, http.StatusBadRequest, "invalid", headerMessage("INVALID", hTo))
	}
	return nil
}

func checkInteraction(x *exchange) *Failure {
	v, ok := x.value(hInteraction)
	if !ok {
		return nil
	}
	if !gpc.IsKnown(gpc.Interaction(v)) {
		return fail(CheckInteractionKnown, http.StatusBadRequest, "invalid", headerMessage("INVALID", hInteraction))
	}
	x.interaction = gpc.Interaction(v)
	return nil
}

// checkSender is Spine's sender authorisation: the Ssp-From ASID's AS
// record must carry the interaction (§1.4, error text §1.5).
func checkSender(x *exchange) *Failure {
	from, ok := x.value(hFrom)
	if !ok || x.interaction == "" {
		return nil
	}
	if !x.s.cfg.World.SenderAuthorised(from, x.interaction) {
		return fail(CheckSenderAuthorised, http.StatusForbidden, "forbidden", "ASID_CHECK_FAILED_MESSAGESENDER_"+from)
	}
	return nil
}

// checkReceiver is Spine's receiver authorisation: the Ssp-To ASID must
// have an MHS record for the interaction (§1.4, error text §1.5). It also
// learns the service root that record registers.
func checkReceiver(x *exchange) *Failure {
	to, ok := x.value(hTo)
	if !ok || x.interaction == "" {
		return nil
	}
	root, found := x.s.cfg.World.ReceiverEndpoint(to, x.interaction)
	if !found {
		return fail(CheckReceiverAuthorised, http.StatusForbidden, "forbidden", "PARTYKEY_INTERACTION_CHECK_FAILED_MESSAGERECEIVER_"+to)
	}
	x.registered = root
	return nil
}

// checkSharing is Spine's sender→receiver authorisation, the "FOT" check
// (§1.4, error text §1.5): the receiver's practice must not have refused
// the sender.
func checkSharing(x *exchange) *Failure {
	from, okFrom := x.value(hFrom)
	to, okTo := x.value(hTo)
	if !okFrom || !okTo || x.s.cfg.World.SharingAllowed(from, to) {
		return nil
	}
	return fail(CheckSharingAgreement, http.StatusForbidden, "forbidden", "FOT_CHECK_FAILED_MESSAGESENDER_"+from+"_MESSAGERECEIVER_"+to)
}

// checkTarget accepts the target only when it is the registered service
// root followed by a clean path and query (target.go). In lenient mode a
// target that is another practice's registered root is forwarded there,
// with the failure recorded; one that is no registered root is refused.
func checkTarget(x *exchange) *Failure {
	if x.registered != "" {
		if u, ok := x.s.matchRoot(x.target, x.registered); ok {
			x.fwd = u
			return nil
		}
	}
	if x.s.cfg.Lenient {
		for _, p := range x.s.cfg.World.Practices() {
			if u, ok := x.s.matchRoot(x.target, x.s.cfg.World.ServiceRoot(p)); ok {
				x.fwd = u
				break
			}
		}
		if x.registered == "" && x.fwd != nil {
			return nil // an earlier check already says why no root was known
		}
	}
	return targetFailure(x)
}

// targetFailure is the SSP's answer to a target that differs from the
// registered endpoint (§1.5). The CPA id is that of the receiver's MHS
// record for the interaction.
func targetFailure(x *exchange) *Failure {
	cpaID := ""
	if x.registered != "" {
		cpaID = x.cpaID()
	}
	return fail(CheckTargetMatchesEndpoint, http.StatusBadRequest, "invalid",
		"ENDPOINT_"+x.registered+"_CPAID_"+cpaID+"_VARIES_FROM_TARGETURL_"+x.target)
}

// checkMethod allows the methods GP Connect uses (§1.4); the body is the
// spec's 405 shape, which gpc.SSPOutcome builds. The issue code follows the
// spec's example body ("forbidden"), not its table ("not-supported").
func checkMethod(x *exchange) *Failure {
	switch x.r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut:
		return nil
	}
	return fail(CheckMethodAllowed, http.StatusMethodNotAllowed, "forbidden", "METHOD_NOT_ALLOWED_"+x.r.Method)
}

// checkContentType requires a FHIR media type on requests with a body
// (§1.3: JSON mandatory, XML optional; no Content-Type is a 415 as in the
// demonstrator).
func checkContentType(x *exchange) *Failure {
	if x.r.Method != http.MethodPost && x.r.Method != http.MethodPut {
		return nil
	}
	mt, _, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err == nil && (mt == "application/fhir+json" || mt == "application/fhir+xml") {
		return nil
	}
	return fail(CheckContentType, http.StatusUnsupportedMediaType, "not-supported", "Unsupported_Media_Type")
}

// checkAuthorization requires the bearer token the SSP SHALL log (§1.4).
// Its content is the provider's to validate (§2.4).
func checkAuthorization(x *exchange) *Failure {
	v := strings.TrimSpace(strings.Join(gpc.HeaderValues(x.r.Header, "Authorization"), ""))
	if v == "" {
		return fail(CheckAuthorizationPresent, http.StatusBadRequest, "invalid", headerMessage("MISSING", "Authorization"))
	}
	return nil
}
