package sandbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// The probes of issue 13 as tests: each budget is checked before the work
// it guards. The memory tests are not parallel, so TotalAlloc counts
// (mostly) the request under test; the margins are generous.

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	assert.NilError(t, err)
	return string(b)
}

// bigWorld is a 100,000-slot scenario: cheap to parse, costly to build.
const bigWorld = `name: big
consumer: {asid: "200000000115", ods: A1001}
practices:
  - ods: A1
    name: P
    asid: "000000000001"
    party_key: A1-1
    locations: [{id: L1, name: Main}]
    schedules: [{id: S1, location: L1}]
    generate:
      - {schedule: S1, days: 100, from: "00:00", until: "16:40", every: 1m}
`

// TestHostileScenariosRefused: the billion-day generator and the one-year
// generator aliased eight times answer 422 naming the limit, and the
// request allocates a bounded amount (they took a sandbox past 4 and 10
// GB before).
func TestHostileScenariosRefused(t *testing.T) {
	e := start(t, sandbox.Config{})
	for _, file := range []string{"days-1e9.yaml", "alias-8.yaml"} {
		t.Run(file, func(t *testing.T) {
			body := readFile(t, "../scenario/testdata/hostile/"+file)
			var res response
			alloc := allocated(func() { res = e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", body)) })
			assert.Equal(t, res.status, http.StatusUnprocessableEntity, "status")
			assert.Contains(t, string(res.body), "over the limit of 200,000 slots per practice", "body")
			if alloc > 50<<20 {
				t.Errorf("the request allocated %d bytes, want < 50 MiB", alloc)
			}
		})
	}
}

// TestServerSlotLimits: sessions load with the server's slot limits, not
// the defaults, whether the scenario is sent or named.
func TestServerSlotLimits(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{ScenarioDir: "../../scenarios", Limits: sandbox.Limits{MaxSlotsPerPractice: 10}})
	for _, body := range []string{bigWorld, `{"scenario":"happy-path"}`} {
		res := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", body))
		assert.Equal(t, res.status, http.StatusUnprocessableEntity, "status")
		assert.Contains(t, string(res.body), "over the limit of 10 slots per practice", "body")
	}
	assert.Equal(t, sandbox.DefaultLimits.Scenario(), scenario.DefaultLimits, "default slot limits agree")
}

// TestScenarioBodyTooLarge: a body over MaxScenarioBytes answers 413
// naming the limit, without echoing it, whether its length is declared or
// it is sent chunked.
func TestScenarioBodyTooLarge(t *testing.T) {
	e := start(t, sandbox.Config{})
	// Parsed, it would be refused with its extends value quoted back.
	huge := "name: x\nextends: hostile-echo\n#" + strings.Repeat("padding ", 10<<20/8) + "\n"
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"Content-Length", strings.NewReader(huge)},
		{"chunked", struct{ io.Reader }{strings.NewReader(huge)}}, // unknown length
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", e.URL+"/_admin/sessions", tt.body)
			assert.NilError(t, err)
			req.Header.Set("Content-Type", "application/yaml")
			var res response
			alloc := allocated(func() { res = e.do(t, req) })
			assert.Equal(t, res.status, http.StatusRequestEntityTooLarge, "status")
			assert.Contains(t, string(res.body), "over the limit of 1048576 bytes", "body")
			if strings.Contains(string(res.body), "hostile-echo") {
				t.Errorf("the answer echoes the input: %.200s", res.body)
			}
			if alloc > 16<<20 {
				t.Errorf("the request allocated %d bytes, want < 16 MiB", alloc)
			}
		})
	}
	// At the limit exactly, the body is read and parsed.
	atLimit := "name: at limit\nextends: builtin\n#" + strings.Repeat("x", 1<<20-34) + "\n"
	assert.Equal(t, len(atLimit), 1<<20, "length")
	res := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", atLimit))
	assert.Equal(t, res.status, http.StatusCreated, "status at the limit")
}

