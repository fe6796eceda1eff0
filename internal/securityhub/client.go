package securityhub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
)

// Client calls the two Security Hub operations the guard needs with the
// SDK's own input and output types, SigV4-signed with the SDK's signer and
// credentials. It exists for the release binary's size only: the SDK's
// securityhub client links the serializers of every ASFF resource detail
// (about 1.5 MB of the arm64 binary, over its 12 MiB goal), for two calls
// that take a handful of fields. What the SDK client would validate before
// sending is held by tests against both the SDK client and this one.
type Client struct {
	cfg      aws.Config
	endpoint string
	signer   *v4.Signer
}

// NewClient builds the client from an SDK configuration: its Region,
// credentials, HTTP client and BaseEndpoint (the emulator's, in tests).
func NewClient(cfg aws.Config) *Client {
	ep := aws.ToString(cfg.BaseEndpoint)
	if ep == "" {
		ep = "https://securityhub." + cfg.Region + ".amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			ep += ".cn"
		}
	}
	return &Client{cfg: cfg, endpoint: strings.TrimSuffix(ep, "/"), signer: v4.NewSigner()}
}

// BatchImportFindings is POST /findings/import.
func (c *Client) BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	out := &securityhub.BatchImportFindingsOutput{}
	err := c.call(ctx, "BatchImportFindings", http.MethodPost, "/findings/import", map[string]any{"Findings": wire(reflect.ValueOf(in.Findings))}, out)
	return out, err
}

// BatchUpdateFindings is PATCH /findings/batchupdate.
func (c *Client) BatchUpdateFindings(ctx context.Context, in *securityhub.BatchUpdateFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	out := &securityhub.BatchUpdateFindingsOutput{}
	err := c.call(ctx, "BatchUpdateFindings", http.MethodPatch, "/findings/batchupdate", wire(reflect.ValueOf(*in)), out)
	return out, err
}

// attempts bounds tries of a call answered 5xx or throttled.
const attempts = 3

func (c *Client) call(ctx context.Context, op, method, path string, body any, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("securityhub %s: encoding: %w", op, err)
	}
	var last error
	for try := range attempts {
		if try > 0 {
			select {
			case <-ctx.Done():
				return last
			case <-time.After(time.Duration(try*200) * time.Millisecond):
			}
		}
		status, code, msg, data, err := c.send(ctx, method, path, payload)
		switch {
		case err != nil:
			last = fmt.Errorf("securityhub %s: %w", op, err)
			continue
		case status == http.StatusOK:
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("securityhub %s: decoding the answer: %w", op, err)
			}
			return nil
		}
		last = fmt.Errorf("operation error SecurityHub: %s, https response error StatusCode: %d: %w", op, status, apiError(code, msg))
		if status < 500 && status != http.StatusTooManyRequests {
			return last
		}
	}
	return last
}

func (c *Client) send(ctx context.Context, method, path string, payload []byte) (int, string, string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return 0, "", "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, "", "", nil, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(payload)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "securityhub", c.cfg.Region, time.Now()); err != nil {
		return 0, "", "", nil, fmt.Errorf("signing: %w", err)
	}
	var hc aws.HTTPClient = http.DefaultClient
	if c.cfg.HTTPClient != nil {
		hc = c.cfg.HTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", "", nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, "", "", nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, "", "", data, nil
	}
	var e struct{ Code, Message, Type string }
	_ = json.Unmarshal(data, &e)
	code := resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = e.Code
	}
	code, _, _ = strings.Cut(code, ":")
	return resp.StatusCode, code, e.Message, data, nil
}

// apiError is the SDK's typed error where the guard tells errors apart.
func apiError(code, msg string) error {
	if code == "InvalidAccessException" {
		return &types.InvalidAccessException{Message: aws.String(msg), Code: aws.String(code)}
	}
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

// wire turns an SDK value into its JSON form: the SDK's member names are
// the wire names; unset members (nil pointers, slices, maps; empty enums)
// are left out, as the SDK's serializers leave them.
func wire(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return wire(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if x := wire(v.Field(i)); x != nil {
				m[f.Name] = x
			}
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = wire(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := map[string]any{}
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = wire(it.Value())
		}
		return m
	case reflect.String:
		if v.Len() == 0 && v.Type().Name() != "string" {
			return nil // an enum left unset
		}
		return v.String()
	}
	return v.Interface()
}
