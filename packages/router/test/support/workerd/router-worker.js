// Worker entry for workerd.test.ts. The router's dist modules are loaded next to it as
// "router/*.js"; evaluate.js is shared with the Node side of the test.
//   GET  /  -> what the runtime offers (environment())
//   POST /  -> evaluate(router, JSON body)

import { environment, evaluate } from "./evaluate.js";
import * as router from "./router/index.js";

export default {
  async fetch(request) {
    if (request.method === "GET") return Response.json(environment());
    if (request.method !== "POST") return new Response("method not allowed\n", { status: 405 });
    let input;
    try {
      input = await request.json();
    } catch (error) {
      return Response.json({ error: `bad JSON: ${error}` }, { status: 400 });
    }
    try {
      return Response.json(evaluate(router, input));
    } catch (error) {
      return Response.json({ error: String(error), stack: error?.stack ?? null }, { status: 500 });
    }
  },
};