// TestSessionCapBeforeWorld: a create past MaxSessions answers 429 without
// building the world: with a 100,000-slot scenario the refusal allocates
// under 1 MB (building it costs tens of MB), over HTTP and through
// CreateSession alike.
func TestSessionCapBeforeWorld(t *testing.T) {
	e := start(t, sandbox.Config{Limits: sandbox.Limits{MaxSessions: 1}}) // the default session fills it
	var res response
	alloc := allocated(func() { res = e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", bigWorld)) })
	assert.Equal(t, res.status, http.StatusTooManyRequests, "status")
	if alloc > 1<<20 {
		t.Errorf("the refused create allocated %d bytes over HTTP, want < 1 MB", alloc)
	}

	sc, err := scenario.Load("big.yaml", []byte(bigWorld))
	assert.NilError(t, err)
	alloc = allocated(func() { _, err = e.Server.CreateSession("", sc) })
	assert.Equal(t, err, sandbox.ErrTooManySessions, "CreateSession")
	if alloc > 1<<20 {
		t.Errorf("the refused CreateSession allocated %d bytes, want < 1 MB", alloc)
	}
}

// TestSlotsAcrossSessions: the slots of every open session together stay
// within MaxSlotsTotal — a create that would pass it answers 429 naming the
// limit before its world is built, and deleting a session gives its slots
// back (the default session's reset keeps its count).
func TestSlotsAcrossSessions(t *testing.T) {
	// Not parallel: it measures the allocation of one request.
	per := scenario.Default().SlotCount()
	if per < 10 {
		t.Fatalf("the built-in world counts %d slots; the test needs a real world", per)
	}
	e := start(t, sandbox.Config{Limits: sandbox.Limits{MaxSlotsTotal: 3*per + per/2}})
	var ids []string
	for i := range 2 {
		res := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", ""))
		assert.Equal(t, res.status, http.StatusCreated, fmt.Sprintf("create %d", i+1))
		var info struct{ ID string }
		assert.NilError(t, json.Unmarshal(res.body, &info))
		ids = append(ids, info.ID)
	}
	var res response
	alloc := allocated(func() { res = e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", bigWorld)) })
	assert.Equal(t, res.status, http.StatusTooManyRequests, "the 100,000-slot world past the total")
	assert.Contains(t, string(res.body), fmt.Sprintf("the limit is %d (serve --max-slots-total)", 3*per+per/2), "body")
	if alloc > 1<<20 {
		t.Errorf("the refused create allocated %d bytes, want < 1 MB", alloc)
	}
	res = e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", ""))
	assert.Equal(t, res.status, http.StatusTooManyRequests, "a fourth built-in world")

	res = e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/default", ""))
	assert.Equal(t, res.status, http.StatusNoContent, "reset the default session")
	res = e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", ""))
	assert.Equal(t, res.status, http.StatusTooManyRequests, "still full after the default session's reset")

	res = e.do(t, plain(t, "DELETE", e.URL+"/_admin/sessions/"+ids[0], ""))
	assert.Equal(t, res.status, http.StatusNoContent, "delete")
	res = e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", ""))
	assert.Equal(t, res.status, http.StatusCreated, "a deleted session's slots are given back")
}

// TestConcurrentCreatesKeepTheCap: creates racing each other never pass
// MaxSessions, though their worlds build outside the lock.
func TestConcurrentCreatesKeepTheCap(t *testing.T) {
	t.Parallel()
	const max, tries = 5, 24
	e := start(t, sandbox.Config{Limits: sandbox.Limits{MaxSessions: max}})
	var wg sync.WaitGroup
	var created, refused atomic.Int32
	for range tries {
		wg.Go(func() {
			res := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", ""))
			switch res.status {
			case http.StatusCreated:
				created.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			default:
				t.Errorf("create: %v", res)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, created.Load(), int32(max-1), "created (the default session holds one place)")
	assert.Equal(t, refused.Load(), int32(tries-max+1), "refused")
	assert.Equal(t, len(e.Server.Sessions()), max, "sessions")
}

// fakeClock is a clock the test moves.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestIdleSessionsExpire: a session unused for the TTL is removed, one
// used is kept, the default session is reset; GET shows last_used and
// expires.
func TestIdleSessionsExpire(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(t0)
	e := start(t, sandbox.Config{Clock: clk.Now, Limits: sandbox.Limits{SessionTTL: time.Hour}})
	create := func() sandbox.SessionInfo {
		res := e.do(t, plain(t, "POST", e.URL+"/_admin/sessions", ""))
		assert.Equal(t, res.status, http.StatusCreated, "create")
		var info sandbox.SessionInfo
		assert.NilError(t, json.Unmarshal(res.body, &info))
		return info
	}
	idle, used := create(), create()
	assert.Equal(t, used.LastUsed, t0, "last_used at create")
	assert.Equal(t, used.Expires, t0.Add(time.Hour), "expires at create")

	clk.Advance(40 * time.Minute)
	res := e.do(t, pdsGet(t, used.URLs.PDS+"/Patient/"+nhsBooked))
	assert.Equal(t, res.status, http.StatusOK, "PDS read in the used session")
	clk.Advance(30 * time.Minute) // idle and default: 70 min unused; used: 30
	assert.Equal(t, e.Server.ExpireIdle(), 2, "removed or reset")

	res = e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/"+idle.ID, ""))
	assert.Equal(t, res.status, http.StatusNotFound, "idle session")
	res = e.do(t, plain(t, "GET", e.URL+"/_admin/sessions/"+used.ID, ""))
	assert.Equal(t, res.status, http.StatusOK, "used session")
	var got sandbox.SessionInfo
	assert.NilError(t, json.Unmarshal(res.body, &got))
	now := t0.Add(70 * time.Minute) // the GET itself is a use
	assert.Equal(t, got.LastUsed, now, "last_used")
	assert.Equal(t, got.Expires, now.Add(time.Hour), "expires")
	def, ok := e.Server.Session(sandbox.DefaultSession)
	assert.Equal(t, ok, true, "default session kept")
	assert.Equal(t, def.Created, now, "default session reset")
	assert.Equal(t, e.Server.ExpireIdle(), 0, "nothing more to expire")
}

// TestJanitorRuns: the server's own janitor removes an idle session on its
// tick (1 s for a 1 s TTL), without the test calling it.
func TestJanitorRuns(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC))
	e := start(t, sandbox.Config{Clock: clk.Now, Limits: sandbox.Limits{SessionTTL: time.Second}})
	ss := e.session(t, "")
	clk.Advance(time.Hour)
	deadline := time.Now().Add(20 * time.Second) // generous: the tick is 1 s
	for {
		if _, ok := e.Server.Session(ss.ID); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the idle session is still there")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseStopsJanitor: Close returns once the janitor has stopped, and
// leaves no goroutine behind.
func TestCloseStopsJanitor(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, err := sandbox.New(sandbox.Config{PublicURL: "http://127.0.0.1:1"})
	assert.NilError(t, err)
	assert.NilError(t, srv.Close())
	select {
	case <-srv.JanitorDone():
	default:
		t.Fatal("Close returned before the janitor stopped")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d after Close, %d before New", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.NilError(t, srv.Close()) // twice is fine
}
