// rennet standalone, reading a generated table of Ingresses from manifest
// files; ready when it logs "rennet is serving".
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_TLS_SECRET, benchNamespace, writeTable } from "../manifests.mjs";
import { freePort, logTail, startChild } from "../procs.mjs";

/**
 * Starts rennet with a table of `ingresses` Ingresses; `nodeArgs` go to node
 * (e.g. --cpu-prof), `args` to rennet serve, `cpu` overrides the pinning. With `tls` (the bench certificate, see tls.mjs) the bench
 * Ingress gets spec.tls and a kubernetes.io/tls Secret for the bench host,
 * which is also the --default-certificate (what clients without SNI, or with
 * an IP address as SNI like wrk, get). Resolves once it serves, with the time
 * that took.
 */
export async function startRennet(
  ctx,
  { ingresses, name = `rennet-${ingresses}`, nodeArgs = [], args = [], cpu, timeoutMs = 180_000, tls },
) {
  const dir = join(ctx.tmp, `manifests-${ingresses}${tls ? "-tls" : ""}`);
  const objects = writeTable(dir, ingresses, ctx.backendPort, { tls });
  const tlsArgs = tls ? ["--default-certificate", `${benchNamespace(ingresses)}/${BENCH_TLS_SECRET}`] : [];
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
      ...tlsArgs,
      ...args,
    ],
    {
      cpu: cpu ?? ctx.proxyCpu,
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
    httpsPort,
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
  tls: true,
  notes: "standalone, 1k Ingresses loaded, access log off",
  tlsNotes:
    "HTTPS listener of the same process: the bench host's certificate from a kubernetes.io/tls Secret named by the bench Ingress's spec.tls, also the --default-certificate; TLS 1.2–1.3, session tickets (no session-ID cache)",
  async start(ctx) {
    return startRennet(ctx, { ingresses: 1000, tls: ctx.tls });
  },
  version(ctx) {
    const pkg = JSON.parse(readFileSync(join(ctx.root, "packages/node-edge/package.json"), "utf8"));
    // undici: only while node-edge depends on it (its upstream client until the hot-path rewrite).
    let undici = "";
    try {
      const manifest = readFileSync(join(ctx.root, "packages/node-edge/node_modules/undici/package.json"), "utf8");
      undici = `, undici ${JSON.parse(manifest).version}`;
    } catch {
      // not a dependency (any more)
    }
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
    return `${pkg.version} (${commit})${undici}`;
  },
};
