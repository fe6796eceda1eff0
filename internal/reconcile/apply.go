package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// apply carries out the findings in enforce mode: the roles first, one
// action at a time, then the settings of every drifted Region in parallel.
// Every finding gets a Result; nothing stops at the first failure.
//
// A setting is written only when the role it will name was verified in this
// run: read at exactly the configured path and name, or created and read
// back. Anything else is blocked, never guessed.
func (rn *run) apply(ctx context.Context, findings []dhmc.Finding, obs dhmc.Observed) []dhmc.Result {
	d := rn.r.desired
	v := &verified{ok: map[string]bool{}, why: map[string]string{}}
	for key, r := range obs.Roles {
		if r.Exists && r.Path == d.RolePath {
			v.ok[key] = true
		}
	}
	results := make([]dhmc.Result, len(findings))
	var settingIdx []int
	for i, f := range findings {
		results[i].Finding = f
		switch {
		case f.Blocked != "" || f.Action == dhmc.ActionNone:
			results[i].Outcome = passiveOutcome(f, dhmc.OutcomeReported)
		case f.Action == dhmc.ActionUpdateSetting:
			settingIdx = append(settingIdx, i)
		default:
			results[i] = rn.applyAction(ctx, f, v)
		}
	}
	forEach(len(settingIdx), rn.r.opts.Parallelism, func(j int) {
		i := settingIdx[j]
		f := findings[i]
		if ok, why := v.check(f.Role); !ok {
			// Pointing the setting at a role that is not there could break
			// a Region that works today with another role.
			results[i] = dhmc.Result{Finding: f, Outcome: dhmc.OutcomeBlocked}
			results[i].Blocked = fmt.Sprintf("service setting (%s) left as it is: role %s %s", f.Region, f.Role, why)
			return
		}
		results[i] = rn.settle(ctx, f, rn.updateSetting(ctx, f.Region, d.SettingValueIn(f.Region)))
	})
	return results
}

// verified are the roles a setting may name in this run.
type verified struct {
	mu  sync.Mutex
	ok  map[string]bool
	why map[string]string
}

func (v *verified) set(role string, ok bool, why string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ok[strings.ToLower(role)] = ok
	if why != "" {
		v.why[strings.ToLower(role)] = why
	}
}

func (v *verified) check(role string) (bool, string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := strings.ToLower(role)
	if v.ok[key] {
		return true, ""
	}
	if why := v.why[key]; why != "" {
		return false, why
	}
	return false, "was not verified in this run (it was not read at the configured path)"
}

func done(f dhmc.Finding, err error) dhmc.Result {
	if err != nil {
		return dhmc.Result{Finding: f, Outcome: dhmc.OutcomeFailed, Error: err.Error()}
	}
	return dhmc.Result{Finding: f, Outcome: dhmc.OutcomeDone}
}

// applyAction carries out one action on a configured role.
func (rn *run) applyAction(ctx context.Context, f dhmc.Finding, v *verified) dhmc.Result {
	d := rn.r.desired
	name := aws.String(f.Role)
	var err error
	switch f.Action {
	case dhmc.ActionCreateRole:
		err = rn.createRole(ctx, f.Role)
		if err != nil {
			r := rn.settle(ctx, f, err)
			v.set(f.Role, r.Outcome == dhmc.OutcomeDone, "does not exist and could not be created")
			return r
		} else if rerr := rn.readBack(ctx, f.Role); rerr != nil {
			v.set(f.Role, false, "was created but could not be read back: "+rerr.Error())
			err = fmt.Errorf("role %s created; reading it back: %w", f.Role, rerr)
		} else {
			v.set(f.Role, true, "")
		}
	case dhmc.ActionUpdateTrustPolicy:
		rn.calls.add("iam:UpdateAssumeRolePolicy")
		_, err = rn.r.clients.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: name, PolicyDocument: aws.String(f.Desired),
		})
		err = wrap(err, "updating trust policy of role %s", f.Role)
	case dhmc.ActionAttachPolicy:
		rn.calls.add("iam:AttachRolePolicy")
		_, err = rn.r.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String(f.Target)})
		err = wrap(err, "attaching %s to role %s", f.Target, f.Role)
	case dhmc.ActionDetachPolicy:
		rn.calls.add("iam:DetachRolePolicy")
		_, err = rn.r.clients.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(f.Target)})
		err = wrap(err, "detaching %s from role %s", f.Target, f.Role)
	case dhmc.ActionDeleteInlinePolicy:
		return rn.deleteInline(ctx, f)
	case dhmc.ActionPutPermissionsBoundary:
		rn.calls.add("iam:PutRolePermissionsBoundary")
		_, err = rn.r.clients.IAM.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{
			RoleName: name, PermissionsBoundary: aws.String(f.Target),
		})
		err = wrap(err, "setting permissions boundary of role %s", f.Role)
	case dhmc.ActionDeleteBoundary:
		if d.PermissionsBoundaryARN != "" {
			err = fmt.Errorf("not removing the boundary of role %s: a boundary is configured", f.Role)
			break
		}
		rn.calls.add("iam:DeleteRolePermissionsBoundary")
		_, err = rn.r.clients.IAM.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: name})
		err = wrap(err, "removing permissions boundary of role %s", f.Role)
	default:
		return done(f, fmt.Errorf("no repair for action %q", f.Action))
	}
	return rn.settle(ctx, f, err)
}

