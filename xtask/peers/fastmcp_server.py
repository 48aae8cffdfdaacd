"""The benchmark peer: the official Python SDK's high-level server (FastMCP,
renamed MCPServer in mcp 2.x) with the same trivial `text_stats` tool the
ffmcp transform server offers.

Usage: fastmcp_server.py stdio | fastmcp_server.py http PORT
"""

import sys

try:
    from mcp.server.mcpserver import MCPServer as Server  # mcp >= 2
except ImportError:  # pragma: no cover - mcp 1.x
    from mcp.server.fastmcp import FastMCP as Server

server = Server("fastmcp-peer")


@server.tool()
def text_stats(text: str) -> dict:
    """Counts characters and words of a text."""
    return {"chars": len(text), "words": len(text.split())}


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
