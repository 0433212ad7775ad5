#!/usr/bin/env node
// The rennet launcher. rennet needs Node >= 22.19; on an older Node this
// re-executes itself under a private Node 24 (installed on first use, see
// node-runtime.mjs) and forwards signals and the exit code.
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode, isRecentEnough } from "./node-runtime.mjs";

const self = fileURLToPath(import.meta.url);

// V8 sizes the young generation from the machine's memory (128 MB committed
// on a 24 GiB machine, never given back); rennet's allocations are short-lived
// and small, so 16 MB semi-spaces cut resident memory by ~90 MB at 10k
// Ingresses for a few ms more per configuration change. V8 reads the flag only
// at start-up, hence the re-execution in place (same PID) when it is missing.
const HEAP_FLAG = "--max-semi-space-size";
const HEAP_SETTING = `${HEAP_FLAG}=16`;
const tuned =
  process.execArgv.some((arg) => arg.startsWith(HEAP_FLAG)) || (process.env.NODE_OPTIONS ?? "").includes(HEAP_FLAG);

if (isRecentEnough(process.version)) {
  if (!tuned && typeof process.execve === "function") {
    process.execve(process.execPath, [
      process.execPath,
      ...process.execArgv,
      HEAP_SETTING,
      self,
      ...process.argv.slice(2),
    ]);
  }
  const { main } = await import("../dist/cli.js");
  process.exit(await main(process.argv.slice(2)));
} else {
  const node = ensureNode(dirname(self));
  const child = spawn(node, [HEAP_SETTING, self, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
