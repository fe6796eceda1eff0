package central

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// busRecorder answers PutEvents as EventBridge does and keeps each
// request's target, content type and decoded body.
type busRecorder struct {
	mu       sync.Mutex
	heads    []string
	bodies   []any
	answers  []string // status:body, in turn; the last repeats
	attempts int
}

func (r *busRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var body any
	_ = json.Unmarshal(b, &body)
	r.mu.Lock()
	r.heads = append(r.heads, req.Method+" "+req.URL.Path+" "+req.Header.Get("X-Amz-Target")+" "+req.Header.Get("Content-Type"))
	r.bodies = append(r.bodies, body)
	a := r.answers[min(r.attempts, len(r.answers)-1)]
	r.attempts++
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if req.Header.Get("Authorization") == "" {
		w.WriteHeader(403)
		return
	}
	switch a {
	case "throttled":
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
	case "missing":
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"Event bus central does not exist."}`))
	default:
		_, _ = w.Write([]byte(`{"FailedEntryCount":1,"Entries":[{"EventId":"e-1"},{"ErrorCode":"InternalFailure","ErrorMessage":"try again"}]}`))
	}
}

func busConfig(url string) aws.Config {
	return aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), BaseEndpoint: aws.String(url)}
}

// TestBusSendsWhatTheSDKSends: the small client's request is the SDK
// client's once decoded (the timestamp as epoch seconds), on the same
// route and target, and it reads the answer and AWS's errors the same way.
func TestBusSendsWhatTheSDKSends(t *testing.T) {
	rec := &busRecorder{answers: []string{"ok"}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := busConfig(srv.URL)
	sdk, small := eventbridge.NewFromConfig(cfg), NewBus(cfg)
	in := &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{EventBusName: aws.String("arn:aws:events:eu-west-1:210987654321:event-bus/central"), Source: aws.String(Source),
			DetailType: aws.String(DetailTypeRunReport), Detail: aws.String(`{"a":"\u202e<b>"}`),
			Resources: []string{"arn:aws:iam::111122223333:role/r"}, Time: aws.Time(time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC))},
		{EventBusName: aws.String("central"), Source: aws.String(Source), DetailType: aws.String("x"), Detail: aws.String(`{}`)},
	}}
	var outs []*eventbridge.PutEventsOutput
	for _, api := range []EventPutter{sdk, small} {
		out, err := api.PutEvents(t.Context(), in)
		if err != nil {
			t.Fatalf("%T: %v", api, err)
		}
		outs = append(outs, out)
	}
	if len(rec.heads) != 2 || rec.heads[0] != rec.heads[1] || rec.heads[0] != "POST / AWSEvents.PutEvents application/x-amz-json-1.1" {
		t.Errorf("requests %q", rec.heads)
	}
	if !reflect.DeepEqual(rec.bodies[0], rec.bodies[1]) {
		a, _ := json.Marshal(rec.bodies[0])
		b, _ := json.Marshal(rec.bodies[1])
		t.Errorf("bodies differ:\nSDK:   %s\nsmall: %s", a, b)
	}
	if outs[0].FailedEntryCount != outs[1].FailedEntryCount || !reflect.DeepEqual(outs[0].Entries, outs[1].Entries) ||
		outs[1].FailedEntryCount != 1 || aws.ToString(outs[1].Entries[0].EventId) != "e-1" || aws.ToString(outs[1].Entries[1].ErrorCode) != "InternalFailure" {
		t.Errorf("answers differ: SDK %+v, small %+v", outs[0], outs[1])
	}
}

// TestBusErrorsAndRetries: a missing bus is AWS's error code, not retried;
// throttling (400 in JSON 1.1) is retried as the SDK's retryer does.
func TestBusErrorsAndRetries(t *testing.T) {
	in := &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{EventBusName: aws.String("central"), Source: aws.String(Source), DetailType: aws.String("x"), Detail: aws.String(`{}`)}}}

	rec := &busRecorder{answers: []string{"missing"}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	_, err := NewBus(busConfig(srv.URL)).PutEvents(t.Context(), in)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || ae.ErrorMessage() != "Event bus central does not exist." || rec.attempts != 1 {
		t.Errorf("missing bus: %v after %d attempt(s)", err, rec.attempts)
	}

	rec2 := &busRecorder{answers: []string{"throttled", "throttled", "ok"}}
	srv2 := httptest.NewServer(rec2)
	defer srv2.Close()
	if out, err := NewBus(busConfig(srv2.URL)).PutEvents(t.Context(), in); err != nil || rec2.attempts != 3 || out.FailedEntryCount != 1 {
		t.Errorf("throttled twice: %+v %v after %d attempt(s)", out, err, rec2.attempts)
	}

	if _, err := NewBus(busConfig(srv2.URL)).PutEvents(t.Context(), &eventbridge.PutEventsInput{}); err == nil {
		t.Error("no entries: want an error before sending")
	}
	if _, err := NewBus(busConfig(srv2.URL)).PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: in.Entries, EndpointId: aws.String("abc.xyz")}); err == nil {
		t.Error("a global endpoint needs SigV4a: want an error before sending")
	}
}

// TestBusReachesTheEmulatorsBus: the run report entry the publisher builds
// lands on the emulator's bus, as through the SDK client.
func TestBusReachesTheEmulatorsBus(t *testing.T) {
	s := awsemu.StartTest(t)
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDADMIN", "secret", ""), BaseEndpoint: aws.String(s.URL())}
	bus := "arn:aws:events:eu-west-1:210987654321:event-bus/central"
	out, err := NewBus(cfg).PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{EventBusName: aws.String(bus), Source: aws.String(Source), DetailType: aws.String(DetailTypeRunReport), Detail: aws.String(`{"a":1}`), Time: aws.Time(time.Now())},
		{EventBusName: aws.String(bus), Source: aws.String(Source), DetailType: aws.String("x"), Detail: aws.String(`not json`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].EventId) == "" || aws.ToString(out.Entries[1].ErrorCode) != "InvalidArgument" {
		t.Errorf("answer %+v", out)
	}
	if got := s.Events(); len(got) != 1 || got[0].Bus != bus || got[0].DetailType != DetailTypeRunReport {
		t.Errorf("events %+v", got)
	}
}
