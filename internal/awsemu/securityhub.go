package awsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Security Hub (REST JSON): BatchImportFindings (POST /findings/import),
// BatchUpdateFindings (PATCH /findings/batchupdate) and GetFindings (POST
// /findings), as the API reference describes them. Security Hub is off in
// every account and Region until EnableSecurityHub; calls then fail with
// InvalidAccessException (HTTP 401), as AWS answers an account that is not
// subscribed. Findings are kept as the JSON they were imported as, with
// what Security Hub itself sets: Workflow (NEW on creation, changed only
// by BatchUpdateFindings, reset to NEW when the compliance status leaves
// PASSED), the top-level Severity and Types from FindingProviderFields,
// RecordState, Region and aws/securityhub/* product fields.

var securityHubOps = map[string]handler{
	"BatchImportFindings": {write: true, fn: (*Server).shBatchImport},
	"BatchUpdateFindings": {write: true, fn: (*Server).shBatchUpdate},
	"GetFindings":         {fn: (*Server).shGetFindings},
}

// securityHubOp maps the REST route to the operation.
func securityHubOp(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/findings/import":
		return "BatchImportFindings"
	case r.Method == http.MethodPatch && r.URL.Path == "/findings/batchupdate":
		return "BatchUpdateFindings"
	case r.Method == http.MethodPost && r.URL.Path == "/findings":
		return "GetFindings"
	}
	return ""
}

type shKey struct{ account, region string }

// shHub is one account's Security Hub in one Region.
type shHub struct {
	findings map[string]map[string]any // by ProductArn + "\x00" + Id
	order    []string
}

// maxFindingSize is the largest finding BatchImportFindings accepts (240 KB).
const maxFindingSize = 240 * 1024

// EnableSecurityHub turns Security Hub on for account in region.
func (s *Server) EnableSecurityHub(account, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hubs == nil {
		s.hubs = map[shKey]*shHub{}
	}
	if s.hubs[shKey{account, region}] == nil {
		s.hubs[shKey{account, region}] = &shHub{findings: map[string]map[string]any{}}
	}
}

// SecurityHubFindings returns the findings of account in region as Security
// Hub stores them (decoded JSON), in import order.
func (s *Server) SecurityHubFindings(account, region string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubs[shKey{account, region}]
	if h == nil {
		return nil
	}
	out := make([]map[string]any, 0, len(h.order))
	for _, k := range h.order {
		out = append(out, deepCopyJSON(h.findings[k]))
	}
	return out
}

