// Package changeset applies typed operations on a fiche to the referential: the dry run
// of POST /v1/changesets:validate and the publication of POST /v1/changesets.
package changeset

import "github.com/plateforme-rome/rome/services/referential/client"

// The operation contract is public (package client); the engine works on its types, and
// names its operation kinds client.OpXxx.
type (
	Operation             = client.Operation
	AppellationPrincipale = client.AppellationPrincipale
	NewItem               = client.NewItem
	Change                = client.Change
	Result                = client.Result
)

// refusal is why an operation does not apply.
type refusal struct{ code, field, reason string }

func refuse(code, field, reason string) *refusal { return &refusal{code, field, reason} }
