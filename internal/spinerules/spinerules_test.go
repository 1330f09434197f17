package spinerules

import (
	"regexp"
	"testing"
)

// TestSyntax: IsUUID and IsASID accept exactly what the patterns the spec
// gives accept (the judge matched these regular expressions before).
func TestSyntax(t *testing.T) {
	t.Parallel()
	uuid := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	asid := regexp.MustCompile(`^[0-9]{12}$`)
	for _, v := range []string{"", "abc", "200000000359", "20000000035", "2000000003590", "20000000035x", " 200000000359",
		"60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11", "60E0B220-8136-4AC5-8A8B-6F5C3B9A2E11", "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e1",
		"60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11\n", "60e0b220x8136-4ac5-8a8b-6f5c3b9a2e11", "g0e0b220-8136-4ac5-8a8b-6f5c3b9a2e11",
		"60e0b22088136-4ac5-8a8b-6f5c3b9a2e1", "２00000000359"} {
		if got, want := IsUUID(v), uuid.MatchString(v); got != want {
			t.Errorf("IsUUID(%q) = %v, want %v", v, got, want)
		}
		if got, want := IsASID(v), asid.MatchString(v); got != want {
			t.Errorf("IsASID(%q) = %v, want %v", v, got, want)
		}
	}
}
