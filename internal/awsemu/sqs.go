package awsemu

import (
	"encoding/json"
	"net/http"
	"strings"
)

// SQS: standard queues on the AWS JSON 1.0 protocol (X-Amz-Target:
// AmazonSQS.<Op>), as aws-sdk-go-v2 speaks it since SQS moved off the Query
// protocol. Queues live per account and Region; the SDK sends the QueueUrl
// in the body and the emulator resolves it (sqs_queues.go). FIFO queues,
// dead-letter redrive, batches and permissions are not emulated.
//
// SQS is "awsQueryCompatible": an error's __type is its JSON shape ID, and
// the x-amzn-query-error header carries the old Query code and fault
// ("AWS.SimpleQueueService.NonExistentQueue;Sender"), which the SDK reports
// as the error's code. Errors the SQS model declares are in its namespace
// (com.amazonaws.sqs#QueueDoesNotExist); the generic ones in coral's, as AWS
// answers them (an oversize message seen from AWS in 2026:
// com.amazon.coral.service#InvalidParameterValueException with
// InvalidParameterValue;Sender).

const sqsTargetPrefix = "AmazonSQS."

// sqsFail is an SQS error answer.
type sqsFail struct {
	status int
	typ    string // the JSON __type
	query  string // the Query-protocol code of x-amzn-query-error
	msg    string
}

func (f *sqsFail) sender() string {
	if f.status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// sqsModelled is an error the SQS model declares, with the model's status.
func sqsModelled(status int, shape, query, msg string) *sqsFail {
	return &sqsFail{status: status, typ: "com.amazonaws.sqs#" + shape, query: query, msg: msg}
}

// sqsGeneric is an error SQS shares with other services.
func sqsGeneric(status int, code, msg string) *sqsFail {
	return &sqsFail{status: status, typ: "com.amazon.coral.service#" + code + "Exception", query: code, msg: msg}
}

func sqsInvalidValue(msg string) *sqsFail { return sqsGeneric(400, "InvalidParameterValue", msg) }

func sqsMissing(param string) *sqsFail {
	// Not seen from AWS: shaped by analogy with InvalidParameterValue, the
	// message as the Query protocol words it.
	return sqsGeneric(400, "MissingParameter", "The request must contain the parameter "+param+".")
}

func sqsNoQueue() *sqsFail {
	return sqsModelled(400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

type sqsHandler struct {
	write bool
	fn    func(s *Server, req *request) (any, *sqsFail)
}

var sqsOps = map[string]sqsHandler{
	"CreateQueue":    {write: true, fn: (*Server).sqsCreateQueue},
	"GetQueueUrl":    {fn: (*Server).sqsGetQueueURL},
	"SendMessage":    {write: true, fn: (*Server).sqsSendMessage},
	"ReceiveMessage": {write: true, fn: (*Server).sqsReceiveMessage}, // it changes visibility
	"DeleteMessage":  {write: true, fn: (*Server).sqsDeleteMessage},
}

// serveSQS answers one SQS call: faults first, then the operation.
func (s *Server) serveSQS(w http.ResponseWriter, req *request) {
	req.protocol = protoJSON
	target := req.r.Header.Get("X-Amz-Target")
	req.op = strings.TrimPrefix(target, sqsTargetPrefix)
	h, ok := sqsOps[req.op]
	if !ok || !strings.HasPrefix(target, sqsTargetPrefix) {
		s.sqsFinish(w, req, nil, sqsGeneric(400, "UnknownOperation", ""), false)
		return
	}
	if e := s.applyFaults(req); e != nil {
		s.sqsFinish(w, req, nil, sqsFault(e), h.write)
		return
	}
	if s.regionDisabled(req.account, req.region) {
		// As the other JSON services answer a Region the account has not
		// enabled; SQS's own wording is not documented.
		s.sqsFinish(w, req, nil, &sqsFail{status: 400, typ: "com.amazon.coral.service#UnrecognizedClientException",
			query: "InvalidClientTokenId", msg: "The security token included in the request is invalid."}, h.write)
		return
	}
	out, f := h.fn(s, req)
	s.sqsFinish(w, req, out, f, h.write)
}

// sqsFault turns an injected fault (answered in the Query services' codes
// by faultError) into SQS's: RequestThrottled (modelled, and retried as
// throttling by the SDK), InternalFailure, AccessDenied.
func sqsFault(e *apiError) *sqsFail {
	switch {
	case e.status >= 500:
		return &sqsFail{status: 500, typ: "com.amazon.coral.service#InternalFailure", query: "InternalFailure", msg: "An internal error occurred"}
	case e.code == "AccessDenied":
		return &sqsFail{status: 403, typ: "com.amazon.coral.service#AccessDeniedException", query: "AccessDenied", msg: e.message}
	}
	return sqsModelled(403, "RequestThrottled", "RequestThrottled", "Rate exceeded")
}

func (s *Server) sqsFinish(w http.ResponseWriter, req *request, out any, f *sqsFail, write bool) {
	status, code := http.StatusOK, ""
	var body []byte
	if f != nil {
		status, code = f.status, f.query
		m := map[string]string{"__type": f.typ}
		if f.msg != "" {
			m["message"] = f.msg
		}
		body, _ = json.Marshal(m)
		w.Header().Set("X-Amzn-Query-Error", f.query+";"+f.sender())
	} else {
		if out == nil {
			out = struct{}{}
		}
		body, _ = json.Marshal(out)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", req.id)
	w.WriteHeader(status)
	_, _ = w.Write(body)
	s.logCall(req, Call{
		Service: req.service, Operation: req.op, Region: req.region, Account: req.account,
		Caller: req.caller, Status: status, ErrorCode: code, Write: write,
	})
}

// decodeSQS decodes a request body; SQS answers a body of the wrong shape
// as coral does for every JSON service.
func decodeSQS(req *request, into any) *sqsFail {
	if err := json.Unmarshal(req.body, into); err != nil {
		return sqsGeneric(400, "Serialization", "Start of structure or map found where not expected")
	}
	return nil
}
