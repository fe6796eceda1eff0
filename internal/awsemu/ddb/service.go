// Package ddb is the emulator's DynamoDB: the subset the run ledger uses, on
// the JSON 1.0 protocol (X-Amz-Target: DynamoDB_20120810.<Op>). Tables live
// per account and Region. Tables have a partition key and an optional sort
// key; secondary indexes, streams and Scan are not emulated.
//
// TTL is recorded (DescribeTimeToLive answers it) but items are never
// expired: DynamoDB deletes expired items lazily, up to days after they
// expire, so a reader must filter by time itself. moto does the same.
//
// The shared wire core (internal/awsemu) reads the request, authenticates
// it, applies injected faults and logs the call; this package only runs the
// operation (Service.Serve) and words the answer as DynamoDB does (Answer).
// It never imports internal/awsemu.
package ddb

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
)

const targetPrefix = "DynamoDB_20120810."

// Service holds the tables of every account and Region. The zero value is
// ready to use. Its own mutex guards them: no other service's state is read
// or written together with DynamoDB's.
type Service struct {
	mu    sync.Mutex
	byKey map[tableKey]*table // made on first use: see tables
}

// Call is one DynamoDB request as the shared core decoded it.
type Call struct {
	Account, Region string
	Op              string // from Operation
	Body            []byte // the JSON request
	// Race, when set, is asked once by a conditional write before its
	// conditions are checked (see race.go); true makes them fail as if
	// another writer had got there first.
	Race func() (forced bool)
}

type handler struct {
	write bool
	fn    func(db *Service, call *Call) (any, *Fail)
}

var ops = map[string]handler{
	"CreateTable":        {write: true, fn: (*Service).createTable},
	"DescribeTable":      {fn: (*Service).describeTable},
	"DeleteTable":        {write: true, fn: (*Service).deleteTable},
	"UpdateTimeToLive":   {write: true, fn: (*Service).updateTimeToLive},
	"DescribeTimeToLive": {fn: (*Service).describeTimeToLive},
	"PutItem":            {write: true, fn: (*Service).putItem},
	"GetItem":            {fn: (*Service).getItem},
	"UpdateItem":         {write: true, fn: (*Service).updateItem},
	"DeleteItem":         {write: true, fn: (*Service).deleteItem},
	"Query":              {fn: (*Service).query},
	"BatchWriteItem":     {write: true, fn: (*Service).batchWriteItem},
	"BatchGetItem":       {fn: (*Service).batchGetItem},
	"TransactWriteItems": {write: true, fn: (*Service).transactWriteItems},
}

// Operation names the operation an X-Amz-Target header asks for (the
// target without DynamoDB's prefix, for the call log), whether it writes,
// and whether it is one this emulator answers; when not, answer
// UnknownOperation.
func Operation(target string) (op string, write, ok bool) {
	op = strings.TrimPrefix(target, targetPrefix)
	h, ok := ops[op]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		return op, false, false
	}
	return op, h.write, true
}

// UnknownOperation is DynamoDB's answer to a target it does not know.
func UnknownOperation() *Fail { return &Fail{status: 400, code: "UnknownOperationException"} }

// Serve runs the call's operation and returns its JSON answer or the
// failure to answer with.
func (db *Service) Serve(call *Call) (any, *Fail) {
	h, ok := ops[call.Op]
	if !ok {
		return nil, UnknownOperation()
	}
	return h.fn(db, call)
}

// decode decodes a request body, keeping DynamoDB's own validation
// errors (an empty AttributeValue, a bad number) as they are.
func decode(call *Call, into any) *Fail {
	if len(call.Body) == 0 {
		return &Fail{status: 400, code: "SerializationException", msg: "Start of structure or map found where not expected"}
	}
	if err := json.Unmarshal(call.Body, into); err != nil {
		var de *codedError
		if errors.As(err, &de) {
			return failOf(de)
		}
		return &Fail{status: 400, code: "SerializationException", msg: "Start of structure or map found where not expected"}
	}
	return nil
}
