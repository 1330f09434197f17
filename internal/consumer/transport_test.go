package consumer

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/stu3"
)

// TestReadBody: an answer of known length is read into a buffer of its
// size; any answer, of known length or not, is cut at maxBody.
func TestReadBody(t *testing.T) {
	t.Parallel()
	read := func(length int64, body []byte) []byte {
		b, err := readBody(&http.Response{ContentLength: length, Body: io.NopCloser(bytes.NewReader(body))}, nil)
		assert.NilError(t, err)
		return b
	}
	b := read(100, bytes.Repeat([]byte("x"), 100))
	assert.Equal(t, len(b)*1000+cap(b), 100*1000+100, "length and capacity")
	assert.Equal(t, len(read(-1, bytes.Repeat([]byte("x"), 100))), 100, "unknown length")
	big := bytes.Repeat([]byte("x"), maxBody+10)
	assert.Equal(t, len(read(int64(len(big)), big)), maxBody, "a longer answer")
	assert.Equal(t, len(read(-1, big)), maxBody, "a longer answer of unknown length")
	_, err := readBody(&http.Response{ContentLength: 10, Body: io.NopCloser(strings.NewReader("short"))}, nil)
	assert.Equal(t, err, io.ErrUnexpectedEOF, "an answer shorter than it says")
}

// TestDecodesCopyTheirAnswer: what each answer decodes to holds nothing of
// the answer's bytes — scribbling over them after the decode changes none
// of it — so an answer's buffer can serve the next answer (release).
func TestDecodesCopyTheirAnswer(t *testing.T) {
	t.Parallel()
	a := journeyAnswers(t)
	apptList := []byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + string(a["Appointment"]) + `}]}`)
	tests := []struct {
		name   string
		answer []byte
		decode func(body []byte) (any, error)
	}{
		{"slot searchset", a["Slot"], func(b []byte) (any, error) { return parseSlots(b) }},
		{"PDS patient", a["9693632109"], func(b []byte) (any, error) { return decodeR4[r4Patient](b, "Patient") }},
		{"SDS endpoints", a["Endpoint"], func(b []byte) (any, error) { return decodeR4[r4Bundle](b, "Bundle") }},
		{"SDS devices", a["Device"], func(b []byte) (any, error) { return decodeR4[r4Bundle](b, "Bundle") }},
		{"capability statement", a["metadata"], func(b []byte) (any, error) {
			var cs stu3.CapabilityStatement
			return &cs, unmarshal(b, &cs)
		}},
		{"patient search", a["Patient"], func(b []byte) (any, error) { return firstPatient(b) }},
		{"appointment", a["Appointment"], func(b []byte) (any, error) {
			return decodeAppointment(call{}, &response{status: 200, header: http.Header{}, body: b})
		}},
		{"appointment list", apptList, func(b []byte) (any, error) {
			var bundle stu3.Bundle
			if err := unmarshal(b, &bundle); err != nil {
				return nil, err
			}
			var out []*stu3.Appointment
			for _, e := range bundle.Entry {
				a := new(stu3.Appointment)
				if err := unmarshal(e.Resource, a); err != nil {
					return nil, err
				}
				out = append(out, a)
			}
			return &bundle, nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := bytes.Clone(tc.answer)
			v, err := tc.decode(body)
			assert.NilError(t, err)
			before, err := json.Marshal(v)
			assert.NilError(t, err)
			for i := range body {
				body[i] = 'x'
			}
			after, err := json.Marshal(v)
			assert.NilError(t, err)
			if !bytes.Equal(before, after) {
				t.Errorf("the decoded %s changed with its answer's bytes", tc.name)
			}
		})
	}
}

// TestReleasedBufferServesTheNextAnswer: a released answer's buffer is
// read into again, and what was decoded from it stays as it was.
func TestReleasedBufferServesTheNextAnswer(t *testing.T) {
	first := &http.Response{ContentLength: -1, Body: io.NopCloser(strings.NewReader(`{"resourceType":"Bundle","id":"one"}`))}
	buf := bodies.Get().(*[]byte)
	b, err := readBody(first, (*buf)[:0])
	assert.NilError(t, err)
	*buf = b
	r := &response{status: 200, body: b, buf: buf}
	var one stu3.Bundle
	assert.NilError(t, unmarshal(r.body, &one))
	r.release()
	assert.Equal(t, r.body == nil && r.buf == nil, true, "a released response lets go of its body")
	next, err := readBody(&http.Response{ContentLength: -1, Body: io.NopCloser(strings.NewReader(`{"resourceType":"Bundle","id":"two"}`))}, (*buf)[:0])
	assert.NilError(t, err)
	assert.Equal(t, string(next), `{"resourceType":"Bundle","id":"two"}`, "the next answer")
	assert.Equal(t, one.ID, "one", "the first answer's decode")
}
