package world

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

func at(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }

func testWorld() *World {
	return New(Data{
		Consumer: ConsumerSystem{ASID: "200000000115", ODS: "A1001", Interactions: []gpc.Interaction{gpc.SearchSlots}},
		Patients: []Patient{
			{NHSNumber: "9693632109", Name: &Name{Given: []string{"Bill"}, Family: "Garton"}, BirthDate: "1946-06-23", Practice: "A20047"},
			{NHSNumber: "9733162043", Name: &Name{Given: []string{"Dean"}, Family: "Killen"}, BirthDate: "1955-05-27", Practice: "A20047"},
			{NHSNumber: "9000000009", Name: &Name{Family: "Smith"}, BirthDate: "2010-10-22", Deceased: "2010-10-22"},
			{NHSNumber: "9000000025", Name: &Name{Family: "Smythe"}, BirthDate: "2005-06-16", Restricted: true},
			{NHSNumber: "9736363015", Name: &Name{Given: []string{"Conrad"}, Family: "Mooney"}, BirthDate: "1937-04-08", Practice: "A20047"},
		},
		Practices: []Practice{{
			ODS: "A20047", ProviderASID: "918999198993", Interactions: []gpc.Interaction{gpc.SearchSlots, gpc.CreateAppointment},
			RefusedSenders: []string{"200000000777"},
			Records: []Record{
				{ID: "1", NHSNumber: "9693632109"},
				{ID: "2", NHSNumber: "9736363015", State: Inactive},
			},
			Locations: []Location{{ID: "10"}, {ID: "11"}},
			Schedules: []Schedule{{ID: "s1", Location: "10", Practitioner: "p1"}, {ID: "s2", Location: "11"}},
			Slots: []Slot{
				{ID: "a", Schedule: "s1", Start: at(9, 0), End: at(9, 15), DeliveryChannel: "In-person"},
				{ID: "b", Schedule: "s1", Start: at(9, 15), End: at(9, 30), DeliveryChannel: "In-person"},
				{ID: "c", Schedule: "s1", Start: at(9, 30), End: at(9, 45), DeliveryChannel: "Video"},
				{ID: "d", Schedule: "s2", Start: at(9, 0), End: at(9, 15)},
				{ID: "old", Schedule: "s1", Start: t0.Add(-time.Hour), End: t0.Add(-45 * time.Minute)},
				{ID: "odsonly", Schedule: "s2", Start: at(10, 0), End: at(10, 15), ODSCodes: []string{"B1"}},
			},
		}},
	}, "http://127.0.0.1:4000", func() time.Time { return t0 })
}

