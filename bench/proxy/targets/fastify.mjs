// fastify + @fastify/reply-from (undici).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageVersion, startNodePeer } from "./node-peer.mjs";

export default {
  key: "fastify",
  label: "fastify + reply-from",
  proxied: true,
  notes: "fastify, @fastify/reply-from (undici pool), Host kept, X-Forwarded-For appended",
  start(ctx) {
    return startNodePeer(ctx, "fastify", "fastify-server.mjs");
  },
  version(ctx) {
    const nested = existsSync(join(ctx.benchDir, "node_modules/@fastify/reply-from/node_modules/undici"));
    const undici = nested ? packageVersion(ctx, "@fastify/reply-from", "undici") : packageVersion(ctx, "undici");
    return `fastify ${packageVersion(ctx, "fastify")}, @fastify/reply-from ${packageVersion(ctx, "@fastify/reply-from")}, undici ${undici}, node ${process.version}`;
  },
};
