#!/usr/bin/env node
// The rennet launcher. rennet needs Node >= 22.19; on an older Node this
// re-executes itself under a private Node 24 (installed on first use, see
// node-runtime.mjs) and forwards signals and the exit code.
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode, isRecentEnough } from "./node-runtime.mjs";

const self = fileURLToPath(import.meta.url);

if (isRecentEnough(process.version)) {
  const { main } = await import("../dist/cli.js");
  process.exit(await main(process.argv.slice(2)));
} else {
  const node = ensureNode(dirname(self));
  const child = spawn(node, [self, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
