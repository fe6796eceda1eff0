package awsemu

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type sqsQueueKey struct{ account, region, name string }

type sqsQueue struct {
	name, url, arn string
	// attrs are the attributes as set at creation, defaults filled in.
	attrs map[string]string
	msgs  []*sqsMessage
}

type sqsMessage struct {
	id, body, sender string
	attrs            map[string]sqsAttrValue
	sent, visibleAt  time.Time
	firstReceive     time.Time
	receives         int
}

type sqsAttrValue struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// sqsDefaults are a new queue's attributes. MaximumMessageSize is 1 MiB
// since AWS raised it in 2025 (it was 256 KiB); a queue created with a
// smaller limit keeps it.
var sqsDefaults = map[string]string{
	"DelaySeconds":                  "0",
	"MaximumMessageSize":            "1048576",
	"MessageRetentionPeriod":        "345600",
	"ReceiveMessageWaitTimeSeconds": "0",
	"VisibilityTimeout":             "30",
	"SqsManagedSseEnabled":          "true",
}

// sqsBounds are the numeric attributes and their ranges.
var sqsBounds = map[string][2]int{
	"DelaySeconds":                  {0, 900},
	"MaximumMessageSize":            {1024, 1048576},
	"MessageRetentionPeriod":        {60, 1209600},
	"ReceiveMessageWaitTimeSeconds": {0, 20},
	"VisibilityTimeout":             {0, 43200},
	"KmsDataKeyReusePeriodSeconds":  {60, 86400},
}

// sqsOpaque are attributes kept as given (their documents are not read).
var sqsOpaque = []string{"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled"}

var sqsFIFO = []string{"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func (q *sqsQueue) attr(name string) int {
	n, _ := strconv.Atoi(q.attrs[name])
	return n
}

// sqsAttributes validates CreateQueue's attributes and fills the defaults.
func sqsAttributes(given map[string]string) (map[string]string, *sqsFail) {
	out := maps.Clone(sqsDefaults)
	for _, name := range slices.Sorted(maps.Keys(given)) {
		v := given[name]
		if b, ok := sqsBounds[name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < b[0] || n > b[1] {
				return nil, sqsModelled(400, "InvalidAttributeValue", "InvalidAttributeValue", "Invalid value for the parameter "+name+".")
			}
			out[name] = strconv.Itoa(n)
			continue
		}
		switch {
		case slices.Contains(sqsOpaque, name):
			out[name] = v
		case slices.Contains(sqsFIFO, name):
			return nil, sqsInvalidValue("FIFO queues are not emulated (attribute " + name + ")")
		default:
			return nil, sqsModelled(400, "InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute "+name+".")
		}
	}
	return out, nil
}

// sqsHost is the endpoint host of a Region, as queue URLs name it.
func sqsHost(region string) string {
	if partitionOf(region) == "aws-cn" {
		return "sqs." + region + ".amazonaws.com.cn"
	}
	return "sqs." + region + ".amazonaws.com"
}

// sqsQueues returns the queue map, creating it; callers hold s.mu.
func (s *Server) sqsQueues() map[sqsQueueKey]*sqsQueue {
	if s.sqs == nil {
		s.sqs = map[sqsQueueKey]*sqsQueue{}
	}
	return s.sqs
}

// queueOf resolves a QueueUrl for a call in req.region; callers hold s.mu.
// The URL's host names the Region (sqs.REGION.amazonaws.com, or the legacy
// REGION.queue.amazonaws.com); any other host (a local endpoint) means the
// caller's. A URL of another Region than the endpoint's is not found there.
// Queue policies are not emulated: any caller may use a queue by its URL.
func (s *Server) queueOf(req *request, queueURL string) (*sqsQueue, *sqsFail) {
	if queueURL == "" {
		return nil, sqsMissing("QueueUrl")
	}
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" {
		return nil, sqsNoQueue()
	}
	region := req.region
	host := strings.ToLower(u.Hostname())
	switch {
	case strings.HasPrefix(host, "sqs.") && strings.Contains(host, ".amazonaws.com"):
		region = strings.SplitN(host, ".", 3)[1]
	case strings.HasSuffix(host, ".queue.amazonaws.com"):
		region = strings.TrimSuffix(host, ".queue.amazonaws.com")
	case host == "queue.amazonaws.com":
		region = "us-east-1"
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if region != req.region || len(parts) != 2 || !accountRE.MatchString(parts[0]) {
		return nil, sqsNoQueue()
	}
	q, ok := s.sqsQueues()[sqsQueueKey{parts[0], region, parts[1]}]
	if !ok {
		return nil, sqsNoQueue()
	}
	return q, nil
}

