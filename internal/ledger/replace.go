package ledger

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The transaction that replaces an intent's writes (intent.go) by the real
// outcome's: every item the intent wrote is written again or put back as it
// was read, each only over the version the intent wrote.

// replacement builds the transaction that puts d and a where the intent
// put its own.
type replacement struct {
	s     *Store
	it    *Intent
	now   time.Time
	p     Policy
	ops   []types.TransactWriteItem
	kinds []opKind
}

func (r *replacement) add(k opKind, op types.TransactWriteItem, err error) error {
	if err != nil {
		return err
	}
	r.ops, r.kinds = append(r.ops, op), append(r.kinds, k)
	return nil
}

func (r *replacement) build(in RunInput, d Decisions, a *Alert) error {
	s, it := r.s, r.it
	if in.Claim != it.in.Claim {
		if it.in.Claim != "" {
			op, err := deleteOp(s.table, key{prefixDedup + it.in.Claim, skDedup}, nil)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		}
		if in.Claim != "" {
			notExists := expression.AttributeNotExists(expression.Name(attrPK))
			op, err := putOp(s.table, claimItem{key{prefixDedup + in.Claim, skDedup}, r.now.UTC(), r.now.Add(s.opt.DedupRetention).Unix()}, &notExists)
			if err := r.add(opClaim, op, err); err != nil {
				return err
			}
		}
	}
	if err := r.alert(a); err != nil {
		return err
	}
	if err := r.groups(d); err != nil {
		return err
	}
	return r.flaps(d)
}

// alert replaces the intent's alert by a (nil: none).
func (r *replacement) alert(a *Alert) error {
	s, old := r.s, r.it.a
	if old != nil && a != nil && old.ID == a.ID {
		// Same identity, other content (the states differ): overwritten,
		// the Expected flag cleared.
		for _, k := range []key{a.outboxKey(), a.recordKey()} {
			op, err := putOp(s.table, alertItem{key: k, Alert: *a, Status: "pending", ExpiresAt: s.expires(r.now)}, nil)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		}
		return nil
	}
	if old != nil {
		for _, k := range []key{old.outboxKey(), old.recordKey()} {
			op, err := deleteOp(s.table, k, nil)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		}
	}
	if a == nil {
		return nil
	}
	ops, err := s.alertOps(*a, r.now)
	if err != nil {
		return err
	}
	_ = r.add(opAlert, ops[0], nil)
	return r.add(opOther, ops[1], nil)
}

// groups writes d's group states and digests over the intent's; a group the
// intent wrote and d does not name goes back to the state read before.
func (r *replacement) groups(d Decisions) error {
	s, it := r.s, r.it
	written := map[GroupKey]bool{}
	for _, g := range it.d.States {
		written[g.Key] = true
	}
	named := map[GroupKey]bool{}
	for i, g := range d.States {
		named[g.Key] = true
		if written[g.Key] {
			g.Version++ // what the intent wrote
		}
		op, err := s.groupOp(g, r.now)
		if err := r.add(opState, op, err); err != nil {
			return err
		}
		dec := d.Groups[i]
		if !dec.Send && dec.Digest != nil {
			op, err = s.digestOp(*dec.Digest, r.now)
		} else {
			op, err = deleteOp(s.table, key{pkOutbox, outboxDigest + string(g.Key)}, nil)
		}
		if err := r.add(opOther, op, err); err != nil {
			return err
		}
	}
	for _, g := range it.d.States {
		if named[g.Key] {
			continue
		}
		prev, ok := it.st.Groups[g.Key]
		var op types.TransactWriteItem
		var err error
		if ok {
			prev.Version++
			op, err = s.groupOp(prev, r.now)
		} else {
			cond := versioned(1)
			op, err = deleteOp(s.table, key{prefixGroup + string(g.Key), skGroup}, &cond)
		}
		if err := r.add(opState, op, err); err != nil {
			return err
		}
		if ok && prev.Suppressed > 0 {
			op, err = s.digestOp(*prev.digest(r.p.interval(prev.Kind)), r.now)
		} else {
			op, err = deleteOp(s.table, key{pkOutbox, outboxDigest + string(g.Key)}, nil)
		}
		if err := r.add(opOther, op, err); err != nil {
			return err
		}
	}
	return nil
}

// flaps writes d's flap states and back-offs over the intent's; an item the
// intent counted as repaired and d does not goes back to its state before.
func (r *replacement) flaps(d Decisions) error {
	s, it := r.s, r.it
	wrote := map[ItemKey]FlapState{}
	for _, f := range it.d.Flaps {
		wrote[f.Key] = f
	}
	named := map[ItemKey]bool{}
	for _, f := range d.Flaps {
		named[f.Key] = true
		prev := it.st.Flaps[f.Key]
		w, was := wrote[f.Key]
		if was {
			f.Version++
		}
		if err := r.putFlap(f); err != nil {
			return err
		}
		switch {
		case newBackoff(f, prev, r.now):
			op, err := s.backoffOp(f)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		case was && newBackoff(w, prev, r.now):
			if err := r.restoreBackoff(f.Key, prev); err != nil {
				return err
			}
		}
	}
	for _, w := range it.d.Flaps {
		if named[w.Key] {
			continue
		}
		prev, ok := it.st.Flaps[w.Key]
		if ok {
			prev.Version++
			if err := r.putFlap(prev); err != nil {
				return err
			}
		} else {
			cond := versioned(1)
			op, err := deleteOp(s.table, key{prefixFlap + string(w.Key), skFlap}, &cond)
			if err := r.add(opState, op, err); err != nil {
				return err
			}
		}
		if newBackoff(w, prev, r.now) {
			if err := r.restoreBackoff(w.Key, prev); err != nil {
				return err
			}
		}
	}
	return nil
}

// putFlap writes f over the version f.Version.
func (r *replacement) putFlap(f FlapState) error {
	cond := versioned(f.Version)
	f.Version++
	op, err := putOp(r.s.table, flapItem{key: key{prefixFlap + string(f.Key), skFlap}, FlapState: f, ExpiresAt: r.s.expires(r.now)}, &cond)
	return r.add(opState, op, err)
}

// restoreBackoff puts back the back-off entry of k as prev had it (none
// when over).
func (r *replacement) restoreBackoff(k ItemKey, prev FlapState) error {
	if prev.BackoffUntil.After(r.now) {
		op, err := r.s.backoffOp(prev)
		return r.add(opOther, op, err)
	}
	op, err := deleteOp(r.s.table, key{pkOutbox, outboxBack + string(k)}, nil)
	return r.add(opOther, op, err)
}

// deleteOp is a transaction Delete of k, with a condition when cond is not nil.
func deleteOp(table string, k key, cond *expression.ConditionBuilder) (types.TransactWriteItem, error) {
	m, err := marshalKey(k)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	del := &types.Delete{TableName: aws.String(table), Key: m}
	if cond != nil {
		e, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("building a condition: %w", err)
		}
		del.ConditionExpression, del.ExpressionAttributeNames, del.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
	}
	return types.TransactWriteItem{Delete: del}, nil
}
