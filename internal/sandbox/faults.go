package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/mocks/sds"
	"github.com/spine-sandbox/spine-sandbox/mocks/ssp"
)

// faults are a session's injected failures, each counting the requests it
// has answered.
type faults struct {
	dir  string
	mu   sync.Mutex
	list []*fault
}

type fault struct {
	scenario.Fault
	dir  string
	used int
	live bool // added through the admin API (faultsapi.go), not the scenario
}

func newFaults(fs []scenario.Fault, dir string) *faults {
	out := &faults{dir: dir}
	for _, f := range fs {
		out.list = append(out.list, &fault{Fault: f, dir: dir})
	}
	return out
}

// match returns the first fault for this hop and request that still has
// uses left, and counts the use.
func (fs *faults) match(hop scenario.Hop, name string, in gpc.Interaction) *fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if f.Hop != hop || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		if f.Interaction != "" {
			switch hop {
			case scenario.HopPDS, scenario.HopSDS:
				if !strings.HasSuffix(name, "."+f.Interaction) {
					continue
				}
			default:
				if f.Target != in {
					continue
				}
			}
		}
		f.used++
		return f
	}
	return nil
}

func (f *fault) describe() string {
	var parts []string
	if f.Status != 0 || f.SpineCode != "" {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("status %d %s", f.status(), f.SpineCode)))
	}
	if f.Delay != 0 {
		parts = append(parts, "delay "+f.Delay.D().String())
	}
	if f.Drop {
		parts = append(parts, "drop")
	}
	live := ""
	if f.live {
		live = " (added live)"
	}
	return strings.TrimSpace(string(f.Hop) + " fault: " + strings.Join(parts, ", ") + live)
}

func (f *fault) status() int {
	if f.Status != 0 {
		return f.Status
	}
	if f.SpineCode != "" {
		return gpc.Code(f.SpineCode).Status()
	}
	return http.StatusInternalServerError
}

