// The backend every target forwards to: nginx, one worker, serving a 64-byte
// body (/64) and a 16 KiB file (/16k) from files, plus /echo, which answers
// with the Host, X-Forwarded-For and X-Forwarded-Proto it received in
// X-Echo-Host / X-Echo-XFF / X-Echo-Proto.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startNginx, writeNginxConf } from "./nginx-conf.mjs";

/** Deterministic printable bytes, so a wrong body is easy to read in a diff. */
function body(size) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = alphabet.charCodeAt((i * 7 + 3) % alphabet.length);
  bytes[size - 1] = 0x0a;
  return bytes;
}

export const BODIES = [
  { key: "64B", label: "64-byte body", path: "/64", bytes: body(64) },
  { key: "16KiB", label: "16 KiB file", path: "/16k", bytes: body(16 * 1024) },
];

/** Starts the backend nginx pinned to `cpu`; returns the child entry. */
export async function startBackend({ nginx, tmp, port, cpu, logDir }) {
  const prefix = join(tmp, "backend");
  const www = join(prefix, "www");
  mkdirSync(www, { recursive: true });
  for (const b of BODIES) writeFileSync(join(www, b.path.slice(1)), b.bytes);
  writeNginxConf(
    prefix,
    `  sendfile on;
  open_file_cache max=16 inactive=60s;
  open_file_cache_valid 60s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    server_name _;
    root ${www};
    location = /echo {
      add_header X-Echo-Host $http_host always;
      add_header X-Echo-XFF $http_x_forwarded_for always;
      add_header X-Echo-Proto $http_x_forwarded_proto always;
      return 200 "echo\\n";
    }
    location / {
    }
  }`,
  );
  return startNginx("backend-nginx", nginx, prefix, port, { cpu, logDir });
}
