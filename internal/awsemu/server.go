// Package awsemu is a small, in-memory emulator of the AWS APIs dhmc-guard
// calls: SSM service settings (JSON 1.1), IAM roles (Query/XML), SNS topics
// (Query/XML), account:ListRegions (REST-JSON), sts:GetCallerIdentity, the
// DynamoDB subset the run ledger uses (JSON 1.0, see package ddb) and SQS
// standard queues (JSON 1.0, see sqs.go) and the Security Hub findings calls
// (REST JSON, see securityhub.go).
//
// One http.Handler serves every service. The service and the Region are taken
// from the SigV4 credential scope of each request
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request), the account from the
// access key (see SetCaller). Signatures are not verified: any static
// credentials work, but a request without SigV4 authorization is refused.
//
// The emulator is for tests, benchmarks and the demo only; product code never
// imports it.
package awsemu

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu/ddb"
	"github.com/dhmc-guard/dhmc-guard/internal/awsemu/wire"
)

// DefaultAccount is the account of every access key not mapped by SetCaller.
const DefaultAccount = "123456789012"

// maxBody bounds request bodies; SNS allows 256 KiB messages plus attributes.
const maxBody = 4 << 20

// Server is the emulator. The zero value is not usable: call New.
type Server struct {
	mu       sync.Mutex
	created  time.Time
	callers  map[string]identity
	accounts map[string]*accountState
	// customer managed policies by ARN (AWS managed ones are fixed, see
	// awsManagedPolicies).
	policies map[string]bool
	calls    []Call
	spans    []span // calls[i] ran over spans[i]
	faults   []*faultEntry
	messages []Message
	// stampCallers: LastModifiedUser is the caller, not "System".
	stampCallers bool
	// dangling are setting writes that named a role that did not exist.
	dangling []string
	// stacks are CloudFormation stack resources by account and Region.
	stacks map[stackKey][]StackResource
	dynamo ddb.Service               // DynamoDB tables (package ddb, seam in dynamodb.go)
	sqs    map[sqsQueueKey]*sqsQueue // SQS queues (sqs.go)
	events []Event                   // EventBridge PutEvents entries (events.go)
	hubs   map[shKey]*shHub          // Security Hub, where enabled (securityhub.go)
	// fleet: EC2 instances, SSM managed nodes, instance profiles and customer
	// managed policy versions (fleet_state.go).
	fleet fleetState
	// associations are State Manager associations by account and Region
	// (ssm_associations.go).
	associations map[regionKey][]Association

	ln  net.Listener
	srv *http.Server
	url string
}

type identity struct {
	account, arn string
}

// New returns an emulator with empty state that is not listening yet. It is an
// http.Handler and may be mounted in any server (e.g. httptest).
func New() *Server {
	return &Server{
		created:  time.Now().UTC().Truncate(time.Second),
		callers:  map[string]identity{},
		accounts: map[string]*accountState{},
		policies: map[string]bool{},
	}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.srv, s.url = ln, srv, "http://"+ln.Addr().String()
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL is the base URL to give SDK clients as BaseEndpoint, after Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops listening and closes open connections.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("closing emulator: %w", err)
	}
	return nil
}

