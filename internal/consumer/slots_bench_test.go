package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// syntheticSlots is a two-week answer of one practice: its organisation, two
// locations, two practitioners, two schedules and 80 free slots.
func syntheticSlots(tb testing.TB) []byte {
	tb.Helper()
	b := stu3.NewSearchset(gpc.ProfileSearchsetBundle)
	add := func(r any) {
		if err := b.Add("", r, "include"); err != nil {
			tb.Fatal(err)
		}
	}
	add(stu3.Organization{ID: "7", Name: "Quarry Row Surgery", Identifier: []stu3.Identifier{{System: gpc.SystemODSCode, Value: "A20047"}}})
	for i := 1; i <= 2; i++ {
		add(stu3.Location{ID: fmt.Sprint(i), Name: fmt.Sprintf("Branch %d", i)})
		add(stu3.Practitioner{ID: fmt.Sprint(i), Name: []stu3.HumanName{{Family: "Brand", Given: []string{"Ivo"}, Prefix: []string{"Dr"}}}})
		add(stu3.Schedule{ID: fmt.Sprint(i), Actor: []stu3.Reference{stu3.Ref("Location", fmt.Sprint(i)), stu3.Ref("Practitioner", fmt.Sprint(i))},
			ServiceCategory: &stu3.CodeableConcept{Text: "General"}})
	}
	start := time.Date(2030, 1, 8, 9, 0, 0, 0, time.UTC)
	for i := range 80 {
		st := start.Add(time.Duration(i%12)*15*time.Minute).AddDate(0, 0, i/12)
		add(stu3.Slot{ID: fmt.Sprint(100 + i), Status: "free", Start: st.Format(time.RFC3339), End: st.Add(15 * time.Minute).Format(time.RFC3339),
			Schedule: &stu3.Reference{Reference: fmt.Sprintf("Schedule/%d", 1+i%2)}, ServiceType: []stu3.CodeableConcept{{Text: "General Appointment"}},
			Extension: []stu3.Extension{{URL: gpc.ExtDeliveryChannel, ValueCode: gpc.ChannelInPerson}}})
	}
	raw, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// journeyAnswers books an appointment as the happy-path scenario does,
// against the sandbox in process, and returns its answers: the first 2xx
// answer to each kind of request, by the last segment of its path
// ("9693632109" from PDS, "Endpoint", "Device", "metadata", "Slot",
// "Patient", "Appointment").
func journeyAnswers(tb testing.TB) map[string][]byte {
	tb.Helper()
	sc, err := scenario.LoadFile("../../scenarios/happy-path.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := sandbox.New(sandbox.Config{PublicURL: "http://sandbox.invalid", FixtureDir: "../../fixtures"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	ss, err := srv.CreateSession("", sc)
	if err != nil {
		tb.Fatal(err)
	}
	u, me := ss.URLs(), ss.World.Consumer()
	id := testIdentity()
	id.OrgODS = me.ODS
	tr := &capture{next: srv.Direct(), answers: map[string][]byte{}}
	cl, err := New(Config{PDS: u.PDS, SDS: u.SDS, SSP: u.SSP, ASID: me.ASID, Identity: id,
		HTTPClient: &http.Client{Transport: tr}, Timeout: 5 * time.Second, Now: ss.World.Now})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cl.NewSession().Book(context.Background(), BookRequest{NHSNumber: "9693632109"}); err != nil {
		tb.Fatal(err)
	}
	return tr.answers
}

// capture keeps the first 2xx answer to each kind of request.
type capture struct {
	next    http.RoundTripper
	answers map[string][]byte
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(r)
	if err != nil || res.StatusCode/100 != 2 {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	if k := path.Base(r.URL.Path); c.answers[k] == nil {
		c.answers[k] = b
	}
	return res, nil
}

// BenchmarkParseSlots: what SearchSlots does with a slot search's answer
// (issue 15), the sandbox's own for the happy-path scenario: decode the
// searchset and read its slots.
func BenchmarkParseSlots(b *testing.B) {
	raw := journeyAnswers(b)["Slot"]
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := parseSlots(raw)
		if err != nil || len(s.Slots) == 0 || s.Slots[0].Practitioner == "" || s.Slots[0].LocationName == "" || s.Organization == nil {
			b.Fatalf("parseSlots: %+v, %v", s, err)
		}
	}
}

// BenchmarkDecodeR4: what the consumer does with a journey's PDS and SDS
// answers, the sandbox's own: the Patient, then an Endpoint and a Device
// searchset, each Bundle and its entries.
func BenchmarkDecodeR4(b *testing.B) {
	a := journeyAnswers(b)
	pat, eps, devs := a["9693632109"], a["Endpoint"], a["Device"]
	b.SetBytes(int64(len(pat) + len(eps) + len(devs)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeR4[r4Patient](pat, "Patient"); err != nil {
			b.Fatal(err)
		}
		decodeSearchset[r4Endpoint](b, eps, "Endpoint")
		decodeSearchset[r4Device](b, devs, "Device")
	}
}

// decodeSearchset decodes an SDS searchset and its entries as the
// consumer does (searchsetOf), failing tb when it keeps none.
func decodeSearchset[T any](tb testing.TB, raw []byte, typ string) {
	rs, err := searchsetOf[T](raw, typ)
	if err != nil || len(rs) == 0 {
		tb.Fatalf("%s searchset: %d kept, %v", typ, len(rs), err)
	}
}

// TestParseSlotsReadsEveryElement: the one-pass view reads what the slot
// list shows: times, channel, types, location and practitioner names.
func TestParseSlotsReadsEveryElement(t *testing.T) {
	t.Parallel()
	s, err := parseSlots(syntheticSlots(t))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%+v", s.Slots[0])
	want := fmt.Sprintf("%+v", Slot{ID: "100", Start: "2030-01-08T09:00:00Z", End: "2030-01-08T09:15:00Z",
		StartTime: time.Date(2030, 1, 8, 9, 0, 0, 0, time.UTC), EndTime: time.Date(2030, 1, 8, 9, 15, 0, 0, time.UTC),
		ScheduleID: "1", LocationID: "1", LocationName: "Branch 1", PractitionerID: "1", Practitioner: "Dr Ivo Brand",
		Channel: gpc.ChannelInPerson, SlotType: "General Appointment", ScheduleType: "General"})
	if got != want {
		t.Errorf("first slot\n got %s\nwant %s", got, want)
	}
	if len(s.Slots) != 80 || s.Organization == nil || s.Organization.Name != "Quarry Row Surgery" {
		t.Errorf("%d slots, organisation %+v", len(s.Slots), s.Organization)
	}
}

// TestSandboxAnswersDecodeWhole: every resource of the sandbox's own
// answers decodes — none is skipped, which the journey alone would not
// show (a searchset entry that does not decode is skipped silently).
func TestSandboxAnswersDecodeWhole(t *testing.T) {
	t.Parallel()
	a := journeyAnswers(t)
	b, err := decodeSlots(a["Slot"])
	assert.NilError(t, err)
	assert.Equal(t, b.Entry.skipped, 0, "entries skipped") // every entry decodes
	s, err := parseSlots(a["Slot"])
	assert.NilError(t, err)
	assert.Equal(t, len(s.Slots) > 0 && s.Slots[0].LocationName != "" && s.Slots[0].Practitioner != "" && s.Organization != nil, true, "slots read")
	p, err := decodeR4[r4Patient](a["9693632109"], "Patient")
	assert.NilError(t, err)
	assert.Equal(t, len(p.GeneralPractitioner), 1, "the PDS Patient's practice")
	decodeSearchset[r4Endpoint](t, a["Endpoint"], "Endpoint")
	decodeSearchset[r4Device](t, a["Device"], "Device")
	for _, k := range []string{"metadata", "Patient", "Appointment"} {
		assert.Equal(t, len(a[k]) > 0, true, k+" answer captured")
	}
}
