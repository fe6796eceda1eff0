package awsemu

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// EC2 speaks its own dialect of the Query protocol: a form body with
// Action=...&Version=2016-11-15, and answers <ActionResponse> in the EC2
// namespace with a lower-case <requestId> and no Result wrapper. Errors come
// as <Response><Errors><Error><Code>… with <RequestID> (aws-sdk-go-v2
// aws/protocol/ec2query.ErrorComponents reads exactly these).
const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

var ec2Ops = map[string]handler{
	"DescribeInstances": {fn: (*Server).ec2DescribeInstances},
}

// dispatchEC2 is dispatch for EC2's envelope: the same fault injection and
// call log, another answer shape.
func (s *Server) dispatchEC2(w http.ResponseWriter, req *request) {
	req.protocol = protoQuery
	var out any
	var e *apiError
	h, ok := ec2Ops[req.op]
	switch {
	case !ok:
		e = apiErrf(400, "InvalidAction", "The action %s is not valid for this web service.", req.op)
	case s.regionDisabled(req.account, req.region):
		e = apiErr(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	default:
		if e = s.applyFaults(req); e != nil {
			e = ec2Fault(e)
		} else {
			out, e = h.fn(s, req)
		}
	}
	w.Header().Set("X-Amzn-RequestId", req.id)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	status, code := http.StatusOK, ""
	if e != nil {
		status, code = e.status, e.code
		w.WriteHeader(e.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			esc(e.code), esc(e.message), req.id)
	} else {
		res, _ := out.(xmlResult)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<%sResponse xmlns="%s"><requestId>%s</requestId>%s</%sResponse>`,
			req.op, ec2Namespace, req.id, res.inner, req.op)
	}
	write := ok && h.write
	s.logCall(req, Call{
		Service: req.service, Operation: req.op, Region: req.region, Account: req.account,
		Caller: req.caller, Status: status, ErrorCode: code, Write: write,
	})
}

// ec2Fault maps the generic Query fault answers to EC2's codes: throttling is
// RequestLimitExceeded (503), a server error InternalError, a denial
// UnauthorizedOperation.
func ec2Fault(e *apiError) *apiError {
	switch {
	case e.status >= 500:
		return apiErr(500, "InternalError", "An internal error has occurred")
	case e.code == "AccessDenied":
		return apiErr(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	default:
		return apiErr(503, "RequestLimitExceeded", "Request limit exceeded.")
	}
}

var instanceIDRE = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// ec2Filter is one Filter.N: a name and the values any of which may match.
type ec2Filter struct {
	name   string
	values []string
}

// emulatedFilters are the DescribeInstances filter names the emulator
// evaluates. EC2 supports many more; any other name is refused the way EC2
// refuses a name it does not know, so a test never passes on a filter that
// was silently ignored.
var emulatedFilters = []string{
	"instance-state-name", "instance-state-code", "instance-id", "tag-key",
	"iam-instance-profile.arn", "metadata-options.http-tokens",
	"metadata-options.http-endpoint", "platform", "instance-type",
}

// indexed collects Prefix.N (and Prefix.N.Suffix.M) parameters in N order.
func indexed(form map[string][]string, prefix string) []int {
	var ns []int
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err == nil && !seen[n] {
			seen[n] = true
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	return ns
}

func parseEC2Filters(form map[string][]string) ([]ec2Filter, *apiError) {
	var out []ec2Filter
	for _, n := range indexed(form, "Filter") {
		name := first(form[fmt.Sprintf("Filter.%d.Name", n)])
		f := ec2Filter{name: name}
		for _, m := range indexed(form, fmt.Sprintf("Filter.%d.Value", n)) {
			f.values = append(f.values, first(form[fmt.Sprintf("Filter.%d.Value.%d", n, m)]))
		}
		if name == "" {
			return nil, apiErr(400, "InvalidParameterValue", "The filter 'null' is invalid")
		}
		if !strings.HasPrefix(name, "tag:") && !slices.Contains(emulatedFilters, name) {
			return nil, apiErrf(400, "InvalidParameterValue", "The filter '%s' is invalid", name)
		}
		out = append(out, f)
	}
	return out, nil
}

// filterMatch applies EC2's value matching: exact, with * and ? wildcards.
func filterMatch(values []string, got string) bool {
	for _, v := range values {
		if ok, _ := path.Match(strings.ReplaceAll(v, "/", "\x00"), strings.ReplaceAll(got, "/", "\x00")); ok || v == got {
			return true
		}
	}
	return false
}

func (in *Instance) matches(f ec2Filter) bool {
	switch {
	case f.name == "instance-state-name":
		return filterMatch(f.values, in.State)
	case f.name == "instance-state-code":
		return filterMatch(f.values, strconv.Itoa(instanceStateCodes[in.State]))
	case f.name == "instance-id":
		return filterMatch(f.values, in.ID)
	case f.name == "tag-key":
		for _, t := range in.tags() {
			if filterMatch(f.values, t[0]) {
				return true
			}
		}
		return false
	case strings.HasPrefix(f.name, "tag:"):
		key := strings.TrimPrefix(f.name, "tag:")
		for _, t := range in.tags() {
			if t[0] == key && filterMatch(f.values, t[1]) {
				return true
			}
		}
		return false
	case f.name == "iam-instance-profile.arn":
		return in.InstanceProfileARN != "" && filterMatch(f.values, in.InstanceProfileARN)
	case f.name == "metadata-options.http-tokens":
		return filterMatch(f.values, in.HTTPTokens)
	case f.name == "metadata-options.http-endpoint":
		return filterMatch(f.values, in.HTTPEndpoint)
	case f.name == "platform":
		return in.Platform != "" && filterMatch(f.values, in.Platform)
	case f.name == "instance-type":
		return filterMatch(f.values, in.InstanceType)
	}
	return false
}

// ec2Token encodes a page position. EC2's tokens are opaque; this one names
// the offset into the filtered list, which stays valid while the seeded
// state does not change between pages (as in every test).
func ec2Token(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("emu:ec2:" + strconv.Itoa(offset)))
}

func ec2Offset(tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "emu:ec2:"))
	if err != nil || !strings.HasPrefix(string(raw), "emu:ec2:") || n < 0 {
		return 0, false
	}
	return n, true
}

// ec2DescribeInstances answers DescribeInstances with the limits AWS
// documents: MaxResults 5..1000 and not together with InstanceId; without
// MaxResults, every matching instance in one answer. Wording of the errors
// as EC2 gives them (aws-sdk-ruby PR 2575 for maxResults, moto issue 6282 for
// the combination, boto3 issue 2673 for a bad NextToken).
func (s *Server) ec2DescribeInstances(req *request) (any, *apiError) {
	var ids []string
	for _, n := range indexed(req.form, "InstanceId") {
		ids = append(ids, first(req.form[fmt.Sprintf("InstanceId.%d", n)]))
	}
	maxResults := 0
	if v := param(req, "MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, apiErrf(400, "InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value greater than 5.", v)
		}
		if len(ids) > 0 {
			return nil, apiErr(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		switch {
		case n < 5:
			return nil, apiErrf(400, "InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 5.", n)
		case n > 1000:
			// AWS documents the bound; the wording above 1000 is not
			// published and is an assumption.
			return nil, apiErrf(400, "InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value less than 1000.", n)
		}
		maxResults = n
	}
	for _, id := range ids {
		if !instanceIDRE.MatchString(id) {
			return nil, apiErrf(400, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
	}
	filters, e := parseEC2Filters(req.form)
	if e != nil {
		return nil, e
	}
	from := 0
	if tok := param(req, "NextToken"); tok != "" {
		n, ok := ec2Offset(tok)
		if !ok {
			return nil, apiErrf(400, "InvalidParameterValue", "Value ( %s ) for parameter NextToken is invalid. The token is invalid.", tok)
		}
		from = n
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.fleet.instanceSet(req.account, req.region)
	var missing []string
	for _, id := range ids {
		if _, ok := set.byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	switch {
	case len(missing) == 1:
		return nil, apiErrf(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	case len(missing) > 1:
		return nil, apiErrf(400, "InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}

	var matched []*Instance
	for _, in := range set.order {
		if len(ids) > 0 && !slices.Contains(ids, in.ID) {
			continue
		}
		ok := true
		for _, f := range filters {
			if !in.matches(f) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, in)
		}
	}
	from = min(from, len(matched))
	to := len(matched)
	if maxResults > 0 {
		to = min(from+maxResults, len(matched))
	}
	profileIDs := map[string]string{}
	var x xb
	x.open("reservationSet")
	// Consecutive instances of one reservation travel in one item. Whether
	// EC2 ever splits a reservation across pages is not documented; readers
	// must not care, and a split here shows as the same reservation twice.
	page := matched[from:to]
	for i := 0; i < len(page); {
		j := i
		for j < len(page) && page[j].ReservationID == page[i].ReservationID {
			j++
		}
		x.open("item")
		x.leaf("reservationId", page[i].ReservationID)
		x.leaf("ownerId", req.account)
		x.b.WriteString("<groupSet/>")
		x.open("instancesSet")
		for _, in := range page[i:j] {
			s.instanceXML(&x, req, in, profileIDs)
		}
		x.close("instancesSet")
		x.close("item")
		i = j
	}
	x.close("reservationSet")
	if to < len(matched) {
		x.leaf("nextToken", ec2Token(to))
	}
	return x.result(), nil
}
