/** Every peer, by the name used on the command line (--peers). */
import type { Peer } from "./common.ts";
import { findMyWay, findMyWayCompiled } from "./find-my-way.ts";
import { honoRegExp, honoTrie } from "./hono.ts";
import { map } from "./map.ts";
import { memoirist } from "./memoirist.ts";
import { reference } from "./reference.ts";
import { rennet } from "./rennet.ts";
import { rou3, rou3Compiled } from "./rou3.ts";

export const PEERS: Readonly<Record<string, Peer>> = {
  rennet,
  map,
  "find-my-way": findMyWay,
  "find-my-way-compiled": findMyWayCompiled,
  "hono-regexp": honoRegExp,
  "hono-trie": honoTrie,
  rou3,
  "rou3-compiled": rou3Compiled,
  memoirist,
  reference,
};

/**
 * Run only when named with --peers. find-my-way's compile() mode looked up
 * 2–3x slower than its tree walk on these tables, built 5–8x slower, and its
 * full-rebuild updates take seconds at 10k rules, too long for the default run.
 */
export const EXTRA_PEERS: ReadonlySet<string> = new Set(["find-my-way-compiled"]);
