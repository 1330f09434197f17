package sandbox_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
)

// TestIsolation: two sessions created at the same time share nothing: a
// slot booked through one SSP stays free in the other, and each journal
// holds only its own hops.
func TestIsolation(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ids := make([]string, 2)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			r := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", fmt.Sprintf(`{"id":"iso-%d"}`, i)))
			if r.status != 201 {
				t.Errorf("create: %s", r)
				return
			}
			var info sandbox.SessionInfo
			if err := json.Unmarshal(r.body, &info); err != nil {
				t.Error(err)
			}
			ids[i] = info.ID
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	a, _ := e.Server.Session(ids[0])
	b, _ := e.Server.Session(ids[1])
	if a == nil || b == nil || a == b || a.World == b.World || a.Journal == b.Journal {
		t.Fatalf("sessions are not distinct: %v %v", a, b)
	}
	// One scenario, one world built: both start as copies of it, so what
	// follows proves a copy changes alone.
	assert.Equal(t, a.World.Template() == b.World.Template(), true, "a and b made from one template")

	slot := freeSlots(a)[0]
	assert.Equal(t, freeSlots(b)[0].ID, slot.ID, "both start with the same first free slot")
	wantStatus(t, e.book(t, a, true, slot), 201, "")
	assert.Equal(t, slotBooked(a, slot.ID), true, "booked in a")
	assert.Equal(t, slotBooked(b, slot.ID), false, "still free in b")
	assert.Equal(t, len(b.World.Appointments(practiceODS)), len(a.World.Appointments(practiceODS))-1, "appointments in b")

	// b's SSP books the same slot as if a did not exist.
	wantStatus(t, e.book(t, b, true, slot), 201, "")

	want := []string{"ssp→provider 6b provider.book appointment 201", "consumer→ssp 6a ssp.book appointment 201"}
	assert.DeepEqual(t, hopSummary(a.Journal.Hops()), want, "a's journal")
	assert.DeepEqual(t, hopSummary(b.Journal.Hops()), want, "b's journal")
	for _, h := range b.Journal.Hops() {
		assert.Contains(t, h.URL, "/s/"+b.ID+"/", "b's hop URL")
	}
	def, _ := e.Server.Session(sandbox.DefaultSession)
	assert.Equal(t, len(def.Journal.Hops()), 0, "default journal")
	assert.Equal(t, slotBooked(def, slot.ID), false, "free in default")
}

// TestConcurrentBooking: 200 consumers book the same slot through the SSP
// at once; the world's lock lets exactly one win (§4.2: the others get
// 409 DUPLICATE_REJECTED).
func TestConcurrentBooking(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	ss := e.session(t, "")
	slot := freeSlots(ss)[0]
	const n = 200
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = bookBody(t, ss, slot)
	}
	var (
		mu    sync.Mutex
		count = map[string]int{}
		wg    sync.WaitGroup
		ready = make(chan struct{})
	)
	for i := range n {
		req := gpcRequest(t, ss, true, gpc.CreateAppointment, "POST", "/Appointment", bodies[i])
		wg.Go(func() {
			<-ready
			res, err := e.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var b [4096]byte
			k, _ := readAll(res.Body, b[:])
			code, _ := gpc.SpineCode(b[:k])
			mu.Lock()
			count[fmt.Sprintf("%d %s", res.StatusCode, code)]++
			mu.Unlock()
		})
	}
	close(ready)
	wg.Wait()
	assert.DeepEqual(t, count, map[string]int{"201 ": 1, "409 " + string(gpc.DuplicateRejected): n - 1}, "outcomes")
	booked := 0
	for _, a := range ss.World.Appointments(practiceODS) {
		for _, s := range a.Slots {
			if s == slot.ID && a.Status == "booked" {
				booked++
			}
		}
	}
	assert.Equal(t, booked, 1, "appointments on the slot")
	assert.Equal(t, len(ss.Journal.Hops()), 2*n, "journal hops (both legs of every request)")
}
