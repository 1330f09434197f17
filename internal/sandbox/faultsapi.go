package sandbox

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// Live faults: a session's faults can be read, added and removed while it
// runs (WireMock users expect to), through
//
//	GET    /_admin/sessions/{id}/faults             the faults in force, with their uses
//	POST   /_admin/sessions/{id}/faults             add faults (a YAML or JSON list, as a scenario's faults:)
//	DELETE /_admin/sessions/{id}/faults[?index=N]   remove every fault, or the Nth
//
// A POST's body goes through the scenario loader's own fault decoding and
// checks (scenario.LoadFaults), so a mistake is a 422 with the same
// messages at line and column of "request body". Changes apply from the
// next request on: the set is swapped under the lock that match takes. The
// journal's hop says which fault it got (Hop.Fault).

// FaultInfo is one fault as GET …/faults shows it.
type FaultInfo struct {
	Index       int    `json:"index"`
	Source      string `json:"source"` // "scenario" or "live"
	Hop         string `json:"hop"`
	Interaction string `json:"interaction,omitempty"`
	Status      int    `json:"status,omitempty"`
	SpineCode   string `json:"spine_code,omitempty"`
	Delay       string `json:"delay,omitempty"`
	Drop        bool   `json:"drop,omitempty"`
	Body        bool   `json:"body,omitempty"`  // the fault answers a body of its own
	Times       int    `json:"times,omitempty"` // 0: every matching request
	Used        int    `json:"used"`            // requests it has answered
	Description string `json:"description"`     // as the journal's hop names it
}

// Faults is the answer of GET, POST and DELETE …/faults.
type Faults struct {
	Session string      `json:"session"`
	Faults  []FaultInfo `json:"faults"`
}

// MaxFaultsBytes bounds a POST …/faults body.
const MaxFaultsBytes = 64 << 10

// list describes the faults in force.
func (fs *faults) infos() []FaultInfo {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := []FaultInfo{}
	for i, f := range fs.list {
		src := "scenario"
		if f.live {
			src = "live"
		}
		fi := FaultInfo{Index: i, Source: src, Hop: string(f.Hop), Interaction: f.Interaction, Status: f.Status,
			SpineCode: f.SpineCode, Drop: f.Drop, Body: f.Body != nil, Times: f.Times, Used: f.used, Description: f.describe()}
		if f.Delay != 0 {
			fi.Delay = f.Delay.D().String()
		}
		out = append(out, fi)
	}
	return out
}

// add appends live faults; they match after the ones already in force.
func (fs *faults) add(list []scenario.Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range list {
		fs.list = append(fs.list, &fault{Fault: f, dir: fs.dir, live: true})
	}
}

// remove drops the fault at index, or every fault when index is -1, and
// reports whether there was one to drop.
func (fs *faults) remove(index int) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if index == -1 {
		fs.list = nil
		return true
	}
	if index < 0 || index >= len(fs.list) {
		return false
	}
	fs.list = append(fs.list[:index:index], fs.list[index+1:]...)
	return true
}

func (s *Server) getFaults(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Faults{Session: ss.ID, Faults: ss.faults.infos()})
	return nil
}

func (s *Server) addFaults(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFaultsBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "the faults are over the limit of %d bytes", MaxFaultsBytes)
		}
		return errorf(http.StatusBadRequest, "reading body: %v", err)
	}
	list, err := scenario.LoadFaults("request body", body)
	var le *scenario.LoadError
	switch {
	case errors.As(err, &le):
		return err // 422, each problem at its line and column
	case err != nil:
		return refuse(http.StatusBadRequest, err)
	}
	ss.faults.add(list)
	writeJSON(w, http.StatusCreated, Faults{Session: ss.ID, Faults: ss.faults.infos()})
	return nil
}

func (s *Server) deleteFaults(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sessionFor(r)
	if err != nil {
		return err
	}
	index := -1
	if v := r.URL.Query().Get("index"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "index=%q: want a fault's index from GET …/faults, a whole number >= 0", v)
		}
		index = n
	}
	if !ss.faults.remove(index) {
		return errorf(http.StatusNotFound, "no fault at index %d in session %q (GET /_admin/sessions/%s/faults lists them)", index, ss.ID, ss.ID)
	}
	writeJSON(w, http.StatusOK, Faults{Session: ss.ID, Faults: ss.faults.infos()})
	return nil
}
