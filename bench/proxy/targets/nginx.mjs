// nginx as a reverse proxy: one worker, HTTP/1.1 upstream with a keepalive pool.
import { join } from "node:path";
import { debianVersion, nginxVersion, startNginx, writeNginxConf } from "../nginx-conf.mjs";
import { freePort } from "../procs.mjs";

export default {
  key: "nginx",
  label: "nginx",
  proxied: true,
  notes: "1 worker, upstream keepalive 64, proxy_http_version 1.1",
  async start(ctx) {
    const port = await freePort();
    const prefix = join(ctx.tmp, "nginx-proxy");
    writeNginxConf(
      prefix,
      `  upstream backend {
    server 127.0.0.1:${ctx.backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    server_name _;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_buffers 16 16k;
    }
  }`,
    );
    const entry = await startNginx("nginx-proxy", ctx.tools.nginx, prefix, port, {
      cpu: ctx.proxyCpu,
      logDir: ctx.logDir,
    });
    return { port, pid: entry.child.pid, entry };
  },
  version(ctx) {
    const deb = debianVersion("nginx");
    return `${nginxVersion(ctx.tools.nginx)}${deb ? ` (Debian ${deb})` : ""}`;
  },
};
