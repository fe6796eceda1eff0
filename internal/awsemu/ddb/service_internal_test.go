package ddb

import (
	"net/http/httptest"
	"testing"
)

// The seam to the shared core: which targets are DynamoDB operations this
// emulator answers, and the wire shape of an answer.

func TestOperationKnowsOnlyDynamoDBTargetsItAnswers(t *testing.T) {
	for _, tc := range []struct {
		target, op string
		write, ok  bool
	}{
		{"DynamoDB_20120810.PutItem", "PutItem", true, true},
		{"DynamoDB_20120810.GetItem", "GetItem", false, true},
		{"DynamoDB_20120810.TransactWriteItems", "TransactWriteItems", true, true},
		{"DynamoDB_20120810.Scan", "Scan", false, false}, // not emulated
		{"AmazonSSM.PutItem", "AmazonSSM.PutItem", false, false},
		{"PutItem", "PutItem", false, false}, // without DynamoDB's prefix
		{"", "", false, false},
	} {
		op, write, ok := Operation(tc.target)
		if op != tc.op || write != tc.write || ok != tc.ok {
			t.Errorf("Operation(%q) = %q, %v, %v; want %q, %v, %v", tc.target, op, write, ok, tc.op, tc.write, tc.ok)
		}
	}
}

func TestAnswerWordsFailuresAsDynamoDB(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          *Fail
		status     int
		code, body string
	}{
		{"validation", invalid("bad %s", "thing"), 400, "ValidationException",
			`{"__type":"com.amazon.coral.validate#ValidationException","message":"bad thing"}`},
		{"unknown operation has no message", UnknownOperation(), 400, "UnknownOperationException",
			`{"__type":"com.amazon.coral.service#UnknownOperationException"}`},
		{"transaction cancelled spells Message", &Fail{status: 400, code: "TransactionCanceledException", msg: "m"}, 400, "TransactionCanceledException",
			`{"Message":"m","__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException"}`},
		{"core failure", Failure(500, "InternalServerError", "Internal server error"), 500, "InternalServerError",
			`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`},
	} {
		w := httptest.NewRecorder()
		status, code := Answer(w, "rid", nil, tc.f)
		if status != tc.status || code != tc.code || w.Code != tc.status {
			t.Errorf("%s: status %d (wrote %d), code %q; want %d, %q", tc.name, status, w.Code, code, tc.status, tc.code)
		}
		if got := w.Body.String(); got != tc.body {
			t.Errorf("%s: body %s; want %s", tc.name, got, tc.body)
		}
		if w.Header().Get("X-Amzn-RequestId") != "rid" || w.Header().Get("X-Amz-Crc32") == "" {
			t.Errorf("%s: headers %v", tc.name, w.Header())
		}
	}
	w := httptest.NewRecorder()
	if status, code := Answer(w, "rid", nil, nil); status != 200 || code != "" || w.Body.String() != "{}" {
		t.Errorf("empty success: %d %q %s", status, code, w.Body.String())
	}
}
