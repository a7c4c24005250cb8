#!/bin/sh
# `npm run demo`: the main job of Strongbox in one minute, on this machine, with only Node.
# Stores, lists and reads secrets in an encrypted SQLite file in a temporary directory,
# shows tags, namespaces and inheritance, and prints no value it was not asked for.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/strongbox-demo.XXXXXX")
trap 'rm -rf "$DEMO"' EXIT INT TERM

# The command straight from its TypeScript sources (Node >= 22.18 runs them as they are);
# `npm install` also builds packages/cli/dist/bin.js, the published `strongbox` binary.
if node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)'; then
  sb() { node --conditions=source "$ROOT/packages/cli/src/bin.ts" "$@"; }
else
  sb() { node "$ROOT/packages/cli/dist/bin.js" "$@"; }
fi

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }
if [ ! -t 1 ] || [ -n "${NO_COLOR:-}" ]; then
  step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }
fi

cd "$DEMO"
echo "Strongbox demo in $DEMO (removed at the end)"

step "1. Create an encrypted store: a SQLite file and a key file (mode 0600, never printed)" "strongbox init"
sb init 2>&1

step "2. Store secrets; values come from stdin, never from the command line" \
  "strongbox set KEY --namespace NS --tag k=v < value"
printf '%s' 'company-wide-token' | sb set API_TOKEN --namespace company --tag owner=platform \
  --description "shared by every team" 2>&1
printf '%s' 'team-db-password' | sb set DB_PASSWORD --namespace company.team --tag app=billing --tag env=prod 2>&1
printf '%s' 'etl-db-password' | sb set DB_PASSWORD --namespace company.team.etl --tag app=etl --tag env=prod 2>&1
printf '%s' 'acme-only-token' | sb set API_TOKEN --tenant acme --namespace company --tag owner=acme 2>&1

step "3. List: metadata and tags, never values" "strongbox list"
sb list

step "4. Filter by tag (runs in SQL), as JSON for scripts" "strongbox list --tag env=prod --output json"
sb list --tag env=prod --output json

step "5. Read a value: the etl namespace has its own DB_PASSWORD" "strongbox get DB_PASSWORD --namespace company.team.etl"
sb get DB_PASSWORD --namespace company.team.etl

step "6. Inheritance: company.team.reports has none, so it gets company.team's" \
  "strongbox get DB_PASSWORD --namespace company.team.reports --json"
sb get DB_PASSWORD --namespace company.team.reports --json

step "7. Deeper still: API_TOKEN is found two levels up, in company" "strongbox get API_TOKEN --namespace company.team.etl"
sb get API_TOKEN --namespace company.team.etl

step "8. Every write keeps a version; older ones stay readable" \
  "strongbox set DB_PASSWORD --namespace company.team ... < v2; strongbox get DB_PASSWORD --namespace company.team [--version-id 1]"
printf '%s' 'team-db-password-v2' | sb set DB_PASSWORD --namespace company.team --tag app=billing --tag env=prod 2>&1
sb get DB_PASSWORD --namespace company.team
sb get DB_PASSWORD --namespace company.team --version-id 1

step "9. On disk, values exist only encrypted (AES-256-GCM, bound to their ref)" "grep -r <each value> .strongbox"
for value in team-db-password etl-db-password company-wide-token acme-only-token; do
  if grep -a -q -r "$value" .strongbox; then
    echo "FAIL: $value is readable in .strongbox" >&2
    exit 1
  fi
done
echo "no plaintext value in $(ls .strongbox | tr '\n' ' ')"

step "10. Check the configuration and the store, without revealing anything" "strongbox doctor"
sb doctor

step "11. A missing secret is a clear error with its own exit code (3)" "strongbox get NOPE --namespace company.team"
if sb get NOPE --namespace company.team 2>&1; then
  echo "FAIL: a missing secret was found" >&2
  exit 1
else
  echo "(exit code $?)"
fi

printf '\nDone: the tenant acme'"'"'s token was stored and listed but never printed, because nobody asked for it.\n'
