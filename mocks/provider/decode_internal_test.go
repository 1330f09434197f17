package provider

import (
	"testing"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/gpc"
)

// TestDecodeAppointmentOrder: an Appointment body's faults are reported in
// one order — its resourceType, then elements the profile does not allow,
// then a badly typed element — wherever in the body each lies, and the
// resourceType is read as the decoder reads it (any case, the last of
// two).
func TestDecodeAppointmentOrder(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, msg string }{
		{"another resource with a badly typed element", `{"start":1,"resourceType":"Patient"}`,
			`Request body must be an Appointment resource, got "Patient"`},
		// A fault inside a lenient list (its own decoder's error) stops the
		// decode before it reaches the resourceType.
		{"another resource after a fault that stops the decode", `{"contained":[{"telecom":{"system":1}}],"resourceType":"Patient"}`,
			`Request body must be an Appointment resource, got "Patient"`},
		{"a resourceType that is not a string", `{"resourceType":1,"start":"x"}`,
			`Request body must be an Appointment resource, got ""`},
		{"no resourceType", `{"start":"2026-05-12T09:00:00+01:00"}`,
			`Request body must be an Appointment resource, got ""`},
		{"the last of two resourceTypes, in any case", `{"resourceType":"Appointment","ResourceType":"Patient"}`,
			`Request body must be an Appointment resource, got "Patient"`},
		{"a forbidden element and a badly typed one", `{"start":1,"resourceType":"Appointment","reason":[]}`,
			`Appointment carries elements GPConnect-Appointment-1 does not allow: reason`},
		{"a badly typed element", `{"start":1,"resourceType":"Appointment"}`,
			`Appointment is not valid: json: cannot unmarshal number into Go struct field Appointment.start of type string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeAppointmentBody([]byte(tt.body))
			e := gpc.AsError(err)
			assert.Equal(t, e.Code, gpc.InvalidResource, "code")
			assert.Equal(t, e.Diagnostics, tt.msg, "diagnostics")
		})
	}
	a, err := decodeAppointmentBody([]byte(`{"resourceType":"Appointment","status":"booked"}`))
	assert.NilError(t, err)
	assert.Equal(t, a.Status, "booked", "status")
}
