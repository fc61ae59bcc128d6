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
