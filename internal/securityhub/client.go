package securityhub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awscall"
)

// Client calls the two Security Hub operations the guard needs with the
// SDK's own input and output types, through awscall. It exists for the
// release binary's size only: the SDK's securityhub client links the
// serializers of every ASFF resource detail (about 1.5 MB of the arm64
// binary, over its 12 MiB goal), for two calls that take a handful of
// fields. What the SDK client would validate before sending is held by
// tests against both the SDK client and this one.
type Client struct {
	svc *awscall.Service
}

// NewClient builds the client from an SDK configuration: its Region,
// credentials, HTTP client and BaseEndpoint (the emulator's, in tests).
func NewClient(cfg aws.Config) *Client {
	return &Client{svc: awscall.New(cfg, "SecurityHub", "securityhub", "securityhub")}
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

func (c *Client) call(ctx context.Context, op, method, path string, body any, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("securityhub %s: encoding: %w", op, err)
	}
	return c.svc.Call(ctx, awscall.Request{Op: op, Method: method, Path: path, ContentType: "application/json", Body: payload}, out, apiError)
}

// apiError is the SDK's typed error where the guard tells errors apart.
func apiError(code, msg string) error {
	if code == "InvalidAccessException" {
		return &types.InvalidAccessException{Message: aws.String(msg), Code: aws.String(code)}
	}
	return nil // awscall's smithy.GenericAPIError
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
