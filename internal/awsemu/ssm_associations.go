package awsemu

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ssm:ListAssociations, State Manager's association list, added next to
// ssm.go's settings without touching it. The guard reads it to name AWS's
// own DHMC enforcer: the console's "Enable Systems Manager" creates a daily
// association EnableDHMCAssociation (runbook AWSQuickSetupType-EnableDHMC).
func init() {
	ssmOps["ListAssociations"] = handler{fn: (*Server).ssmListAssociations}
}

// Association is a State Manager association as seeded.
type Association struct {
	AssociationName    string // e.g. EnableDHMCAssociation
	Name               string // the document or runbook, e.g. AWSQuickSetupType-EnableDHMC
	ScheduleExpression string // default rate(1 day)
	AssociationID      string // made when empty
}

// PutAssociation seeds an association in an account and Region.
func (s *Server) PutAssociation(account, region string, a Association) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.AssociationID == "" {
		h := randomHex(32)
		a.AssociationID = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	if a.ScheduleExpression == "" {
		a.ScheduleExpression = "rate(1 day)"
	}
	if s.associations == nil {
		s.associations = map[regionKey][]Association{}
	}
	k := regionKey{account, region}
	s.associations[k] = append(s.associations[k], a)
	return a.AssociationID
}

// associationFilterKeys are AssociationFilterKey's values; the emulator
// evaluates Name, AssociationId and AssociationName and answers none for
// the others' values it does not model.
var associationFilterKeys = []string{"InstanceId", "Name", "AssociationId", "AssociationStatusName",
	"LastExecutedBefore", "LastExecutedAfter", "AssociationName", "ResourceGroupName", "CloudConnectorId"}

type associationFilter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (s *Server) ssmListAssociations(req *request) (any, *apiError) {
	var in struct {
		AssociationFilterList []associationFilter `json:"AssociationFilterList"`
		MaxResults            *int                `json:"MaxResults"`
		NextToken             *string             `json:"NextToken"`
	}
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			return nil, apiErr(400, "SerializationException", "Start of structure or map found where not expected")
		}
	}
	if e := regionCheckJSON(s, req); e != nil {
		return nil, e
	}
	size := 50
	if in.MaxResults != nil {
		switch n := *in.MaxResults; {
		case n < 1:
			return nil, ssmValidation("1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")
		case n > 50:
			return nil, ssmValidation("1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50")
		default:
			size = n
		}
	}
	for _, f := range in.AssociationFilterList {
		if !slices.Contains(associationFilterKeys, f.Key) {
			return nil, ssmValidation("1 validation error detected: Value '" + f.Key + "' at 'associationFilterList.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [" + strings.Join(associationFilterKeys, ", ") + "]")
		}
		if f.Value == "" {
			return nil, ssmValidation("1 validation error detected: Value '' at 'associationFilterList.1.member.value' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
	}
	from := 0
	if in.NextToken != nil && *in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "emu:assoc:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "emu:assoc:") || n < 0 {
			return nil, apiErr(400, "InvalidNextToken", "The specified token isn't valid.")
		}
		from = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []Association
	for _, a := range s.associations[regionKey{req.account, req.region}] {
		ok := true
		for _, f := range in.AssociationFilterList {
			switch f.Key {
			case "Name":
				ok = ok && a.Name == f.Value
			case "AssociationId":
				ok = ok && a.AssociationID == f.Value
			case "AssociationName":
				ok = ok && a.AssociationName == f.Value
			default:
				ok = false // not modelled: nothing matches
			}
		}
		if ok {
			matched = append(matched, a)
		}
	}
	from = min(from, len(matched))
	to := min(from+size, len(matched))
	list := make([]map[string]any, 0, to-from)
	for _, a := range matched[from:to] {
		list = append(list, map[string]any{
			"AssociationId": a.AssociationID, "AssociationName": a.AssociationName, "AssociationVersion": "1",
			"Name": a.Name, "DocumentVersion": "$DEFAULT", "ScheduleExpression": a.ScheduleExpression,
			"Targets":           []map[string]any{{"Key": "InstanceIds", "Values": []string{"*"}}},
			"LastExecutionDate": float64(time.Now().Add(-time.Hour).Unix()),
			"Overview":          map[string]any{"Status": "Success", "DetailedStatus": "Success"},
		})
	}
	out := map[string]any{"Associations": list}
	if to < len(matched) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("emu:assoc:" + strconv.Itoa(to)))
	}
	return out, nil
}
