package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// practiceYAML is one practice with a schedule and the given generate
// entries (YAML list items, indented to sit under generate:).
func practiceYAML(ods, asid, generate string) string {
	return fmt.Sprintf(`  - ods: %s
    name: P
    asid: "%s"
    party_key: %s-1
    locations:
      - {id: L1, name: Main}
    schedules:
      - {id: S1, location: L1}
    generate:
%s`, ods, asid, ods, generate)
}

const consumerYAML = `name: t
consumer:
  asid: "200000000115"
  ods: A1001
practices:
`

// gen is a generate entry: days days of perDay every-minute slots.
func gen(days, perDay int) string {
	return fmt.Sprintf("      - {schedule: S1, days: %d, from: \"00:00\", until: \"%02d:%02d\", every: 1m}\n", days, perDay/60, perDay%60)
}

func loadProblems(t *testing.T, src string, lim Limits) []string {
	t.Helper()
	_, err := LoadWith("s.yaml", []byte(src), lim)
	if err == nil {
		return nil
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %T %v, want *LoadError", err, err)
	}
	var out []string
	for _, p := range le.Problems {
		out = append(out, p.String())
	}
	return out
}

// TestSlotLimits: slots are counted before any is made, per practice and
// per session, listed and generated, aliases as copies; each refusal names
// the count, the limit and where.
func TestSlotLimits(t *testing.T) {
	t.Parallel()
	small := Limits{MaxSlotsPerPractice: 1000, MaxSlotsPerSession: 2000}
	tests := []struct {
		name string
		src  string
		lim  Limits
		want []string // nil: loads
	}{
		{"under both limits", consumerYAML + practiceYAML("A1", "000000000001", gen(10, 100)), small, nil},
		{"exactly the practice limit", consumerYAML + practiceYAML("A1", "000000000001", gen(5, 100)+gen(1, 500)), small, nil},
		{"one generator over", consumerYAML + practiceYAML("A1", "000000000001", gen(11, 100)), small,
			[]string{"s.yaml:15:30: practices[A1].generate[0]: 1,100 slots, over the limit of 1,000 slots per practice"}},
		{"generators together over", consumerYAML + practiceYAML("A1", "000000000001", gen(6, 100)+gen(5, 100)), small,
			[]string{"s.yaml:6:10: practices[A1]: 1,100 slots (0 listed, 1,100 generated), over the limit of 1,000 slots per practice"}},
		{"aliases count as copies", consumerYAML + practiceYAML("A1", "000000000001",
			"      - &g {schedule: S1, days: 3, from: \"00:00\", until: \"01:40\", every: 1m}\n      - *g\n      - *g\n      - *g\n"), small,
			[]string{"s.yaml:6:10: practices[A1]: 1,200 slots (0 listed, 1,200 generated), over the limit of 1,000 slots per practice"}},
		{"practices together over the session limit", consumerYAML +
			practiceYAML("A1", "000000000001", gen(9, 100)) + practiceYAML("A2", "000000000002", gen(9, 100)) + practiceYAML("A3", "000000000003", gen(9, 100)), small,
			[]string{"s.yaml:6:3: practices: 2,700 slots in all, over the limit of 2,000 slots per session"}},
		{"weekdays only counts at most 5 of 7 days", consumerYAML + practiceYAML("A1", "000000000001",
			"      - {schedule: S1, days: 14, weekdays_only: true, times: [\"09:00\"], length: 10m}\n"), Limits{MaxSlotsPerPractice: 9}, []string{
			"s.yaml:15:30: practices[A1].generate[0]: 10 slots, over the limit of 9 slots per practice"}},
		{"days 1e18 does not overflow", consumerYAML + practiceYAML("A1", "000000000001",
			"      - {schedule: S1, days: 1000000000000000000, times: [\"09:00\", \"10:00\", \"11:00\", \"12:00\", \"13:00\", \"14:00\", \"15:00\", \"16:00\", \"17:00\", \"18:00\"], length: 10m}\n"), Limits{}, []string{
			"s.yaml:15:30: practices[A1].generate[0]: 9,223,372,036,854,775,807 or more slots, over the limit of 200,000 slots per practice"}},
		{"reported with the other problems", consumerYAML + practiceYAML("A1", "000000000001", gen(11, 100)) + "faults:\n  - hop: pds\n", small, []string{
			"s.yaml:15:30: practices[A1].generate[0]: 1,100 slots, over the limit of 1,000 slots per practice",
			"s.yaml:17:5: faults: the fault does nothing (give status, body, spine_code, delay or drop)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.DeepEqual(t, loadProblems(t, tt.src, tt.lim), tt.want, "problems")
		})
	}
}

// TestHostileProbes: the two scenarios from issue 13 that took a sandbox
// past 4 and 10 GB are refused at load with the limit named, and loading
// them allocates next to nothing (measured, with a generous margin).
func TestHostileProbes(t *testing.T) {
	tests := []struct{ file, want string }{
		{"days-1e9.yaml", ":20:15: practices[A20047].generate[0]: 4,000,000,000 slots, over the limit of 200,000 slots per practice"},
		{"alias-8.yaml", ":19:36: practices[A20047].generate[0]: 525,235 slots, over the limit of 200,000 slots per practice"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "hostile", tt.file)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := LoadFile(path)
			runtime.ReadMemStats(&after)
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) != 1 {
				t.Fatalf("LoadFile = %v, want one problem", err)
			}
			assert.Equal(t, le.Problems[0].String(), path+tt.want, "problem")
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 10<<20 {
				t.Errorf("loading allocated %d bytes, want < 10 MiB", alloc)
			}
		})
	}
}

