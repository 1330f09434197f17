package pds

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/spine-sandbox/spine-sandbox/internal/suggest"
	"github.com/spine-sandbox/spine-sandbox/internal/world"
)

// Search parameters PDS accepts (pds-sds-fhir.md §2.1). Anything else is
// 400 ADDITIONAL_PROPERTIES.
const (
	paramFamily     = "family"
	paramGiven      = "given"
	paramGender     = "gender"
	paramBirthdate  = "birthdate"
	paramDeathDate  = "death-date"
	paramPostcode   = "address-postcode"
	paramPostalcode = "address-postalcode"
	paramGP         = "general-practitioner"
	paramEmail      = "email"
	paramPhone      = "phone"
	paramFuzzy      = "_fuzzy-match"
	paramExact      = "_exact-match"
	paramHistory    = "_history"
	paramMaxResults = "_max-results"
)

// repeatable says how often each parameter may appear: given is
// repeatable, birthdate and death-date twice (a ge/le range), the rest once.
var repeatable = map[string]int{
	paramFamily: 1, paramGiven: 10, paramGender: 1, paramBirthdate: 2, paramDeathDate: 2,
	paramPostcode: 1, paramPostalcode: 1, paramGP: 1, paramEmail: 1, paramPhone: 1,
	paramFuzzy: 1, paramExact: 1, paramHistory: 1, paramMaxResults: 1,
}

// Search scores. 1 is an exact match (§2.4); the others are what NHS's
// sandbox gives a wildcard and a fuzzy match.
const (
	scoreExact    = 1.0
	scoreFuzzy    = 0.8976
	scoreWildcard = 0.8343
)

// Result limits (§2.1). The sandbox returns both wildcard matches without
// _max-results (§2.7), so the default is the healthcare-worker maximum.
const (
	maxResultsLimit   = 50
	defaultMaxResults = maxResultsLimit
)

var (
	datePattern = regexp.MustCompile(`^(eq|ge|le)?(\d{4}-\d{2}-\d{2})$`)
	odsPattern  = regexp.MustCompile(`^[0-9A-Z]+$`) // §2.4 schema pattern
)

// dateRange is an inclusive range of yyyy-mm-dd dates; "" is open.
type dateRange struct{ from, to string }

func (d dateRange) contains(date string) bool {
	return date != "" && (d.from == "" || date >= d.from) && (d.to == "" || date <= d.to)
}

// query is a validated search.
type query struct {
	family    string
	given     []string
	gender    string
	birth     dateRange
	death     *dateRange
	postcodes []string
	gp        string
	email     string
	phone     string
	fuzzy     bool
	exact     bool
	max       int
}

// withholdsRestricted reports whether restricted patients are left out: PDS
// never returns them to a search by postcode or registered GP (§2.4).
func (q query) withholdsRestricted() bool { return len(q.postcodes) > 0 || q.gp != "" }

// search answers GET /Patient?... (§2.1, §2.4).
func (s *server) search(rw http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	type match struct {
		p     world.Patient
		score float64
	}
	var matches []match
	for _, p := range s.world.Patients() {
		// Superseded and invalidated records are never returned (§2.4).
		if p.SupersededBy != "" || p.Invalidated || (p.Restricted && q.withholdsRestricted()) {
			continue
		}
		if p.Search != nil {
			p = *p.Search // NHS's search record, where it differs from its retrieve record
		}
		if score, ok := q.match(p); ok {
			matches = append(matches, match{p, score})
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].score > matches[j].score })
	if len(matches) > q.max {
		// §2.4: HTTP 200 with an information OperationOutcome (current spec).
		return &pdsError{code: tooManyMatches}
	}
	bundle := fhir.Bundle{
		Type:      fhir.BundleTypeSearchset,
		Timestamp: ptr(s.world.Now().UTC().Format("2006-01-02T15:04:05.000Z")),
		Total:     ptr(len(matches)),
	}
	for _, m := range matches {
		res, err := patientJSON(m.p, true)
		if err != nil {
			return err
		}
		bundle.Entry = append(bundle.Entry, fhir.BundleEntry{
			FullUrl:  ptr(s.base + "/Patient/" + m.p.NHSNumber),
			Search:   &fhir.BundleEntrySearch{Score: ptr(json.Number(strconv.FormatFloat(m.score, 'f', -1, 64)))},
			Resource: res,
		})
	}
	return s.writeJSON(rw, http.StatusOK, bundle)
}

