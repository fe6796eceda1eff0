package awsemu

import (
	"net/http"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu/ddb"
)

// DynamoDB lives in its own package, internal/awsemu/ddb: tables,
// expressions, items, queries, batches and transactions. This file is the
// seam: the core reads, authenticates and logs the call and applies the
// injected faults (worded as DynamoDB by dynamoFault); ddb runs the
// operation and words its answer; raceIf is how a conditional write asks
// for its FaultConditionalRace.

// serveDynamoDB answers one DynamoDB call: faults first, then the operation,
// then the answer with DynamoDB's headers and error shape.
func (s *Server) serveDynamoDB(w http.ResponseWriter, req *request) {
	req.protocol = protoJSON
	op, write, ok := ddb.Operation(req.r.Header.Get("X-Amz-Target"))
	req.op = op
	if !ok {
		s.ddbFinish(w, req, nil, ddb.UnknownOperation(), false)
		return
	}
	if e := s.applyFaults(req); e != nil {
		s.ddbFinish(w, req, nil, ddb.Failure(e.status, e.code, e.message), write)
		return
	}
	if e := regionCheckJSON(s, req); e != nil {
		s.ddbFinish(w, req, nil, ddb.Failure(e.status, e.code, e.message), write)
		return
	}
	out, f := s.dynamo.Serve(&ddb.Call{
		Account: req.account, Region: req.region, Op: op, Body: req.body,
		Race: func() bool { return s.raceIf(req) },
	})
	s.ddbFinish(w, req, out, f, write)
}

func (s *Server) ddbFinish(w http.ResponseWriter, req *request, out any, f *ddb.Fail, write bool) {
	status, code := ddb.Answer(w, req.id, out, f)
	s.logCall(req, Call{
		Service: req.service, Operation: req.op, Region: req.region, Account: req.account,
		Caller: req.caller, Status: status, ErrorCode: code, Write: write,
	})
}

// TableItems returns a copy of every item of a table as plain JSON
// (DynamoDB's wire form, {"pk":{"S":"..."}}), for tests to inspect state.
func (s *Server) TableItems(account, region, table string) []string {
	return s.dynamo.Items(account, region, table)
}

// dynamoFault words an injected fault as DynamoDB does.
func dynamoFault(req *request, kind FaultKind, denied string) *apiError {
	switch kind {
	case FaultThrottle:
		switch req.op {
		case "CreateTable", "DescribeTable", "DeleteTable", "UpdateTimeToLive", "DescribeTimeToLive":
			return apiErr(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
		}
		return apiErr(400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
	case FaultServerError:
		return apiErr(500, "InternalServerError", "Internal server error")
	case FaultAccessDenied:
		return apiErr(400, "AccessDeniedException", denied)
	case FaultTooManyUpdates:
		return apiErr(400, "TransactionConflictException", "Transaction is ongoing for the item")
	}
	return apiErr(500, "InternalServerError", "unknown fault kind")
}

// raceIf takes the first armed FaultConditionalRace matching a conditional
// write; ddb asks only for conditional writes (an unconditional write never
// loses a race, so it leaves the fault armed). With a Race function the
// competing write runs now and the call then proceeds against the changed
// state; without one, forced is true and the call's conditions fail as they
// would had another writer got there first.
func (s *Server) raceIf(req *request) (forced bool) {
	var hit *faultEntry
	s.mu.Lock()
	for _, f := range s.faults {
		if f.Kind != FaultConditionalRace || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		if f.matches(req.service, req.op, req.region) {
			f.used++
			hit = f
			break
		}
	}
	s.mu.Unlock()
	if hit == nil {
		return false
	}
	if hit.Race != nil {
		hit.Race()
		return false
	}
	return true
}
