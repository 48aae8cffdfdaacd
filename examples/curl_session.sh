#!/usr/bin/env bash
# A complete MCP session over streamable HTTP with curl.
# Start a server first:   ffmcp transform --http 127.0.0.1:8080
set -euo pipefail
url=${1:-http://127.0.0.1:8080/mcp}
hdr=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream')

# 1. initialize; the session id comes back in the Mcp-Session-Id header.
session=$(curl -sS -D - -o /dev/null "${hdr[@]}" "$url" -d '{
  "jsonrpc":"2.0","id":1,"method":"initialize",
  "params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}' \
  | tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
echo "session: $session"
hdr+=(-H "mcp-session-id: $session" -H 'mcp-protocol-version: 2025-06-18')

# 2. initialized notification (202, no body).
curl -sS "${hdr[@]}" "$url" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'

# 3. list tools and call one; answers arrive as server-sent events ("data: {...}").
curl -sS "${hdr[@]}" "$url" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | sed -n 's/^data: //p' | head -c 600; echo
curl -sS "${hdr[@]}" "$url" -d '{"jsonrpc":"2.0","id":3,"method":"tools/call",
  "params":{"name":"text_stats","arguments":{"text":"Hello there. How are you?"}}}' | sed -n 's/^data: //p'

# 4. end the session.
curl -sS -X DELETE "${hdr[@]}" "$url" -o /dev/null -w 'DELETE -> %{http_code}\n'
