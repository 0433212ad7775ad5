// Starts one of the Node peers (bench/proxy/peers/*.mjs) on the Node that
// runs rennet, pinned to the proxy core.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startChild, waitForPort } from "../procs.mjs";

export async function startNodePeer(ctx, name, script) {
  const port = await freePort();
  const entry = startChild(
    name,
    ctx.node,
    [join(ctx.benchDir, "proxy/peers", script), String(port), String(ctx.backendPort)],
    {
      cpu: ctx.proxyCpu,
      logDir: ctx.logDir,
      cwd: ctx.benchDir,
    },
  );
  await waitForPort(port, { entry });
  return { port, pid: entry.child.pid, entry };
}

/** The installed version of a package in bench/node_modules (or nested under another package). */
export function packageVersion(ctx, ...path) {
  const dir = join(
    ctx.benchDir,
    "node_modules",
    ...path.flatMap((name, i) => (i === 0 ? [name] : ["node_modules", name])),
  );
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
}
