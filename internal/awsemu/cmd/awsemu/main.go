// Command awsemu runs the dhmc-guard AWS emulator on a loopback port until
// interrupted. It prints the base URL on the first line of standard output;
// point SDKs and the AWS CLI at it with AWS_ENDPOINT_URL (or --endpoint-url)
// and any static credentials.
//
//	awsemu -addr 127.0.0.1:4566 -seed-regions eu-west-1,us-east-1 -topic dhmc-guard-alerts -messages-log alerts.jsonl
//
// Published SNS messages can be read from outside: GET <url>/_emulator/messages
// (and the call log at /_emulator/calls), or, with -messages-log, one JSON
// object a line appended to a file as each message is published.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

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
		msgLog   = flag.String("messages-log", "", "append every published SNS message to this file, one JSON object a line")
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
	var handler http.Handler = s
	if *msgLog != "" {
		f, err := os.OpenFile(*msgLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("opening -messages-log: %w", err)
		}
		defer f.Close()
		handler = &messageLog{next: s, emu: s, out: f}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	fmt.Println(url)
	if topicARN != "" {
		fmt.Fprintln(os.Stderr, "topic:", topicARN)
	}
	fmt.Fprintf(os.Stderr, "published messages: %s%smessages (calls: %s%scalls)\n", url, awsemu.ControlPrefix, url, awsemu.ControlPrefix)
	if *msgLog != "" {
		fmt.Fprintln(os.Stderr, "messages log:", *msgLog)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// messageLog serves the emulator and, after each request, appends the
// messages published since the last one to out as JSON lines.
type messageLog struct {
	next http.Handler
	emu  *awsemu.Server
	mu   sync.Mutex
	out  io.Writer
	seen int
}

func (l *messageLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.next.ServeHTTP(w, r)
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := l.emu.Messages()
	enc := json.NewEncoder(l.out)
	for _, m := range msgs[min(l.seen, len(msgs)):] {
		if err := enc.Encode(m.Record()); err != nil {
			fmt.Fprintln(os.Stderr, "awsemu: writing -messages-log:", err)
			return
		}
	}
	l.seen = len(msgs)
}
