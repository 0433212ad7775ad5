/**
 * memoirist (Elysia's radix tree), path-only: one router per virtual host
 * behind the shared host dispatcher. Its "/p/*" does not match "/p", so a
 * Prefix "/p" is two routes, "/p" and "/p/*" (an Exact "/p" takes "/p");
 * Prefix "/" is "/*", which also matches "/".
 */
import { Memoirist } from "memoirist";
import type { Backend, Ingress } from "../tables.ts";
import {
  ClaimStore,
  dispatcherFor,
  type HostDispatcher,
  type Peer,
  packageVersion,
  type Route,
  rebuildHosts,
  unitsOf,
} from "./common.ts";

function make(routes: Route[]): Memoirist<Backend> {
  const router = new Memoirist<Backend>();
  for (const u of unitsOf(routes, "*").values()) router.add("GET", u.pattern, u.backend);
  return router;
}

let store = new ClaimStore([]);
let hosts: HostDispatcher<Memoirist<Backend>> = dispatcherFor(store, make);

export const memoirist: Peer = {
  name: "memoirist",
  version: packageVersion("memoirist"),
  notes:
    "path-only, one router per virtual host behind the shared host dispatcher; Prefix '/p' → '/p' + '/p/*'; " +
    "find() returns the most specific route.",
  updateStrategy: "no route removal: rebuilds the routers of the hosts the Ingress had or has.",
  build(ingresses) {
    store = new ClaimStore(ingresses);
    hosts = dispatcherFor(store, make);
  },
  lookup(host, path) {
    const router = hosts.select(host);
    if (router === undefined) return null;
    const m = router.find("GET", path);
    return m === null ? null : m.store;
  },
  update(ingress: Ingress) {
    rebuildHosts(store, hosts, store.upsert(ingress), make);
  },
};
