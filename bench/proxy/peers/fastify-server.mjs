// fastify with @fastify/reply-from (undici pool to the backend). reply-from
// sets Host to the upstream's and adds no X-Forwarded-For, so the request
// headers are rewritten to keep Host and append the client's address.
//   node fastify-server.mjs <port> <backend-port>
import replyFrom from "@fastify/reply-from";
import Fastify from "fastify";

const [port, backendPort] = process.argv.slice(2).map(Number);
const app = Fastify({ logger: false });
await app.register(replyFrom, { base: `http://127.0.0.1:${backendPort}` });

function rewriteRequestHeaders(request, headers) {
  const prior = request.headers["x-forwarded-for"];
  const client = request.raw.socket.remoteAddress;
  return {
    ...headers,
    host: request.headers.host,
    "x-forwarded-for": prior === undefined ? client : `${prior}, ${client}`,
    "x-forwarded-proto": "http",
  };
}

app.all("/*", (_request, reply) => reply.from(undefined, { rewriteRequestHeaders }));
await app.listen({ port, host: "127.0.0.1" });
