// Command awsemu runs the dhmc-guard AWS emulator on a loopback port until
// interrupted. It prints the base URL on the first line of standard output;
// point SDKs at it with AWS_ENDPOINT_URL and any static credentials.
//
//	awsemu -addr 127.0.0.1:4566 -seed-regions eu-west-1,us-east-1 -topic dhmc-guard-alerts
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "awsemu:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr     = flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
		account  = flag.String("account", awsemu.DefaultAccount, "account to seed")
		roleName = flag.String("role-name", "AWSSystemsManagerDefaultEC2InstanceManagementRole", "DHMC role name to seed")
		rolePath = flag.String("role-path", "/service-role/", "DHMC role path")
		noRole   = flag.Bool("no-role", false, "do not seed the DHMC role")
		regions  = flag.String("seed-regions", "", "comma-separated Regions whose DHMC setting names the seeded role")
		topic    = flag.String("topic", "", "SNS topic name to create in -topic-region")
		topicReg = flag.String("topic-region", "us-east-1", "Region of -topic")
	)
	flag.Parse()
	if !strings.HasPrefix(*addr, "127.0.0.1:") && !strings.HasPrefix(*addr, "localhost:") && !strings.HasPrefix(*addr, "[::1]:") {
		return errors.New("-addr must be a loopback address")
	}

	s := awsemu.New()
	if !*noRole {
		s.PutRole(*account, awsemu.Role{
			Name: *roleName, Path: *rolePath, TrustPolicy: trustPolicy,
			AttachedPolicies: []string{"arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"},
		})
	}
	value := strings.TrimPrefix(*rolePath+*roleName, "/")
	for r := range strings.SplitSeq(*regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			s.SetSetting(*account, r, value)
		}
	}
	var topicARN string
	if *topic != "" {
		topicARN = s.CreateTopic(*account, *topicReg, *topic)
	}
	if err := s.Start(*addr); err != nil {
		return err
	}
	defer s.Close()
	fmt.Println(s.URL())
	if topicARN != "" {
		fmt.Fprintln(os.Stderr, "topic:", topicARN)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
