// Package changeset applies typed operations on a fiche to the referential: the dry run
// of POST /v1/changesets:validate and the publication of POST /v1/changesets.
package changeset

import "github.com/plateforme-rome/rome/clients/refclient"

// The operation contract is public (package client); the engine works on its types, and
// names its operation kinds refclient.OpXxx.
type (
	Operation             = refclient.Operation
	AppellationPrincipale = refclient.AppellationPrincipale
	NewItem               = refclient.NewItem
	Change                = refclient.Change
	Result                = refclient.Result
)

// refusal is why an operation does not apply.
type refusal struct{ code, field, reason string }

func refuse(code, field, reason string) *refusal { return &refusal{code, field, reason} }