// apply answers r as the fault says. A fault with only a delay lets the mock
// answer and holds the answer back, so a consumer that gives up still
// leaves the request done (a booking made but never confirmed). A drop
// closes the connection without an answer.
func (f *fault) apply(w http.ResponseWriter, r *http.Request, h http.Handler) {
	answers := f.Status != 0 || f.SpineCode != "" || f.Body != nil
	if !answers && !f.Drop {
		rec := newRecorder()
		h.ServeHTTP(rec, r)
		if !sleep(r, f.Delay.D()) {
			panic(http.ErrAbortHandler)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
		return
	}
	if !sleep(r, f.Delay.D()) || f.Drop {
		panic(http.ErrAbortHandler)
	}
	if f.Body != nil {
		body, ctype := bodyBytes(f.Body, f.dir)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(f.status())
		_, _ = w.Write(body)
		return
	}
	f.writeOutcome(w, r)
}

func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// bodyBytes is a scenario's own fault body and its content type.
func bodyBytes(b *scenario.Body, dir string) ([]byte, string) {
	const fhir = "application/fhir+json"
	switch {
	case len(b.JSON) > 0:
		return b.JSON, fhir
	case b.Fixture != "":
		data, err := os.ReadFile(filepath.Join(dir, string(b.Fixture)))
		if err != nil {
			return []byte(fmt.Sprintf(`{"error":%q}`, "fault fixture: "+err.Error())), "application/json"
		}
		return data, fhir
	default:
		return []byte(b.Text), "text/plain; charset=utf-8"
	}
}

// writeOutcome answers with the hop's own error: its OperationOutcome
// shape, the scenario's spine_code or the code the hop's error table gives
// the status (gpconnect-1.6.md §6.2, pds-sds-fhir.md §2.5 and the SDS
// table in §3; INTERNAL_SERVER_ERROR where it gives none).
func (f *fault) writeOutcome(w http.ResponseWriter, r *http.Request) {
	status, msg := f.status(), "Injected by the scenario: "+f.describe()
	var oo gpc.OperationOutcome
	switch f.Hop {
	case scenario.HopSSP:
		ssp.WriteFailure(w, &ssp.Failure{Status: status, IssueCode: "transient", Message: sspMessage(f.SpineCode, status, r)})
		return
	case scenario.HopSDS:
		e := &gpc.Error{Status: status, Code: gpc.Code(f.SpineCode), Issue: "exception", Diagnostics: msg}
		if f.SpineCode == "" {
			e.Code, e.Issue = spineDefault(sdsDefaults, status)
		}
		sds.WriteError(w, r, e)
		return
	case scenario.HopProvider:
		code := gpc.Code(f.SpineCode)
		if code == "" {
			code, _ = spineDefault(providerDefaults, status)
		}
		oo = gpc.ProviderOutcome(&gpc.Error{Status: status, Code: code, Diagnostics: msg})
	default:
		code, issue := gpc.Code(f.SpineCode), "exception"
		if code == "" {
			code, issue = spineDefault(pdsDefaults, status)
		}
		oo = gpc.OperationOutcome{ResourceType: "OperationOutcome", Issue: []gpc.Issue{{
			Severity: "error", Code: issue,
			Details: &gpc.CodeableConcept{Coding: []gpc.Coding{{
				System: "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode", Version: "1", Code: string(code), Display: string(code),
			}}},
			Diagnostics: msg,
		}}}
	}
	data, _ := json.Marshal(oo)
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// spineAnswer is a Spine code and the issue type it is sent with.
type spineAnswer struct {
	code  gpc.Code
	issue string
}

// The code each service's error table gives a status. The provider's issue
// type follows from its code (gpc.ProviderOutcome).
var (
	providerDefaults = map[int]spineAnswer{
		400: {code: gpc.BadRequest}, 403: {code: "ACCESS DENIED"}, 404: {code: gpc.NoRecordFound},
		409: {code: gpc.DuplicateRejected}, 412: {code: "PRECONDITION_FAILED"}, 415: {code: "UNSUPPORTED_MEDIA_TYPE"},
		422: {code: gpc.InvalidResource}, 501: {code: "NOT_IMPLEMENTED"},
	}
	pdsDefaults = map[int]spineAnswer{
		400: {"INVALID_VALUE", "value"}, 401: {"ACCESS_DENIED", "forbidden"}, 403: {"ACCESS_DENIED", "forbidden"},
		404: {"RESOURCE_NOT_FOUND", "not-found"}, 408: {"UNABLE_TO_CALL_SERVICE", "timeout"}, 429: {"TOO_MANY_REQUESTS", "throttled"},
	}
	sdsDefaults = map[int]spineAnswer{
		400: {gpc.BadRequest, "required"}, 404: {gpc.NoRecordFound, "not-found"}, 405: {"NOT_IMPLEMENTED", "not-supported"},
		406: {"MISSING_OR_INVALID_HEADER", "not-supported"}, 504: {gpc.InternalServerError, "timeout"},
	}
)

// spineDefault is table's answer for status, INTERNAL_SERVER_ERROR
// (exception) where it has none.
func spineDefault(table map[int]spineAnswer, status int) (gpc.Code, string) {
	if a, ok := table[status]; ok {
		return a.code, a.issue
	}
	return gpc.InternalServerError, "exception"
}

// sspMessage is what an injected SSP error says: the scenario's code, or
// the SSP's own message for the status (gpconnect-1.6.md §1.5) naming the
// target URL.
func sspMessage(code string, status int, r *http.Request) string {
	if code != "" {
		return code
	}
	target := r.RequestURI
	if i := strings.Index(target, SSPPath); i >= 0 {
		target = target[i+len(SSPPath):]
	}
	switch status {
	case http.StatusBadGateway:
		return "ERROR_COMMUNICATING_TO_ENDPOINT_URL_" + target
	case http.StatusGatewayTimeout:
		return "TIMEOUT_COMMUNICATING_TO_ENDPOINT_URL_" + target
	}
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}
