package awsemu

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
// write (an unconditional write never loses a race, so it leaves the fault
// armed). With a Race function the competing write runs now and the call
// then proceeds against the changed state; without one, forced is true and
// the call's conditions fail as they would had another writer got there first.
func (s *Server) raceIf(req *request, conditional bool) (forced bool) {
	if !conditional {
		return false
	}
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
