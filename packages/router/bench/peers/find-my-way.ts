/**
 * find-my-way with its native host constraint: exact hosts as strings,
 * "*.foo.com" as /^[^.]+\.foo\.com$/, host-less rules unconstrained. Exact
 * "/p" is "/p"; Prefix "/p" is "/p" plus "/p/*" (an Exact "/p" takes "/p");
 * Prefix "/" is "/*".
 *
 * What it cannot represent: virtual-host selection. It picks the path first
 * and then the best handler whose constraint accepts the host, so a request
 * falls through from an exact host to a wildcard or host-less rule when the
 * chosen host has no handler on that path (the spec says: no fall-through),
 * and a host-less or wildcard route with a longer path beats the exact host's
 * shorter one.
 */
import FindMyWay from "find-my-way";
import type { Backend, Ingress } from "../tables.ts";
import { ClaimStore, type HostKey, normalizeHost, type Peer, packageVersion, type Unit, unitsOf } from "./common.ts";

type Router = ReturnType<typeof FindMyWay>;

const noop = (): void => {};

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const regexCache = new Map<string, RegExp>();
function constraintsOf(key: HostKey): { host: string | RegExp } | undefined {
  if (key === "") return undefined;
  if (!key.startsWith("*.")) return { host: key };
  let re = regexCache.get(key);
  if (re === undefined) {
    re = new RegExp(`^[^.]+\\.${escapeRegExp(key.slice(2))}$`);
    regexCache.set(key, re);
  }
  return { host: re };
}

function register(router: Router, key: HostKey, u: Unit): void {
  const constraints = constraintsOf(key);
  if (constraints === undefined) router.on("GET", u.pattern, noop, u.backend);
  else router.on("GET", u.pattern, { constraints }, noop, u.backend);
}

function findMyWayPeer(name: string, compiled: boolean): Peer {
  let store = new ClaimStore([]);
  let router: Router = FindMyWay();
  let registered = new Map<HostKey, Map<string, Unit>>();
  const registerAll = (): void => {
    router = FindMyWay();
    for (const [key, units] of registered) for (const u of units.values()) register(router, key, u);
    if (compiled) router.compile();
  };
  return {
    name,
    version: packageVersion("find-my-way"),
    notes:
      "host constraint (string / RegExp for '*.x'), host-less unconstrained; Prefix '/p' → '/p' + '/p/*'. " +
      "No virtual-host selection: path first, then any handler whose host constraint accepts, so it falls through " +
      "to wildcard / host-less routes." +
      (compiled ? " router.compile() after registration." : " Tree walk (no compile())."),
    updateStrategy:
      "off() rebuilds the whole tree from its route list on every call, so one full rebuild instead: " +
      "re-resolves only the touched hosts, then registers every route in a new router" +
      (compiled ? ", then compile()." : "."),
    build(ingresses) {
      store = new ClaimStore(ingresses);
      registered = new Map();
      for (const key of store.hostKeys()) registered.set(key, unitsOf(store.winners(key), "*"));
      registerAll();
    },
    lookup(host, path) {
      const m = router.find("GET", path, { host: normalizeHost(host) });
      return m === null ? null : (m.store as Backend);
    },
    update(ingress: Ingress) {
      for (const key of store.upsert(ingress)) {
        const units = unitsOf(store.winners(key), "*");
        if (units.size === 0) registered.delete(key);
        else registered.set(key, units);
      }
      registerAll();
    },
  };
}

export const findMyWay = findMyWayPeer("find-my-way", false);
export const findMyWayCompiled = findMyWayPeer("find-my-way compile()", true);
