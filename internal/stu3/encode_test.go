package stu3_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// sameAsEncodingJSON fails unless stu3.Marshal(v) is json.Marshal(v), byte
// for byte, error for error.
func sameAsEncodingJSON(t *testing.T, v any) {
	t.Helper()
	got, gotErr := stu3.Marshal(v)
	want, wantErr := json.Marshal(v)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("stu3.Marshal error %v, json.Marshal error %v", gotErr, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stu3.Marshal:\n%s\njson.Marshal:\n%s", got, want)
	}
}

// searchset builds a Bundle with Add from the resources of a fixture Bundle.
func searchsetOf(t *testing.T, file, fullURL, mode string) *stu3.Bundle {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	assert.NilError(t, err)
	var in stu3.Bundle
	assert.NilError(t, json.Unmarshal(raw, &in))
	res, err := in.Resources()
	assert.NilError(t, err)
	b := stu3.NewSearchset(gpc.ProfileSearchsetBundle)
	for _, r := range res {
		assert.NilError(t, b.Add(fullURL, r, mode))
	}
	return b
}

func TestMarshalFixturesSameAsEncodingJSON(t *testing.T) {
	t.Parallel()
	// Decoded entries hold the fixture's own (indented) bytes, which
	// Marshal must compact as encoding/json does.
	decoded := map[string]any{}
	for _, file := range fixtures(t) {
		raw, err := os.ReadFile(file)
		assert.NilError(t, err)
		_, decoded[filepath.Base(file)], err = stu3.DecodeResource(raw)
		assert.NilError(t, err)
	}
	for name, v := range decoded {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sameAsEncodingJSON(t, v)
		})
	}
}

func TestMarshalSameAsEncodingJSON(t *testing.T) {
	t.Parallel()
	replaced := searchsetOf(t, "search_for_free_slots_response.json", "", "")
	replaced.Entry[1].Resource = json.RawMessage("{ \"resourceType\" : \"Slot\", \"comment\": \"<b>\" }")
	edited := searchsetOf(t, "search_for_free_slots_response.json", "", "")
	edited.Entry[0].Resource = edited.Entry[0].Resource[:len(edited.Entry[0].Resource)-1]
	edited.Entry[0].Resource = append(edited.Entry[0].Resource, ` }`...)
	tests := []struct {
		name string
		v    any
	}{
		{"searchset from Add", searchsetOf(t, "search_for_free_slots_response.json", "", "")},
		{"searchset value, not pointer", *searchsetOf(t, "search_for_free_slots_response.json", "", "")},
		{"fullUrl and mode", searchsetOf(t, "search_for_free_slots_response.json", "https://gp.test/STU3/1/gpconnect/Slot/1", "match")},
		{"fullUrl that encoding/json escapes", searchsetOf(t, "find_patient_response.json", "https://gp.test/?a=<1>&b=\"é\"\u2028\x01", "in\\clude")},
		{"entry resource replaced by hand", replaced},
		{"entry resource edited after Add", edited},
		{"entries set by hand", &stu3.Bundle{Type: "searchset", Entry: []stu3.BundleEntry{
			{FullURL: "u"},
			{Search: &stu3.BundleSearch{}},
			{Resource: json.RawMessage(`{"resourceType":"Slot"}`), Search: &stu3.BundleSearch{Mode: "include"}},
			{},
		}}},
		{"empty entry list", &stu3.Bundle{Entry: []stu3.BundleEntry{}}},
		{"total and link", &stu3.Bundle{Type: "searchset", Total: new(int), Link: []stu3.BundleLink{{Relation: "self", URL: "u"}}}},
		{"zero Bundle", stu3.Bundle{}},
		{"nil *Bundle", (*stu3.Bundle)(nil)},
		{"not a Bundle", stu3.Appointment{ID: "1", Comment: "<&>"}},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sameAsEncodingJSON(t, tt.v)
		})
	}
}

