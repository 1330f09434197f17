// Package nhsnumber validates NHS numbers with the Modulus 11 check digit
// used by PDS (pds-sds-fhir.md §2.6).
package nhsnumber

// Valid reports whether s is ten digits whose tenth digit is the Modulus 11
// check digit of the first nine. A computed check digit of 10 makes the number
// invalid; 11 means 0.
func Valid(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return check == int(s[9]-'0')
}

// CheckDigit returns the check digit for the nine-digit prefix p, or -1 when
// no valid NHS number starts with p.
func CheckDigit(p string) int {
	if len(p) != 9 {
		return -1
	}
	sum := 0
	for i := 0; i < 9; i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return -1
		}
		sum += int(c-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return 0
	case 10:
		return -1
	}
	return check
}
