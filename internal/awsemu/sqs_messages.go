package awsemu

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	sqsMaxAttributes = 10
	sqsMaxReceive    = 10
	sqsMaxWait       = 20
	sqsMaxDelay      = 900
	sqsMaxVisibility = 43200
)

func (s *Server) sqsSendMessage(req *request) (any, *sqsFail) {
	var in struct {
		QueueURL          string                  `json:"QueueUrl"`
		MessageBody       *string                 `json:"MessageBody"`
		DelaySeconds      *int                    `json:"DelaySeconds"`
		MessageAttributes map[string]sqsAttrValue `json:"MessageAttributes"`
		DeduplicationID   string                  `json:"MessageDeduplicationId"`
	}
	if f := decodeSQS(req, &in); f != nil {
		return nil, f
	}
	if in.MessageBody == nil || *in.MessageBody == "" {
		return nil, sqsMissing("MessageBody")
	}
	body := *in.MessageBody
	if !validSQSText(body) {
		return nil, sqsModelled(400, "InvalidMessageContents", "InvalidMessageContents",
			"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	if in.DeduplicationID != "" {
		return nil, sqsInvalidValue("Value " + in.DeduplicationID + " for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.")
	}
	if in.DelaySeconds != nil && (*in.DelaySeconds < 0 || *in.DelaySeconds > sqsMaxDelay) {
		return nil, sqsInvalidValue("Value " + strconv.Itoa(*in.DelaySeconds) + " for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.")
	}
	size := len(body)
	if len(in.MessageAttributes) > sqsMaxAttributes {
		return nil, sqsInvalidValue("Number of message attributes [" + strconv.Itoa(len(in.MessageAttributes)) + "] exceeds the allowed maximum [10].")
	}
	for _, name := range slices.Sorted(maps.Keys(in.MessageAttributes)) {
		a := in.MessageAttributes[name]
		switch {
		case a.DataType == "":
			return nil, sqsInvalidValue("The message attribute '" + name + "' must contain non-empty message attribute type.")
		case !strings.HasPrefix(a.DataType, "String") && !strings.HasPrefix(a.DataType, "Number") && !strings.HasPrefix(a.DataType, "Binary"):
			return nil, sqsInvalidValue("The type of message (user) attribute '" + name + "' is invalid. You must use only the following supported type prefixes: Binary, Number, String.")
		case a.StringValue == "" && len(a.BinaryValue) == 0:
			return nil, sqsInvalidValue("The message attribute '" + name + "' must contain non-empty message attribute value for message attribute type '" + a.DataType + "'.")
		}
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	q, f := s.queueOf(req, in.QueueURL)
	if f != nil {
		return nil, f
	}
	if max := q.attr("MaximumMessageSize"); size > max {
		return nil, sqsInvalidValue("One or more parameters are invalid. Reason: Message must be shorter than " + strconv.Itoa(max) + " bytes.")
	}
	delay := q.attr("DelaySeconds")
	if in.DelaySeconds != nil {
		delay = *in.DelaySeconds
	}
	now := time.Now()
	m := &sqsMessage{
		id: newRequestID(), body: body, sender: senderID(req), attrs: in.MessageAttributes,
		sent: now, visibleAt: now.Add(time.Duration(delay) * time.Second),
	}
	q.msgs = append(q.msgs, m)
	out := map[string]string{"MessageId": m.id, "MD5OfMessageBody": bodyMD5(body)}
	if d := attributesMD5(m.attrs); d != "" {
		out["MD5OfMessageAttributes"] = d
	}
	return out, nil
}

// senderID is what SQS reports as SenderId: the access key's user ID, or
// for an assumed role the role ID and session; the emulator has no IDs, so
// it reports the access key ID.
func senderID(req *request) string { return req.akid }

type sqsReceived struct {
	MessageID              string                  `json:"MessageId"`
	ReceiptHandle          string                  `json:"ReceiptHandle"`
	MD5OfBody              string                  `json:"MD5OfBody"`
	Body                   string                  `json:"Body"`
	Attributes             map[string]string       `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                  `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]sqsAttrValue `json:"MessageAttributes,omitempty"`
}

func (s *Server) sqsReceiveMessage(req *request) (any, *sqsFail) {
	var in struct {
		QueueURL              string   `json:"QueueUrl"`
		MaxNumberOfMessages   *int     `json:"MaxNumberOfMessages"`
		VisibilityTimeout     *int     `json:"VisibilityTimeout"`
		WaitTimeSeconds       *int     `json:"WaitTimeSeconds"`
		AttributeNames        []string `json:"AttributeNames"`
		SystemAttributeNames  []string `json:"MessageSystemAttributeNames"`
		MessageAttributeNames []string `json:"MessageAttributeNames"`
	}
	if f := decodeSQS(req, &in); f != nil {
		return nil, f
	}
	limit := 1
	if p := in.MaxNumberOfMessages; p != nil {
		if *p < 1 || *p > sqsMaxReceive {
			return nil, sqsInvalidValue("Value " + strconv.Itoa(*p) + " for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
		}
		limit = *p
	}
	if p := in.VisibilityTimeout; p != nil && (*p < 0 || *p > sqsMaxVisibility) {
		return nil, sqsInvalidValue("Value " + strconv.Itoa(*p) + " for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.")
	}
	if p := in.WaitTimeSeconds; p != nil && (*p < 0 || *p > sqsMaxWait) {
		return nil, sqsInvalidValue("Value " + strconv.Itoa(*p) + " for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")
	}
	s.mu.Lock()
	q, f := s.queueOf(req, in.QueueURL)
	if f != nil {
		s.mu.Unlock()
		return nil, f
	}
	wait := q.attr("ReceiveMessageWaitTimeSeconds")
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
	}
	visibility := q.attr("VisibilityTimeout")
	if in.VisibilityTimeout != nil {
		visibility = *in.VisibilityTimeout
	}
	s.mu.Unlock()

	// Long polling: wait until a message is visible or the wait is over.
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		s.mu.Lock()
		now := time.Now()
		var out []sqsReceived
		for _, m := range q.msgs {
			if len(out) == limit {
				break
			}
			if now.Before(m.visibleAt) {
				continue
			}
			m.receives++
			if m.firstReceive.IsZero() {
				m.firstReceive = now
			}
			m.visibleAt = now.Add(time.Duration(visibility) * time.Second)
			out = append(out, received(q, m, slices.Concat(in.AttributeNames, in.SystemAttributeNames), in.MessageAttributeNames))
		}
		s.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) || req.r.Context().Err() != nil {
			return map[string]any{"Messages": out}, nil
		}
		sleep(req.r.Context(), 20*time.Millisecond)
	}
}