// TestMarshalEscapesLikeEncodingJSON: fullUrl and search.mode, which
// Marshal writes itself, are escaped exactly as encoding/json escapes them.
func TestMarshalEscapesLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plain", "<", ">", "&", `"`, `\\`, "\x01", "\x7f", "é", "\u2028", "\xff"} {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			t.Parallel()
			b := stu3.NewSearchset("")
			assert.NilError(t, b.Add("https://gp.test/"+s, stu3.Slot{}, "m"+s))
			sameAsEncodingJSON(t, b)
		})
	}
}

func TestMarshalInvalidEntryResource(t *testing.T) {
	t.Parallel()
	b := stu3.NewSearchset("")
	assert.NilError(t, b.Add("", stu3.Slot{ID: "1"}, ""))
	b.Entry = append(b.Entry, stu3.BundleEntry{Resource: json.RawMessage(`{"resourceType":`)})
	if got, err := stu3.Marshal(b); err == nil {
		t.Fatalf("Marshal = %s, want an error for the broken entry", got)
	}
	sameAsEncodingJSON(t, b)
}

// TestMarshalExactBytes pins the order a searchset is written in: the
// Bundle's elements, then each entry's fullUrl, resource and search, each
// resource with resourceType first.
func TestMarshalExactBytes(t *testing.T) {
	t.Parallel()
	b := stu3.NewSearchset("p")
	assert.NilError(t, b.Add("https://gp.test/Slot/9", stu3.Slot{ID: "9", Status: "free", Schedule: &stu3.Reference{Reference: "Schedule/3"}}, "match"))
	assert.NilError(t, b.Add("", &stu3.Schedule{ID: "3", Actor: []stu3.Reference{stu3.Ref("Location", "1")}}, ""))
	assert.NilError(t, b.Add("", stu3.Appointment{Contained: []stu3.Organization{{ID: "1"}}}, "include"))
	want := `{"resourceType":"Bundle","meta":{"profile":["p"]},"type":"searchset","entry":[` +
		`{"fullUrl":"https://gp.test/Slot/9","resource":{"resourceType":"Slot","id":"9","schedule":{"reference":"Schedule/3"},"status":"free"},"search":{"mode":"match"}},` +
		`{"resource":{"resourceType":"Schedule","id":"3","actor":[{"reference":"Location/1"}]}},` +
		`{"resource":{"resourceType":"Appointment","contained":[{"resourceType":"Organization","id":"1"}]},"search":{"mode":"include"}}]}`
	got, err := stu3.Marshal(b)
	assert.NilError(t, err)
	assert.Equal(t, string(got), want, "stu3.Marshal")
	got, err = json.Marshal(b)
	assert.NilError(t, err)
	assert.Equal(t, string(got), want, "json.Marshal")
}

func TestTypeNameKeepsWhatIsSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"empty gets the type's name", stu3.Organization{}, `{"resourceType":"Organization"}`},
		{"set is kept", stu3.Organization{ResourceType: "Location"}, `{"resourceType":"Location"}`},
		{"escaped like a string", stu3.Slot{ResourceType: "<x>"}, `{"resourceType":"\u003cx\u003e"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.v)
			assert.NilError(t, err)
			assert.Equal(t, string(got), tt.want, "encoded")
		})
	}
	var s stu3.Slot
	assert.NilError(t, json.Unmarshal([]byte(`{"resourceType":"Schedule"}`), &s))
	assert.Equal(t, s.ResourceType, "Schedule", "decoded resourceType is kept as sent")
	if err := json.Unmarshal([]byte(`{"resourceType":1}`), &s); err == nil {
		t.Error("decoding a number resourceType: want an error")
	}
}

// FuzzMarshal proves stu3.Marshal writes what json.Marshal writes for any
// Bundle a body decodes to.
func FuzzMarshal(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		if raw, err := os.ReadFile(file); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"fullUrl":"<&>","resource":{"a" : [1, 2]},"search":{}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b stu3.Bundle
		if json.Unmarshal(raw, &b) != nil {
			return
		}
		sameAsEncodingJSON(t, &b)
	})
}

// slotBundle is a searchset the size of a busy two-week search: n slots,
// their schedules, a practitioner, a location and the organisation.
func slotBundle(b *testing.B, n int) *stu3.Bundle {
	b.Helper()
	out := stu3.NewSearchset(gpc.ProfileSearchsetBundle)
	add := func(r any) {
		if err := out.Add("", r, ""); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		add(stu3.Slot{ID: fmt.Sprint(100 + i), Meta: &stu3.Meta{VersionID: "1", Profile: []string{gpc.ProfileSlot}},
			Extension:   []stu3.Extension{{URL: gpc.ExtDeliveryChannel, ValueCode: gpc.ChannelInPerson}},
			ServiceType: []stu3.CodeableConcept{{Text: "General GP Appointment"}},
			Schedule:    &stu3.Reference{Reference: fmt.Sprint("Schedule/", i%4)}, Status: "free",
			Start: "2026-05-12T09:00:00+01:00", End: "2026-05-12T09:10:00+01:00"})
	}
	for i := range 4 {
		add(stu3.Schedule{ID: fmt.Sprint(i), Meta: &stu3.Meta{VersionID: "1", Profile: []string{gpc.ProfileSchedule}},
			Actor:           []stu3.Reference{stu3.Ref("Location", "1"), stu3.Ref("Practitioner", "2")},
			PlanningHorizon: &stu3.Period{Start: "2026-05-12T09:00:00+01:00", End: "2026-05-26T17:00:00+01:00"}})
	}
	add(stu3.Practitioner{ID: "2", Name: []stu3.HumanName{{Family: "Okafor", Given: []string{"Ada"}}}})
	add(stu3.Location{ID: "1", Name: "Quarry Row Surgery", ManagingOrganization: &stu3.Reference{Reference: "Organization/7"}})
	add(stu3.Organization{ID: "7", Name: "Quarry Row Surgery", Identifier: []stu3.Identifier{{System: gpc.SystemODSCode, Value: "A20047"}}})
	return out
}

// BenchmarkEncodeSearchset builds (Add) and encodes a 400-slot searchset,
// through json.Marshal and through stu3.Marshal.
func BenchmarkEncodeSearchset(b *testing.B) {
	for _, enc := range []struct {
		name    string
		marshal func(any) ([]byte, error)
	}{{"json.Marshal", json.Marshal}, {"stu3.Marshal", stu3.Marshal}} {
		b.Run(enc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := enc.marshal(slotBundle(b, 400)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
