package ddb

// lostRace asks the shared core whether a write loses an injected
// conditional race (the emulator's FaultConditionalRace). Only a conditional
// write can lose one: an unconditional write never does, and leaves the
// fault armed for the next conditional one. With the fault's competing write
// the core runs that write now and the call proceeds against the changed
// state (false); without one, true: the call's conditions fail as they would
// had another writer got there first.
func (call *Call) lostRace(conditional bool) (forced bool) {
	if !conditional || call.Race == nil {
		return false
	}
	return call.Race()
}
