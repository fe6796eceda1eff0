// Command fleet is the fleet readiness report's Lambda function: which EC2
// instances DHMC manages and why the others are out of reach. main is the
// composition root: configuration once, clients, handler, runtime loop.
// Its role is read-only.
package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
)

// retryAttempts is per call, adaptive (client-side rate limiting on
// throttling); attemptTimeout bounds one attempt, as the SDK sets none.
const (
	retryAttempts  = 5
	attemptTimeout = 30 * time.Second
)

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("dhmc-guard fleet report failed to start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*fleet.Handler, error) {
	cfg, err := fleet.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(cfg.HomeRegion),
		awsconfig.WithRetryMode(aws.RetryModeAdaptive),
		awsconfig.WithRetryMaxAttempts(retryAttempts),
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(attemptTimeout)),
	)
	if err != nil {
		return nil, err
	}
	reader, err := fleet.New(fleet.Clients{
		EC2: perRegion(func(r string) fleet.InstancesAPI {
			return ec2.NewFromConfig(awsCfg, func(o *ec2.Options) { o.Region = r })
		}),
		SSM:     perRegion(func(r string) fleet.NodesAPI { return ssm.NewFromConfig(awsCfg, func(o *ssm.Options) { o.Region = r }) }),
		IAM:     iam.NewFromConfig(awsCfg),
		Regions: account.NewFromConfig(awsCfg),
	}, cfg.AccountID, cfg.Partition, cfg.Regions, fleet.Options{Parallelism: cfg.Parallelism, Sample: cfg.Sample})
	if err != nil {
		return nil, err
	}
	return &fleet.Handler{Runner: reader, Publisher: sns.NewFromConfig(awsCfg), TopicARN: cfg.TopicARN, Log: log, Metrics: os.Stdout}, nil
}

// perRegion builds one client per Region on first use and keeps it for the
// execution environment: the SigV4 scope must name the Region read.
func perRegion[C any](build func(region string) C) func(string) C {
	var mu sync.Mutex
	clients := map[string]C{}
	return func(region string) C {
		mu.Lock()
		defer mu.Unlock()
		c, ok := clients[region]
		if !ok {
			c = build(region)
			clients[region] = c
		}
		return c
	}
}
