// Worker entry for hono-middleware-in-workerd.test.ts: a Hono app that routes
// through a rennet table with @rennet/router/hono and forwards with workerd's
// own fetch to the loopback backend named by env.BACKEND.
import { Hono } from "hono";
import { rennetProxy } from "./router/hono/index.js";
import { compile } from "./router/index.js";

const table = compile([
  {
    namespace: "shop",
    name: "api",
    rules: [
      {
        host: "shop.example.com",
        http: {
          paths: [
            { path: "/api", pathType: "Prefix", backend: "api" },
            { path: "/health", pathType: "Exact", backend: "nowhere" },
          ],
        },
      },
    ],
  },
]);

export default {
  fetch(request, env, ctx) {
    const app = new Hono();
    app.use(
      "*",
      rennetProxy({
        table,
        resolve: (backend) => (backend === "api" ? env.BACKEND : null),
        clientIp: (c) => c.req.header("cf-connecting-ip") ?? "203.0.113.9",
      }),
    );
    return app.fetch(request, env, ctx);
  },
};
