package dhmc

import (
	"slices"
	"strings"
)

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// sortedFold sorts names without regard to case and drops case-insensitive
// duplicates: IAM role names are case-insensitive.
func sortedFold(s []string) []string {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return slices.CompactFunc(s, strings.EqualFold)
}

// containsFold reports whether list holds s. Policy ARNs are compared
// without regard to case: IAM treats names case-insensitively.
func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
