package provider

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// maxSlotRangeDays is the longest search range (§4.1: at most two weeks; 14
// days accepted, 15 rejected).
const maxSlotRangeDays = 14

var (
	dateRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$`)
)

// boundary is one parsed start/end search value.
type boundary struct {
	t      time.Time
	isDate bool
}

// parseBoundary reads "{prefix}{date|dateTime}" for a slot search bound
// (§4.1): the prefix must be want; dates are whole days in UK local time;
// dateTimes need an offset. A raw "+" arrives as a space (it was not sent as
// %2B) and is rejected with a hint.
func parseBoundary(name string, values []string, want string) (boundary, error) {
	switch len(values) {
	case 0:
		return boundary{}, gpc.Errorf(gpc.BadRequest, "Search parameter %s is required (%s{date})", name, want)
	case 1:
	default:
		return boundary{}, gpc.Errorf(gpc.BadRequest, "Search parameter %s must be sent exactly once, got %d", name, len(values))
	}
	v := values[0]
	if len(v) < 2 || v[:2] != want {
		return boundary{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter %s=%q must have the prefix %s", name, v, want)
	}
	v = v[2:]
	switch {
	case dateRE.MatchString(v):
		t, err := time.ParseInLocation(time.DateOnly, v, london)
		if err != nil {
			return boundary{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter %s=%s%s is not a valid date", name, want, v)
		}
		return boundary{t: t, isDate: true}, nil
	case dateTimeRE.MatchString(v):
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return boundary{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter %s=%s%s is not a valid dateTime", name, want, v)
		}
		return boundary{t: t}, nil
	case strings.Contains(v, " "):
		return boundary{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter %s=%s%s is not a valid dateTime: percent-encode the '+' of the offset as %%2B", name, want, v)
	}
	return boundary{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter %s=%s%s must be yyyy-mm-dd or yyyy-mm-ddThh:mm:ss+hh:mm", name, want, v)
}

// slotSearch is a validated free-slot query.
type slotSearch struct {
	query                                world.SlotQuery
	practitioners, locations, includeOrg bool
}

// parseSlotSearch applies §4.1's parameter rules and errors.
func parseSlotSearch(q url.Values) (slotSearch, error) {
	start, err := parseBoundary("start", q["start"], "ge")
	if err != nil {
		return slotSearch{}, err
	}
	end, err := parseBoundary("end", q["end"], "le")
	if err != nil {
		return slotSearch{}, err
	}
	switch st := q["status"]; {
	case len(st) == 0:
		return slotSearch{}, gpc.Errorf(gpc.BadRequest, "Search parameter status is required (status=free)")
	case len(st) > 1:
		return slotSearch{}, gpc.Errorf(gpc.BadRequest, "Search parameter status must be sent exactly once, got %d", len(st))
	case st[0] != world.Free:
		return slotSearch{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter status=%q is not supported; only free", st[0])
	}
	if !slices.Contains(q["_include"], "Slot:schedule") {
		return slotSearch{}, gpc.Errorf(gpc.BadRequest, "Search parameter _include=Slot:schedule is required")
	}
	// The range: a date end means the whole of that day. The span is
	// measured between the values as given, in calendar days (the
	// demonstrator's period in days), so 14 days passes and 15 fails.
	from, to := start.t, end.t
	if end.isDate {
		to = end.t.AddDate(0, 0, 1)
	}
	if end.t.Before(start.t) {
		return slotSearch{}, gpc.Errorf(gpc.InvalidParameter, "Search range is negative: end %s is before start %s", q.Get("end"), q.Get("start"))
	}
	if end.t.After(start.t.In(london).AddDate(0, 0, maxSlotRangeDays)) {
		return slotSearch{}, gpc.Errorf(gpc.InvalidParameter, "Search range from %s to %s is longer than %d days", q.Get("start"), q.Get("end"), maxSlotRangeDays)
	}
	s := slotSearch{query: world.SlotQuery{From: from, To: to}, includeOrg: true}
	for _, inc := range q["_include:recurse"] {
		switch inc {
		case "Schedule:actor:Practitioner":
			s.practitioners = true
		case "Schedule:actor:Location":
			s.locations = true
		case "Location:managingOrganization":
			// Accepted; the Organization is returned anyway (§4.1 known
			// issue).
		}
	}
	for _, f := range q["searchFilter"] {
		system, code, ok := strings.Cut(f, "|")
		if !ok || system == "" || code == "" {
			return slotSearch{}, gpc.Errorf(gpc.InvalidParameter, "Search parameter searchFilter=%q must be system|code", f)
		}
		switch system {
		case gpc.SystemODSCode:
			s.query.ConsumerODS = code
		case gpc.SystemOrgType:
			s.query.OrgType = code
		}
		// Unknown systems are ignored without error (§4.1).
	}
	return s, nil
}

// searchSlots answers GET /Slot (§4.1): free slots lying fully in the
// range, with their Schedules, the requested Practitioners and Locations
// linked to those schedules, and the practice Organization whenever a slot
// is returned; an empty searchset otherwise.
func (s *server) searchSlots(rw http.ResponseWriter, r *request) error {
	var (
		search slotSearch
		err    error
	)
	if p := parsedFor(r); p != nil && p.slotsOK {
		search = p.slots
	} else if search, err = parseSlotSearch(r.URL.Query()); err != nil {
		return err
	}
	ods := r.practice.ODS
	key := answerKey{
		ods: ods, from: search.query.From.UnixNano(), to: search.query.To.UnixNano(),
		consumerODS: search.query.ConsumerODS, orgType: search.query.OrgType,
		practitioners: search.practitioners, locations: search.locations,
	}
	w, store, version := s.slotSource()
	if a := store.get(key, version); a != nil {
		return writeAnswer(rw, r.Request, a)
	}
	slots := w.FreeSlots(ods, search.query)
	var out []any
	if len(slots) > 0 {
		schedules := map[string]world.Schedule{}
		for _, sc := range w.Schedules(ods) {
			schedules[sc.ID] = sc
		}
		practitioners := map[string]world.Practitioner{}
		for _, pr := range w.Practitioners(ods) {
			practitioners[pr.ID] = pr
		}
		var schedOrder []string
		horizon := map[string][2]time.Time{} // first start, last end
		for _, sl := range slots {
			out = append(out, slot(sl))
			if _, ok := schedules[sl.Schedule]; !ok {
				continue
			}
			h, ok := horizon[sl.Schedule]
			if !ok {
				schedOrder = append(schedOrder, sl.Schedule)
				h = [2]time.Time{sl.Start, sl.End}
			}
			if sl.End.After(h[1]) {
				h[1] = sl.End
			}
			horizon[sl.Schedule] = h
		}
		var pracOrder, locOrder []string
		for _, id := range schedOrder {
			sc := schedules[id]
			var pr *world.Practitioner
			if p, ok := practitioners[sc.Practitioner]; ok {
				pr = &p
				if !slices.Contains(pracOrder, p.ID) {
					pracOrder = append(pracOrder, p.ID)
				}
			}
			if sc.Location != "" && !slices.Contains(locOrder, sc.Location) {
				locOrder = append(locOrder, sc.Location)
			}
			h := horizon[id]
			out = append(out, schedule(sc, pr, stu3.Period{Start: localTime(h[0]), End: localTime(h[1])}))
		}
		if search.practitioners {
			for _, id := range pracOrder {
				out = append(out, practitioner(practitioners[id]))
			}
		}
		if search.locations {
			for _, l := range w.Locations(ods) {
				if slices.Contains(locOrder, l.ID) {
					out = append(out, location(r.practice, l))
				}
			}
		}
		out = append(out, organization(r.practice))
	}
	b, err := searchset("", out...)
	if err != nil {
		return err
	}
	body, err := stu3.Marshal(b)
	if err != nil {
		return err
	}
	a := newAnswer(body)
	store.put(key, version, a)
	return writeAnswer(rw, r.Request, a)
}
