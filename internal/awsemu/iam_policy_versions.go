package awsemu

// Customer managed policy versions: at most five, one of them the default;
// the fleet report reads the default version of each instance profile's policies,
// and a new version of a policy on the DHMC role is an event the guard reacts to.

import (
	"slices"
	"strconv"
	"time"
)

func (s *Server) iamCreatePolicyVersion(req *request) (any, *apiError) {
	arn, e := requirePolicyARN(req)
	if e != nil {
		return nil, e
	}
	doc := param(req, "PolicyDocument")
	if e := checkManagedPolicyDocument(doc); e != nil {
		return nil, e
	}
	setDefault := param(req, "SetAsDefault") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	mp, e := s.customerPolicyForWrite(req, arn, "CreatePolicyVersion")
	if e != nil {
		return nil, e
	}
	if len(mp.versions) >= maxPolicyVersions {
		return nil, apiErrf(409, "LimitExceeded", "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	now := time.Now().UTC()
	v := &policyVersion{id: "v" + strconv.Itoa(mp.nextVersion), doc: doc, created: now}
	mp.nextVersion++
	mp.versions = append(mp.versions, v)
	if setDefault {
		mp.defaultID = v.id
		mp.updated = now
	}
	var x xb
	x.open("PolicyVersion")
	x.leaf("VersionId", v.id)
	x.leaf("IsDefaultVersion", strconv.FormatBool(setDefault))
	x.leaf("CreateDate", iso8601(v.created))
	x.close("PolicyVersion")
	return x.result(), nil
}

func requireVersionID(req *request) (string, *apiError) {
	id := param(req, "VersionId")
	if id == "" {
		return "", apiErr(400, "ValidationError", "1 validation error detected: Value null at 'versionId' failed to satisfy constraint: Member must not be null")
	}
	if !versionIDRE.MatchString(id) {
		return "", validationError("versionId", id, `Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	}
	return id, nil
}

func noSuchVersion(arn, id string) *apiError {
	return apiErrf(404, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, id)
}

func (s *Server) iamGetPolicyVersion(req *request) (any, *apiError) {
	arn, e := requirePolicyARN(req)
	if e != nil {
		return nil, e
	}
	id, e := requireVersionID(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var doc string
	var created time.Time
	var isDefault bool
	if isAWSManaged(arn) {
		if !s.policyExists(arn) {
			return nil, noSuchPolicy(arn)
		}
		d, ok := awsPolicyDocOf(arn)
		if !ok {
			return nil, apiErrf(501, "NotImplemented", "the emulator does not carry the document of %s; add it to awsPolicyDocs (iam_catalogue.go)", arn)
		}
		if id != d.version {
			// Only the default version is carried; earlier ones existed in
			// AWS but their documents are not needed here.
			return nil, noSuchVersion(arn, id)
		}
		doc, created, isDefault = d.doc, d.created, true
	} else {
		mp := s.customerPolicy(arn)
		if mp == nil {
			return nil, noSuchPolicy(arn)
		}
		i := slices.IndexFunc(mp.versions, func(v *policyVersion) bool { return v.id == id })
		if i < 0 {
			return nil, noSuchVersion(arn, id)
		}
		doc, created, isDefault = mp.versions[i].doc, mp.versions[i].created, mp.defaultID == id
	}
	var x xb
	x.open("PolicyVersion")
	x.leaf("Document", policyEscape(doc))
	x.leaf("VersionId", id)
	x.leaf("IsDefaultVersion", strconv.FormatBool(isDefault))
	x.leaf("CreateDate", iso8601(created))
	x.close("PolicyVersion")
	return x.result(), nil
}

func (s *Server) iamListPolicyVersions(req *request) (any, *apiError) {
	arn, e := requirePolicyARN(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type row struct {
		id        string
		isDefault bool
		created   time.Time
	}
	var rows []row
	if isAWSManaged(arn) {
		if !s.policyExists(arn) {
			return nil, noSuchPolicy(arn)
		}
		d, ok := awsPolicyDocOf(arn)
		if !ok {
			d = awsPolicyDoc{version: "v1", created: day("2015-02-06")}
		}
		rows = append(rows, row{d.version, true, d.created})
	} else {
		mp := s.customerPolicy(arn)
		if mp == nil {
			return nil, noSuchPolicy(arn)
		}
		// IAM does not document the order: newest first here, oldest first
		// in moto. Callers must not rely on it.
		for i := len(mp.versions) - 1; i >= 0; i-- {
			v := mp.versions[i]
			rows = append(rows, row{v.id, v.id == mp.defaultID, v.created})
		}
	}
	from, to, next, e := page(req, len(rows))
	if e != nil {
		return nil, e
	}
	var x xb
	x.open("Versions")
	for _, r := range rows[from:to] {
		x.open("member")
		x.leaf("VersionId", r.id)
		x.leaf("IsDefaultVersion", strconv.FormatBool(r.isDefault))
		x.leaf("CreateDate", iso8601(r.created))
		x.close("member")
	}
	x.close("Versions")
	pageTail(&x, next)
	return x.result(), nil
}

// withPolicyVersion is the shape of the calls that change one version of a
// customer managed policy: the ARN and version validated, then fn holds s.mu
// with the policy and the index of that version.
func (s *Server) withPolicyVersion(req *request, action string, fn func(mp *managedPolicy, i int) (any, *apiError)) (any, *apiError) {
	arn, e := requirePolicyARN(req)
	if e != nil {
		return nil, e
	}
	id, e := requireVersionID(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mp, e := s.customerPolicyForWrite(req, arn, action)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(mp.versions, func(v *policyVersion) bool { return v.id == id })
	if i < 0 {
		return nil, noSuchVersion(arn, id)
	}
	return fn(mp, i)
}

func (s *Server) iamSetDefaultPolicyVersion(req *request) (any, *apiError) {
	return s.withPolicyVersion(req, "SetDefaultPolicyVersion", func(mp *managedPolicy, i int) (any, *apiError) {
		mp.defaultID = mp.versions[i].id
		mp.updated = time.Now().UTC()
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamDeletePolicyVersion(req *request) (any, *apiError) {
	return s.withPolicyVersion(req, "DeletePolicyVersion", func(mp *managedPolicy, i int) (any, *apiError) {
		if mp.defaultID == mp.versions[i].id {
			return nil, apiErr(409, "DeleteConflict", "Cannot delete the default version of a policy.")
		}
		mp.versions = slices.Delete(mp.versions, i, i+1)
		return xmlResult{noResult: true}, nil
	})
}
