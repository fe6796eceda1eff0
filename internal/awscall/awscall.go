// Package awscall makes single SigV4-signed JSON calls to AWS with the SDK's
// signer and credentials. It exists for the release binary's size only: a
// few operations (Security Hub's two, EventBridge's PutEvents) cost the
// arm64 bootstrap far more through their SDK clients (each client links its
// whole service's serializers, endpoint rules and, for EventBridge, the
// SigV4a signer) than the handful of fields they send. Callers keep the
// SDK's input and output types, so their interfaces stay the SDK's.
package awscall

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// Service is one AWS service in one Region.
type Service struct {
	cfg      aws.Config
	name     string // as in the SDK's error text: "SecurityHub", "EventBridge"
	signing  string // SigV4 signing name: "securityhub", "events"
	endpoint string
	signer   *v4.Signer
}

// New is the service at cfg's BaseEndpoint (the emulator's, in tests) or
// AWS's regional endpoint https://<prefix>.<region>.amazonaws.com(.cn).
func New(cfg aws.Config, name, signing, prefix string) *Service {
	ep := aws.ToString(cfg.BaseEndpoint)
	if ep == "" {
		ep = "https://" + prefix + "." + cfg.Region + ".amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			ep += ".cn"
		}
	}
	return &Service{cfg: cfg, name: name, signing: signing, endpoint: strings.TrimSuffix(ep, "/"), signer: v4.NewSigner()}
}

// Endpoint is where the service's calls go.
func (s *Service) Endpoint() string { return s.endpoint }

// Request is one call.
type Request struct {
	Op          string // the operation, for errors
	Method      string
	Path        string
	ContentType string
	Target      string // X-Amz-Target, for the JSON 1.0/1.1 protocols
	Body        []byte
}

// Attempts bounds tries of a call that failed in transit, answered 5xx or
// was throttled, as the SDK's standard retryer does (it makes 3).
const Attempts = 3

// maxAnswer bounds what is read of an answer.
const maxAnswer = 8 << 20

// Call sends req, retrying what the SDK's standard retryer retries, and
// decodes a 200 answer into out. Any other answer is an error whose
// smithy.APIError code and message are AWS's; mapErr may turn a code into
// the SDK's typed error where the caller tells errors apart.
func (s *Service) Call(ctx context.Context, req Request, out any, mapErr func(code, msg string) error) error {
	var last error
	for try := range Attempts {
		if try > 0 {
			t := time.NewTimer(time.Duration(try*200) * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return last
			case <-t.C:
			}
		}
		status, code, msg, data, err := s.send(ctx, req)
		switch {
		case err != nil:
			last = fmt.Errorf("operation error %s: %s, %w", s.name, req.Op, err)
			if ctx.Err() != nil {
				return last
			}
			continue
		case status == http.StatusOK:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("operation error %s: %s, decoding the answer: %w", s.name, req.Op, err)
			}
			return nil
		}
		var apiErr error
		if mapErr != nil {
			apiErr = mapErr(code, msg)
		}
		if apiErr == nil {
			apiErr = &smithy.GenericAPIError{Code: code, Message: msg}
		}
		last = fmt.Errorf("operation error %s: %s, https response error StatusCode: %d: %w", s.name, req.Op, status, apiErr)
		if !Retryable(status, code) {
			return last
		}
	}
	return last
}

// Retryable is what the SDK's standard retryer retries: server errors,
// 429, and the throttling codes (which JSON services answer with 400).
func Retryable(status int, code string) bool {
	if status >= 500 || status == http.StatusTooManyRequests {
		return true
	}
	switch code {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "RequestThrottled", "SlowDown", "RequestLimitExceeded",
		"PriorRequestNotComplete", "TransactionInProgressException", "EC2ThrottledException":
		return true
	}
	return false
}

func (s *Service) send(ctx context.Context, r Request) (int, string, string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, s.endpoint+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return 0, "", "", nil, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	if r.Target != "" {
		req.Header.Set("X-Amz-Target", r.Target)
	}
	creds, err := s.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, "", "", nil, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(r.Body)
	if err := s.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), s.signing, s.cfg.Region, time.Now()); err != nil {
		return 0, "", "", nil, fmt.Errorf("signing: %w", err)
	}
	var hc aws.HTTPClient = http.DefaultClient
	if s.cfg.HTTPClient != nil {
		hc = s.cfg.HTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", "", nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, "", "", nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", "", data, nil
	}
	code, msg := ErrorOf(resp.Header, data)
	return resp.StatusCode, code, msg, data, nil
}

// ErrorOf reads an AWS JSON error: the code from X-Amzn-ErrorType, or the
// body's __type, code or Code, without a namespace ("aws.protocols#") or
// a URI suffix (":http://…"); the message from message or Message.
func ErrorOf(h http.Header, body []byte) (code, msg string) {
	var e struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		CodeCap string `json:"Code"`
		Message string `json:"message"`
		MsgCap  string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	code = h.Get("X-Amzn-ErrorType")
	for _, c := range []string{e.Type, e.Code, e.CodeCap} {
		if code == "" {
			code = c
		}
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	msg = e.Message
	if msg == "" {
		msg = e.MsgCap
	}
	return code, msg
}
