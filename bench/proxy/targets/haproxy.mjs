// HAProxy: one thread, foreground, http-reuse always.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { debianVersion } from "../nginx-conf.mjs";
import { freePort, startChild, waitForPort } from "../procs.mjs";

export default {
  key: "haproxy",
  label: "HAProxy",
  proxied: true,
  notes: "nbthread 1, http-reuse always, option forwardfor",
  async start(ctx) {
    const port = await freePort();
    const file = join(ctx.tmp, "haproxy.cfg");
    writeFileSync(
      file,
      `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s

frontend edge
  bind 127.0.0.1:${port}
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  default_backend nginx_backend

backend nginx_backend
  http-reuse always
  server backend 127.0.0.1:${ctx.backendPort} maxconn 256
`,
    );
    const test = spawnSync(ctx.tools.haproxy, ["-c", "-q", "-f", file], { encoding: "utf8" });
    if (test.status !== 0) throw new Error(`haproxy -c rejected its configuration:\n${test.stderr}${test.stdout}`);
    const entry = startChild("haproxy", ctx.tools.haproxy, ["-db", "-f", file], {
      cpu: ctx.proxyCpu,
      logDir: ctx.logDir,
    });
    await waitForPort(port, { entry });
    return { port, pid: entry.child.pid, entry };
  },
  version(ctx) {
    const out = spawnSync(ctx.tools.haproxy, ["-v"], { encoding: "utf8" }).stdout;
    const version = /HAProxy version (\S+)/.exec(out)?.[1] ?? "unknown";
    const deb = debianVersion("haproxy");
    return deb && !version.includes(deb) ? `${version} (Debian ${deb})` : version;
  },
};
