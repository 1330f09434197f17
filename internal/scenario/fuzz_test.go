package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad: any bytes load as a *Scenario or fail as a *LoadError, never a
// panic, and a scenario that loads builds its world at the load's clock.
// The limits are small so a generator the fuzzer grows stays cheap. Seeds:
// the library's scenarios and the hostile probes of issue 13.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../../scenarios/*.yaml")
	hostile, _ := filepath.Glob("testdata/hostile/*.yaml")
	for _, p := range append(seeds, hostile...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(base))
	lim := Limits{MaxSlotsPerPractice: 2000, MaxSlotsPerSession: 4000}
	now := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadOptions("fuzz.yaml", data, Options{Limits: lim, Now: func() time.Time { return now }})
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("Load = %T %v, want a *LoadError with problems", err, err)
			}
			return
		}
		if s == nil {
			t.Fatal("Load returned neither a scenario nor an error")
		}
		// What loads builds, at the clock it was loaded at: the world is
		// the last stage of the load.
		if _, err := s.World(s.pinnedOr(now)); err != nil {
			t.Fatalf("World refused a scenario Load accepted at the same clock: %v", err)
		}
	})
}
