package scenario

import (
	"reflect"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

// TestWorldEpoch: for every scenario of the library, two instants with the
// same epoch give equal worlds — the promise the sandbox's shared worlds
// rest on. Red when WorldEpoch misses a dependence on the time of day
// (an offset from now, an appointment's times): then it gives one epoch
// for different worlds.
func TestWorldEpoch(t *testing.T) {
	t.Parallel()
	scs, err := LoadDir("../../scenarios")
	assert.NilError(t, err)
	scs = append(scs, Default(), mustLoad(t, `name: offsets
consumer: {asid: "200000000115", ods: A1001, name: Sandbox Consumer Practice, party_key: A1001-821872}
practices:
  - ods: B1
    name: Offsets surgery
    party_key: B1-0000001
    asid: "918999198111"
    locations: [{id: "1", name: Main}]
    schedules: [{id: "1", location: "1"}]
    slots:
      - {id: "1", schedule: "1", start: +2h, length: 15m}
`))
	days := [][2]time.Time{
		{time.Date(2026, 3, 29, 0, 0, 30, 0, London), time.Date(2026, 3, 29, 23, 59, 30, 0, London)}, // clocks go forward
		{time.Date(2026, 10, 25, 0, 30, 0, 0, London), time.Date(2026, 10, 25, 23, 0, 0, 0, London)}, // and back
		{time.Date(2026, 11, 29, 8, 0, 0, 0, London), time.Date(2026, 11, 29, 8, 0, 0, 1, London)},
	}
	shared := 0
	for _, sc := range scs {
		for _, d := range days {
			a, b := d[0], d[1]
			if sc.WorldEpoch(a) != sc.WorldEpoch(b) {
				continue
			}
			shared++
			wa, errA := sc.World(a)
			wb, errB := sc.World(b)
			if errA != nil || errB != nil {
				continue
			}
			if !reflect.DeepEqual(wa, wb) {
				t.Errorf("%s: worlds at %s and %s differ with one epoch %d", sc.Name, a, b, sc.WorldEpoch(a))
			}
		}
		next := time.Date(2026, 11, 30, 8, 0, 0, 0, London)
		if e := sc.WorldEpoch(days[2][0]); e != 0 && e == sc.WorldEpoch(next) {
			t.Errorf("%s: one epoch %d on two days", sc.Name, e)
		}
	}
	if shared < len(scs) {
		t.Errorf("only %d pairs of %d scenarios shared an epoch: the test compares too little", shared, len(scs))
	}
}

func mustLoad(t *testing.T, src string) *Scenario {
	t.Helper()
	sc, err := Load("inline.yaml", []byte(src))
	assert.NilError(t, err)
	return sc
}
