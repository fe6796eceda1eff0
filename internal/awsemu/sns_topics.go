package awsemu

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// snsListTopicsPage is how many topics one ListTopics page holds: SNS
// documents "up to 100" per call.
const snsListTopicsPage = 100

// snsListTopics answers ListTopics: the caller's topics in the request's
// Region, sorted by ARN, 100 a page, with an opaque NextToken while more
// remain. SNS does not document the order; sorting keeps pages stable.
func (s *Server) snsListTopics(req *request) (any, *apiError) {
	if e := s.snsRegionCheck(req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	var arns []string
	for arn, t := range s.acct(req.account).topics {
		if t.region == req.region {
			arns = append(arns, arn)
		}
	}
	s.mu.Unlock()
	slices.Sort(arns)

	from := 0
	if tok, ok := req.form["NextToken"]; ok {
		// AWS's answer to a token it did not issue is not documented;
		// InvalidParameter is what SNS uses for every malformed parameter.
		f, ok := decodeTopicsToken(first(tok))
		if !ok || f > len(arns) {
			return nil, snsInvalid("NextToken")
		}
		from = f
	}
	to := min(from+snsListTopicsPage, len(arns))
	var x xb
	x.open("Topics")
	for _, arn := range arns[from:to] {
		x.open("member")
		x.leaf("TopicArn", arn)
		x.close("member")
	}
	x.close("Topics")
	if to < len(arns) {
		x.leaf("NextToken", encodeTopicsToken(to))
	}
	return x.result(), nil
}

func encodeTopicsToken(from int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("emu-topics:" + strconv.Itoa(from)))
}

func decodeTopicsToken(tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "emu-topics:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(raw), "emu-topics:") {
		return 0, false
	}
	return n, true
}
