package consumer

import (
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestPick: the slot a booking tries — the first matching the preference
// and not yet tried, the patient's preferred branch's first.
func TestPick(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 8, 9, 30, 0, 0, time.UTC)
	slots := []Slot{
		{ID: "1", LocationID: "A", Channel: "Video", PractitionerID: "p1", StartTime: at.Add(-time.Hour)},
		{ID: "2", LocationID: "B", Channel: "In-person", PractitionerID: "p2", StartTime: at},
		{ID: "3", LocationID: "B", Channel: "Video", PractitionerID: "p1", StartTime: at.Add(time.Hour)},
		{ID: "4", LocationID: "A", Channel: "In-person", PractitionerID: "p2", StartTime: at.Add(2 * time.Hour)},
	}
	for _, c := range []struct {
		name   string
		p      Preference
		branch string
		tried  []string
		want   string // "" for none
	}{
		{"the first", Preference{}, "", nil, "1"},
		{"not one tried", Preference{}, "", []string{"1", "2"}, "3"},
		{"the preferred branch's first", Preference{}, "B", nil, "2"},
		{"another branch when the preferred one has none left", Preference{}, "B", []string{"2", "3"}, "1"},
		{"the branch ignored", Preference{IgnoreBranch: true}, "B", nil, "1"},
		{"a channel", Preference{Channel: "In-person"}, "", nil, "2"},
		{"a practitioner, at the branch", Preference{PractitionerID: "p2"}, "A", nil, "4"},
		{"a location", Preference{LocationID: "B", Channel: "Video"}, "", nil, "3"},
		{"a start time", Preference{At: at}, "A", nil, "2"},
		{"none left", Preference{Channel: "Telephone"}, "", nil, ""},
	} {
		sl, ok := pick(slots, c.p, c.branch, c.tried)
		assert.Equal(t, sl.ID, c.want, c.name)
		assert.Equal(t, ok, c.want != "", c.name+": found")
	}
}
