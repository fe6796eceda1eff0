package reconcile

import (
	"maps"
	"slices"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// firstCall is the one write call an action makes when it succeeds at
// once. Actions with more calls (creating a role, deleting an inline
// policy) are not predicted: their expected report counts no write for
// them, so it differs from the real one and the caller tells the real one.
var firstCall = map[dhmc.Action]string{
	dhmc.ActionUpdateTrustPolicy:      "iam:UpdateAssumeRolePolicy",
	dhmc.ActionAttachPolicy:           "iam:AttachRolePolicy",
	dhmc.ActionDetachPolicy:           "iam:DetachRolePolicy",
	dhmc.ActionPutPermissionsBoundary: "iam:PutRolePermissionsBoundary",
	dhmc.ActionDeleteBoundary:         "iam:DeleteRolePermissionsBoundary",
	dhmc.ActionUpdateSetting:          "ssm:UpdateServiceSetting",
}

// expected is the report as it will read if every attempted finding's
// action succeeds at its first call (Scope.Repairing), nil when no action
// is to be attempted. Its duration is the run's so far: a report told
// before its repair ends cannot know more.
func (rn *run) expected(rep *dhmc.Report, findings []dhmc.Finding, errs []dhmc.RegionError, obs dhmc.Observed, start time.Time) *dhmc.Report {
	exp := *rep
	exp.Results = make([]dhmc.Result, len(findings))
	exp.Reads, exp.Writes = 0, 0
	calls, _, _ := rn.calls.snapshot()
	attempted := false
	for i, f := range findings {
		if f.Blocked != "" || f.Action == dhmc.ActionNone {
			exp.Results[i] = dhmc.Result{Finding: f, Outcome: passiveOutcome(f, dhmc.OutcomeReported)} // as apply
			continue
		}
		exp.Results[i] = done(f, nil)
		attempted = true
		if call, ok := firstCall[f.Action]; ok {
			calls[call]++
		}
	}
	if !attempted {
		return nil
	}
	finish(&exp, slices.Clone(errs), obs)
	exp.Calls = maps.Clone(calls)
	for op, n := range calls {
		if isWrite(op) {
			exp.Writes += n
		} else {
			exp.Reads += n
		}
	}
	exp.DurationMs = rn.r.opts.Now().Sub(start).Milliseconds()
	return &exp
}
