// rennet standalone, reading a generated table of Ingresses from manifest
// files; ready when it logs "rennet is serving".
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeTable } from "../manifests.mjs";
import { freePort, logTail, startChild } from "../procs.mjs";

/**
 * Starts rennet with a table of `ingresses` Ingresses; `nodeArgs` go to node
 * (e.g. --cpu-prof). Resolves once it serves, with the time that took.
 */
export async function startRennet(
  ctx,
  { ingresses, name = `rennet-${ingresses}`, nodeArgs = [], timeoutMs = 180_000 },
) {
  const dir = join(ctx.tmp, `manifests-${ingresses}`);
  const objects = writeTable(dir, ingresses, ctx.backendPort);
  const [port, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  let serving;
  let applied = null;
  const ready = new Promise((resolve) => {
    serving = resolve;
  });
  const started = performance.now();
  const entry = startChild(
    name,
    ctx.node,
    [
      ...nodeArgs,
      join(ctx.root, "packages/node-edge/bin/rennet.mjs"),
      "serve",
      "--manifests",
      dir,
      "--http-port",
      String(port),
      "--https-port",
      String(httpsPort),
      "--admin-port",
      String(adminPort),
      "--bind",
      "127.0.0.1",
      "--access-log",
      "off",
      "--grace-period",
      "2s",
    ],
    {
      cpu: ctx.proxyCpu,
      logDir: ctx.logDir,
      cwd: ctx.root,
      onStderr(line) {
        try {
          const record = JSON.parse(line);
          if (record.msg === "configuration applied") applied = record;
          if (record.msg === "rennet is serving") serving();
        } catch {
          // not a JSON log line
        }
      },
    },
  );
  const outcome = await Promise.race([
    ready.then(() => "serving"),
    entry.exitedPromise.then(() => "exited"),
    new Promise((resolve) => setTimeout(() => resolve("timeout"), timeoutMs).unref()),
  ]);
  if (outcome !== "serving") {
    throw new Error(`${name} did not start (${outcome}):\n${logTail(entry)}`);
  }
  if (applied?.ingresses !== ingresses) {
    throw new Error(
      `${name} serves ${applied?.ingresses ?? "no"} Ingresses, expected ${ingresses}:\n${logTail(entry)}`,
    );
  }
  return {
    port,
    adminPort,
    pid: entry.child.pid,
    entry,
    startupMs: performance.now() - started,
    objects,
    table: { ingresses: applied.ingresses, routes: applied.routes, backends: applied.backends, applyMs: applied.ms },
  };
}

export default {
  key: "rennet",
  label: "rennet",
  proxied: true,
  notes: "standalone, 1k Ingresses loaded, access log off",
  async start(ctx) {
    return startRennet(ctx, { ingresses: 1000 });
  },
  version(ctx) {
    const pkg = JSON.parse(readFileSync(join(ctx.root, "packages/node-edge/package.json"), "utf8"));
    const undici = JSON.parse(
      readFileSync(join(ctx.root, "packages/node-edge/node_modules/undici/package.json"), "utf8"),
    );
    let commit = "unknown";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ctx.root, encoding: "utf8" }).trim();
      const dirty = execFileSync("git", ["status", "--porcelain", "--", "packages"], {
        cwd: ctx.root,
        encoding: "utf8",
      });
      if (dirty.trim() !== "") commit += "+dirty";
    } catch {
      // not a git checkout
    }
    return `${pkg.version} (${commit}), undici ${undici.version}`;
  },
};