func (s *Server) sqsCreateQueue(req *request) (any, *sqsFail) {
	var in struct {
		QueueName  string            `json:"QueueName"`
		Attributes map[string]string `json:"Attributes"`
		Tags       map[string]string `json:"tags"`
	}
	if f := decodeSQS(req, &in); f != nil {
		return nil, f
	}
	if in.QueueName == "" {
		return nil, sqsMissing("QueueName")
	}
	if !queueNameRE.MatchString(in.QueueName) {
		return nil, sqsInvalidValue("Value " + in.QueueName + " for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.")
	}
	attrs, f := sqsAttributes(in.Attributes)
	if f != nil {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sqsQueueKey{req.account, req.region, in.QueueName}
	if q, ok := s.sqsQueues()[k]; ok {
		// Creating a queue again is idempotent unless an attribute given
		// differs from the queue's.
		for _, name := range slices.Sorted(maps.Keys(in.Attributes)) {
			if attrs[name] != q.attrs[name] {
				return nil, sqsModelled(400, "QueueNameExists", "QueueAlreadyExists",
					"A queue already exists with the same name and a different value for attribute "+name)
			}
		}
		return map[string]string{"QueueUrl": q.url}, nil
	}
	q := &sqsQueue{
		name:  in.QueueName,
		url:   "https://" + sqsHost(req.region) + "/" + req.account + "/" + in.QueueName,
		arn:   fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partitionOf(req.region), req.region, req.account, in.QueueName),
		attrs: attrs,
	}
	s.sqsQueues()[k] = q
	return map[string]string{"QueueUrl": q.url}, nil
}

func (s *Server) sqsGetQueueURL(req *request) (any, *sqsFail) {
	var in struct {
		QueueName string `json:"QueueName"`
		Owner     string `json:"QueueOwnerAWSAccountId"`
	}
	if f := decodeSQS(req, &in); f != nil {
		return nil, f
	}
	if in.QueueName == "" {
		return nil, sqsMissing("QueueName")
	}
	owner := req.account
	if in.Owner != "" {
		owner = in.Owner
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.sqsQueues()[sqsQueueKey{owner, req.region, in.QueueName}]
	if !ok {
		return nil, sqsNoQueue()
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

// QueueMessages returns the bodies of the messages in a queue, in flight or
// not, oldest first: what a test reads to see what reached the queue.
func (s *Server) QueueMessages(account, region, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.sqsQueues()[sqsQueueKey{account, region, name}]
	if !ok {
		return nil
	}
	out := make([]string, len(q.msgs))
	for i, m := range q.msgs {
		out[i] = m.body
	}
	return out
}

// validSQSText reports whether every character is one SQS accepts:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
// The API reference says such a message is rejected (InvalidMessageContents)
// in one place and stored with U+FFFD in another; the emulator rejects.
func validSQSText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD,
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// attributesMD5 is SQS's digest of message attributes: for each attribute
// by name, the name, the data type, a transport byte (1 string, 2 binary)
// and the value, each string length-prefixed (4 bytes, big endian).
func attributesMD5(attrs map[string]sqsAttrValue) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		put([]byte(name))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func bodyMD5(body string) string {
	sum := md5.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// receiptHandle names a message of a queue for DeleteMessage; each receive
// hands out a new one.
func receiptHandle(q *sqsQueue, m *sqsMessage) string {
	return base64.RawURLEncoding.EncodeToString([]byte(q.arn + "\x00" + m.id + "\x00" + newRequestID()))
}

// handleMessage reads a receipt handle; ok is false when it is not one of
// this queue's.
func handleMessage(q *sqsQueue, handle string) (id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(handle)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || parts[0] != q.arn {
		return "", false
	}
	return parts[1], true
}
