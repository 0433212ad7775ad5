/**
 * Hono's RegExpRouter and TrieRouter, path-only: one router per virtual host
 * behind the shared host dispatcher. Exact "/p" is "/p"; Prefix "/p" is
 * "/p/*" (Hono's trailing "/*" also matches "/p"); Prefix "/" is "/*". Hono
 * returns every matching handler, so each handler carries a priority (longer
 * path wins, Exact over Prefix at equal length) and the highest is taken.
 */
import { RegExpRouter } from "hono/router/reg-exp-router";
import { TrieRouter } from "hono/router/trie-router";
import type { Backend, Ingress } from "../tables.ts";
import {
  ClaimStore,
  dispatcherFor,
  EXACT,
  type HostDispatcher,
  type Peer,
  packageVersion,
  priority,
  type Route,
  rebuildHosts,
} from "./common.ts";

interface Handler {
  readonly backend: Backend;
  readonly priority: number;
}

interface HonoRouter {
  add(method: string, path: string, handler: Handler): void;
  match(method: string, path: string): [[Handler, unknown][], ...unknown[]];
}

function pattern(r: Route): string {
  if (r.kind === EXACT) return r.path;
  return r.path === "/" ? "/*" : `${r.path}/*`;
}

function honoPeer(name: string, create: () => HonoRouter, lazy: boolean): Peer {
  const make = (routes: Route[]): HonoRouter => {
    const router = create();
    for (const r of routes) router.add("GET", pattern(r), { backend: r.backend, priority: priority(r) });
    // RegExpRouter compiles its matcher on the first match: do it now, not on the first request.
    if (lazy) router.match("GET", "/");
    return router;
  };
  let store = new ClaimStore([]);
  let hosts: HostDispatcher<HonoRouter> = dispatcherFor(store, make);
  return {
    name,
    version: packageVersion("hono"),
    notes:
      "path-only, one router per virtual host behind the shared host dispatcher; Prefix '/p' → '/p/*'; " +
      "all matches returned, the highest stored priority wins." +
      (lazy ? " The matcher of every router is built eagerly (it is lazy by default)." : ""),
    updateStrategy: "no route removal: rebuilds the routers of the hosts the Ingress had or has.",
    build(ingresses) {
      store = new ClaimStore(ingresses);
      hosts = dispatcherFor(store, make);
    },
    lookup(host, path) {
      const router = hosts.select(host);
      if (router === undefined) return null;
      const matches = router.match("GET", path)[0];
      let best: Handler | null = null;
      for (let i = 0; i < matches.length; i++) {
        const h = (matches[i] as [Handler, unknown])[0];
        if (best === null || h.priority > best.priority) best = h;
      }
      return best === null ? null : best.backend;
    },
    update(ingress: Ingress) {
      rebuildHosts(store, hosts, store.upsert(ingress), make);
    },
  };
}

export const honoRegExp = honoPeer("hono RegExpRouter", () => new RegExpRouter<Handler>() as HonoRouter, true);
export const honoTrie = honoPeer("hono TrieRouter", () => new TrieRouter<Handler>() as HonoRouter, false);
