package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awscall"
)

// Bus is EventBridge's PutEvents with the SDK's own input and output types,
// through awscall (the JSON 1.1 protocol). It exists for the release
// binary's size: the SDK's eventbridge client links its endpoint rules and
// the SigV4a signer (for global endpoints, which the guard does not use),
// 128 KiB of the arm64 bootstrap, for one call. A test holds that it sends
// what the SDK client sends.
type Bus struct {
	svc *awscall.Service
}

// NewBus is PutEvents in cfg's Region, at its BaseEndpoint when set.
func NewBus(cfg aws.Config) *Bus {
	return &Bus{svc: awscall.New(cfg, "EventBridge", "events", "events")}
}

// busEntry is PutEventsRequestEntry on the wire: JSON 1.1 sends a
// timestamp as epoch seconds.
type busEntry struct {
	Detail       *string  `json:",omitempty"`
	DetailType   *string  `json:",omitempty"`
	EventBusName *string  `json:",omitempty"`
	Resources    []string `json:",omitempty"`
	Source       *string  `json:",omitempty"`
	Time         *float64 `json:",omitempty"`
	TraceHeader  *string  `json:",omitempty"`
}

// PutEvents sends the entries. A global endpoint (EndpointId) needs
// SigV4a, which Bus does not sign: it is refused before sending.
func (b *Bus) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	if in == nil || len(in.Entries) == 0 {
		return nil, errors.New("operation error EventBridge: PutEvents, no entries")
	}
	if in.EndpointId != nil {
		return nil, errors.New("operation error EventBridge: PutEvents, global endpoints (EndpointId) are not supported")
	}
	wire := struct{ Entries []busEntry }{Entries: make([]busEntry, len(in.Entries))}
	for i, e := range in.Entries {
		w := busEntry{Detail: e.Detail, DetailType: e.DetailType, EventBusName: e.EventBusName, Resources: e.Resources, Source: e.Source, TraceHeader: e.TraceHeader}
		if e.Time != nil {
			sec := float64(e.Time.UnixMilli()) / 1000
			w.Time = &sec
		}
		wire.Entries[i] = w
	}
	payload, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("operation error EventBridge: PutEvents, encoding: %w", err)
	}
	var ans struct {
		FailedEntryCount int32
		Entries          []struct{ EventId, ErrorCode, ErrorMessage *string }
	}
	req := awscall.Request{Op: "PutEvents", Method: http.MethodPost, Path: "/", ContentType: "application/x-amz-json-1.1", Target: "AWSEvents.PutEvents", Body: payload}
	if err := b.svc.Call(ctx, req, &ans, nil); err != nil {
		return nil, err
	}
	out := &eventbridge.PutEventsOutput{FailedEntryCount: ans.FailedEntryCount}
	for _, e := range ans.Entries {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: e.EventId, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage})
	}
	return out, nil
}
