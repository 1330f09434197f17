package nhsnumber

import "testing"

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"9000000009", true},
		{"9111231130", true},
		{"9693632109", true},
		{"9733162043", true},
		{"9736363015", true},
		{"9000000025", true},
		{"9000000033", true},
		{"9000000000", false},
		{"9000000001", false},
		{"900000000", false},
		{"90000000099", false},
		{"900000000a", false},
		{"", false},
		{"1000000010", false}, // check digit would be 10
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	t.Parallel()
	if got := CheckDigit("900000000"); got != 9 {
		t.Errorf("CheckDigit(900000000) = %d, want 9", got)
	}
	if got := CheckDigit("12345678"); got != -1 {
		t.Errorf("CheckDigit(short) = %d, want -1", got)
	}
}
