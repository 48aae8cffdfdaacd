"""The npx path end to end: `npx ffmcp <server>` from an npm install of the
packed packages (no network), driven by the official Python MCP SDK over
stdio, plus the launcher's exit-code and signal behaviour.

Usage: npx_client.py INSTALL_DIR   (a directory whose node_modules holds ffmcp)
"""

import asyncio
import os
import signal
import subprocess
import sys
import time

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def handshake(cwd: str, server: str, tool: str, args: dict, check) -> None:
    params = StdioServerParameters(
        command="npx", args=["--no-install", "ffmcp", server], cwd=cwd, env=dict(os.environ)
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == f"ffmcp-{server}", init.server_info
            tools = await session.list_tools()
            assert any(t.name == tool for t in tools.tools), [t.name for t in tools.tools]
            result = await session.call_tool(tool, args)
            assert not result.is_error, result
            check(result.structured_content)
            print(f"npx ffmcp {server}: handshake, {len(tools.tools)} tools, {tool} checked")


def native_servers(cwd: str) -> list:
    """PIDs of ffmcp binaries started from this install."""
    prefix = os.path.realpath(os.path.join(cwd, "node_modules"))
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe.startswith(prefix):
            found.append(pid)
    return found


def launcher_behaviour(cwd: str) -> None:
    # Exit codes pass through: an unknown subcommand is a usage error (2).
    code = subprocess.run(
        ["npx", "--no-install", "ffmcp", "no-such-command"], cwd=cwd, capture_output=True
    ).returncode
    assert code == 2, f"usage error exit code through npx: {code}"
    # SIGTERM to the launcher reaches the server, which exits cleanly (0),
    # and the launcher exits with the server's status.
    launcher = os.path.join(cwd, "node_modules", ".bin", "ffmcp")
    proc = subprocess.Popen(
        [launcher, "transform"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(1.5)
    assert native_servers(cwd), "the launcher did not start the binary"
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=15)
    assert code == 0, f"SIGTERM through the launcher: exit {code}, stderr {proc.stderr.read()!r}"
    # A client that kills npx itself must not leave the server behind.
    proc = subprocess.Popen(
        ["npx", "--no-install", "ffmcp", "transform"],
        cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    time.sleep(2)
    assert native_servers(cwd), "npx did not start the binary"
    # Killed without its stdin closed: the launcher notices it was orphaned.
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    deadline = time.time() + 10
    while native_servers(cwd) and time.time() < deadline:
        time.sleep(0.1)
    assert not native_servers(cwd), "ffmcp outlived the npx process that started it"
    # The MCP shutdown sequence: close stdin, and everything exits with 0.
    proc = subprocess.Popen(
        ["npx", "--no-install", "ffmcp", "transform"],
        cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    proc.stdin.close()
    code = proc.wait(timeout=15)
    assert code == 0, f"closing stdin: npx exit {code}"
    print("npx launcher: exit codes and SIGTERM pass through; nothing outlives npx")


async def main(cwd: str) -> None:
    await handshake(
        cwd, "transform", "text_stats", {"text": "one two three"},
        lambda s: (s["words"] == 3) or (_ for _ in ()).throw(AssertionError(s)),
    )
    await handshake(
        cwd, "docparse", "parse",
        {"content_base64": "IyBUaXRsZQoKQm9keSB0ZXh0Lgo=", "filename": "a.md"},
        lambda s: s["content"].startswith("# Title") or (_ for _ in ()).throw(AssertionError(s)),
    )
    launcher_behaviour(cwd)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
