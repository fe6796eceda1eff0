package ledger

import (
	"context"
)

// Ahead is the group and flap states of candidate signals, read before the
// run's findings are known (beside the run's own reads), so that deciding
// does not wait for a read of its own. It is used once, for Decide's first
// attempt, and only when it covers every key the run's signals name; a
// lost race reads again, as without it. Reading early widens nothing: every
// state is written back only over the version read (see commit).
type Ahead struct {
	keys map[key]bool
	st   States
}

// stateKeys are the keys Decide reads for signals.
func stateKeys(signals []Signal) map[key]bool {
	keys := map[key]bool{}
	for _, sig := range signals {
		keys[key{prefixGroup + string(sig.Group()), skGroup}] = true
		keys[key{prefixFlap + string(sig.ItemKey()), skFlap}] = true
	}
	return keys
}

// ReadAhead reads the states of candidates (one BatchGetItem).
func (s *Store) ReadAhead(ctx context.Context, candidates []Signal) (*Ahead, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	st, err := s.states(ctx, candidates)
	if err != nil {
		return nil, err
	}
	return &Ahead{keys: stateKeys(candidates), st: st}, nil
}

// covers reports whether a holds every state signals need.
func (a *Ahead) covers(signals []Signal) bool {
	if a == nil {
		return false
	}
	for k := range stateKeys(signals) {
		if !a.keys[k] {
			return false
		}
	}
	return true
}

// statesFor is Decide's read: a's states on the first attempt when they
// cover signals, else one BatchGetItem.
func (s *Store) statesFor(ctx context.Context, signals []Signal, a *Ahead, attempt int) (States, error) {
	if attempt == 0 && a.covers(signals) {
		return a.st, nil
	}
	return s.states(ctx, signals)
}

// DecideAhead is Decide with states read ahead (nil: none).
func (s *Store) DecideAhead(ctx context.Context, in RunInput, a *Ahead, compose Compose) (Outcome, error) {
	return s.decide(ctx, in, a, compose)
}
