package sandbox

import (
	"sync"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// maxTemplates and maxTemplateSlots bound the worlds kept for making
// sessions: one per scenario (and day, for worlds built on today's date)
// in use, and their slots together (about 250 bytes each kept, so 50 MB
// at most besides what each template's shared answers hold). Past either
// the store starts afresh; a world larger than the slot bound is built
// for its session alone, as every world was before templates.
const (
	maxTemplates     = 64
	maxTemplateSlots = 200_000
)

// templateKey is what a session's world data depends on: the scenario as
// loaded (scenarios are not changed once loaded) and the epoch of the
// instant it is built at (scenario.WorldEpoch).
type templateKey struct {
	sc    *scenario.Scenario
	epoch int64
}

// templates keeps each scenario's world built once, so that a session
// starts as a copy of it (world.Template) instead of expanding the
// scenario and building every slot again, and so that answers computed
// from a pristine world are shared by every session of the scenario.
type templates struct {
	mu    sync.Mutex
	m     map[templateKey]*world.Template
	slots int // of the templates in m
	// maxSlots, when not 0, replaces maxTemplateSlots (for tests).
	maxSlots int
}

// get returns the template of sc's world at now, building it on first
// demand.
func (t *templates) get(sc *scenario.Scenario, now time.Time) (*world.Template, error) {
	k := templateKey{sc: sc, epoch: sc.WorldEpoch(now)}
	t.mu.Lock()
	tmpl, ok := t.m[k]
	t.mu.Unlock()
	if ok {
		return tmpl, nil
	}
	data, err := sc.World(now)
	if err != nil {
		return nil, err
	}
	tmpl = world.Build(data)
	n, limit := sc.SlotCount(), maxTemplateSlots
	if t.maxSlots > 0 {
		limit = t.maxSlots
	}
	if n > limit {
		return tmpl, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= maxTemplates || t.slots+n > limit {
		t.m, t.slots = make(map[templateKey]*world.Template), 0
	}
	if _, ok := t.m[k]; !ok {
		t.slots += n
	}
	t.m[k] = tmpl
	return tmpl, nil
}

func (t *templates) len() (templates, slots int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m), t.slots
}

// maxParsed and maxParsedBytes bound the scenarios kept parsed for the
// admin API: a scenario is a pure function of its file name, its bytes and
// the limits, so one POSTed (or named) again is the same *Scenario — and
// its sessions share its world and answers (templates) — without being
// parsed again. A file changed on disk has other bytes: it is parsed anew.
// Files over a quarter of the bytes are parsed each time.
const (
	maxParsed      = 64
	maxParsedBytes = 4 << 20
)

type parsedKey struct {
	file, data string
	lim        scenario.Limits
}

// parsed keeps scenarios loaded from the admin API.
type parsed struct {
	mu    sync.Mutex
	m     map[parsedKey]*scenario.Scenario
	bytes int
}

// load is scenario.LoadOptions, answered from the scenarios kept when file
// and data were loaded before with the same limits. Failures are not
// kept. What else o checks (the clock, the check names, the endpoints for
// a session id) the session's creation checks again (newSession), so a
// scenario kept from another create is refused there if it must be.
func (p *parsed) load(file string, data []byte, o scenario.Options) (*scenario.Scenario, error) {
	lim := o.Limits
	p.mu.Lock()
	sc, ok := p.m[parsedKey{file, string(data), lim}]
	p.mu.Unlock()
	if ok {
		return sc, nil
	}
	sc, err := scenario.LoadOptions(file, data, o)
	if err != nil || len(data) > maxParsedBytes/4 {
		return sc, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxParsed || p.bytes+len(data) > maxParsedBytes {
		p.m, p.bytes = make(map[parsedKey]*scenario.Scenario), 0
	}
	k := parsedKey{file, string(data), lim}
	if _, ok := p.m[k]; !ok {
		p.bytes += len(data)
	}
	p.m[k] = sc
	return sc, nil
}