// received renders a message as ReceiveMessage answers it, with the system
// and message attributes asked for.
func received(q *sqsQueue, m *sqsMessage, system, names []string) sqsReceived {
	r := sqsReceived{MessageID: m.id, ReceiptHandle: receiptHandle(q, m), MD5OfBody: bodyMD5(m.body), Body: m.body}
	all := map[string]string{
		"SenderId":                         m.sender,
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	for _, n := range system {
		if n == "All" {
			r.Attributes = all
			break
		}
		if v, ok := all[n]; ok {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[n] = v
		}
	}
	picked := map[string]sqsAttrValue{}
	for name, a := range m.attrs {
		for _, want := range names {
			prefix, wild := strings.CutSuffix(want, ".*")
			if want == "All" || want == ".*" || want == name || wild && strings.HasPrefix(name, prefix+".") {
				picked[name] = a
				break
			}
		}
	}
	if len(picked) > 0 {
		r.MessageAttributes, r.MD5OfMessageAttributes = picked, attributesMD5(picked)
	}
	return r
}

func (s *Server) sqsDeleteMessage(req *request) (any, *sqsFail) {
	var in struct {
		QueueURL      string `json:"QueueUrl"`
		ReceiptHandle string `json:"ReceiptHandle"`
	}
	if f := decodeSQS(req, &in); f != nil {
		return nil, f
	}
	if in.ReceiptHandle == "" {
		return nil, sqsMissing("ReceiptHandle")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, f := s.queueOf(req, in.QueueURL)
	if f != nil {
		return nil, f
	}
	id, ok := handleMessage(q, in.ReceiptHandle)
	if !ok {
		return nil, sqsModelled(404, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
			`The input receipt handle "`+in.ReceiptHandle+`" is not a valid receipt handle.`)
	}
	// A handle of a message already deleted succeeds, as in SQS.
	q.msgs = slices.DeleteFunc(q.msgs, func(m *sqsMessage) bool { return m.id == id })
	return nil, nil
}
