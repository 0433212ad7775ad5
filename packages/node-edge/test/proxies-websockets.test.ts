/**
 * WebSocket connections pass through rennet: the handshake reaches the backend with the client's
 * Host and X-Forwarded-For, and messages flow both ways untouched.
 */
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Backend } from "./support/backends.js";
import { useHarness } from "./support/harness.js";
import { ingressClass, serviceWithEndpoints, simpleIngress } from "./support/manifests.js";
import type { Rennet } from "./support/rennet.js";

const harness = useHarness("all");
const perTest = useHarness();
let rennet: Rennet;
let echo: Backend;
const CLIENT = "127.0.0.9";

beforeAll(async () => {
  echo = await harness.backend({ host: "127.0.0.2", name: "ws-echo", websocket: true });
  const dir = await harness.manifestDir();
  await dir.write("ws.yaml", [
    ingressClass("rennet"),
    ...serviceWithEndpoints("ws", echo.port, ["127.0.0.2"]),
    simpleIngress("ws", "ws.test", "ws"),
  ]);
  rennet = await harness.rennet({ manifests: [dir.dir] });
});

/** Opens a WebSocket through rennet (closed after the test); rejects after 3 s. */
async function open(host: string, path = "/"): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${rennet.httpPort}${path}`, {
    headers: { host },
    localAddress: CLIENT,
    handshakeTimeout: 3000,
  });
  perTest.defer(() => socket.terminate());
  socket.on("error", () => undefined);
  await Promise.race([
    once(socket, "open"),
    once(socket, "unexpected-response").then(([, response]) => {
      throw new Error(`handshake answered ${(response as IncomingMessage).statusCode}`);
    }),
    once(socket, "error").then(([error]) => {
      throw error;
    }),
  ]);
  return socket;
}

async function roundTrip(socket: WebSocket, data: string | Buffer): Promise<WebSocket.RawData> {
  const reply = Promise.race([
    once(socket, "message"),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no echo within 3 s")), 3000)),
  ]);
  socket.send(data);
  return ((await reply) as [WebSocket.RawData])[0];
}

describe("WebSocket", () => {
  it("echoes text and binary messages through rennet", async () => {
    const socket = await open("ws.test", "/chat?room=1");
    expect(String(await roundTrip(socket, "hello cheese"))).toBe("hello cheese");
    const binary = Buffer.from([0, 1, 2, 250, 255]);
    expect(Buffer.from((await roundTrip(socket, binary)) as Buffer)).toEqual(binary);
    const large = Buffer.alloc(1024 * 1024, 7);
    expect(Buffer.from((await roundTrip(socket, large)) as Buffer).equals(large)).toBe(true);
  });

  it("hands the backend the client's Host and X-Forwarded-For in the handshake", async () => {
    await open("ws.test", "/who");
    const handshake = await echo.waitFor((seen) => seen.upgrade && seen.url === "/who");
    expect(handshake.headers.host).toBe("ws.test");
    expect(handshake.headers["x-forwarded-for"]).toBe(CLIENT);
    expect(handshake.headers["x-real-ip"]).toBe(CLIENT);
    expect(handshake.headers["x-forwarded-host"]).toBe("ws.test");
    expect(handshake.headers.upgrade).toBe("websocket");
  });

  it("keeps several connections apart", async () => {
    const [a, b] = await Promise.all([open("ws.test", "/a"), open("ws.test", "/b")]);
    const [fromA, fromB] = await Promise.all([roundTrip(a, "from a"), roundTrip(b, "from b")]);
    expect(String(fromA)).toBe("from a");
    expect(String(fromB)).toBe("from b");
  });

  it("answers the handshake with 404 when no rule matches", async () => {
    await expect(open("nobody.test")).rejects.toThrow("handshake answered 404");
  });
});
