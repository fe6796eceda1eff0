// Command fleet is the fleet readiness report's Lambda function: which EC2
// instances DHMC manages and why the others are out of reach. main is the
// composition root: configuration once, clients, handler, runtime loop.
// Its role is read-only.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsenv"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel"
)

// retryAttempts is per call, adaptive (client-side rate limiting on
// throttling); attemptTimeout bounds one attempt, as the SDK sets none.
const (
	retryAttempts  = 5
	attemptTimeout = 30 * time.Second
)

func main() {
	log := loglevel.New(os.Getenv)
	h, err := build(os.Getenv, log)
	if err != nil {
		log.Error("dhmc-guard fleet report failed to start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

func build(getenv func(string) string, log *slog.Logger) (*fleet.Handler, error) {
	cfg, err := fleet.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	sdk, err := awsenv.Load(getenv, awsenv.Options{
		Region: cfg.HomeRegion, RetryMaxAttempts: retryAttempts, AttemptTimeout: attemptTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	reader, err := fleet.New(fleet.Clients{
		EC2: awsenv.PerRegion(func(r string) fleet.InstancesAPI {
			return ec2.NewFromConfig(sdk.For("EC2"), func(o *ec2.Options) { o.Region = r })
		}),
		SSM: awsenv.PerRegion(func(r string) fleet.NodesAPI {
			return ssm.NewFromConfig(sdk.For("SSM"), func(o *ssm.Options) { o.Region = r })
		}),
		IAM:     iam.NewFromConfig(sdk.For("IAM")),
		Regions: account.NewFromConfig(sdk.For("Account")),
	}, cfg.AccountID, cfg.Partition, cfg.Regions, fleet.Options{Parallelism: cfg.Parallelism, Sample: cfg.Sample})
	if err != nil {
		return nil, err
	}
	return &fleet.Handler{Runner: reader, Publisher: sns.NewFromConfig(sdk.For("SNS")), TopicARN: cfg.TopicARN, Log: log, Metrics: os.Stdout}, nil
}
