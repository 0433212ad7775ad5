#!/usr/bin/env node
// The rennet launcher. rennet needs Node >= 22.19; on an older Node this
// re-executes itself under a private Node 24 (installed on first use, see
// node-runtime.mjs) and forwards signals and the exit code.
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNode, isRecentEnough } from "./node-runtime.mjs";

const self = fileURLToPath(import.meta.url);

// V8 heap settings, read only at start-up, hence the re-execution in place
// (same PID) when one is missing:
// - V8 sizes the young generation from the machine's memory (128 MB committed
//   on a 24 GiB machine, never given back); rennet's allocations are
//   short-lived and small, so 16 MB semi-spaces cut resident memory by ~90 MB
//   at 10k Ingresses for a few ms more per configuration change.
// - After each full GC, V8 lets the old generation grow to up to 4x the live
//   data before the next one (4x with a heap limit of 2 GB or more, i.e. with
//   8 GB or more of memory, or of pod memory limit; 1.3x to 2x below), so
//   resident memory drifts between 1x and 4x the live heap (at 10k Ingresses:
//   ~250 MB to 600+ MB under steady traffic). A fixed 25% growth keeps it
//   within 1.25x live + the young generation, and sets no limit on the heap
//   (nothing to run out of as the cluster grows): full GCs (mostly concurrent)
//   only come more often, ~3% of a core at 1000 req/s, and a 40k-Ingress
//   initial sync takes ~15% longer. At one core's full proxy rate it costs
//   nothing measurable since upstream reads reuse their memory (0 full GCs
//   in 8 s of 16 KiB responses; before that, one every ~0.6 s and a p99 of
//   ~30 ms, external memory counting towards the same limit). A pod
//   memory limit below ~8 GB makes V8 choose a smaller factor by itself;
//   pass --heap-growing-percent=<n> (or NODE_OPTIONS) to choose otherwise.
const HEAP_SETTINGS = ["--max-semi-space-size=16", "--heap-growing-percent=25"];
const given = (setting) => {
  const flag = setting.slice(0, setting.indexOf("="));
  return process.execArgv.some((arg) => arg.startsWith(flag)) || (process.env.NODE_OPTIONS ?? "").includes(flag);
};
const missing = HEAP_SETTINGS.filter((setting) => !given(setting));

// glibc malloc, read only at process start too: it serves a request of 128 KiB
// or more with its own mmap, given back on free, but after such a free it
// raises that threshold to the freed size (up to 32 MiB), so later blocks of
// that size come from its arenas, where free memory is kept. Configuration
// changes allocate and free such blocks (which ones was not traced; the V8
// heap and Node's external memory stay flat): under bench:churn (30 s of
// changes at 10k Ingresses, through files) resident memory after a full GC
// grew 11.3–15.9 MB, median 14, in five runs, and 6.5–9.4 MB, median 8, in
// five runs interleaved with them with the threshold fixed. The proxy's own
// buffers (32–64 KiB) are below it, so requests do not pay for the mmaps.
// Ignored by other C libraries; a value in the environment wins.
const MALLOC_SETTINGS = { MALLOC_MMAP_THRESHOLD_: "131072" };
const mallocMissing = Object.keys(MALLOC_SETTINGS).some((name) => process.env[name] === undefined);
const env = { ...MALLOC_SETTINGS, ...process.env };

if (isRecentEnough(process.version)) {
  if ((missing.length > 0 || mallocMissing) && typeof process.execve === "function") {
    process.execve(
      process.execPath,
      [process.execPath, ...process.execArgv, ...missing, self, ...process.argv.slice(2)],
      env,
    );
  }
  const { main } = await import("../dist/cli.js");
  process.exit(await main(process.argv.slice(2)));
} else {
  const node = ensureNode(dirname(self));
  const child = spawn(node, [...missing, self, ...process.argv.slice(2)], { stdio: "inherit", env });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
