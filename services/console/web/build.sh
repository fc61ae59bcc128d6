#!/usr/bin/env bash
# Installs the console's front-end packages from the lockfile (npm ci, no install scripts)
# and copies what the console serves into internal/assets/dist, which the binary embeds.
# Nothing is fetched from a CDN at run time: every asset comes from these packages or src/.
set -euo pipefail
web=$(cd "$(dirname "$0")" && pwd)
dist="$web/../internal/assets/dist"
cd "$web"

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  command -v npm >/dev/null || { echo "console assets: npm is needed (Debian: apt-get install -y npm)" >&2; exit 1; }
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

dsfr=node_modules/@gouvfr/dsfr/dist
tmp=$(mktemp -d "$web/../internal/assets/.dist-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dsfr/fonts" "$tmp/dsfr/favicon" "$tmp/htmx"
cp "$dsfr/dsfr.min.css" "$dsfr/dsfr.module.min.js" "$dsfr/dsfr.nomodule.min.js" "$tmp/dsfr/"
cp "$dsfr"/fonts/*.woff2 "$tmp/dsfr/fonts/"
cp "$dsfr/favicon/favicon.svg" "$dsfr/favicon/favicon.ico" "$dsfr/favicon/apple-touch-icon.png" "$tmp/dsfr/favicon/"
# Only the icons the stylesheet refers to.
grep -o 'url(icons/[^)]*)' "$dsfr/dsfr.min.css" | sed 's/^url(//; s/)$//' | sort -u | while read -r icon; do
  mkdir -p "$tmp/dsfr/$(dirname "$icon")"
  cp "$dsfr/$icon" "$tmp/dsfr/$icon"
done
# The DSFR's icon classes the templates use (its whole icon sheet is 350 KB), with their SVGs.
mkdir -p "$tmp/dsfr/utility/icons"
for icon in $(grep -rhoE 'fr-icon-[a-z0-9-]+' ../internal/ui/templates | sort -u); do
  rule=$(grep -oE "\.${icon}:after,\.${icon}:before\{-webkit-mask-image[^}]*\}" "$dsfr/utility/icons/icons.min.css" | head -n 1)
  [ -n "$rule" ] || { echo "console assets: no DSFR icon $icon" >&2; exit 1; }
  echo "$rule"
  svg=$(echo "$rule" | grep -oE 'icons/[^)]+\.svg' | head -n 1)
  mkdir -p "$tmp/dsfr/$(dirname "$svg")"
  cp "$dsfr/$svg" "$tmp/dsfr/$svg"
done > "$tmp/dsfr/utility/icons/icons.css"
cp node_modules/htmx.org/dist/htmx.min.js "$tmp/htmx/"
cp -r src/. "$tmp/"
cp "$dist/README.md" "$tmp/README.md"
rm -rf "$dist"
mv "$tmp" "$dist"
trap - EXIT
echo "console assets: $(find "$dist" -type f | wc -l) files in internal/assets/dist"
