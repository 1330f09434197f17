package scenario

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits bound the world a scenario may ask for. A scenario is a few
// hundred bytes of YAML but its generators can describe billions of slots,
// so the slots are counted arithmetically at load, before any is built,
// and a scenario over a limit is refused with its file:line:column like any
// other mistake. A zero field takes its value from DefaultLimits.
type Limits struct {
	// MaxSlotsPerPractice bounds one practice's slots, listed and
	// generated.
	MaxSlotsPerPractice int
	// MaxSlotsPerSession bounds the slots of every practice together.
	MaxSlotsPerSession int
}

// DefaultLimits are the limits of Load and LoadFile: the same slot limits
// as the sandbox's defaults (sandbox.DefaultLimits), so a file that passes
// `spine-sandbox check` also loads in a sandbox left at its defaults. A
// 100,000-slot world fits.
var DefaultLimits = Limits{
	MaxSlotsPerPractice: 200_000,
	MaxSlotsPerSession:  400_000,
}

func (l Limits) withDefaults() Limits {
	if l.MaxSlotsPerPractice <= 0 {
		l.MaxSlotsPerPractice = DefaultLimits.MaxSlotsPerPractice
	}
	if l.MaxSlotsPerSession <= 0 {
		l.MaxSlotsPerSession = DefaultLimits.MaxSlotsPerSession
	}
	return l
}

// LoadWith is Load with the given limits instead of DefaultLimits.
func LoadWith(file string, data []byte, lim Limits) (*Scenario, error) {
	return LoadOptions(file, data, Options{Limits: lim})
}

// LoadFileWith is LoadFile with the given limits instead of DefaultLimits.
func LoadFileWith(path string, lim Limits) (*Scenario, error) {
	return LoadFileOptions(path, Options{Limits: lim})
}

// Limits returns the limits the scenario was loaded with (DefaultLimits for
// one not made by a Load function).
func (s *Scenario) Limits() Limits { return s.limits.withDefaults() }

// SlotCount is how many slots the scenario's world holds at most, listed
// and generated, counted without making any: what a sandbox holding many
// sessions counts against its total.
func (s *Scenario) SlotCount() int {
	total := 0
	for _, p := range s.Practices {
		total = addSat(total, len(p.Slots))
		for _, g := range p.Generate {
			total = addSat(total, g.count())
		}
	}
	return total
}

// addSat adds non-negative counts, saturating at math.MaxInt instead of
// wrapping: a generator of days: 1e18 must be refused, not read as
// negative.
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// mulSat multiplies non-negative counts, saturating at math.MaxInt.
func mulSat(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// count returns how many slots g makes, at most, without making them: the
// days it covers times the slots of one day. With weekdays_only the days
// are an upper bound that holds whatever day the run starts on (5 of every
// 7, and at most 5 of the remainder). Values that validate refuses count
// as nothing, so a broken generator adds no second problem.
func (g Generator) count() int {
	if g.Days < 1 {
		return 0
	}
	days := g.Days
	if g.WeekdaysOnly {
		days = (g.Days/7)*5 + min(g.Days%7, 5)
	}
	perDay := len(g.Times)
	if perDay == 0 {
		step := int(g.Every.D() / time.Minute)
		if g.From == nil || g.Until == nil || step < 1 || *g.Until <= *g.From {
			return 0
		}
		// As slots() steps: from, from+every, ... while before until.
		perDay = (int(*g.Until-*g.From) + step - 1) / step
	}
	return mulSat(days, perDay)
}

// slotProblems counts the slots of s's world against lim, listed slots and
// generated ones alike. The decoded values hold a copy per YAML alias, so
// a generator written once and aliased eight times counts eight times. It
// reports the first thing over a limit in each practice (a generator that
// alone exceeds it, else the practice's total) and the whole world's total
// only when no practice is over, so one mistake gives one problem.
func slotProblems(s *Scenario, lim Limits) []Problem {
	var probs []Problem
	at := func(a At, key, format string, args ...any) {
		p, file := a.Of(key), a.file
		if file == "" {
			file = s.File
		}
		probs = append(probs, Problem{file, p.Line, p.Column, fmt.Sprintf(format, args...)})
	}
	total, anyOver := 0, false
	for _, p := range s.Practices {
		listed, sum := len(p.Slots), len(p.Slots)
		over := false
		for i, g := range p.Generate {
			n := g.count()
			if n > lim.MaxSlotsPerPractice && !over {
				at(g.At, "days", "practices[%s].generate[%d]: %s slots, over the limit of %s slots per practice",
					p.ODS, i, thousands(n), thousands(lim.MaxSlotsPerPractice))
				over = true
			}
			sum = addSat(sum, n)
		}
		if !over && sum > lim.MaxSlotsPerPractice {
			at(p.At, "ods", "practices[%s]: %s slots (%s listed, %s generated), over the limit of %s slots per practice",
				p.ODS, thousands(sum), thousands(listed), thousands(sum-listed), thousands(lim.MaxSlotsPerPractice))
			over = true
		}
		anyOver = anyOver || over
		total = addSat(total, sum)
	}
	if !anyOver && total > lim.MaxSlotsPerSession {
		at(s.At, "practices", "practices: %s slots in all, over the limit of %s slots per session",
			thousands(total), thousands(lim.MaxSlotsPerSession))
	}
	return probs
}

// thousands writes n with commas: 525,600,000. A count that saturated is
// written as the least it could be.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if n == math.MaxInt {
		s += " or more"
	}
	return s
}

// aliasBudget bounds how many values the decoder may visit beyond the
// nodes written in the document. Each YAML alias is decoded as a copy of
// what it names, so a few hundred bytes of nested aliases could otherwise
// make the decoder visit (and allocate) billions of values before any
// count refuses them. Honest reuse (a generator aliased a few times) is
// far below it.
const aliasBudget = 100_000

// countNodes counts the nodes written in the document, not following
// aliases: the decoder's honest work.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}
