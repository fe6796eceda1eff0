package awsemu

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiError is an AWS error answer: HTTP status, error code, message.
type apiError struct {
	status  int
	code    string
	message string
}

func apiErr(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, message: msg}
}

func apiErrf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// xmlNamespaces are the response namespaces of the Query services.
var xmlNamespaces = map[string]string{
	"iam":            "https://iam.amazonaws.com/doc/2010-05-08/",
	"sns":            "http://sns.amazonaws.com/doc/2010-03-31/",
	"sts":            "https://sts.amazonaws.com/doc/2011-06-15/",
	"cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
}

func writeError(w http.ResponseWriter, req *request, e *apiError) {
	switch req.protocol {
	case protoQuery:
		typ := "Sender"
		if e.status >= 500 {
			typ = "Receiver"
		}
		ns := xmlNamespaces[req.service]
		if ns == "" {
			ns = xmlNamespaces["iam"]
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			ns, typ, esc(e.code), esc(e.message), req.id)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(e.status)
		_, _ = w.Write([]byte(b.String()))
	case protoREST:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", e.code)
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": e.message})
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(e.status)
		body := map[string]string{"__type": e.code}
		if e.message != "" {
			body["Message"] = e.message
		}
		_ = json.NewEncoder(w).Encode(body)
	}
}

// xmlResult is the answer of a Query operation: the inner XML of
// <OpResult>, or no Result element at all when noResult is set.
type xmlResult struct {
	inner    string
	noResult bool
}

func writeOK(w http.ResponseWriter, req *request, out any) {
	switch req.protocol {
	case protoQuery:
		res, _ := out.(xmlResult)
		ns := xmlNamespaces[req.service]
		var b strings.Builder
		fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, req.op, ns)
		if !res.noResult {
			fmt.Fprintf(&b, "<%sResult>%s</%sResult>", req.op, res.inner, req.op)
		}
		fmt.Fprintf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", req.id, req.op)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(b.String()))
	default:
		ct := "application/x-amz-json-1.1"
		if req.protocol == protoREST {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		if out == nil {
			out = struct{}{}
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

// esc escapes text for an XML element.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xb builds the inner XML of a Query result.
type xb struct{ b strings.Builder }

func (x *xb) open(name string)  { x.b.WriteString("<" + name + ">") }
func (x *xb) close(name string) { x.b.WriteString("</" + name + ">") }
func (x *xb) leaf(name, v string) {
	x.b.WriteString("<" + name + ">" + esc(v) + "</" + name + ">")
}
func (x *xb) result() xmlResult { return xmlResult{inner: x.b.String()} }

func iso8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// policyEscape URL-encodes a policy document the way IAM returns it
// (RFC 3986: every byte but the unreserved characters is percent-encoded, so
// a space is %20, never "+").
func policyEscape(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func parseForm(body []byte) (map[string][]string, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parsing form body: %w", err)
	}
	return v, nil
}
