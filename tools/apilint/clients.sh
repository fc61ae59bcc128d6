#!/usr/bin/env bash
# Generates a Go client from each service's OpenAPI document with oapi-codegen (pinned in
# clients/go.mod, built from the Go module proxy and cached by go) into a temporary module,
# then builds and vets it: the documents stay usable by the APIs' consumers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Outside the workspace: only what clients/go.mod pins.
export GOWORK=off GOFLAGS=-mod=mod
cp "$here/clients/go.mod" "$here/clients/go.sum" "$here/clients/doc.go" "$tmp/"
for svc in intake notifications referential; do
  mkdir -p "$tmp/$svc"
  (cd "$here/clients" && go tool oapi-codegen -generate types,client -package "$svc" \
    -o "$tmp/$svc/client.gen.go" "$root/services/$svc/internal/api/openapi.json")
done
(cd "$tmp" && go build ./... && go vet ./...)
echo "apilint: the Go clients generated from the 3 OpenAPI documents build and pass go vet"
