package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// NoteAlreadyInPlace starts the Note of a repair whose write failed while
// its goal already held: someone else made the change between the guard's
// read and its write (IAM's NoSuchEntity on a detach that already happened,
// EntityAlreadyExists on a role that now verifies, ...).
const NoteAlreadyInPlace = "already in place"

// settle is the result of a repair whose write answered err. A write that
// failed is re-read before it is called a failure: when its goal holds now,
// the repair is done, "already in place", since the account is as desired
// whoever made it so. Only a re-read that shows the item still wrong (or
// that cannot be made) leaves it failed, with the write's error.
func (rn *run) settle(ctx context.Context, f dhmc.Finding, err error) dhmc.Result {
	if err == nil {
		return done(f, nil)
	}
	holds, rerr := rn.goalHolds(ctx, f)
	if rerr != nil {
		return done(f, fmt.Errorf("%w (and re-reading it: %w)", err, rerr))
	}
	if !holds {
		return done(f, err)
	}
	return dhmc.Result{
		Finding: f, Outcome: dhmc.OutcomeDone,
		Note: fmt.Sprintf("%s: a re-read shows it done by someone else (the guard's write answered %s)", NoteAlreadyInPlace, errorCode(err)),
	}
}

// goalHolds re-reads what f's action changes and reports whether the
// action's goal holds now.
func (rn *run) goalHolds(ctx context.Context, f dhmc.Finding) (bool, error) {
	d := rn.r.desired
	switch f.Action {
	case dhmc.ActionAttachPolicy, dhmc.ActionDetachPolicy:
		arns, err := rn.listAttached(ctx, f.Role)
		if err != nil {
			return false, err
		}
		attached := slices.ContainsFunc(arns, func(a string) bool { return strings.EqualFold(a, f.Target) })
		return attached == (f.Action == dhmc.ActionAttachPolicy), nil
	case dhmc.ActionDeleteInlinePolicy:
		names, err := rn.listInline(ctx, f.Role)
		return err == nil && !slices.Contains(names, f.Target), err
	case dhmc.ActionUpdateSetting:
		st, err := rn.readSetting(ctx, f.Region)
		if err != nil {
			return false, err
		}
		return dhmc.NormalizeSettingValue(d, st.Value) == dhmc.NormalizeSettingValue(d, d.SettingValueIn(f.Region)), nil
	case dhmc.ActionCreateRole:
		// The role someone else created must verify as one the guard
		// would have created: path, trust and the managed policy.
		st, err := rn.readRole(ctx, f.Role)
		if err != nil || !st.Exists || st.Path != d.RolePath {
			return false, err
		}
		trust, err := dhmc.CheckTrust(st.TrustPolicy, d)
		if err != nil {
			return false, err
		}
		managed := slices.ContainsFunc(st.AttachedPolicyARNs, func(a string) bool { return strings.EqualFold(a, d.ManagedPolicyARN()) })
		return len(trust.Drift) == 0 && managed, nil
	}
	role, err := rn.findRole(ctx, f.Role)
	if err != nil {
		return false, err
	}
	switch f.Action {
	case dhmc.ActionUpdateTrustPolicy:
		doc, err := decodePolicy(aws.ToString(role.AssumeRolePolicyDocument))
		if err != nil {
			return false, err
		}
		trust, err := dhmc.CheckTrust(doc, d)
		return err == nil && len(trust.Drift) == 0, err
	case dhmc.ActionPutPermissionsBoundary, dhmc.ActionDeleteBoundary:
		boundary := ""
		if role.PermissionsBoundary != nil {
			boundary = aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn)
		}
		return boundary == d.PermissionsBoundaryARN, nil
	}
	return false, nil
}

// errorCode is the AWS error code of err, or its text.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}