// createRole creates a configured role with its path, trust policy and
// boundary, then attaches the required managed policy.
func (rn *run) createRole(ctx context.Context, name string) error {
	d := rn.r.desired
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		Path:                     aws.String(d.RolePath),
		AssumeRolePolicyDocument: aws.String(d.TrustPolicy()),
		Description:              aws.String("Default Host Management Configuration role for Systems Manager, kept by dhmc-guard"),
	}
	if d.PermissionsBoundaryARN != "" {
		in.PermissionsBoundary = aws.String(d.PermissionsBoundaryARN)
	}
	rn.calls.add("iam:CreateRole")
	if _, err := rn.r.clients.IAM.CreateRole(ctx, in); err != nil {
		return fmt.Errorf("creating role %s: %w", name, err)
	}
	rn.calls.add("iam:AttachRolePolicy")
	_, err := rn.r.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(name), PolicyArn: aws.String(d.ManagedPolicyARN()),
	})
	return wrap(err, "role %s created; attaching %s", name, d.ManagedPolicyARN())
}

// readBack verifies a role just created: it exists at the configured path.
func (rn *run) readBack(ctx context.Context, name string) error {
	role, err := rn.findRole(ctx, name)
	if err != nil {
		return err
	}
	if p := aws.ToString(role.Path); p != rn.r.desired.RolePath {
		return fmt.Errorf("role %s is at path %s, not %s", name, p, rn.r.desired.RolePath)
	}
	return nil
}

// deleteInline keeps the policy's document, then deletes the policy. If the
// document cannot be read, or cannot be kept whole (keep), the policy is
// kept: nothing is deleted unseen, nothing deleted is lost.
func (rn *run) deleteInline(ctx context.Context, f dhmc.Finding) dhmc.Result {
	role, policy := f.Role, f.Target
	rn.calls.add("iam:GetRolePolicy")
	out, err := rn.r.clients.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(policy),
	})
	if err != nil {
		return rn.settle(ctx, f, fmt.Errorf("reading inline policy %s of role %s before deleting it: %w", policy, role, err))
	}
	doc, ref, err := readDocument(aws.ToString(out.PolicyDocument))
	out = nil // the raw, possibly padded, text goes now
	if err != nil {
		return done(f, fmt.Errorf("decoding inline policy %s of role %s: %w", policy, role, err))
	}
	f.DocumentRef = &ref
	inReport, err := rn.keep(ctx, role, policy, doc, &ref)
	if inReport {
		f.Document = doc
	}
	if err != nil {
		r := dhmc.Result{Finding: f, Outcome: dhmc.OutcomeBlocked}
		r.Blocked = fmt.Sprintf("inline policy %s of role %s %s", policy, role, err)
		return r
	}
	rn.calls.add("iam:DeleteRolePolicy")
	_, err = rn.r.clients.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(policy),
	})
	return rn.settle(ctx, f, wrap(err, "deleting inline policy %s of role %s", policy, role))
}

// roleNotVisibleCodes are the errors SSM may give while IAM has not yet
// propagated a role it just created or changed. Real SSM's answer is not
// documented, so every plausible code is retried, within a bound.
var roleNotVisibleCodes = []string{
	"RoleNotVisible", "InvalidRole", "InvalidRoleException", "ValidationException",
	"InvalidParameterValue", "InvalidParameterValueException", "NoSuchEntity",
}

// updateSetting writes value in region. While SSM cannot see the role yet,
// it retries with exponential backoff, a bounded number of times.
// TooManyUpdates is not retried: another update is in progress, and the next
// run reads what it did.
func (rn *run) updateSetting(ctx context.Context, region, value string) error {
	d := rn.r.desired
	o := rn.r.opts
	api := rn.r.clients.SSM(region)
	in := &ssm.UpdateServiceSettingInput{
		SettingId:    aws.String(d.SettingARN(region)),
		SettingValue: aws.String(value),
	}
	rn.calls.add("ssm:UpdateServiceSetting")
	delay := o.VisibilityBaseDelay
	for attempt := 1; ; attempt++ {
		_, err := api.UpdateServiceSetting(ctx, in)
		if err == nil {
			return nil
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || !slices.Contains(roleNotVisibleCodes, ae.ErrorCode()) || attempt >= o.VisibilityAttempts {
			return fmt.Errorf("updating service setting (%s) after %d attempt(s): %w", region, attempt, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("updating service setting (%s): waiting for the role to be visible: %w", region, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, o.VisibilityMaxDelay)
	}
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
