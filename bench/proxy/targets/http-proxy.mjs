// node-http-proxy: the http-proxy package behind Node's http server.
import { packageVersion, startNodePeer } from "./node-peer.mjs";

export default {
  key: "http-proxy",
  label: "node-http-proxy",
  proxied: true,
  notes: "http-proxy, keep-alive agent, xfwd",
  start(ctx) {
    return startNodePeer(ctx, "http-proxy", "http-proxy-server.mjs");
  },
  version(ctx) {
    return `http-proxy ${packageVersion(ctx, "http-proxy")}, node ${process.version}`;
  },
};
