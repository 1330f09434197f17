package sandbox

import (
	"fmt"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestTemplates: a scenario's world is built once per epoch and reused;
// another day builds another; the store keeps at most maxTemplates worlds
// and maxTemplateSlots slots, and never keeps a world larger than that.
func TestTemplates(t *testing.T) {
	t.Parallel()
	var ts templates
	day := time.Date(2026, 11, 30, 9, 0, 0, 0, scenario.London)
	sc := scenario.Default()
	a, err := ts.get(sc, day)
	assert.NilError(t, err)
	b, err := ts.get(sc, day.Add(3*time.Hour))
	assert.NilError(t, err)
	assert.Equal(t, a == b, true, "one world for one scenario and day")
	c, err := ts.get(sc, day.AddDate(0, 0, 1))
	assert.NilError(t, err)
	assert.Equal(t, a == c, false, "another world the next day")

	for i := range 2 * maxTemplates {
		sc, err := scenario.Load(fmt.Sprintf("s%d.yaml", i), []byte("name: copy\nextends: builtin\n"))
		assert.NilError(t, err)
		_, err = ts.get(sc, day)
		assert.NilError(t, err)
		if n, _ := ts.len(); n > maxTemplates {
			t.Fatalf("%d templates kept, limit %d", n, maxTemplates)
		}
	}

	// The slot bound, at three builtin worlds.
	per := sc.SlotCount()
	small := templates{maxSlots: 3 * per}
	for i := range 4 {
		sc, err := scenario.Load(fmt.Sprintf("b%d.yaml", i), []byte("name: copy\nextends: builtin\n"))
		assert.NilError(t, err)
		_, err = small.get(sc, day)
		assert.NilError(t, err)
		if _, slots := small.len(); slots > 3*per {
			t.Fatalf("%d slots kept, limit %d", slots, 3*per)
		}
	}
	tiny := templates{maxSlots: per - 1}
	x, err := tiny.get(sc, day)
	assert.NilError(t, err)
	y, err := tiny.get(sc, day)
	assert.NilError(t, err)
	assert.Equal(t, x == y, false, "a world over the slot bound is built for each session")
}
