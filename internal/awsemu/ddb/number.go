package ddb

import (
	"math/big"
	"strings"
)

// Numbers: DynamoDB keeps up to 38 significant digits, in canonical form
// (no leading or trailing zeros), and compares and adds them exactly.

// notANumber is DynamoDB's refusal of a number (DynamoDB Local words it
// "A value provided cannot be converted into a number"; the service and
// moto as below).
func notANumber(n string) *codedError {
	return validationErr("The parameter cannot be converted to a numeric value: %s", n)
}

// canonicalNumber validates a DynamoDB number and returns it with leading and
// trailing zeros trimmed and without an exponent, as DynamoDB stores it.
// DynamoDB keeps 38 significant digits, magnitudes 1E-130 to 9.9999999E+125.
func canonicalNumber(n string) (string, error) {
	s := strings.TrimSpace(n)
	if s == "" {
		return "", notANumber(n)
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, ok := parseSmallInt(s[i+1:])
		if !ok {
			return "", notANumber(n)
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return "", notANumber(n)
	}
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return "", notANumber(n)
		}
	}
	digits := intPart + frac
	// value = 0.digits × 10^point, with point counted from the left.
	point := len(intPart) + exp
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	digits = strings.TrimLeft(digits, "0")
	point -= lead
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return "0", nil
	}
	if len(digits) > 38 {
		return "", validationErr("Attempting to store more than 38 significant digits in a Number")
	}
	if point > 126 {
		return "", validationErr("Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	if point < -129 {
		return "", validationErr("Number underflow. Attempting to store a number with magnitude smaller than supported range")
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String(), nil
}

func parseSmallInt(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func ratOf(n string) *big.Rat {
	r, ok := new(big.Rat).SetString(n)
	if !ok {
		return new(big.Rat)
	}
	return r
}

func cmpNumber(a, b string) int { return ratOf(a).Cmp(ratOf(b)) }

// addNumbers adds (or subtracts) two canonical numbers exactly.
func addNumbers(a, b string, subtract bool) (string, error) {
	x, y := ratOf(a), ratOf(b)
	if subtract {
		y.Neg(y)
	}
	sum := new(big.Rat).Add(x, y)
	prec := max(fracDigits(a), fracDigits(b))
	return canonicalNumber(sum.FloatString(prec))
}

func fracDigits(n string) int {
	if _, f, ok := strings.Cut(n, "."); ok {
		return len(f)
	}
	return 0
}
