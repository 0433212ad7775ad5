/**
 * @rennet/router/hono: route requests of any Hono app (Workers, Deno, Bun,
 * Node) through a compiled rennet table, forwarding with the runtime's fetch.
 * @module
 */
export { type RennetProxyOptions, rennetProxy } from "./proxy-middleware.js";
