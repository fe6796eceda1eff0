package awsenv_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dhmc-guard/dhmc-guard/internal/awsenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigTakesLambdasCredentialsAndEndpoints(t *testing.T) {
	e := env(map[string]string{
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:4567",
	})
	cfg, err := awsenv.Config(e, awsenv.Options{Region: "eu-west-1", RetryMaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SessionToken != "tok" {
		t.Errorf("credentials %+v, %v", creds, err)
	}
	if aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:4566" || cfg.Region != "eu-west-1" || cfg.Retryer().MaxAttempts() != 5 {
		t.Errorf("config %+v", cfg)
	}
	if ep, err := awsenv.Endpoint(e, "SSM"); err != nil || aws.ToString(ep) != "http://127.0.0.1:4567" {
		t.Errorf("SSM endpoint %v, %v", ep, err)
	}
	if ep, _ := awsenv.Endpoint(e, "IAM"); ep != nil {
		t.Errorf("IAM endpoint %v, want none (the global one applies)", *ep)
	}
	all, err := awsenv.Load(e, awsenv.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(all.For("SSM").BaseEndpoint); got != "http://127.0.0.1:4567" {
		t.Errorf("For(SSM) = %s", got)
	}
	if got := aws.ToString(all.For("IAM").BaseEndpoint); got != "http://127.0.0.1:4566" {
		t.Errorf("For(IAM) = %s", got)
	}
}

func TestConfigRefusesWhatItCannotUse(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"no credentials": {},
		"bad endpoint":   {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "localhost:4566"},
	} {
		if _, err := awsenv.Config(env(m), awsenv.Options{Region: "eu-west-1"}); err == nil || !strings.Contains(err.Error(), "AWS_") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	ignored := env(map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "http://x:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
	if cfg, err := awsenv.Config(ignored, awsenv.Options{Region: "eu-west-1"}); err != nil || cfg.BaseEndpoint != nil {
		t.Errorf("ignored endpoints: %v, %v", cfg.BaseEndpoint, err)
	}
}
