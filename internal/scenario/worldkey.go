package scenario

import "time"

// WorldEpoch says which part of now the scenario's world depends on: two
// instants with the same epoch give equal World data, so a world built at
// one may stand for the other (the sandbox builds a session's world once
// per scenario and epoch, world.Template). The epoch is the London date
// when the world's times are days from today ("+1d 09:00", "next monday",
// generators), 0 when they are all absolute, and the instant itself when
// any depends on the time of day: an offset from now ("+2h") or a
// pre-booked appointment (its created and updated times are now's).
func (s *Scenario) WorldEpoch(now time.Time) int64 {
	daily := false
	see := func(w *When) bool { // reports whether w needs the instant
		if w == nil {
			return false
		}
		switch w.kind {
		case whenOffset:
			return true
		case whenDays, whenNext:
			daily = true
		}
		return false
	}
	for _, p := range s.Practices {
		if len(p.Appointments) > 0 {
			return now.UnixNano()
		}
		for _, r := range p.Records {
			if see(r.Registered) {
				return now.UnixNano()
			}
		}
		for i := range p.Slots {
			if see(&p.Slots[i].Start) || see(p.Slots[i].End) {
				return now.UnixNano()
			}
		}
		for _, g := range p.Generate {
			if g.Start == nil {
				daily = true // tomorrow
			} else if see(g.Start) {
				return now.UnixNano()
			}
		}
	}
	if !daily {
		return 0
	}
	y, m, d := now.In(London).Date()
	return int64(y)*10000 + int64(m)*100 + int64(d)
}
