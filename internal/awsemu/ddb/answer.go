package ddb

import (
	"encoding/json"
	"hash/crc32"
	"net/http"
	"strconv"
)

// Fail is a DynamoDB error answer; extra fields (CancellationReasons,
// Item) go into the JSON body beside __type and message.
type Fail struct {
	status int
	code   string
	msg    string
	extra  map[string]any
}

func failOf(e *codedError) *Fail { return &Fail{status: 400, code: e.code, msg: e.msg} }

func notFound() *Fail {
	return &Fail{status: 400, code: "ResourceNotFoundException", msg: "Requested resource not found"}
}

func invalid(format string, args ...any) *Fail {
	return failOf(validationErr(format, args...))
}

// namespaces are the __type prefixes DynamoDB answers with: coral's for
// the generic errors, DynamoDB's own for the service's.
var namespaces = map[string]string{
	"ValidationException":                 "com.amazon.coral.validate#",
	"SerializationException":              "com.amazon.coral.service#",
	"UnknownOperationException":           "com.amazon.coral.service#",
	"AccessDeniedException":               "com.amazon.coral.service#",
	"UnrecognizedClientException":         "com.amazon.coral.service#",
	"MissingAuthenticationTokenException": "com.amazon.coral.service#",
	"IncompleteSignatureException":        "com.amazon.coral.service#",
	"ThrottlingException":                 "com.amazon.coral.availability#",
}

func typeOf(code string) string {
	if ns, ok := namespaces[code]; ok {
		return ns + code
	}
	return "com.amazonaws.dynamodb.v20120810#" + code
}

// Failure is a DynamoDB error answer the shared core decided on (an injected
// fault, a disabled Region).
func Failure(status int, code, msg string) *Fail { return &Fail{status: status, code: code, msg: msg} }

// Answer writes a DynamoDB answer: out as JSON, or f in DynamoDB's error
// shape, with DynamoDB's headers. It returns the HTTP status and the error
// code ("" on success) for the call log.
func Answer(w http.ResponseWriter, requestID string, out any, f *Fail) (status int, code string) {
	status = http.StatusOK
	var body []byte
	if f != nil {
		status, code = f.status, f.code
		m := map[string]any{"__type": typeOf(f.code)}
		for k, v := range f.extra {
			m[k] = v
		}
		// TransactionCanceledException spells its message "Message"; every
		// other DynamoDB error "message".
		if f.code == "TransactionCanceledException" {
			m["Message"] = f.msg
		} else if f.msg != "" {
			m["message"] = f.msg
		}
		body, _ = json.Marshal(m)
	} else {
		if out == nil {
			out = struct{}{}
		}
		var err error
		body, err = json.Marshal(out)
		if err != nil {
			status, code = 500, "InternalServerError"
			body = []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", requestID)
	// The SDK checks this header against the body when present.
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status, code
}
