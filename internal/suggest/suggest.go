// Package suggest finds the name a user probably meant ("did you mean"),
// for the scenario loader's keys, check names and interactions and for the
// admin API's scenario names.
package suggest

import "strings"

// Closest returns the candidate nearest to word, or "" when none is near
// enough to be a likely typo: an edit distance of at most a third of the
// word's length (at least 1, at most 3). Case is ignored.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	if w == "" {
		return ""
	}
	limit := min(max(len([]rune(w))/3, 1), 3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == w {
			return c
		}
		d := Distance(w, lc)
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Hint is ` (did you mean "X"?)`, or "" when Closest finds nothing.
func Hint(word string, candidates []string) string {
	if c := Closest(word, candidates); c != "" && c != word {
		return ` (did you mean "` + c + `"?)`
	}
	return ""
}

// Distance is the Levenshtein distance between a and b, in runes: the
// edits that turn one into the other (PDS's fuzzy name match uses it too).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
