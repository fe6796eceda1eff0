package sandbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// What infra/template.yaml deploys beside the function, by the names the
// sandbox gives them.
const (
	LedgerTable  = "dhmc-guard-ledger"
	FailureQueue = "dhmc-guard-failures"
	// DeployerARN is who creates the stack's resources (CloudFormation's
	// session), so their calls are told apart from the function's.
	DeployerARN = "arn:aws:sts::" + Account + ":assumed-role/dhmc-guard-deploy/AWSCloudFormation"
	deployerKey = "ASIADEPLOYER00000000"
)

// Stack is the function's run ledger table and failure queue.
type Stack struct {
	LedgerTable     string
	FailureQueueURL string
}

// Env is the function's environment for the stack, as the template sets it.
func (s Stack) Env() []string {
	return []string{
		config.EnvLedgerTable + "=" + s.LedgerTable,
		config.EnvFailureQueueURL + "=" + s.FailureQueueURL,
	}
}

// CreateStack creates the ledger table (TTL on) and the failure queue in the
// home Region through the real APIs, as CloudFormation would; a table left
// by an earlier call is kept.
func CreateStack(ctx context.Context, emu *awsemu.Server) (Stack, error) {
	emu.SetCaller(deployerKey, Account, DeployerARN)
	cfg := aws.Config{
		Region:       HomeRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(deployerKey, "sandbox", "sandbox"),
		BaseEndpoint: aws.String(emu.URL()),
	}
	db := dynamodb.NewFromConfig(cfg)
	_, err := db.CreateTable(ctx, ledger.CreateTableInput(LedgerTable))
	var inUse *dbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
	case err != nil:
		return Stack{}, fmt.Errorf("creating the ledger table: %w", err)
	default:
		if _, err := db.UpdateTimeToLive(ctx, ledger.TimeToLiveInput(LedgerTable)); err != nil {
			return Stack{}, fmt.Errorf("turning on the ledger's TTL: %w", err)
		}
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(FailureQueue),
		// The template's: 14 days, SQS-managed encryption.
		Attributes: map[string]string{"MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"},
	})
	if err != nil {
		return Stack{}, fmt.Errorf("creating the failure queue: %w", err)
	}
	return Stack{LedgerTable: LedgerTable, FailureQueueURL: aws.ToString(q.QueueUrl)}, nil
}

// FailureRecords are the bodies in the failure queue, oldest first.
func FailureRecords(emu *awsemu.Server) []string {
	return emu.QueueMessages(Account, HomeRegion, FailureQueue)
}

// LedgerItems are the ledger table's items in DynamoDB's JSON, by key.
func LedgerItems(emu *awsemu.Server) []string {
	return emu.TableItems(Account, HomeRegion, LedgerTable)
}
