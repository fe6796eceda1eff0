package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// apply carries out the findings in enforce mode: the role first, one
// action at a time, then the settings of every drifted Region in parallel.
// Every finding gets a Result; nothing stops at the first failure.
func (rn *run) apply(ctx context.Context, findings []dhmc.Finding) []dhmc.Result {
	results := make([]dhmc.Result, len(findings))
	var settingIdx []int
	noRole := false
	for i, f := range findings {
		results[i].Finding = f
		if f.Action == dhmc.ActionUpdateSetting {
			settingIdx = append(settingIdx, i)
			continue
		}
		results[i] = rn.applyAction(ctx, f)
		if f.Action == dhmc.ActionCreateRole && results[i].Outcome == dhmc.OutcomeFailed {
			noRole = true
		}
	}
	forEach(len(settingIdx), rn.r.opts.Parallelism, func(j int) {
		i := settingIdx[j]
		if noRole {
			// Pointing the setting at a role that does not exist could break
			// a Region that works today with another role.
			results[i] = done(findings[i], fmt.Errorf("service setting (%s) left as it is: role %s does not exist and could not be created",
				findings[i].Region, rn.r.desired.RoleName))
			return
		}
		results[i] = done(findings[i], rn.updateSetting(ctx, findings[i].Region))
	})
	return results
}

func done(f dhmc.Finding, err error) dhmc.Result {
	if err != nil {
		return dhmc.Result{Finding: f, Outcome: dhmc.OutcomeFailed, Error: err.Error()}
	}
	return dhmc.Result{Finding: f, Outcome: dhmc.OutcomeDone}
}

// applyAction carries out one role action, or records why a finding has none.
func (rn *run) applyAction(ctx context.Context, f dhmc.Finding) dhmc.Result {
	d := rn.r.desired
	name := aws.String(d.RoleName)
	var err error
	switch f.Action {
	case dhmc.ActionNone:
		switch f.Kind {
		case dhmc.KindSettingPending:
			return dhmc.Result{Finding: f, Outcome: dhmc.OutcomeInProgress}
		case dhmc.KindRolePathMismatch:
			err = fmt.Errorf("IAM cannot move role %s from %s to %s: delete it so the next run recreates it, or configure path %s",
				d.RoleName, f.Observed, f.Desired, f.Observed)
		default:
			return dhmc.Result{Finding: f, Outcome: dhmc.OutcomeSkipped}
		}
	case dhmc.ActionCreateRole:
		err = rn.createRole(ctx)
	case dhmc.ActionUpdateTrustPolicy:
		rn.calls.add("iam:UpdateAssumeRolePolicy")
		_, err = rn.r.clients.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: name, PolicyDocument: aws.String(d.TrustPolicy()),
		})
		err = wrap(err, "updating trust policy of role %s", d.RoleName)
	case dhmc.ActionAttachPolicy:
		rn.calls.add("iam:AttachRolePolicy")
		_, err = rn.r.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String(f.Target)})
		err = wrap(err, "attaching %s to role %s", f.Target, d.RoleName)
	case dhmc.ActionDetachPolicy:
		rn.calls.add("iam:DetachRolePolicy")
		_, err = rn.r.clients.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(f.Target)})
		err = wrap(err, "detaching %s from role %s", f.Target, d.RoleName)
	case dhmc.ActionDeleteInlinePolicy:
		doc, err := rn.deleteInline(ctx, f.Target)
		r := done(f, err)
		r.Document = doc
		return r
	case dhmc.ActionPutPermissionsBoundary:
		rn.calls.add("iam:PutRolePermissionsBoundary")
		_, err = rn.r.clients.IAM.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{
			RoleName: name, PermissionsBoundary: aws.String(f.Target),
		})
		err = wrap(err, "setting permissions boundary of role %s", d.RoleName)
	case dhmc.ActionDeleteBoundary:
		rn.calls.add("iam:DeleteRolePermissionsBoundary")
		_, err = rn.r.clients.IAM.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: name})
		err = wrap(err, "removing permissions boundary of role %s", d.RoleName)
	default:
		err = fmt.Errorf("no repair for action %q", f.Action)
	}
	return done(f, err)
}

// createRole creates the role with its path, trust policy and boundary, then
// attaches the required managed policy.
func (rn *run) createRole(ctx context.Context) error {
	d := rn.r.desired
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(d.RoleName),
		Path:                     aws.String(d.RolePath),
		AssumeRolePolicyDocument: aws.String(d.TrustPolicy()),
		Description:              aws.String("Default Host Management Configuration role for Systems Manager, kept by dhmc-guard"),
	}
	if d.PermissionsBoundaryARN != "" {
		in.PermissionsBoundary = aws.String(d.PermissionsBoundaryARN)
	}
	rn.calls.add("iam:CreateRole")
	if _, err := rn.r.clients.IAM.CreateRole(ctx, in); err != nil {
		return fmt.Errorf("creating role %s: %w", d.RoleName, err)
	}
	rn.calls.add("iam:AttachRolePolicy")
	_, err := rn.r.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN()),
	})
	return wrap(err, "role %s created; attaching %s", d.RoleName, d.ManagedPolicyARN())
}

// deleteInline keeps the policy's document, then deletes the policy. If the
// document cannot be read, the policy is kept: nothing is deleted unseen.
func (rn *run) deleteInline(ctx context.Context, policy string) (string, error) {
	role := rn.r.desired.RoleName
	rn.calls.add("iam:GetRolePolicy")
	out, err := rn.r.clients.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(policy),
	})
	if err != nil {
		return "", fmt.Errorf("reading inline policy %s of role %s before deleting it: %w", policy, role, err)
	}
	doc, err := decodePolicy(aws.ToString(out.PolicyDocument))
	if err != nil {
		return "", fmt.Errorf("decoding inline policy %s of role %s: %w", policy, role, err)
	}
	rn.calls.add("iam:DeleteRolePolicy")
	_, err = rn.r.clients.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
		RoleName: aws.String(role), PolicyName: aws.String(policy),
	})
	return doc, wrap(err, "deleting inline policy %s of role %s", policy, role)
}

// roleNotVisibleCodes are the errors SSM may give while IAM has not yet
// propagated a role it just created or changed. Real SSM's answer is not
// documented, so every plausible code is retried, within a bound.
var roleNotVisibleCodes = []string{
	"RoleNotVisible", "InvalidRole", "InvalidRoleException", "ValidationException",
	"InvalidParameterValue", "InvalidParameterValueException", "NoSuchEntity",
}

// updateSetting writes the desired value in region. While SSM cannot see the
// role yet, it retries with exponential backoff, a bounded number of times.
// TooManyUpdates is not retried: another update is in progress, and the next
// run reads what it did.
func (rn *run) updateSetting(ctx context.Context, region string) error {
	d := rn.r.desired
	o := rn.r.opts
	api := rn.r.clients.SSM(region)
	in := &ssm.UpdateServiceSettingInput{
		SettingId:    aws.String(d.SettingARN(region)),
		SettingValue: aws.String(d.SettingValue()),
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
