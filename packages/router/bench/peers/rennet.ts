/** @rennet/router itself: compile once, `update` returns a new table. */
import { compile, type RouteTable } from "@rennet/router";
import type { Backend, Ingress } from "../tables.ts";
import { type Peer, packageVersion } from "./common.ts";

let table: RouteTable<Backend> = compile<Backend, unknown>([]);

export const rennet: Peer = {
  name: "rennet",
  version: packageVersion("@rennet/router"),
  notes: "compile(ingresses) with validation and diagnostics; match(host, path) with the raw Host header.",
  updateStrategy: "table.update({ upsert: [ingress] }), a new immutable table; only touched hosts are recompiled.",
  build(ingresses) {
    table = compile(ingresses);
  },
  lookup(host, path) {
    const m = table.match(host, path);
    return m === null ? null : m.backend;
  },
  update(ingress: Ingress) {
    table = table.update({ upsert: [ingress] });
  },
};
