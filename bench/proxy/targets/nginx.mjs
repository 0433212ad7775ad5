// nginx as a reverse proxy: one worker, HTTP/1.1 upstream with a keepalive pool.
// With the bench certificate (ctx.tls) the same process also terminates TLS
// on a second listener, proxying the same way.
import { join } from "node:path";
import { debianVersion, nginxVersion, startNginx, writeNginxConf } from "../nginx-conf.mjs";
import { freePort } from "../procs.mjs";

const LOCATION = `    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_buffers 16 16k;
    }`;

/** "nginx/1.25.1" → true when `http2 on;` exists (1.25.1 and later); older ones take `listen … http2`. */
function hasHttp2Directive(version) {
  const [major, minor, patch] = (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  if (major === undefined) return false;
  return major > 1 || minor > 25 || (minor === 25 && patch >= 1);
}

/**
 * The TLS server: the bench certificate for every name (nginx's only server on
 * that port), TLS 1.2 and 1.3 as rennet (nginx before 1.23.4 leaves 1.3 out by
 * default), HTTP/2 by ALPN, session tickets and ssl_session_cache at their
 * defaults (tickets on, no shared session cache: the same as rennet).
 */
function tlsServer(port, tls, version) {
  const http2 = hasHttp2Directive(version);
  return `  server {
    listen 127.0.0.1:${port} ssl${http2 ? "" : " http2"} backlog=4096;
${http2 ? "    http2 on;\n" : ""}    server_name _;
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
${LOCATION}
  }`;
}

export default {
  key: "nginx",
  label: "nginx",
  proxied: true,
  tls: true,
  notes: "1 worker, upstream keepalive 64, proxy_http_version 1.1",
  tlsNotes:
    "second listener of the same process: ssl + http2 (ALPN), the same certificate file and key, ssl_protocols TLSv1.2 TLSv1.3, ssl_session_tickets and ssl_session_cache at their defaults (tickets on, no session cache), the same location",
  async start(ctx) {
    const port = await freePort();
    const httpsPort = ctx.tls ? await freePort() : undefined;
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
${LOCATION}
  }
${ctx.tls ? tlsServer(httpsPort, ctx.tls, nginxVersion(ctx.tools.nginx)) : ""}`,
    );
    const entry = await startNginx("nginx-proxy", ctx.tools.nginx, prefix, port, {
      cpu: ctx.proxyCpu,
      logDir: ctx.logDir,
    });
    return { port, httpsPort, pid: entry.child.pid, entry };
  },
  version(ctx) {
    const deb = debianVersion("nginx");
    return `${nginxVersion(ctx.tools.nginx)}${deb ? ` (Debian ${deb})` : ""}`;
  },
};