// StartTest starts an emulator on a free loopback port and closes it when the
// test ends.
func StartTest(tb testing.TB) *Server {
	tb.Helper()
	s := New()
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("starting aws emulator: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// SetCaller maps an access key ID to an account and a caller ARN (what
// GetCallerIdentity returns and what SSM records as LastModifiedUser).
// Unmapped keys belong to DefaultAccount's user DefaultUserName.
func (s *Server) SetCaller(accessKeyID, account, callerARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callers[accessKeyID] = identity{account: account, arn: callerARN}
}

func (s *Server) identityFor(akid, region string) identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.callers[akid]; ok {
		return id
	}
	return defaultIdentity(region)
}

// request is one decoded call, whatever its protocol.
type request struct {
	r        *http.Request
	body     []byte
	id       string // request ID
	service  string // from the credential scope
	region   string // from the credential scope
	akid     string
	account  string
	caller   string
	op       string
	start    time.Time // when the request arrived, for the timed call log
	protocol protocol
	form     map[string][]string // Query protocol parameters
}

type protocol int

const (
	protoJSON protocol = iota // awsJson1_1 (SSM)
	protoQuery
	protoREST // restJson1 (account)
)

// credentialRE picks the scope out of "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...".
var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request`)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveControl(w, r) { // the emulator's own read-outs (control.go)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	req := &request{r: r, body: body, id: newRequestID(), start: time.Now()}
	req.protocol = guessProtocol(r)
	if err != nil || len(body) > maxBody {
		s.finish(w, req, apiErr(400, "RequestEntityTooLarge", "request body too large or unreadable"))
		return
	}
	if req.protocol == protoQuery {
		form, perr := parseForm(body)
		if perr != nil {
			s.finish(w, req, apiErr(400, "MalformedQueryString", "malformed form body"))
			return
		}
		req.form = form
		req.op = first(form["Action"])
	} else if req.protocol == protoJSON {
		target := r.Header.Get("X-Amz-Target")
		if _, op, ok := strings.Cut(target, "."); ok {
			req.op = op
		}
	}

	auth := r.Header.Get("Authorization")
	if auth == "" {
		code := "MissingAuthenticationToken"
		if req.protocol != protoQuery {
			code = "MissingAuthenticationTokenException"
		}
		s.finish(w, req, apiErr(403, code, "Request is missing Authentication Token"))
		return
	}
	m := credentialRE.FindStringSubmatch(auth)
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || m == nil || !strings.Contains(auth, "Signature=") {
		code := "IncompleteSignature"
		if req.protocol != protoQuery {
			code = "IncompleteSignatureException"
		}
		s.finish(w, req, apiErr(403, code, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters; got '"+auth+"'"))
		return
	}
	req.akid, req.region, req.service = m[1], m[3], m[4]
	id := s.identityFor(req.akid, req.region)
	req.account, req.caller = id.account, id.arn

	switch req.service {
	case "ssm":
		req.protocol = protoJSON
		s.dispatch(w, req, ssmOps)
	case "iam":
		req.protocol = protoQuery
		s.dispatch(w, req, iamOps)
	case "sns":
		req.protocol = protoQuery
		s.dispatch(w, req, snsOps)
	case "sts":
		req.protocol = protoQuery
		s.dispatch(w, req, stsOps)
	case "events":
		req.protocol = protoJSON
		s.dispatch(w, req, eventsOps)
	case "cloudformation":
		req.protocol = protoQuery
		s.dispatch(w, req, cfnOps)
	case "dynamodb":
		s.serveDynamoDB(w, req)
	case "ec2": // EC2's own Query dialect: see ec2.go
		s.dispatchEC2(w, req)
	case "sqs":
		s.serveSQS(w, req)
	case "securityhub":
		req.protocol = protoREST
		req.op = securityHubOp(r)
		s.dispatch(w, req, securityHubOps)
	case "account":
		req.protocol = protoREST
		if r.Method == http.MethodPost && r.URL.Path == "/listRegions" {
			req.op = "ListRegions"
		}
		s.dispatch(w, req, accountOps)
	default:
		s.finish(w, req, apiErr(400, "UnknownService", "service "+req.service+" is not emulated"))
	}
}

func guessProtocol(r *http.Request) protocol {
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		return protoJSON
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return protoQuery
	case r.URL.Path != "/" && r.URL.Path != "":
		return protoREST
	default:
		return protoQuery
	}
}

// handler answers one operation. It returns the response body (already
// encoded for the protocol) or an *apiError.
type handler struct {
	write bool
	fn    func(s *Server, req *request) (any, *apiError)
}

func (s *Server) dispatch(w http.ResponseWriter, req *request, ops map[string]handler) {
	h, ok := ops[req.op]
	if !ok {
		switch req.protocol {
		case protoQuery:
			s.finish(w, req, apiErrf(400, "InvalidAction", "The action %s is not valid for this web service.", req.op))
		case protoREST:
			s.finish(w, req, apiErr(404, "UnknownOperationException", "Unknown operation "+req.r.Method+" "+req.r.URL.Path))
		default:
			s.finish(w, req, apiErrf(400, "UnknownOperationException", "Unknown operation %s", req.r.Header.Get("X-Amz-Target")))
		}
		return
	}
	if e := s.applyFaults(req); e != nil {
		s.finishOp(w, req, nil, e, h.write)
		return
	}
	out, e := h.fn(s, req)
	s.finishOp(w, req, out, e, h.write)
}

func (s *Server) finish(w http.ResponseWriter, req *request, e *apiError) {
	s.finishOp(w, req, nil, e, false)
}

// finishOp writes the answer and records the call.
func (s *Server) finishOp(w http.ResponseWriter, req *request, out any, e *apiError, write bool) {
	status := http.StatusOK
	code := ""
	w.Header().Set("X-Amzn-RequestId", req.id)
	if e != nil {
		status, code = e.status, e.code
		writeError(w, req, e)
	} else {
		writeOK(w, req, out)
	}
	region := req.region
	if req.service == "iam" || req.service == "account" {
		region = "" // global services
	}
	s.logCall(req, Call{
		Service: req.service, Operation: req.op, Region: region, Account: req.account,
		Caller: req.caller, Status: status, ErrorCode: code, Write: write,
	})
}

func newRequestID() string { return wire.RequestID() }

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// partitionOf maps a Region to its partition, as ARNs need.
func partitionOf(region string) string { return wire.Partition(region) }