func code(err error) gpc.Code {
	var e *gpc.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestBookRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    Booking
		want gpc.Code
	}{
		{"one slot", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10"}, ""},
		{"adjacent slots", Booking{Patient: "1", Slots: []string{"b", "a"}, Start: at(9, 0), End: at(9, 30), Location: "10", Practitioner: "p1"}, ""},
		{"unknown patient", Booking{Patient: "9", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10"}, gpc.ReferenceNotFound},
		{"inactive patient", Booking{Patient: "2", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10"}, gpc.InvalidResource},
		{"no slot", Booking{Patient: "1", Location: "10"}, gpc.InvalidResource},
		{"unknown slot", Booking{Patient: "1", Slots: []string{"zz"}, Start: at(9, 0), End: at(9, 15), Location: "10"}, gpc.ReferenceNotFound},
		{"slot twice", Booking{Patient: "1", Slots: []string{"a", "a"}, Start: at(9, 0), End: at(9, 15), Location: "10"}, gpc.InvalidResource},
		{"different channel", Booking{Patient: "1", Slots: []string{"b", "c"}, Start: at(9, 15), End: at(9, 45), Location: "10"}, gpc.InvalidResource},
		{"different schedule", Booking{Patient: "1", Slots: []string{"a", "d"}, Start: at(9, 0), End: at(9, 15), Location: "10"}, gpc.InvalidResource},
		{"start differs", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 1), End: at(9, 15), Location: "10"}, gpc.InvalidResource},
		{"in the past", Booking{Patient: "1", Slots: []string{"old"}, Start: t0.Add(-time.Hour), End: t0.Add(-45 * time.Minute), Location: "10"}, gpc.InvalidResource},
		{"wrong location", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "11"}, gpc.InvalidResource},
		{"wrong practitioner", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10", Practitioner: "p2"}, gpc.InvalidResource},
		{"restricted slot", Booking{Patient: "1", Slots: []string{"odsonly"}, Start: at(10, 0), End: at(10, 15), Location: "11", BookerODS: "A1001"}, gpc.InvalidResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := testWorld()
			before := w.Slots("A20047")
			a, err := w.Book("A20047", tt.b)
			assert.Equal(t, code(err), tt.want, "code")
			if tt.want != "" {
				assert.DeepEqual(t, w.Slots("A20047"), before, "slots after a rejected booking")
				assert.Equal(t, len(w.Appointments("A20047")), 0, "appointments after a rejected booking")
				return
			}
			assert.Equal(t, a.Status, Booked, "status")
			for _, id := range tt.b.Slots {
				for _, s := range w.Slots("A20047") {
					if s.ID == id {
						assert.Equal(t, s.Status, Busy, "slot "+id)
					}
				}
			}
		})
	}
}

func TestBookConcurrently(t *testing.T) {
	t.Parallel()
	w := testWorld()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[gpc.Code]int{}
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.Book("A20047", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10"})
			mu.Lock()
			got[code(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	assert.Equal(t, got[""], 1, "successes")
	assert.Equal(t, got[gpc.DuplicateRejected], 199, "DUPLICATE_REJECTED")
}

func TestRegister(t *testing.T) {
	t.Parallel()
	reg := func(nhs, family, dob string) Registration {
		return Registration{NHSNumber: nhs, Name: Name{Family: family, Given: []string{"X"}}, BirthDate: dob}
	}
	tests := []struct {
		name string
		r    Registration
		want gpc.Code
	}{
		{"new temporary", reg("9733162043", "Killen", "1955-05-27"), ""},
		{"active already", reg("9693632109", "Garton", "1946-06-23"), gpc.DuplicateRejected},
		{"inactive reactivated", reg("9736363015", "Mooney", "1937-04-08"), ""},
		{"not on PDS", reg("9111231130", "Nobody", "2000-01-01"), gpc.InvalidPatientDemographics},
		{"deceased", reg("9000000009", "Smith", "2010-10-22"), gpc.InvalidPatientDemographics},
		{"restricted", reg("9000000025", "Smythe", "2005-06-16"), gpc.InvalidPatientDemographics},
		{"family differs", reg("9733162043", "Kellen", "1955-05-27"), gpc.BadRequest},
		{"birth date differs", reg("9733162043", "Killen", "1960-01-01"), gpc.InvalidPatientDemographics},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := testWorld()
			before := w.Records("A20047")
			r, err := w.Register("A20047", tt.r)
			assert.Equal(t, code(err), tt.want, "code")
			if tt.want != "" {
				assert.DeepEqual(t, w.Records("A20047"), before, "records after a rejected registration")
				return
			}
			assert.Equal(t, r.RegistrationType, "T", "registration type")
			assert.Equal(t, r.State, Active, "state")
			found, ok := w.FindPatient("A20047", tt.r.NHSNumber)
			assert.Equal(t, ok, true, "found after registering")
			assert.Equal(t, found.ID, r.ID, "id")
		})
	}
}

func TestFindPatient(t *testing.T) {
	t.Parallel()
	w := testWorld()
	_, ok := w.FindPatient("A20047", "9693632109")
	assert.Equal(t, ok, true, "active record")
	_, ok = w.FindPatient("A20047", "9736363015")
	assert.Equal(t, ok, false, "inactive record")
	_, ok = w.FindPatient("A20047", "9733162043")
	assert.Equal(t, ok, false, "no record")
	_, ok = w.FindPatient("NOPE", "9693632109")
	assert.Equal(t, ok, false, "unknown practice")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	w := testWorld()
	a, err := w.Book("A20047", Booking{Patient: "1", Slots: []string{"a"}, Start: at(9, 0), End: at(9, 15), Location: "10", Description: "d"})
	assert.NilError(t, err)
	_, err = w.Update("A20047", a.ID, Change{Version: a.VersionID + 1, Description: "x"})
	assert.Equal(t, code(err), gpc.FHIRConstraintViolation, "stale version")
	_, err = w.Update("A20047", a.ID, Change{Version: a.VersionID, Check: func(Appointment) error { return gpc.Errorf(gpc.InvalidResource, "no") }})
	assert.Equal(t, code(err), gpc.InvalidResource, "check rejects")
	got, _ := w.Appointment("A20047", a.ID)
	assert.Equal(t, got.Description, "d", "unchanged after rejections")
	amended, err := w.Update("A20047", a.ID, Change{Version: a.VersionID, Description: "new", Comment: "c"})
	assert.NilError(t, err)
	assert.Equal(t, amended.VersionID, 2, "version bumped")
	cancelled, err := w.Update("A20047", a.ID, Change{Version: 2, Cancel: true, CancelReason: "ill"})
	assert.NilError(t, err)
	assert.Equal(t, cancelled.Status, Cancelled, "cancelled")
	free := w.FreeSlots("A20047", SlotQuery{From: at(9, 0), To: at(9, 15)})
	assert.Equal(t, len(free), 2, "free 09:00 slots (a freed by cancel, and d)")
	assert.Equal(t, free[0].ID, "a", "slot a freed by cancel")
	_, err = w.Update("A20047", a.ID, Change{Version: 3, Description: "again"})
	assert.Equal(t, code(err), gpc.InvalidResource, "cancelled appointment")
	_, err = w.Update("A20047", "404", Change{Version: 1})
	assert.Equal(t, code(err), gpc.NoRecordFound, "unknown appointment")
	assert.Equal(t, len(w.PatientAppointments("A20047", "1", at(0, 0), at(23, 0))), 1, "listed")
}

func TestSSPLookups(t *testing.T) {
	t.Parallel()
	w := testWorld()
	for _, in := range gpc.Interactions { // the consumer's AS record carries the slot search alone
		assert.Equal(t, w.SenderAuthorised("200000000115", in.ID), in.ID == gpc.SearchSlots, "consumer sends "+string(in.ID))
	}
	assert.Equal(t, w.SenderAuthorised("999999999999", gpc.SearchSlots), false, "unknown ASID")
	root, ok := w.ReceiverEndpoint("918999198993", gpc.SearchSlots)
	assert.Equal(t, ok, true, "receiver")
	assert.Equal(t, root, "http://127.0.0.1:4000/provider/A20047/STU3/1/gpconnect", "default service root")
	_, ok = w.ReceiverEndpoint("918999198993", gpc.ReadMetadata)
	assert.Equal(t, ok, false, "interaction not registered")
	assert.Equal(t, w.SharingAllowed("200000000115", "918999198993"), true, "sender the practice shares with")
	assert.Equal(t, w.SharingAllowed("200000000777", "918999198993"), false, "sender the practice refuses")
	assert.Equal(t, w.SharingAllowed("200000000777", "999999999999"), true, "unknown receivers are the receiver check's business")
}

// TestAt: a view at another base shares the state and builds default
// service roots on its own base.
func TestAt(t *testing.T) {
	w := New(Data{Practices: []Practice{{ODS: "A1"}}}, "http://a:1/s/x/", nil)
	v := w.At("http://b:2/s/x")
	p, _ := w.Practice("A1")
	if got, want := w.ServiceRoot(p), "http://a:1/s/x/provider/A1/STU3/1/gpconnect"; got != want {
		t.Errorf("root: got %q, want %q", got, want)
	}
	if got, want := v.ServiceRoot(p), "http://b:2/s/x/provider/A1/STU3/1/gpconnect"; got != want {
		t.Errorf("view's root: got %q, want %q", got, want)
	}
	if v.state != w.state {
		t.Error("the view does not share the world's state")
	}
}
