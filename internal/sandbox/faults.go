package sandbox

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/kept"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/mocks/pds"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
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
		_, _ = kept.Write(w, rec.bytes()) // the mock is done: they never change again
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

// writeOutcome answers with the hop's own error, written by the hop's mock
// (each service's error body has one writer): the scenario's spine_code,
// or the code the service's error table gives the status
// (gpconnect-1.6.md §6.2, pds-sds-fhir.md §2.5 and §3.5; the tables are the
// mocks').
func (f *fault) writeOutcome(w http.ResponseWriter, r *http.Request) {
	status, msg := f.status(), "Injected by the scenario: "+f.describe()
	switch f.Hop {
	case scenario.HopSSP:
		target := r.RequestURI
		if i := strings.Index(target, SSPPath); i >= 0 {
			target = target[i+len(SSPPath):]
		}
		ssp.WriteFault(w, status, f.SpineCode, target)
	case scenario.HopSDS:
		sds.WriteFault(w, r, status, gpc.Code(f.SpineCode), msg)
	case scenario.HopProvider:
		provider.WriteFault(w, r, status, gpc.Code(f.SpineCode), msg)
	default:
		pds.WriteFault(w, r, status, f.SpineCode, msg)
	}
}
