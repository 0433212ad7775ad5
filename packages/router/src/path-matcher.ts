const SLASH = 47;

export interface PathRule<R> {
  readonly exact: boolean;
  /** Exact: the whole path. Prefix: the path without trailing slashes ("/" for the root). */
  readonly match: string;
  readonly route: R;
}

// Up to this many rules a host is matched by one scan of a list sorted longest
// first; measured faster than hashing for the 1–6 paths most hosts have.
const LINEAR_LIMIT = 8;

/**
 * Longest-match lookup over one virtual host's winning rules. Small hosts scan
 * a list; large hosts probe an exact-path Map, then a prefix Map at each "/"
 * boundary of the request path from the longest down, skipping lengths no
 * prefix has. No allocation except the probe slices of large hosts.
 */
export class PathMatcher<R> {
  readonly size: number;
  private readonly linearPaths: readonly string[] | null = null;
  private readonly linearExact: Uint8Array | null = null;
  private readonly linearRoutes: readonly R[] | null = null;
  private readonly exact: Map<string, R> | null = null;
  private readonly prefixes: Map<string, R> | null = null;
  private readonly prefixLengths: Uint8Array | null = null;
  private readonly root: R | null = null;

  constructor(rules: readonly PathRule<R>[]) {
    this.size = rules.length;
    const nonRoot: PathRule<R>[] = [];
    for (const rule of rules) {
      if (!rule.exact && rule.match === "/") this.root = rule.route;
      else nonRoot.push(rule);
    }
    if (nonRoot.length <= LINEAR_LIMIT) {
      // Longer first; at equal length Exact before Prefix.
      nonRoot.sort((a, b) => b.match.length - a.match.length || Number(b.exact) - Number(a.exact));
      this.linearPaths = nonRoot.map((rule) => rule.match);
      this.linearExact = Uint8Array.from(nonRoot, (rule) => (rule.exact ? 1 : 0));
      this.linearRoutes = nonRoot.map((rule) => rule.route);
      return;
    }
    const exact = new Map<string, R>();
    const prefixes = new Map<string, R>();
    let longestPrefix = 0;
    for (const rule of nonRoot) {
      if (rule.exact) exact.set(rule.match, rule.route);
      else {
        prefixes.set(rule.match, rule.route);
        if (rule.match.length > longestPrefix) longestPrefix = rule.match.length;
      }
    }
    if (exact.size > 0) this.exact = exact;
    if (prefixes.size > 0) {
      const lengths = new Uint8Array(longestPrefix + 1);
      for (const prefix of prefixes.keys()) lengths[prefix.length] = 1;
      this.prefixes = prefixes;
      this.prefixLengths = lengths;
    }
  }

  match(path: string): R | null {
    const paths = this.linearPaths;
    if (paths !== null) {
      // Cheapest tests first: lengths, then "===" (often a pointer compare)
      // or the "/" boundary, and only then startsWith, which costs ~40 ns.
      const exact = this.linearExact as Uint8Array;
      const length = path.length;
      for (let i = 0; i < paths.length; i++) {
        const rule = paths[i] as string;
        const ruleLength = rule.length;
        if (length === ruleLength) {
          if (path === rule) return (this.linearRoutes as R[])[i] as R;
        } else if (
          length > ruleLength &&
          exact[i] === 0 &&
          path.charCodeAt(ruleLength) === SLASH &&
          path.startsWith(rule)
        ) {
          return (this.linearRoutes as R[])[i] as R;
        }
      }
      return this.root;
    }
    if (this.exact !== null) {
      const route = this.exact.get(path);
      if (route !== undefined) return route;
    }
    const prefixes = this.prefixes;
    if (prefixes !== null) {
      const lengths = this.prefixLengths as Uint8Array;
      const longest = lengths.length - 1;
      let end = path.length;
      if (end > longest) end = path.lastIndexOf("/", longest);
      while (end > 1) {
        if (lengths[end] === 1) {
          const route = prefixes.get(end === path.length ? path : path.slice(0, end));
          if (route !== undefined) return route;
        }
        end = path.lastIndexOf("/", end - 1);
      }
    }
    return this.root;
  }
}
