// npm start: the cheese routing of the Traefik tutorial, served by rennet.
// Starts three cheese backends, then `rennet serve` on the manifests beside
// this file, and prints how to reach each cheese. Ctrl-C stops everything.
// With --check it requests each cheese once through rennet and exits (used by the tests).
import { spawn } from "node:child_process";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startCheeseBackend } from "./cheese-backend.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const rennet = join(here, "..", "..", "packages", "node-edge", "bin", "rennet.mjs");
const cheeses = { cheddar: 9101, stilton: 9102, wensleydale: 9103 };
const check = process.argv.includes("--check");
const passThrough = process.argv.slice(2).filter((arg) => arg !== "--check");

const backends = await Promise.all(Object.entries(cheeses).map(([cheese, port]) => startCheeseBackend(cheese, port)));
const child = spawn(
  process.execPath,
  [
    rennet,
    "serve",
    "--manifests",
    join(here, "manifests"),
    "--bind",
    "127.0.0.1",
    "--access-log",
    check ? "off" : "json",
    ...passThrough,
  ],
  { stdio: ["ignore", "inherit", "pipe"] },
);

function stop(code) {
  child.kill("SIGTERM");
  for (const backend of backends) backend.close();
  child.once("exit", () => process.exit(code));
  setTimeout(() => process.exit(code), 5000).unref();
}
process.once("SIGINT", () => stop(0));
process.once("SIGTERM", () => stop(0));
child.once("exit", (code) => {
  for (const backend of backends) backend.close();
  process.exit(code ?? 1);
});

const serving = await new Promise((resolve) => {
  createInterface({ input: child.stderr }).on("line", (line) => {
    process.stderr.write(`${line}\n`);
    try {
      const entry = JSON.parse(line);
      if (entry.msg === "rennet is serving") resolve(entry);
    } catch {}
  });
});
const httpPort = Number(serving.http.split(":").pop());
const adminPort = Number(serving.admin.split(":").pop());

console.log(`\nrennet is serving the cheese tutorial on 127.0.0.1:${httpPort}\n`);
for (const cheese of Object.keys(cheeses)) {
  console.log(`  ${cheese.padEnd(12)} http://${cheese}.127.0.0.1.nip.io:${httpPort}/`);
  console.log(`  ${"".padEnd(12)} curl -H 'Host: ${cheese}.127.0.0.1.nip.io' http://127.0.0.1:${httpPort}/`);
}
console.log(`\n  admin        http://127.0.0.1:${adminPort}/api/config  /metrics  /readyz\n`);

if (check) {
  let failed = 0;
  for (const cheese of Object.keys(cheeses)) {
    const body = await new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: httpPort,
          path: "/",
          headers: { host: `${cheese}.127.0.0.1.nip.io` },
          timeout: 5000,
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on("error", reject);
      req.end();
    });
    const ok = body.startsWith("200 ") && body.includes(`<h1>${cheese}</h1>`);
    if (!ok) failed++;
    console.log(`check ${cheese}: ${ok ? "ok" : `FAILED (${body.slice(0, 80)})`}`);
  }
  stop(failed === 0 ? 0 : 1);
} else {
  console.log("Press Ctrl-C to stop.");
}
