// Package awsenv builds the SDK configuration of a Lambda function from its
// environment, as Lambda gives it: the Region, the execution role's
// credentials, and the standard endpoint overrides. The SDK's
// config.LoadDefaultConfig does this too, but it also links every other
// credential source (SSO, shared files, IMDS, processes) into the binary: over
// 1.5 MB of a function that can never use them.
package awsenv

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Environment variables read, as the SDKs document them.
const (
	EnvAccessKeyID        = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey    = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken       = "AWS_SESSION_TOKEN"
	EnvEndpointURL        = "AWS_ENDPOINT_URL"
	EnvIgnoreEndpointURLs = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
)

// Options are the client settings the function chooses.
type Options struct {
	Region string
	// RetryMaxAttempts per call, in adaptive mode (client-side rate limiting
	// on throttling, which matters when a sweep fans out over Regions).
	RetryMaxAttempts int
	// AttemptTimeout bounds each HTTP attempt: the SDK sets none.
	AttemptTimeout time.Duration
}

// Services are the service IDs whose endpoint overrides are read.
var Services = []string{"SSM", "IAM", "SNS", "SQS", "DynamoDB", "EventBridge", "Account", "EC2", "CloudFormation", "SecurityHub"}

// Env is the configuration for every client: the shared aws.Config and
// each service's endpoint override.
type Env struct {
	Config    aws.Config
	endpoints map[string]*string
}

// For is the configuration for the service's client: Config with that
// service's endpoint override, if there is one.
func (e Env) For(serviceID string) aws.Config {
	cfg := e.Config.Copy()
	if ep := e.endpoints[strings.ToUpper(serviceID)]; ep != nil {
		cfg.BaseEndpoint = ep
	}
	return cfg
}

// Load reads the environment: Config and every service's endpoint override.
func Load(getenv func(string) string, o Options) (Env, error) {
	cfg, err := Config(getenv, o)
	if err != nil {
		return Env{}, err
	}
	env := Env{Config: cfg, endpoints: map[string]*string{}}
	for _, id := range Services {
		ep, err := Endpoint(getenv, id)
		if err != nil {
			return Env{}, err
		}
		env.endpoints[strings.ToUpper(id)] = ep
	}
	return env, nil
}

// Config is an aws.Config for Lambda: static credentials from the
// environment (Lambda sets the execution role's there for the life of the
// execution environment), adaptive retries, a per-attempt timeout, and the
// global endpoint override.
func Config(getenv func(string) string, o Options) (aws.Config, error) {
	id, secret := getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey)
	if id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("no AWS credentials in the environment (%s, %s): Lambda sets them from the execution role", EnvAccessKeyID, EnvSecretAccessKey)
	}
	if o.Region == "" {
		return aws.Config{}, errors.New("no Region")
	}
	attempts := max(o.RetryMaxAttempts, 1)
	var client aws.HTTPClient = awshttp.NewBuildableClient()
	if o.AttemptTimeout > 0 {
		client = awshttp.NewBuildableClient().WithTimeout(o.AttemptTimeout)
	}
	cfg := aws.Config{
		Region:      o.Region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv(EnvSessionToken)),
		HTTPClient:  client,
		Retryer: func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewAdaptiveMode(), attempts)
		},
		RetryMaxAttempts: attempts,
		RetryMode:        aws.RetryModeAdaptive,
	}
	base, err := endpoint(getenv, EnvEndpointURL)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.BaseEndpoint = base
	return cfg, nil
}

// Endpoint is the endpoint override for one service: AWS_ENDPOINT_URL_<ID>
// (the service ID in upper case, spaces as underscores: SSM, IAM, SNS, SQS,
// DYNAMODB, EVENTBRIDGE, ACCOUNT, EC2), else nil so that the global
// AWS_ENDPOINT_URL (in Config.BaseEndpoint) or AWS's own endpoint applies.
func Endpoint(getenv func(string) string, serviceID string) (*string, error) {
	return endpoint(getenv, EnvEndpointURL+"_"+strings.ToUpper(strings.ReplaceAll(serviceID, " ", "_")))
}

func endpoint(getenv func(string) string, name string) (*string, error) {
	if strings.EqualFold(getenv(EnvIgnoreEndpointURLs), "true") {
		return nil, nil
	}
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s %q is not an http(s) URL", name, v)
	}
	return aws.String(v), nil
}