// parseQuery applies §2.1's parameter rules in the order NHS's sandbox
// applies them (docs/fidelity.md): no parameters, unknown parameters (all
// of them, in the order sent), then each date's form, then the minimum
// (birthdate, then family); repeats and the other values after that.
func parseQuery(raw string) (query, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, pdsErrorf(invalidSearchData, "Invalid search data provided - malformed query string")
	}
	if len(v) == 0 {
		return query{}, errNoSearchParameters
	}
	var unknown []string
	for _, name := range paramOrder(raw) {
		if _, known := repeatable[name]; !known {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return query{}, errUnexpectedParameters(unknown)
	}
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if limit := repeatable[name]; len(v[name]) > limit {
			return query{}, pdsErrorf(invalidSearchData, "Invalid search data provided - '%s' may be given at most %d time(s)", name, limit)
		}
	}
	birth, err := rangeParam(v[paramBirthdate], paramBirthdate)
	if err != nil {
		return query{}, err
	}
	var death *dateRange
	if v.Has(paramDeathDate) {
		d, err := rangeParam(v[paramDeathDate], paramDeathDate)
		if err != nil {
			return query{}, err
		}
		death = &d
	}
	if !v.Has(paramBirthdate) {
		return query{}, errNoBirthdate
	}
	if v.Get(paramFamily) == "" {
		return query{}, errNoFamily
	}
	q := query{
		birth:  birth,
		death:  death,
		family: v.Get(paramFamily),
		given:  v[paramGiven],
		gp:     v.Get(paramGP),
		email:  v.Get(paramEmail),
		phone:  v.Get(paramPhone),
		max:    defaultMaxResults,
	}
	if q.fuzzy, err = boolParam(v, paramFuzzy); err != nil {
		return query{}, err
	}
	if q.exact, err = boolParam(v, paramExact); err != nil {
		return query{}, err
	}
	if _, err = boolParam(v, paramHistory); err != nil {
		return query{}, err // accepted; the world keeps no history
	}
	if q.fuzzy && q.exact {
		return query{}, pdsErrorf(invalidSearchData, "Invalid search data provided - '_fuzzy-match' and '_exact-match' cannot both be true")
	}
	if v.Has(paramGender) {
		g := v.Get(paramGender)
		if enum[fhir.AdministrativeGender](g) == nil {
			return query{}, errInvalidValue(g, "field 'gender'")
		}
		q.gender = g
	}
	if m := v.Get(paramMaxResults); v.Has(paramMaxResults) {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > maxResultsLimit {
			return query{}, errInvalidValue(m, "field '_max-results'")
		}
		q.max = n
	}
	if v.Has(paramGP) && !odsPattern.MatchString(q.gp) {
		return query{}, errInvalidValue(q.gp, "field 'general-practitioner'")
	}
	for _, name := range []string{paramPostcode, paramPostalcode} {
		if v.Has(name) {
			q.postcodes = append(q.postcodes, v.Get(name))
		}
	}
	// §2.1: wildcards are allowed in names and postcodes, but not in the first
	// two characters and not in a fuzzy search.
	wild := map[string][]string{paramFamily: {q.family}, paramGiven: q.given}
	for _, name := range []string{paramPostcode, paramPostalcode} {
		wild[name] = v[name]
	}
	for _, name := range []string{paramFamily, paramGiven, paramPostcode, paramPostalcode} {
		for _, val := range wild[name] {
			i := strings.IndexByte(val, '*')
			switch {
			case i < 0:
			case q.fuzzy:
				return query{}, pdsErrorf(invalidSearchData, "Invalid search data provided - wildcards cannot be used in a fuzzy search ('%s' in field '%s')", val, name)
			case i < 2:
				return query{}, pdsErrorf(invalidSearchData, "Invalid search data provided - a wildcard needs at least two characters before it ('%s' in field '%s')", val, name)
			}
		}
	}
	return q, nil
}

// paramOrder lists the parameter names of a query string once each, in the
// order they first appear (url.Values forgets the order).
func paramOrder(raw string) []string {
	var names []string
	for part := range strings.SplitSeq(raw, "&") {
		key, _, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(key); err == nil && key != "" && !slices.Contains(names, key) {
			names = append(names, key)
		}
	}
	return names
}

