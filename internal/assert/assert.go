// Package assert holds the few generic test assertions the project's tests
// share, in place of an assertion framework.
package assert

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nsf/jsondiff"
)

// Equal fails the test when got != want.
func Equal[T comparable](t testing.TB, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// DeepEqual fails the test when got and want differ by reflect.DeepEqual.
func DeepEqual(t testing.TB, got, want any, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// NilError stops the test when err is not nil.
func NilError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// Contains fails the test when s does not contain sub.
func Contains(t testing.TB, s, sub, what string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}

// JSONEqual fails the test when the JSON documents got and want differ
// (key order and white space aside), printing jsondiff's explanation.
func JSONEqual(t testing.TB, got, want []byte, what string) {
	t.Helper()
	opts := jsondiff.DefaultConsoleOptions()
	if d, diff := jsondiff.Compare(got, want, &opts); d != jsondiff.FullMatch {
		t.Errorf("%s: %s\n%s", what, d, diff)
	}
}
