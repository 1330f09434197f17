package consumer

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// slotSearchset is a two-week answer of one practice: its organisation, two
// locations, two practitioners, two schedules and 80 free slots.
func slotSearchset(tb testing.TB) []byte {
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

// BenchmarkParseSlots: what SearchSlots does with a slot search's answer
// (issue 15): decode the searchset and read its slots.
func BenchmarkParseSlots(b *testing.B) {
	raw := slotSearchset(b)
	b.ReportAllocs()
	for b.Loop() {
		var bundle stu3.Bundle
		if err := json.Unmarshal(raw, &bundle); err != nil {
			b.Fatal(err)
		}
		s, err := parseSlots(&bundle)
		if err != nil || len(s.Slots) != 80 || s.Slots[0].Practitioner != "Dr Ivo Brand" || s.Slots[0].LocationName == "" || s.Organization == nil {
			b.Fatalf("parseSlots: %d slots, %+v, %v", len(s.Slots), s.Slots[0], err)
		}
	}
}

// TestParseSlotsReadsEveryElement: the one-pass view reads what the slot
// list shows: times, channel, types, location and practitioner names.
func TestParseSlotsReadsEveryElement(t *testing.T) {
	t.Parallel()
	var bundle stu3.Bundle
	if err := json.Unmarshal(slotSearchset(t), &bundle); err != nil {
		t.Fatal(err)
	}
	s, err := parseSlots(&bundle)
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
