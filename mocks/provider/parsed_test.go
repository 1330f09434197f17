package provider_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
	"github.com/spine-sandbox/spine-sandbox/mocks/provider"
)

// TestParsedReadOnce: a request that carries a Parse of itself (WithParsed,
// as the sandbox's SSP forwards it in process after its judge parsed it) is
// read from that parse — shown here by parses made to differ from what
// their request says — and one whose interaction, Content-Type, query or
// body differs from what the parse was made from is parsed afresh.
func TestParsedReadOnce(t *testing.T) {
	t.Parallel()
	w := world.New(testData(), publicBase, func() time.Time { return nowTime })
	var parsed *provider.Parsed // what the next request carries
	h := provider.New(w)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if parsed != nil {
			r = r.WithContext(provider.WithParsed(r.Context(), parsed))
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, world: w, srv: srv}
	jsonType := http.Header{"Content-Type": {"application/fhir+json;charset=utf-8"}}

	t.Run("slot search", func(t *testing.T) {
		const (
			day1 = "status=free&start=ge2026-05-12&end=le2026-05-12&_include=Slot:schedule"
			week = "status=free&start=ge2026-05-12&end=le2026-05-19&_include=Slot:schedule"
		)
		search := func(query string) string {
			r := f.do(call{path: "/Slot?" + query, interaction: gpc.SearchSlots})
			assert.Equal(t, r.status, 200, "status")
			return string(r.body)
		}
		parsed = nil
		own1, ownWeek := search(day1), search(week)
		if own1 == ownWeek {
			t.Fatal("the day's and the week's answers are the same: the test shows nothing")
		}
		weekQ, _ := url.ParseQuery(week)
		for _, tt := range []struct {
			name  string
			in    gpc.Interaction
			h     http.Header
			query string // the query the parse says it was made from
			want  string
		}{
			{"its own parse", gpc.SearchSlots, http.Header{}, day1, ownWeek},
			{"another query's", gpc.SearchSlots, http.Header{}, day1 + "&x=1", own1},
			{"another interaction's", gpc.SearchPatient, http.Header{}, day1, own1},
			{"another Content-Type's", gpc.SearchSlots, jsonType, day1, own1},
		} {
			// A parse of the week's query said to be of the day's.
			parsed, _ = provider.Parse(tt.in, tt.h, tt.query, weekQ, nil)
			if tt.in == gpc.SearchSlots && parsed == nil {
				t.Fatal("no parse")
			}
			if got := search(day1); got != tt.want {
				t.Errorf("%s: the day's search answered %.200s", tt.name, got)
			}
		}
	})

	t.Run("booking", func(t *testing.T) {
		book := func(body string) stu3.Appointment {
			r := f.do(call{method: "POST", path: "/Appointment", interaction: gpc.CreateAppointment, body: body})
			assert.Equal(t, r.status, 201, "status: "+string(r.body))
			var a stu3.Appointment
			assert.NilError(t, json.Unmarshal(r.body, &a))
			return a
		}
		judged := bookBody(t, func(a map[string]any) { a["comment"] = "as judged" })
		sent := strings.Replace(judged, "as judged", "as sent!!", 1) // the same length
		// The parse keeps the body it was given, not a copy: changed
		// after, the parse says it was made from sent.
		raw := []byte(judged)
		parsed, _ = provider.Parse(gpc.CreateAppointment, jsonType, "", nil, raw)
		copy(raw, sent)
		assert.Equal(t, book(sent).Comment, "as judged", "a body the parse says it was made from")

		other := bookBody(t, func(a map[string]any) {
			a["slot"] = []any{map[string]any{"reference": "Slot/2"}}
			a["start"], a["end"] = "2026-05-12T10:10:00+01:00", "2026-05-12T10:20:00+01:00"
		})
		if bytes.Equal([]byte(other), raw) {
			t.Fatal("same body")
		}
		assert.Equal(t, book(other).Comment, "Prefers a morning call back.", "another body is decoded")
	})
}
