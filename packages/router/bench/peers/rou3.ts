/**
 * rou3, path-only: one router per virtual host behind the shared host
 * dispatcher. Exact "/p" is "/p"; Prefix "/p" is "/p/**" (zero or more
 * segments, so it also matches "/p"); Prefix "/" is "/**". rou3 returns the
 * most specific route itself. rou3 ignores one trailing slash in lookups and
 * in patterns, so an Exact "/p" also answers "/p/" (a disagreement it cannot
 * avoid).
 */
import { addRoute, createRouter, findRoute, type RouterContext, removeRoute } from "rou3";
import { compileRouter } from "rou3/compiler";
import type { Backend, Ingress } from "../tables.ts";
import { ClaimStore, EXACT, HostDispatcher, type HostKey, type Peer, packageVersion, type Route } from "./common.ts";

type Find = (path: string) => Backend | null;

interface Host {
  readonly router: RouterContext<Backend>;
  find: Find;
}

function patterns(routes: readonly Route[]): Map<string, Backend> {
  const out = new Map<string, Backend>();
  for (const r of routes) {
    const p = r.kind === EXACT ? r.path : r.path === "/" ? "/**" : `${r.path}/**`;
    if (!out.has(p)) out.set(p, r.backend);
  }
  return out;
}

const OPTS = { params: false };

function finder(router: RouterContext<Backend>, compiled: boolean): Find {
  if (compiled) {
    const match = compileRouter(router);
    return (path) => {
      const m = match("GET", path);
      return m === undefined ? null : m.data;
    };
  }
  return (path) => {
    const m = findRoute(router, "GET", path, OPTS);
    return m === undefined ? null : m.data;
  };
}

function rou3Peer(name: string, compiled: boolean): Peer {
  let store = new ClaimStore([]);
  let hosts = new HostDispatcher<Host>();
  /** What each host's router holds, for diffs on update. */
  let registered = new Map<HostKey, Map<string, Backend>>();

  const buildHost = (key: HostKey): void => {
    const wanted = patterns(store.winners(key));
    if (wanted.size === 0) {
      hosts.set(key, undefined);
      registered.delete(key);
      return;
    }
    const router = createRouter<Backend>();
    for (const [p, b] of wanted) addRoute(router, "GET", p, b);
    hosts.set(key, { router, find: finder(router, compiled) });
    registered.set(key, wanted);
  };

  return {
    name,
    version: packageVersion("rou3"),
    notes:
      "path-only, one router per virtual host behind the shared host dispatcher; Prefix '/p' → '/p/**'; " +
      (compiled ? "compileRouter() per host. " : "findRoute(..., { params: false }). ") +
      "Ignores one trailing slash, so Exact '/p' also matches '/p/'.",
    updateStrategy:
      "removeRoute/addRoute for the patterns of touched hosts whose winner changed (no rebuild)" +
      (compiled ? ", then compileRouter() of those hosts." : "."),
    build(ingresses) {
      store = new ClaimStore(ingresses);
      hosts = new HostDispatcher();
      registered = new Map();
      for (const key of store.hostKeys()) buildHost(key);
    },
    lookup(host, path) {
      const h = hosts.select(host);
      return h === undefined ? null : h.find(path);
    },
    update(ingress: Ingress) {
      for (const key of store.upsert(ingress)) {
        const before = registered.get(key);
        const host = hosts.get(key);
        const wanted = patterns(store.winners(key));
        if (before === undefined || host === undefined || wanted.size === 0) {
          buildHost(key);
          continue;
        }
        for (const [p, b] of before) {
          if (wanted.get(p) !== b) removeRoute(host.router, "GET", p);
        }
        for (const [p, b] of wanted) {
          if (before.get(p) !== b) addRoute(host.router, "GET", p, b);
        }
        registered.set(key, wanted);
        if (compiled) host.find = finder(host.router, true);
      }
    },
  };
}

export const rou3 = rou3Peer("rou3", false);
export const rou3Compiled = rou3Peer("rou3 compileRouter()", true);
