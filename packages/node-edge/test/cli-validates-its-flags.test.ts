/**
 * `rennet serve` from a user's shell: --help lists every flag, and mistakes (unknown flags, bad
 * values, a manifest path that does not exist, a port already taken) end the process non-zero
 * with a message on stderr that says what is wrong.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useHarness } from "./support/harness.js";
import { ingressClass } from "./support/manifests.js";
import { runCli } from "./support/rennet.js";

const harness = useHarness();

/** The flags `rennet serve` parses, read from its source. */
function parsedFlags(): string[] {
  const source = readFileSync(fileURLToPath(new URL("../src/serve-command.ts", import.meta.url)), "utf8");
  const block = /const SERVE_FLAGS = \{([\s\S]*?)\n\} as const;/.exec(source)?.[1];
  if (block === undefined) throw new Error("SERVE_FLAGS not found in serve-command.ts");
  return [...block.matchAll(/^\s{2}"?([a-z][a-z-]*)"?:/gm)].map((match) => `--${match[1]}`);
}

async function manifestsDir(): Promise<string> {
  const dir = await harness.manifestDir();
  await dir.write("class.yaml", [ingressClass("rennet")]);
  return dir.dir;
}

async function serve(...args: string[]) {
  return runCli(["serve", "--bind", "127.0.0.1", "--https-port", "0", "--admin-port", "0", ...args]);
}

describe("rennet serve --help", () => {
  it("lists every flag", async () => {
    const result = await runCli(["serve", "--help"]);
    expect(result.code).toBe(0);
    const required = [
      "--manifests",
      "--http-port",
      "--admin-port",
      "--bind",
      "--ingress-class",
      "--access-log",
      "--load-balancing",
      "--upstream-connect-timeout",
      "--upstream-response-timeout",
      "--client-header-timeout",
      "--client-request-timeout",
      "--max-header-size",
      "--grace-period",
      "--help",
    ];
    const flags = [...new Set([...required, ...parsedFlags()])];
    const missing = flags.filter((flag) => !new RegExp(`(^|\\s)${flag}(\\s|$)`, "m").test(result.stdout));
    expect(missing).toEqual([]);
  });
});

describe("mistakes on the command line", () => {
  it("rejects an unknown flag", async () => {
    const result = await runCli(["serve", "--manifests", tmpdir(), "--frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--frobnicate");
    expect(result.stderr).toContain('Run "rennet serve --help" for usage.');
  });

  // Each run starts a Node process; run them side by side.
  it.concurrent.for([
    [["--http-port", "abc"], '--http-port must be a port number (0-65535), got "abc"'],
    [["--http-port", "70000"], '--http-port must be a port number (0-65535), got "70000"'],
    [["--admin-port", "-"], "--admin-port"],
    [["--access-log", "yaml"], '--access-log must be one of json, off, got "yaml"'],
    [["--load-balancing", "random"], '--load-balancing must be one of round-robin, least-request, got "random"'],
    [
      ["--upstream-response-timeout", "soon"],
      '--upstream-response-timeout must be a duration such as 500ms, 5s or 2m, got "soon"',
    ],
    [["--grace-period=forever"], "--grace-period must be a duration"],
    [["--max-header-size", "10"], "--max-header-size must be a whole number of bytes >= 1024"],
    [["--ingress-class="], "--ingress-class must not be empty"],
    [["--workers", "0"], '--workers must be a whole number from 1 to 64, got "0"'],
    [["--workers", "two"], '--workers must be a whole number from 1 to 64, got "two"'],
  ] as const)("rejects %j", async ([flags, message], { expect }) => {
    const result = await runCli(["serve", "--manifests", tmpdir(), ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });

  it("fails with a clear message when a manifest path does not exist", async () => {
    const missing = join(tmpdir(), "rennet-no-such-manifests");
    const result = await serve("--http-port", "0", "--manifests", missing);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`manifest path ${missing} does not exist`);
  });

  it("without --manifests looks for a cluster, and says so when there is none", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: await manifestsDir() };
    delete env.KUBECONFIG;
    delete env.KUBERNETES_SERVICE_HOST;
    delete env.KUBERNETES_SERVICE_PORT;
    const result = await runCli(
      ["serve", "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--admin-port", "0"],
      {
        env,
      },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/kubeconfig/i);
  });

  it("fails with a clear message when the HTTP port is taken", async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    harness.defer(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    const result = await serve("--http-port", String(port), "--manifests", await manifestsDir());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port} (http)`);
    expect(result.stderr).toContain("EADDRINUSE");
  });
});
