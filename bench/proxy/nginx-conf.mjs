// nginx configuration shared by the backend and the nginx reverse proxy: one
// worker, no daemon, everything (pid, logs, temp files) inside its own prefix
// directory, no access log.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { startChild, waitForPort } from "./procs.mjs";

/** Writes `<prefix>/nginx.conf` with the given http{} body. */
export function writeNginxConf(prefix, httpBody) {
  mkdirSync(join(prefix, "temp"), { recursive: true });
  // A root master would hand the worker to "nobody", who cannot read a 0700 temp dir.
  const user = typeof process.getuid === "function" && process.getuid() === 0 ? `user ${userInfo().username};\n` : "";
  const conf = `${user}worker_processes 1;
daemon off;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path ${join(prefix, "temp/client_body")};
  proxy_temp_path ${join(prefix, "temp/proxy")};
  fastcgi_temp_path ${join(prefix, "temp/fastcgi")};
  uwsgi_temp_path ${join(prefix, "temp/uwsgi")};
  scgi_temp_path ${join(prefix, "temp/scgi")};
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  tcp_nodelay on;
${httpBody}
}
`;
  const file = join(prefix, "nginx.conf");
  writeFileSync(file, conf);
  return file;
}

/** Starts nginx on that prefix, pinned to `cpu`, and waits until it listens on `port`. */
export async function startNginx(name, nginx, prefix, port, { cpu, logDir }) {
  const args = ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log")];
  const test = spawnSync(nginx, [...args, "-t", "-q"], { encoding: "utf8" });
  if (test.status !== 0) throw new Error(`${name}: nginx -t rejected its configuration:\n${test.stderr}`);
  const entry = startChild(name, nginx, args, { cpu, logDir });
  await waitForPort(port, { entry });
  return entry;
}

/** "nginx/1.22.1" (and the Debian package version when dpkg knows it). */
export function nginxVersion(nginx) {
  const out = spawnSync(nginx, ["-v"], { encoding: "utf8" });
  return /nginx version: (\S+)/.exec(`${out.stderr}${out.stdout}`)?.[1] ?? "unknown";
}

/** The installed version of a Debian package, or undefined. */
export function debianVersion(pkg) {
  // dpkg-query's own ${Version} field syntax, not a template placeholder.
  const format = ["-f=$", "{Version}"].join("");
  const out = spawnSync("dpkg-query", ["-W", format, pkg], { encoding: "utf8" });
  return out.status === 0 && out.stdout !== "" ? out.stdout : undefined;
}