// boolParam reads a true/false parameter; absent is false.
func boolParam(v url.Values, name string) (bool, error) {
	if !v.Has(name) {
		return false, nil
	}
	switch val := v.Get(name); val {
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, errInvalidValue(val, "field '"+name+"'")
	}
}

// rangeParam reads one or two eq|ge|le-prefixed dates (§2.1). One value is a
// single day or an open range; two must be a ge and a le.
func rangeParam(vals []string, name string) (dateRange, error) {
	var d dateRange
	var prefixes []string
	for _, val := range vals {
		m := datePattern.FindStringSubmatch(val)
		if m == nil {
			return d, errInvalidValue(val, "field '"+name+"'")
		}
		if _, err := time.Parse(time.DateOnly, m[2]); err != nil {
			return d, errInvalidValue(val, "field '"+name+"'")
		}
		prefix := m[1]
		if prefix == "" {
			prefix = "eq"
		}
		prefixes = append(prefixes, prefix)
		switch prefix {
		case "eq":
			d = dateRange{m[2], m[2]}
		case "ge":
			d.from = m[2]
		case "le":
			d.to = m[2]
		}
	}
	if len(vals) == 2 {
		slices.Sort(prefixes)
		if prefixes[0] != "ge" || prefixes[1] != "le" {
			return d, pdsErrorf(invalidSearchData, "Invalid search data provided - two '%s' values must be a range (one ge, one le)", name)
		}
	}
	return d, nil
}

// match reports whether p satisfies q, and its score: 1 when every name and
// postcode matched exactly, lower for wildcard or fuzzy matches.
func (q query) match(p world.Patient) (float64, bool) {
	if p.Name == nil {
		return 0, false // family is mandatory, and a minimal record has no name
	}
	score := scoreExact
	worse := func(s float64) {
		if s < score {
			score = s
		}
	}
	s, ok := q.matchName(q.family, p.Name.Family)
	if !ok {
		return 0, false
	}
	worse(s)
	for _, g := range q.given {
		best, found := 0.0, false
		for _, name := range p.Name.Given {
			if s, ok := q.matchName(g, name); ok && s > best {
				best, found = s, true
			}
		}
		if !found {
			return 0, false
		}
		worse(best)
	}
	if q.gender != "" && q.gender != p.Gender {
		return 0, false
	}
	if !q.birth.contains(p.BirthDate) {
		return 0, false
	}
	if q.death != nil && !q.death.contains(p.Deceased) {
		return 0, false
	}
	for _, pc := range q.postcodes {
		best, found := 0.0, false
		for _, a := range p.Address {
			if s, ok := wildcardMatch(normalisePostcode(pc), normalisePostcode(a.PostalCode)); ok && s > best {
				best, found = s, true
			}
		}
		if !found {
			return 0, false
		}
		worse(best)
	}
	if q.gp != "" && !strings.EqualFold(q.gp, p.Practice) {
		return 0, false
	}
	if q.email != "" && !hasTelecom(p, "email", q.email, strings.ToLower) {
		return 0, false
	}
	if q.phone != "" && !hasTelecom(p, "phone", q.phone, digits) {
		return 0, false
	}
	if q.exact && score < scoreExact {
		return 0, false // _exact-match: only exact matches
	}
	return score, true
}

// matchName compares a searched name with a recorded one, case-insensitively.
// A fuzzy search also accepts names within two edits of each other.
func (q query) matchName(want, got string) (float64, bool) {
	want, got = strings.ToLower(want), strings.ToLower(got)
	if !q.fuzzy {
		return wildcardMatch(want, got)
	}
	w, g := letters(want), letters(got)
	switch {
	case w == g:
		return scoreExact, true
	case suggest.Distance(w, g) <= 2:
		return scoreFuzzy, true
	}
	return 0, false
}

// wildcardMatch matches got against want, where a trailing or embedded "*"
// stands for any run of characters.
func wildcardMatch(want, got string) (float64, bool) {
	if !strings.Contains(want, "*") {
		return scoreExact, want == got
	}
	pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(want), `\*`, ".*") + "$"
	if regexp.MustCompile(pattern).MatchString(got) {
		return scoreWildcard, true
	}
	return 0, false
}

func hasTelecom(p world.Patient, system, want string, norm func(string) string) bool {
	for _, t := range p.Telecom {
		if t.System == system && norm(t.Value) == norm(want) {
			return true
		}
	}
	return false
}

func normalisePostcode(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, " ", ""))
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, s)
}
