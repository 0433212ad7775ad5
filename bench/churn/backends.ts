/**
 * Child process (forked by run.ts): the pods. One node:http server per address (127.0.0.2, 127.0.0.3, …), all on
 * one port (an EndpointSlice has one port for all its endpoints). Each answers 200 with its name in the
 * `x-backend` header and the body, so a probe sees which endpoint a request reached.
 *
 * IPC: → {type:"ready", port, addresses}; ← {type:"stats"} → {type:"stats", requests: {address: count}}.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const count = Number(process.argv[2] ?? "4");
const addresses = Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
const requests: Record<string, number> = {};

async function listen(address: string, port: number): Promise<Server> {
  const body = Buffer.from(address);
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    requests[address] = (requests[address] ?? 0) + 1;
    req.resume();
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length, "x-backend": address });
    res.end(body);
  });
  server.listen(port, address);
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  return server;
}

async function start(): Promise<{ port: number; servers: Server[] }> {
  let last: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    const servers: Server[] = [];
    try {
      let port = 0;
      for (const address of addresses) {
        const server = await listen(address, port);
        servers.push(server);
        port = (server.address() as AddressInfo).port;
      }
      return { port, servers };
    } catch (error) {
      last = error;
      for (const server of servers) server.close();
    }
  }
  throw new Error(`backends: no common free port: ${String(last)}`);
}

const { port } = await start();
process.on("message", (message: { type?: string }) => {
  if (message?.type === "stats") process.send?.({ type: "stats", requests });
});
// The parent gone (killed, crashed): nothing to serve any more.
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready", port, addresses });
