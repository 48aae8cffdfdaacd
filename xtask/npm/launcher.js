#!/usr/bin/env node
// ffmcp npm launcher: runs the native binary from the per-platform package
// (@ffmcp/<platform>-<arch>, installed as an optional dependency; nothing is
// downloaded at install or run time). stdio is passed through untouched,
// signals are forwarded, and the exit code (or signal) is preserved.
"use strict";

const { spawn } = require("node:child_process");
const path = require("node:path");

const target = `${process.platform}-${process.arch}`;
const exe = process.platform === "win32" ? "ffmcp.exe" : "ffmcp";

function binaryPath() {
  try {
    const pkg = require.resolve(`@ffmcp/${target}/package.json`);
    return path.join(path.dirname(pkg), "bin", exe);
  } catch (_) {
    process.stderr.write(
      `ffmcp: no prebuilt binary for ${target} (package @ffmcp/${target} is not installed).\n` +
        "Install from source instead: cargo install --git https://github.com/ffmcp/ffmcp ffmcp\n",
    );
    process.exit(1);
  }
}

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: "inherit" });

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

// If whatever started us (npx, a client) dies without closing our stdin, do
// not leave the server running: stop it when we are orphaned.
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid !== parent && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
  }
}, 1000);
orphanWatch.unref();

child.on("error", (err) => {
  process.stderr.write(`ffmcp: could not start ${binaryPath()}: ${err.message}\n`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal so the parent sees what the binary saw.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
