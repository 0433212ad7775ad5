import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const demo = fileURLToPath(new URL("../../../examples/cheese/demo.mjs", import.meta.url));

it("npm start's demo serves each cheese through rennet by host", () => {
  const result = spawnSync(process.execPath, [demo, "--check", "--http-port", "0", "--admin-port", "0"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(result.stdout).toContain("curl -H 'Host: cheddar.127.0.0.1.nip.io' http://127.0.0.1:");
  for (const cheese of ["cheddar", "stilton", "wensleydale"]) expect(result.stdout).toContain(`check ${cheese}: ok`);
  expect(result.status, result.stderr).toBe(0);
});
