package awscall

import (
	"net/http"
	"testing"
)

func TestErrorOf(t *testing.T) {
	for _, c := range []struct {
		header, body, code, msg string
	}{
		{"", `{"__type":"com.amazonaws.eventbridge#ResourceNotFoundException","message":"no bus"}`, "ResourceNotFoundException", "no bus"},
		{"InvalidAccessException:http://internal.amazon.com/coral/", `{"Code":"X","Message":"not subscribed"}`, "InvalidAccessException", "not subscribed"},
		{"", `{"Code":"InvalidInputException","Message":"bad"}`, "InvalidInputException", "bad"},
		{"", `{"code":"ThrottlingException"}`, "ThrottlingException", ""},
		{"", `not json`, "", ""},
	} {
		h := http.Header{}
		if c.header != "" {
			h.Set("X-Amzn-ErrorType", c.header)
		}
		if code, msg := ErrorOf(h, []byte(c.body)); code != c.code || msg != c.msg {
			t.Errorf("%q %q: got %q %q, want %q %q", c.header, c.body, code, msg, c.code, c.msg)
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		status int
		code   string
		want   bool
	}{{500, "", true}, {503, "ServiceUnavailable", true}, {429, "", true}, {400, "ThrottlingException", true},
		{400, "ResourceNotFoundException", false}, {403, "AccessDeniedException", false}} {
		if got := Retryable(c.status, c.code); got != c.want {
			t.Errorf("Retryable(%d, %q) = %v", c.status, c.code, got)
		}
	}
}
