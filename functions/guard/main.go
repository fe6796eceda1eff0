// Command guard is the dhmc-guard Lambda function. main is the composition
// root: it reads the configuration once, builds the AWS clients and the
// handler, and starts the runtime loop. Nothing else reads the environment.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsenv"
	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/coldstart"
	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
	shfindings "github.com/dhmc-guard/dhmc-guard/internal/securityhub"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// retryAttempts is per call. Adaptive mode adds client-side rate limiting on
// throttling, which matters when a sweep fans out over many Regions.
const retryAttempts = 5

// attemptTimeout bounds each HTTP attempt: the SDK sets none, so a server
// that accepts and never answers would hold a call until the run's context
// ends. The run's deadline budget bounds the whole.
const attemptTimeout = 10 * time.Second

func main() {
	setMemoryLimit(os.Getenv)
	log := loglevel.New(os.Getenv)
	h, err := build(os.Getenv, log)
	if err != nil {
		// An init failure: Lambda reports it and never runs a half-configured
		// function.
		log.Error("dhmc-guard failed to start", "error", err)
		os.Exit(1)
	}
	coldstart.Done() // the collector was off for INIT (see coldstart)
	lambda.Start(h)
}

func build(getenv func(string) string, log *slog.Logger) (*guard.Handler, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	sdk, err := awsenv.Load(getenv, awsenv.Options{
		Region: cfg.HomeRegion, RetryMaxAttempts: retryAttempts, AttemptTimeout: attemptTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}

	var store *ledger.Store
	if cfg.LedgerTable != "" {
		store, err = ledger.New(dynamodb.NewFromConfig(sdk.For("DynamoDB")), cfg.LedgerTable, ledger.Options{Retention: cfg.LedgerRetention, Account: cfg.Desired.AccountID})
		if err != nil {
			return nil, fmt.Errorf("building the run ledger: %w", err)
		}
	}
	iamClient := iam.NewFromConfig(sdk.For("IAM"))
	clients := reconcile.Clients{
		SSM:      ssmClients(sdk.For("SSM")),
		IAM:      iamClient,
		Policies: iamClient,
		Regions:  account.NewFromConfig(sdk.For("Account")),
		Stacks: awsenv.PerRegion(func(region string) reconcile.StacksAPI {
			return cloudformation.NewFromConfig(sdk.For("CloudFormation"), func(o *cloudformation.Options) { o.Region = region })
		}),
	}
	if store != nil {
		// Every deleted inline policy's document is kept here first.
		clients.Archive = store
	}
	rec, err := reconcile.New(cfg.Desired, clients, reconcile.Options{Parallelism: cfg.Parallelism})
	if err != nil {
		return nil, fmt.Errorf("building reconciler: %w", err)
	}

	h := &guard.Handler{
		Runner:    rec,
		Publisher: sns.NewFromConfig(sdk.For("SNS")),
		TopicARN:  cfg.TopicARN,
		AccountID: cfg.Desired.AccountID,
		Mode:      cfg.Desired.Mode,
		Trigger: trigger.Config{
			RoleName:         cfg.Desired.RoleName,
			RolePath:         cfg.Desired.RolePath,
			SelfRoleARN:      cfg.FunctionRoleARN,
			Regions:          cfg.Desired.Regions,
			WatchedPolicies:  cfg.Desired.WatchedPolicyARNs(),
			HistoryRetention: cfg.LedgerRetention,
		},
		Log:     log,
		Metrics: os.Stdout,
		Policy: ledger.Policy{
			Window: cfg.AlertWindow, Backoff: cfg.FlapBackoff,
		},
		FailureQueueURL: cfg.FailureQueueURL,
	}
	if cfg.FailureQueueURL != "" {
		h.Failures = sqs.NewFromConfig(sdk.For("SQS"))
	}
	if store != nil {
		h.Ledger = store
	}
	if cfg.SecurityHubFindings {
		// Imported in the home Region: the organisation's delegated
		// administrator aggregates from there.
		sh := &guard.SecurityHub{
			// Not the SDK's client: see shfindings.Client (binary size).
			API: shfindings.NewClient(sdk.For("SecurityHub")),
			Target: shfindings.Target{
				Partition: cfg.Desired.Partition, Region: cfg.HomeRegion,
				AccountID: cfg.Desired.AccountID, RoleARN: cfg.Desired.RoleARN(),
			},
		}
		if h.Ledger != nil {
			sh.Store = h.Ledger.(*ledger.Store)
		}
		h.SecurityHub = sh
	}
	if cc := cfg.Central; cc.Enabled() {
		pub := central.Publisher{Config: cc}
		if cc.BusARN != "" {
			bc := sdk.For("EventBridge")
			bc.Region = cc.BusRegion()
			pub.Bus = central.NewBus(bc)
		}
		if cc.TopicARN != "" {
			pub.Topic = sns.NewFromConfig(sdk.For("SNS"), func(o *sns.Options) { o.Region = cc.TopicRegion() })
		}
		h.Central = pub
	}
	return h, nil
}

// ssmClients hands out one SSM client per Region, built on first use and
// kept for the life of the execution environment: SSM settings are regional,
// and the SigV4 scope must name the Region being read. The reconciler asks
// only for managed, enabled Regions, so the cache never outgrows them.
func ssmClients(cfg aws.Config) func(region string) reconcile.SettingsAPI {
	return awsenv.PerRegion(func(region string) reconcile.SettingsAPI {
		return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Region = region })
	})
}
