package awsemu

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// ssm:DescribeInstanceInformation, the managed-node list, added next to
// ssm.go's settings without touching it: registered into ssmOps at init.
func init() {
	ssmOps["DescribeInstanceInformation"] = handler{fn: (*Server).ssmDescribeInstanceInformation}
}

type nodeFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// legacyNodeFilter is an entry of InstanceInformationFilterList, whose
// member names are lower case on the wire.
type legacyNodeFilter struct {
	Key      string   `json:"key"`
	ValueSet []string `json:"valueSet"`
}

type describeNodesInput struct {
	MaxResults                    *int               `json:"MaxResults"`
	NextToken                     *string            `json:"NextToken"`
	Filters                       []nodeFilter       `json:"Filters"`
	InstanceInformationFilterList []legacyNodeFilter `json:"InstanceInformationFilterList"`
}

type wireNode struct {
	InstanceID       string  `json:"InstanceId"`
	PingStatus       string  `json:"PingStatus"`
	LastPingDateTime float64 `json:"LastPingDateTime"`
	AgentVersion     string  `json:"AgentVersion,omitempty"`
	IsLatestVersion  bool    `json:"IsLatestVersion"`
	PlatformType     string  `json:"PlatformType"`
	PlatformName     string  `json:"PlatformName,omitempty"`
	ResourceType     string  `json:"ResourceType"`
	ComputerName     string  `json:"ComputerName,omitempty"`
	IPAddress        string  `json:"IPAddress,omitempty"`
	SourceID         string  `json:"SourceId"`
	SourceType       string  `json:"SourceType"`
}

// The filter keys the emulator evaluates (SSM also has ActivationIds,
// IamRole, AssociationStatus and tag filters; those are refused as SSM
// refuses a key it does not know, so no test passes on an ignored filter).
var nodeFilterKeys = []string{"InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ResourceType"}

func (n *ManagedNode) matches(key string, values []string) bool {
	var got string
	switch key {
	case "InstanceIds":
		got = n.InstanceID
	case "AgentVersion":
		got = n.AgentVersion
	case "PingStatus":
		got = n.PingStatus
	case "PlatformTypes":
		got = n.PlatformType
	case "ResourceType":
		got = n.ResourceType
	}
	return slices.Contains(values, got)
}

func ssmValidation(msg string) *apiError {
	return apiErr(400, "ValidationException", msg)
}

// ssmDescribeInstanceInformation pages through the managed nodes of the
// Region: MaxResults 5..50 (ValidationException outside it, worded as the
// Coral validator words it), NextToken opaque (InvalidNextToken when it is
// not one of ours). SSM does not document the page size without
// MaxResults; the emulator uses 10, and callers should always set it.
func (s *Server) ssmDescribeInstanceInformation(req *request) (any, *apiError) {
	var in describeNodesInput
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			return nil, apiErr(400, "SerializationException", "Start of structure or map found where not expected")
		}
	}
	if e := regionCheckJSON(s, req); e != nil {
		return nil, e
	}
	size := 10
	if in.MaxResults != nil {
		switch n := *in.MaxResults; {
		case n < 5:
			return nil, ssmValidation("1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 5")
		case n > 50:
			return nil, ssmValidation("1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50")
		default:
			size = n
		}
	}
	if len(in.Filters) > 0 && len(in.InstanceInformationFilterList) > 0 {
		return nil, apiErr(400, "InvalidFilter", "Filters and InstanceInformationFilterList cannot be used together.")
	}
	type keyed struct {
		key    string
		values []string
	}
	var filters []keyed
	for _, f := range in.Filters {
		filters = append(filters, keyed{f.Key, f.Values})
	}
	for _, f := range in.InstanceInformationFilterList {
		filters = append(filters, keyed{f.Key, f.ValueSet})
	}
	for _, f := range filters {
		if !slices.Contains(nodeFilterKeys, f.key) {
			return nil, apiErr(400, "InvalidFilterKey", "The specified key is not valid.")
		}
		if len(f.values) == 0 {
			return nil, apiErr(400, "InvalidInstanceInformationFilterValue", "The filter value is not valid.")
		}
	}
	from := 0
	if in.NextToken != nil && *in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "emu:ssm:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "emu:ssm:") || n < 0 {
			return nil, apiErr(400, "InvalidNextToken", "The specified token isn't valid.")
		}
		from = n
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []*ManagedNode
	instances := s.fleet.instanceSet(req.account, req.region)
	for _, n := range s.fleet.nodeSet(req.account, req.region).order {
		// SSM "does not return information for nodes that are either
		// Stopped or Terminated" (API reference): a node whose EC2 instance
		// is seeded in one of those states is left out.
		if in, ok := instances.byID[n.InstanceID]; ok && (in.State == "stopped" || in.State == "terminated") {
			continue
		}
		ok := true
		for _, f := range filters {
			if !n.matches(f.key, f.values) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, n)
		}
	}
	from = min(from, len(matched))
	to := min(from+size, len(matched))
	list := make([]wireNode, 0, to-from)
	for _, n := range matched[from:to] {
		sourceType := "AWS::EC2::Instance"
		if n.ResourceType == "ManagedInstance" {
			sourceType = "AWS::SSM::ManagedInstance"
		}
		list = append(list, wireNode{
			InstanceID: n.InstanceID, PingStatus: n.PingStatus,
			LastPingDateTime: float64(n.LastPing.UnixMilli()) / 1000,
			AgentVersion:     n.AgentVersion, IsLatestVersion: n.AgentVersion == LatestAgentVersion,
			PlatformType: n.PlatformType, PlatformName: n.PlatformName, ResourceType: n.ResourceType,
			ComputerName: "ip-10-0-0-1." + req.region + ".compute.internal", IPAddress: "10.0.0.1",
			SourceID: n.InstanceID, SourceType: sourceType,
		})
	}
	out := map[string]any{"InstanceInformationList": list}
	if to < len(matched) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("emu:ssm:" + strconv.Itoa(to)))
	}
	return out, nil
}