func deepCopyJSON(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// hub returns the caller's hub or InvalidAccessException. s.mu held.
func (s *Server) hub(req *request) (*shHub, *apiError) {
	h := s.hubs[shKey{req.account, req.region}]
	if h == nil {
		return nil, apiErrf(401, "InvalidAccessException", "Account %s is not subscribed to AWS Security Hub", req.account)
	}
	return h, nil
}

// shRequired are the required top-level ASFF attributes; Severity and Types
// may come through FindingProviderFields instead.
var shRequired = []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources", "SchemaVersion", "Title", "UpdatedAt"}

func (s *Server) shBatchImport(req *request) (any, *apiError) {
	var in struct {
		Findings []json.RawMessage `json:"Findings"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, apiErr(400, "InvalidInputException", "Invalid request body")
	}
	if n := len(in.Findings); n < 1 || n > 100 {
		return nil, apiErr(400, "InvalidInputException", "Findings must contain between 1 and 100 findings")
	}
	type failed struct {
		ID      string `json:"Id"`
		Code    string `json:"ErrorCode"`
		Message string `json:"ErrorMessage"`
	}
	out := struct {
		FailedCount    int      `json:"FailedCount"`
		SuccessCount   int      `json:"SuccessCount"`
		FailedFindings []failed `json:"FailedFindings"`
	}{FailedFindings: []failed{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, e := s.hub(req)
	if e != nil {
		return nil, e
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	for _, raw := range in.Findings {
		var f map[string]any
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, apiErr(400, "InvalidInputException", "Invalid finding")
		}
		id, _ := f["Id"].(string)
		if msg := s.shValidate(req, f, len(raw)); msg != "" {
			out.FailedFindings = append(out.FailedFindings, failed{ID: id, Code: "InvalidInput", Message: msg})
			continue
		}
		k := f["ProductArn"].(string) + "\x00" + id
		old, exists := h.findings[k]
		delete(f, "Workflow") // not the provider's: BatchUpdateFindings
		delete(f, "WorkflowState")
		wf := "NEW"
		if exists {
			wf = old["Workflow"].(map[string]any)["Status"].(string)
			if complianceOf(old) == "PASSED" && slices.Contains([]string{"FAILED", "WARNING", "NOT_AVAILABLE"}, complianceOf(f)) && (wf == "NOTIFIED" || wf == "RESOLVED") {
				wf = "NEW"
			}
			f["CreatedAt"] = old["CreatedAt"]
			if n, ok := old["Note"]; ok {
				f["Note"] = n
			}
		} else {
			h.order = append(h.order, k)
		}
		f["Workflow"] = map[string]any{"Status": wf}
		f["WorkflowState"] = wf
		if fpf, ok := f["FindingProviderFields"].(map[string]any); ok {
			if sev, ok := fpf["Severity"]; ok {
				f["Severity"] = sev
			}
			if ty, ok := fpf["Types"]; ok {
				f["Types"] = ty
			}
		} else {
			f["FindingProviderFields"] = map[string]any{"Severity": f["Severity"], "Types": f["Types"]}
		}
		if _, ok := f["RecordState"]; !ok {
			f["RecordState"] = "ACTIVE"
		}
		f["Region"] = req.region
		f["ProcessedAt"] = now
		f["CompanyName"] = "Personal"
		f["ProductName"] = "Default"
		pf, _ := f["ProductFields"].(map[string]any)
		if pf == nil {
			pf = map[string]any{}
		}
		pf["aws/securityhub/FindingId"] = f["ProductArn"].(string) + "/" + id
		pf["aws/securityhub/ProductName"] = "Default"
		pf["aws/securityhub/CompanyName"] = "Personal"
		f["ProductFields"] = pf
		h.findings[k] = f
		out.SuccessCount++
	}
	out.FailedCount = len(out.FailedFindings)
	return out, nil
}

// shValidate returns why a finding is refused, or "".
func (s *Server) shValidate(req *request, f map[string]any, size int) string {
	if size > maxFindingSize {
		return "Finding size exceeded 240 KB"
	}
	for _, a := range shRequired {
		v, ok := f[a]
		if !ok || v == nil || v == "" {
			return "Finding does not adhere to Amazon Finding Format. data/" + a + " is required"
		}
	}
	fpf, _ := f["FindingProviderFields"].(map[string]any)
	if _, ok := f["Severity"]; !ok && (fpf == nil || fpf["Severity"] == nil) {
		return "Finding does not adhere to Amazon Finding Format. data/Severity is required"
	}
	if _, ok := f["Types"]; !ok && (fpf == nil || fpf["Types"] == nil) {
		return "Finding does not adhere to Amazon Finding Format. data/Types is required"
	}
	for _, a := range []string{"CreatedAt", "UpdatedAt"} {
		if ts, _ := f[a].(string); !validTimestamp(ts) {
			return fmt.Sprintf("Finding does not adhere to Amazon Finding Format. data/%s must be a date-time", a)
		}
	}
	res, _ := f["Resources"].([]any)
	if len(res) < 1 || len(res) > 32 {
		return "Finding does not adhere to Amazon Finding Format. data/Resources must have 1 to 32 items"
	}
	for _, r := range res {
		rm, _ := r.(map[string]any)
		if rm == nil || rm["Id"] == nil || rm["Type"] == nil {
			return "Finding does not adhere to Amazon Finding Format. data/Resources/0 must have required properties Id and Type"
		}
	}
	if c, ok := f["Compliance"].(map[string]any); ok {
		if st, ok := c["Status"]; ok && !slices.Contains([]any{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}, st) {
			return "Finding does not adhere to Amazon Finding Format. data/Compliance/Status must be PASSED, WARNING, FAILED or NOT_AVAILABLE"
		}
	}
	if acct, _ := f["AwsAccountId"].(string); acct != req.account {
		return "AwsAccountId " + acct + " does not match the calling account"
	}
	want := fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partitionOf(req.region), req.region, req.account, req.account)
	if f["ProductArn"] != want {
		return fmt.Sprintf("ProductArn %v is not a product this account can import into in %s", f["ProductArn"], req.region)
	}
	return ""
}

func validTimestamp(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func complianceOf(f map[string]any) string {
	c, _ := f["Compliance"].(map[string]any)
	st, _ := c["Status"].(string)
	return st
}

type shIdentifier struct {
	ID         string `json:"Id"`
	ProductArn string `json:"ProductArn"`
}

func (s *Server) shBatchUpdate(req *request) (any, *apiError) {
	var in struct {
		FindingIdentifiers []shIdentifier `json:"FindingIdentifiers"`
		Workflow           *struct {
			Status string `json:"Status"`
		} `json:"Workflow"`
		Note *struct {
			Text      string `json:"Text"`
			UpdatedBy string `json:"UpdatedBy"`
		} `json:"Note"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, apiErr(400, "InvalidInputException", "Invalid request body")
	}
	if n := len(in.FindingIdentifiers); n < 1 || n > 100 {
		return nil, apiErr(400, "InvalidInputException", "FindingIdentifiers must contain between 1 and 100 identifiers")
	}
	if in.Workflow != nil && !slices.Contains([]string{"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}, in.Workflow.Status) {
		return nil, apiErrf(400, "InvalidInputException", "Invalid Workflow.Status %q", in.Workflow.Status)
	}
	if in.Note != nil && (in.Note.Text == "" || in.Note.UpdatedBy == "") {
		return nil, apiErr(400, "InvalidInputException", "Note requires Text and UpdatedBy")
	}
	type unprocessed struct {
		FindingIdentifier shIdentifier `json:"FindingIdentifier"`
		ErrorCode         string       `json:"ErrorCode"`
		ErrorMessage      string       `json:"ErrorMessage"`
	}
	out := struct {
		ProcessedFindings   []shIdentifier `json:"ProcessedFindings"`
		UnprocessedFindings []unprocessed  `json:"UnprocessedFindings"`
	}{ProcessedFindings: []shIdentifier{}, UnprocessedFindings: []unprocessed{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, e := s.hub(req)
	if e != nil {
		return nil, e
	}
	seen := map[shIdentifier]int{}
	for _, id := range in.FindingIdentifiers {
		seen[id]++
	}
	for _, id := range in.FindingIdentifiers {
		f := h.findings[id.ProductArn+"\x00"+id.ID]
		switch {
		case seen[id] > 1:
			out.UnprocessedFindings = append(out.UnprocessedFindings, unprocessed{id, "DuplicatedFindingIdentifier", "Duplicated finding identifier"})
			continue
		case f == nil:
			out.UnprocessedFindings = append(out.UnprocessedFindings, unprocessed{id, "FindingNotFound", "Finding Not Found"})
			continue
		}
		// UpdatedAt is the provider's: BatchUpdateFindings leaves it.
		if in.Workflow != nil {
			f["Workflow"] = map[string]any{"Status": in.Workflow.Status}
			f["WorkflowState"] = in.Workflow.Status
		}
		if in.Note != nil {
			f["Note"] = map[string]any{"Text": in.Note.Text, "UpdatedBy": in.Note.UpdatedBy, "UpdatedAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
		}
		out.ProcessedFindings = append(out.ProcessedFindings, id)
	}
	return out, nil
}

// shGetFindings answers EQUALS string filters on the fields below (any other
// filter is refused rather than ignored), MaxResults 1 to 100, NextToken.
func (s *Server) shGetFindings(req *request) (any, *apiError) {
	type strFilter struct {
		Value      string `json:"Value"`
		Comparison string `json:"Comparison"`
	}
	var in struct {
		Filters    map[string][]strFilter `json:"Filters"`
		MaxResults *int                   `json:"MaxResults"`
		NextToken  string                 `json:"NextToken"`
	}
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			return nil, apiErr(400, "InvalidInputException", "Invalid request body")
		}
	}
	fields := map[string]func(map[string]any) string{
		"Id":               func(f map[string]any) string { v, _ := f["Id"].(string); return v },
		"ProductArn":       func(f map[string]any) string { v, _ := f["ProductArn"].(string); return v },
		"GeneratorId":      func(f map[string]any) string { v, _ := f["GeneratorId"].(string); return v },
		"AwsAccountId":     func(f map[string]any) string { v, _ := f["AwsAccountId"].(string); return v },
		"ComplianceStatus": complianceOf,
		"WorkflowStatus":   func(f map[string]any) string { v, _ := f["Workflow"].(map[string]any)["Status"].(string); return v },
		"RecordState":      func(f map[string]any) string { v, _ := f["RecordState"].(string); return v },
	}
	for name, fs := range in.Filters {
		if fields[name] == nil {
			return nil, apiErrf(400, "InvalidInputException", "filter %s is not served by the emulator", name)
		}
		for _, f := range fs {
			if f.Comparison != "EQUALS" {
				return nil, apiErrf(400, "InvalidInputException", "comparison %s is not served by the emulator", f.Comparison)
			}
		}
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, apiErr(400, "InvalidInputException", "MaxResults must be between 1 and 100")
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, apiErr(400, "InvalidInputException", "Invalid NextToken")
		}
		start = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, e := s.hub(req)
	if e != nil {
		return nil, e
	}
	var match []map[string]any
	for _, k := range h.order {
		f := h.findings[k]
		ok := true
		for name, fs := range in.Filters {
			// Values of one field are ORed, fields ANDed.
			ok = ok && slices.ContainsFunc(fs, func(x strFilter) bool { return fields[name](f) == x.Value })
		}
		if ok {
			match = append(match, deepCopyJSON(f))
		}
	}
	out := map[string]any{"Findings": []map[string]any{}}
	if start < len(match) {
		end := min(start+limit, len(match))
		out["Findings"] = match[start:end]
		if end < len(match) {
			out["NextToken"] = strconv.Itoa(end)
		}
	}
	return out, nil
}
