package request

import "go.temporal.io/sdk/temporal"

// Custom search attributes of request workflows. They carry the same values as the API
// (codes ROME, request kinds, statuses, organisations, moderator subjects), so ops can filter
// running requests in the Temporal UI.
var (
	RomeCodeKey          = temporal.NewSearchAttributeKeyKeyword("RomeCode")
	RequestKindKey       = temporal.NewSearchAttributeKeyKeyword("RequestKind")
	RequestStatusKey     = temporal.NewSearchAttributeKeyKeyword("RequestStatus")
	PartnerOrgKey        = temporal.NewSearchAttributeKeyKeyword("PartnerOrg")
	AssignedModeratorKey = temporal.NewSearchAttributeKeyKeyword("AssignedModerator")
)

// SearchAttributes is the one list every registration derives from: the dev server flags,
// deploy/temporal/register-search-attributes.sh (compose and Kubernetes) and the tests.
// Each key gives its name (GetName) and type (GetValueType().String() is the CLI's "Keyword").
var SearchAttributes = []temporal.SearchAttributeKey{
	RomeCodeKey,
	RequestKindKey,
	RequestStatusKey,
	PartnerOrgKey,
	AssignedModeratorKey,
}

// StartSearchAttributes are the search attributes a request's workflow starts with, so that
// the request is found in the Temporal UI before its workflow first runs.
func StartSearchAttributes(r Request) temporal.SearchAttributes {
	attrs := []temporal.SearchAttributeUpdate{
		RequestKindKey.ValueSet(string(r.Kind)),
		RequestStatusKey.ValueSet(string(r.Status)),
		PartnerOrgKey.ValueSet(r.Org),
	}
	if r.CodeRome != "" {
		attrs = append(attrs, RomeCodeKey.ValueSet(r.CodeRome))
	}
	return temporal.NewSearchAttributes(attrs...)
}
