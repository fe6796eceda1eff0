package securityhub

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// API is the part of the Security Hub client the guard calls; the SDK's
// *securityhub.Client satisfies it. The template grants exactly these two
// actions.
type API interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
	BatchUpdateFindings(ctx context.Context, in *securityhub.BatchUpdateFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error)
}

// Actions are the IAM actions API needs.
var Actions = []string{"securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"}

// Send carries out p: the imports first (a finding must exist before its
// workflow can be resolved), then the resolutions. Findings Security Hub
// refuses one by one are listed in the Result; an error is returned only
// when a whole call failed. InvalidAccessException (Security Hub not
// enabled in the account and Region) stops at once with NotEnabled set.
func Send(ctx context.Context, api API, p Plan) (Result, error) {
	var res Result
	var errs []error
	for _, batch := range Batches(p.Import) {
		out, err := api.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
		if err != nil {
			if notEnabled(err) {
				res.NotEnabled = true
				return res, err
			}
			errs = append(errs, fmt.Errorf("importing %d findings: %w", len(batch), err))
			continue
		}
		res.Imported = true
		for _, f := range out.FailedFindings {
			res.FailedImports = append(res.FailedImports, aws.ToString(f.Id))
			errs = append(errs, fmt.Errorf("finding %s refused: %s: %s", aws.ToString(f.Id), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage)))
		}
	}
	if len(p.Import) > 0 && !res.Imported {
		// Nothing exists to resolve that was not there before; the
		// resolutions are tried with the next run's imports.
		return res, errors.Join(errs...)
	}
	for _, batch := range Batches(p.Resolve) {
		out, err := api.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
			FindingIdentifiers: batch,
			Workflow:           &types.WorkflowUpdate{Status: types.WorkflowStatusResolved},
			Note: &types.NoteUpdate{
				Text:      aws.String("Verified compliant by dhmc-guard."),
				UpdatedBy: aws.String(GeneratorID),
			},
		})
		if err != nil {
			if notEnabled(err) {
				res.NotEnabled = true
				return res, err
			}
			errs = append(errs, fmt.Errorf("resolving %d findings: %w", len(batch), err))
			continue
		}
		res.Resolved = true
		for _, f := range out.UnprocessedFindings {
			id := ""
			if f.FindingIdentifier != nil {
				id = aws.ToString(f.FindingIdentifier.Id)
			}
			res.FailedResolves = append(res.FailedResolves, id)
			errs = append(errs, fmt.Errorf("finding %s not resolved: %s: %s", id, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage)))
		}
	}
	return res, errors.Join(errs...)
}

// notEnabled: Security Hub answers InvalidAccessException when it is not
// enabled in the account and Region.
func notEnabled(err error) bool {
	var ia *types.InvalidAccessException
	return errors.As(err, &ia)
}
