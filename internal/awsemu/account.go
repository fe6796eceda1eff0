package awsemu

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

var accountOps = map[string]handler{
	"ListRegions": {fn: (*Server).accountListRegions},
}

var stsOps = map[string]handler{
	"GetCallerIdentity": {fn: (*Server).stsGetCallerIdentity},
}

type regionOut struct {
	RegionName      string `json:"RegionName"`
	RegionOptStatus string `json:"RegionOptStatus"`
}

func (s *Server) accountListRegions(req *request) (any, *apiError) {
	var in struct {
		AccountID               *string  `json:"AccountId"`
		MaxResults              *int     `json:"MaxResults"`
		NextToken               *string  `json:"NextToken"`
		RegionOptStatusContains []string `json:"RegionOptStatusContains"`
	}
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			return nil, apiErr(400, "ValidationException", "Invalid request body")
		}
	}
	if in.AccountID != nil && *in.AccountID != req.account {
		return nil, apiErrf(403, "AccessDeniedException", "User: %s is not authorized to perform: account:ListRegions on resource: account %s", req.caller, *in.AccountID)
	}
	limit := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, apiErr(400, "ValidationException", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50")
		}
		limit = *in.MaxResults
	}
	valid := []string{"ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT"}
	for _, st := range in.RegionOptStatusContains {
		if !slices.Contains(valid, st) {
			return nil, apiErrf(400, "ValidationException", "Invalid RegionOptStatus value: %s", st)
		}
	}

	s.mu.Lock()
	enabled := slices.Clone(s.acct(req.account).enabledRegions())
	s.mu.Unlock()
	all := slices.Concat(DefaultRegions, optInRegions)
	for _, r := range enabled {
		if !slices.Contains(all, r) {
			all = append(all, r)
		}
	}
	slices.Sort(all)
	var regions []regionOut
	for _, r := range all {
		status := "DISABLED"
		switch {
		case slices.Contains(enabled, r) && slices.Contains(DefaultRegions, r):
			status = "ENABLED_BY_DEFAULT"
		case slices.Contains(enabled, r):
			status = "ENABLED"
		}
		if len(in.RegionOptStatusContains) > 0 && !slices.Contains(in.RegionOptStatusContains, status) {
			continue
		}
		regions = append(regions, regionOut{RegionName: r, RegionOptStatus: status})
	}
	from := 0
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		f, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "emu:"))
		if err != nil || err2 != nil || f < 0 || f > len(regions) {
			return nil, apiErr(400, "ValidationException", "The specified NextToken is invalid.")
		}
		from = f
	}
	to := min(from+limit, len(regions))
	out := map[string]any{"Regions": regions[from:to]}
	if to < len(regions) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("emu:" + strconv.Itoa(to)))
	}
	if regions == nil {
		out["Regions"] = []regionOut{}
	}
	return out, nil
}

func (s *Server) stsGetCallerIdentity(req *request) (any, *apiError) {
	var x xb
	x.leaf("Arn", req.caller)
	x.leaf("UserId", s.userID(req.account, req.caller))
	x.leaf("Account", req.account)
	return x.result(), nil
}
