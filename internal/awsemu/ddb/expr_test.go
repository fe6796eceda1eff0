package ddb

import (
	"strings"
	"testing"
)

func sv(s string) *av { return &av{t: "S", s: s} }
func nv(n string) *av { c, _ := canonicalNumber(n); return &av{t: "N", s: c} }

func TestConditionsHoldAsDynamoDBEvaluatesThem(t *testing.T) {
	it := item{
		"pk": sv("GROUP#x"), "version": nv("3"), "name": sv("alice"),
		"tags": {t: "SS", set: []string{"a", "b"}},
		"m":    {t: "M", m: map[string]*av{"l": {t: "L", l: []*av{nv("1"), sv("two")}}}},
	}
	names := map[string]string{"#v": "version", "#n": "name", "#m": "m", "#l": "l"}
	values := map[string]*av{":3": nv("3"), ":4": nv("4.0"), ":a": sv("a"), ":al": sv("al"), ":S": sv("S"), ":two": sv("two")}
	cases := []struct {
		expr string
		want bool
	}{
		{"#v = :3", true},
		{"#v <> :3", false},
		{"#v < :4 AND #v >= :3", true},
		{"#v BETWEEN :3 AND :4", true},
		{"NOT #v = :3", false},
		{"NOT (#v = :4) and not (#v > :3)", true},
		{"#v = :4 OR attribute_exists(pk)", true},
		{"attribute_not_exists (pk)", false},
		{"attribute_not_exists(missing)", true},
		{"missing <> :3", true},
		{"missing = :3", false},
		{"#n = :3", false},
		{"#n > :3", false},
		{"begins_with(#n, :al)", true},
		{"begins_with (#n, :a)", true},
		{"contains(tags, :a)", true},
		{"contains(#n, :al)", true},
		{"attribute_type(#n, :S)", true},
		{"size(#n) = :4", false},
		{"size(tags) < :3", true},
		{"#m.#l[1] = :two", true},
		{"#m.#l[5] = :two", false},
		{"#v IN (:4, :3)", true},
		{"((#v = :3))", true},
	}
	for _, tc := range cases {
		env := newExprEnv(names, values)
		c, err := parseCondition(tc.expr, "ConditionExpression", env)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := c.holds(it); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestBadExpressionsAreRefusedClearly(t *testing.T) {
	names := map[string]string{"#v": "version"}
	values := map[string]*av{":1": nv("1"), ":s": sv("x")}
	cases := []struct {
		expr, what, want string
	}{
		{"", "ConditionExpression", "Invalid ConditionExpression: The expression can not be empty;"},
		{"#v = ", "ConditionExpression", "Invalid ConditionExpression: Syntax error; token: <EOF>"},
		{"#v = :1 AND", "ConditionExpression", "Invalid ConditionExpression: Syntax error; token: <EOF>"},
		{"(#v = :1", "ConditionExpression", "Syntax error; token: <EOF>"},
		{"#v = :1)", "ConditionExpression", `Syntax error; token: ")"`},
		{"#v ! :1", "ConditionExpression", `Syntax error; token: "!"`},
		{"#w = :1", "ConditionExpression", "attribute name: #w"},
		{"#v = :2", "ConditionExpression", "attribute value: :2"},
		{"nope(#v)", "ConditionExpression", "Invalid function name; function: nope"},
		{"attribute_exists(:1)", "ConditionExpression", "requires a document path"},
		{"begins_with(#v, :1)", "ConditionExpression", "operand type: N"},
		{"attribute_type(#v, :s)", "ConditionExpression", "Invalid attribute type name found in type: x"},
		{"SET #v = :1 SET #v = :1", "UpdateExpression", `The "SET" section can only be used once`},
		{"SET #v = :1, #v = :1", "UpdateExpression", "Two document paths overlap"},
		{"ADD #v :s", "UpdateExpression", "operator or function: ADD, operand type: STRING"},
		{"SET #v = size(#v)", "UpdateExpression", "Invalid function name; function: size"},
		{"UPSERT #v = :1", "UpdateExpression", `Syntax error; token: "UPSERT"`},
	}
	for _, tc := range cases {
		env := newExprEnv(names, values)
		var err *codedError
		if tc.what == "UpdateExpression" {
			_, err = parseUpdate(tc.expr, env)
		} else {
			_, err = parseCondition(tc.expr, tc.what, env)
		}
		if err == nil {
			t.Errorf("%q parsed", tc.expr)
			continue
		}
		if err.code != "ValidationException" || !strings.Contains(err.msg, tc.want) {
			t.Errorf("%q: %s: %s, want %q", tc.expr, err.code, err.msg, tc.want)
		}
	}
}

func TestUpdatesEvaluateAgainstTheOldItem(t *testing.T) {
	old := item{"pk": sv("k"), "a": nv("1"), "b": nv("10"), "l": {t: "L", l: []*av{sv("x"), sv("y"), sv("z")}}}
	env := newExprEnv(nil, map[string]*av{":one": nv("1"), ":new": {t: "L", l: []*av{sv("w")}}})
	_, err := parseUpdate("SET a = b, b = a + :one REMOVE l[0], l[2] SET c = list_append(:new, l)", env)
	if err == nil {
		t.Fatal("two SET clauses accepted")
	}
	actions, err := parseUpdate("SET a = b, b = a + :one, c = list_append(:new, l) REMOVE l[0], l[2]", newExprEnv(nil, env.values))
	if err != nil {
		t.Fatal(err)
	}
	got, uerr := applyUpdate(old, actions, []string{"pk"})
	if uerr != nil {
		t.Fatal(uerr)
	}
	if got["a"].s != "10" || got["b"].s != "2" {
		t.Errorf("a, b = %s, %s; want 10, 2 (both from the old item)", got["a"].s, got["b"].s)
	}
	if l := got["l"].l; len(l) != 1 || l[0].s != "y" {
		t.Errorf("l = %v, want [y]", l)
	}
	if c := got["c"].l; len(c) != 4 || c[0].s != "w" {
		t.Errorf("c = %v, want [w x y z]", c)
	}
	if len(old["l"].l) != 3 {
		t.Error("the old item was changed")
	}
}

func TestCanonicalNumbers(t *testing.T) {
	cases := map[string]string{
		"0": "0", "-0": "0", "007": "7", "1.50": "1.5", "1e3": "1000", "1.5E-3": "0.0015",
		"-12.3400": "-12.34", "+5": "5", ".5": "0.5", "5.": "5", "123456789012345678901234567890.5": "123456789012345678901234567890.5",
	}
	for in, want := range cases {
		got, err := canonicalNumber(in)
		if err != nil || got != want {
			t.Errorf("canonicalNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", "1e", "1.2.3", "0x10", "NaN", "1e999", "12345678901234567890123456789012345678901"} {
		if got, err := canonicalNumber(bad); err == nil {
			t.Errorf("canonicalNumber(%q) = %q, want an error", bad, got)
		}
	}
	if got, _ := addNumbers("0.1", "0.2", false); got != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, want exactly 0.3", got)
	}
}

// FuzzDynamoExpression: no input makes the parsers panic or loop, and every
// refusal is a ValidationException that says which expression was invalid.
func FuzzDynamoExpression(f *testing.F) {
	for _, s := range []string{
		"(attribute_not_exists (#0)) OR (#1 = :0)",
		"(#0 = :0) AND (begins_with (#1, :1))",
		"SET #0 = if_not_exists(#0, :0) + :1, #1 = list_append(#1, :1)\nREMOVE #2\nADD #3 :2",
		"#0, #1.#2[3]",
		"NOT (#0 BETWEEN :0 AND :1) AND #0 IN (:0, :1)",
		"size(#0) > :0", "((((", "#", ":", "a[99999999999999999999]",
	} {
		f.Add(s)
	}
	names := map[string]string{"#0": "a", "#1": "b", "#2": "c", "#3": "d"}
	values := map[string]*av{":0": nv("1"), ":1": sv("x"), ":2": {t: "NS", set: []string{"1"}}}
	f.Fuzz(func(t *testing.T, src string) {
		check := func(what string, err *codedError) {
			if err == nil {
				return
			}
			if err.code != "ValidationException" || !strings.HasPrefix(err.msg, "Invalid "+what) {
				t.Fatalf("%s %q: %s %s", what, src, err.code, err.msg)
			}
		}
		c, err := parseCondition(src, "ConditionExpression", newExprEnv(names, values))
		check("ConditionExpression", err)
		if c != nil {
			c.holds(item{"a": nv("1"), "b": {t: "L", l: []*av{sv("x")}}})
		}
		acts, err := parseUpdate(src, newExprEnv(names, values))
		check("UpdateExpression", err)
		if acts != nil {
			_, _ = applyUpdate(item{"pk": sv("k"), "a": nv("2")}, acts, []string{"pk"})
		}
		_, err = parseProjection(src, newExprEnv(names, values))
		check("ProjectionExpression", err)
	})
}
