package consumer

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// readSearchsetBoth says how searchsetOf and its reference read doc
// differently, or "" when they read it alike; onePass reports whether
// searchsetOf read it in one pass, and n how many resources it kept.
func readSearchsetBoth[T any](doc []byte, want string) (diff string, onePass bool, n int, err error) {
	text := func(rs []*T, err error) string {
		if len(rs) == 0 {
			rs = nil // none kept, whichever way it says so
		}
		b, merr := json.Marshal(rs)
		if merr != nil {
			return "marshal: " + merr.Error()
		}
		return fmt.Sprintf("%s\nerr: %v", b, err)
	}
	got, err := searchsetOf[T](doc, want)
	ref, refErr := searchsetTwoPasses[T](doc, want)
	if g, w := text(got, err), text(ref, refErr); g != w {
		diff = "searchsetOf:\n" + g + "\ntwo passes:\n" + w
	}
	_, fastErr := decodeR4[r4Searchset[T]](doc, "Bundle")
	return diff, fastErr == nil, len(got), err
}

// TestSearchsetOfLikeTwoPasses: searchsetOf keeps the resources, and
// fails, as the two passes it replaced did — for SDS's own answers (NHS's
// sandbox's, kept in fixtures/sds) read as Endpoints and as Devices, and
// for every value in them in turn replaced by one of each JSON kind (or
// another resource type, or an enum code outside its value set), and every
// member name in turn spelt in another case, escaped, or as another
// member's. The variants reach the one pass, the fallback, skipped entries
// and failed answers.
func TestSearchsetOfLikeTwoPasses(t *testing.T) {
	t.Parallel()
	kinds := []string{`5`, `true`, `null`, `"x"`, `{}`, `[]`, `[5]`, `["x"]`, `{"a":1}`,
		`"Device"`, `"Endpoint"`, `"Bundle"`, `"OperationOutcome"`, `"active"`, `"searchset"`, `"nonsense-code"`}
	var variants, differ, onePass, fallback, failed, fewer int
	for _, name := range []string{"endpoint_A20047_slot", "endpoint_Y12345_slot_partykey", "endpoint_no_match",
		"device_A20047_partykey", "device_consumer_manufacturer"} {
		doc, err := os.ReadFile("../../fixtures/sds/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		for _, read := range []struct {
			want string
			both func([]byte, string) (string, bool, int, error)
		}{
			{"Endpoint", readSearchsetBoth[r4Endpoint]},
			{"Device", readSearchsetBoth[r4Device]},
		} {
			d, _, whole, _ := read.both(doc, read.want)
			if d != "" {
				t.Errorf("%s as %s: %s", name, read.want, d)
			}
			try := func(what string, m []byte) {
				variants++
				d, one, n, err := read.both(m, read.want)
				switch {
				case d != "":
					differ++
					if differ <= 10 {
						t.Errorf("%s as %s, %s:\n%s", name, read.want, what, d)
					}
				case err != nil:
					failed++
				case n < whole:
					fewer++
				}
				if one {
					onePass++
				} else {
					fallback++
				}
			}
			values, names := spans(t, doc)
			for _, at := range values {
				for _, k := range kinds {
					try(fmt.Sprintf("%.40s → %s", doc[at[0]:at[1]], k), splice(doc, at, k))
				}
			}
			for _, at := range names {
				n := string(doc[at[0]+1 : at[1]-1])
				for _, spelt := range []string{
					`"` + strings.ToUpper(n[:1]) + n[1:] + `"`,
					fmt.Sprintf(`"\u%04x%s"`, n[0], n[1:]),
					`"resourceType"`, `"resource"`, `"identifier"`, `"entry"`,
				} {
					try("name "+n+" → "+spelt, splice(doc, at, spelt))
				}
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d variants read otherwise than the two passes read them", differ, variants)
	}
	if onePass == 0 || fallback == 0 || failed == 0 || fewer == 0 {
		t.Errorf("of %d variants, %d read in one pass, %d fell back, %d failed, %d kept fewer resources: the mutations reach too little",
			variants, onePass, fallback, failed, fewer)
	}
	t.Logf("%d variants: %d in one pass, %d fell back, %d failed, %d kept fewer resources", variants, onePass, fallback, failed, fewer)
}
