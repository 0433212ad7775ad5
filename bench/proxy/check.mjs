// The correctness check every target passes before it is measured: the Host
// header reaches the backend unchanged, X-Forwarded-For gets the client's
// address appended, and both bodies come back byte for byte.
import { request } from "node:http";

/** One GET on its own connection; resolves to status, headers and body. */
export function get(port, path, headers, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Checks a target on `port`; returns nothing, throws with every problem found.
 * `bodies` maps a path (e.g. "/64") to the bytes the backend serves there.
 */
export async function checkTarget(name, port, { host, bodies, proxied }) {
  const problems = [];
  const echo = await get(port, "/echo", { host, "x-forwarded-for": "203.0.113.7" });
  if (echo.status !== 200) problems.push(`/echo answered ${echo.status}`);
  const seenHost = echo.headers["x-echo-host"];
  if (seenHost !== host) problems.push(`the backend saw Host "${seenHost}", expected "${host}"`);
  const seenXff = echo.headers["x-echo-xff"] ?? "";
  if (proxied) {
    if (!/^203\.0\.113\.7\s*,\s*127\.0\.0\.1$/.test(seenXff)) {
      problems.push(`the backend saw X-Forwarded-For "${seenXff}", expected "203.0.113.7, 127.0.0.1"`);
    }
  } else if (seenXff !== "203.0.113.7") {
    problems.push(`direct: the backend saw X-Forwarded-For "${seenXff}"`);
  }
  for (const [path, expected] of Object.entries(bodies)) {
    const res = await get(port, path, { host });
    if (res.status !== 200) problems.push(`${path} answered ${res.status}`);
    else if (!res.body.equals(expected)) {
      problems.push(`${path} returned ${res.body.length} bytes that differ from the backend's ${expected.length}`);
    }
  }
  if (problems.length > 0) throw new Error(`${name} failed its correctness check:\n  - ${problems.join("\n  - ")}`);
  return { host: seenHost, xForwardedFor: seenXff };
}
