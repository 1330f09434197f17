package ssp

import (
	"net/http"
	"reflect"
	"testing"
)

// TestAddHeaderLeavesTheAnswer: the answer's headers are copied less the
// hop-by-hop ones and those its Connection names (what ReverseProxy copies
// after removing them), and the answer's own map is not changed: the
// sandbox's journal keeps it (ForwardedLocally).
func TestAddHeaderLeavesTheAnswer(t *testing.T) {
	src := http.Header{
		"Content-Type": {"application/fhir+json"}, "Connection": {"X-Secret, keep-alive"}, "X-Secret": {"hop"},
		"Keep-Alive": {"timeout=5"}, "Transfer-Encoding": {"chunked"}, "X-Many": {"1", "2"}, "Empty": {},
	}
	before := src.Clone()
	dst := http.Header{"X-Many": {"0"}}
	addHeader(dst, src)
	want := http.Header{"Content-Type": {"application/fhir+json"}, "X-Many": {"0", "1", "2"}}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("copied %v, want %v", dst, want)
	}
	if !reflect.DeepEqual(src, before) {
		t.Errorf("the answer's headers changed: %v, were %v", src, before)
	}
}
