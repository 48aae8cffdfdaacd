"""Interop check with a client nobody on the ffmcp team wrote: the official
Python MCP SDK. Connects to `ffmcp transform` over stdio, stateful and
stateless streamable HTTP, in both protocol generations (2025-11-25 with
`initialize`, 2026-07-28 with `server/discover`), lists the tools and calls
one, and fails loudly on any mismatch.

Usage: python_client.py PATH_TO_FFMCP
"""

import asyncio
import re
import subprocess
import sys

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

EXPECTED_TOOLS = {"convert", "html_to_markdown", "markdown_to_html", "text_stats"}


GENERATIONS = ("2025-11-25", "2026-07-28")


async def exercise(read, write, transport: str, generation: str) -> None:
    transport = f"{transport}, {generation}"
    async with ClientSession(read, write) as session:
        if generation == "2026-07-28":
            await session.discover()
        else:
            await session.initialize()
        assert session.protocol_version == generation, (transport, session.protocol_version)
        info = session.server_info
        assert info is not None and info.name == "ffmcp-transform", info
        assert info.title == "Text and data transforms", info
        tools = await session.list_tools()
        names = {t.name for t in tools.tools}
        missing = EXPECTED_TOOLS - names
        assert not missing, f"{transport}: tools missing: {missing} (got {names})"
        for tool in tools.tools:
            assert tool.output_schema, f"{transport}: {tool.name} has no outputSchema"
        result = await session.call_tool("text_stats", {"text": "Interop works. Twice over."})
        assert not result.is_error, f"{transport}: {result}"
        assert result.structured_content["words"] == 4, result.structured_content
        bad = await session.call_tool("convert", {"input": "{", "from": "json", "to": "yaml"})
        assert bad.is_error, f"{transport}: a parse error must be a tool error: {bad}"
        print(f"python mcp SDK over {transport}: {len(names)} tools listed, text_stats and an error call checked")


async def over_stdio(binary: str) -> None:
    params = StdioServerParameters(command=binary, args=["transform"])
    for generation in GENERATIONS:
        async with stdio_client(params) as (read, write):
            await exercise(read, write, "stdio", generation)


async def over_http(binary: str, *flags: str) -> None:
    server = subprocess.Popen(
        [binary, "transform", "--http", "127.0.0.1:0", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stderr.readline()
        match = re.search(r"http://[^\s]+/mcp", line)
        assert match, f"no endpoint announced: {line!r}"
        for generation in GENERATIONS:
            async with streamable_http_client(match.group(0)) as (read, write):
                await exercise(read, write, " ".join(["streamable HTTP", *flags]), generation)
    finally:
        server.terminate()
        code = server.wait(timeout=15)
        assert code == 0, f"ffmcp exited with {code} after SIGTERM"


async def main() -> None:
    binary = sys.argv[1]
    await asyncio.wait_for(over_stdio(binary), timeout=60)
    await asyncio.wait_for(over_http(binary), timeout=60)
    await asyncio.wait_for(over_http(binary, "--stateless"), timeout=60)


if __name__ == "__main__":
    asyncio.run(main())