// TestAliasExpansionBounded: aliases nested three deep would make the
// decoder visit a value per path through them (here 200 practices × 100
// generators × 100 times = 2,000,000) before any count; the decoder stops
// at its budget instead, with one problem, allocating little.
func TestAliasExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(consumerYAML)
	b.WriteString("  - &p\n    ods: A1\n    name: P\n    asid: \"000000000001\"\n    party_key: A1-1\n    locations: [{id: L1, name: Main}]\n    schedules: [{id: S1, location: L1}]\n    generate:\n")
	b.WriteString("      - &g {schedule: S1, days: 1, length: 1m, times: &t [" + strings.TrimSuffix(strings.Repeat(`"09:00", `, 100), ", ") + "]}\n")
	b.WriteString(strings.Repeat("      - *g\n", 99))
	b.WriteString(strings.Repeat("  - *p\n", 199))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := loadProblems(t, b.String(), Limits{})
	runtime.ReadMemStats(&after)
	if len(got) != 1 || !strings.Contains(got[0], "the YAML aliases expand to more than") {
		t.Fatalf("got %d problems (first %q), want one about aliases", len(got), append(got, "")[0])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("loading allocated %d bytes, want < 64 MiB", alloc)
	}
}

// TestLargeWorldFits: a 100,000-slot world loads and builds with the
// default limits (the benchmarks' large world).
func TestLargeWorldFits(t *testing.T) {
	src := consumerYAML + practiceYAML("A1", "000000000001", gen(100, 1000))
	s, err := Load("big.yaml", []byte(src))
	assert.NilError(t, err)
	data, err := s.World(time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC))
	assert.NilError(t, err)
	assert.Equal(t, len(data.Practices[0].Slots), 100_000, "slots")
}

// TestCountMatchesWorld: the arithmetic count is what World makes (an
// upper bound, exact for weekdays_only over whole weeks).
func TestCountMatchesWorld(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC) // a Friday
	for _, g := range []string{
		`{schedule: S1, days: 3, from: "09:00", until: "12:00", every: 15m}`,
		`{schedule: S1, days: 3, from: "09:00", until: "12:05", every: 15m}`,
		`{schedule: S1, days: 1, from: "00:00", until: "23:59", every: 7m}`,
		`{schedule: S1, days: 14, weekdays_only: true, times: ["09:00", "14:30"], length: 10m}`,
		`{schedule: S1, days: 9, weekdays_only: true, start: next monday, times: ["09:00"], length: 10m}`,
		`{schedule: S1, days: 31, start: "2026-03-20", times: ["01:30", "02:30"], length: 10m}`,
	} {
		s, err := Load("g.yaml", []byte(consumerYAML+practiceYAML("A1", "000000000001", "      - "+g+"\n")))
		assert.NilError(t, err)
		data, err := s.World(now)
		assert.NilError(t, err)
		assert.Equal(t, s.Practices[0].Generate[0].count(), len(data.Practices[0].Slots), g)
	}
}

// TestWorldHoldsToLoadLimits: World counts again before making anything,
// so a scenario changed after loading is refused with an error, not built.
func TestWorldHoldsToLoadLimits(t *testing.T) {
	t.Parallel()
	s, err := LoadWith("s.yaml", []byte(consumerYAML+practiceYAML("A1", "000000000001", gen(1, 100))), Limits{MaxSlotsPerPractice: 500})
	assert.NilError(t, err)
	assert.Equal(t, s.Limits(), Limits{MaxSlotsPerPractice: 500, MaxSlotsPerSession: DefaultLimits.MaxSlotsPerSession}, "limits")
	s.Practices[0].Generate[0].Days = math.MaxInt
	_, err = s.World(time.Now())
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("World = %v, want a *LoadError", err)
	}
	assert.Contains(t, err.Error(), "over the limit of 500 slots per practice", "error")
	// A Scenario not made by Load holds to the defaults.
	bare := &Scenario{Practices: []Practice{{ODS: "A1", Generate: []Generator{{Days: 1 << 40, Times: []TimeOfDay{540}}}}}}
	_, err = bare.World(time.Now())
	assert.Contains(t, fmt.Sprint(err), "over the limit of 200,000 slots per practice", "bare scenario")
}

// TestCheckReportsSlotLimit: spine-sandbox check reports the limit with
// file:line:column, like any mistake.
func TestCheckReportsSlotLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "hostile", "days-1e9.yaml"))
	assert.NilError(t, err)
	path := filepath.Join(dir, "bomb.yaml")
	assert.NilError(t, os.WriteFile(path, data, 0o600))
	var out bytes.Buffer
	if err := Check([]string{dir}, &out, Options{}); err == nil {
		t.Fatal("Check passed, want a failure")
	}
	assert.Contains(t, out.String(), path+":20:15: practices[A20047].generate[0]: 4,000,000,000 slots, over the limit of 200,000 slots per practice", "check output")
}
