import { type Claim, compareClaims } from "./ingress-record.js";
import { PathMatcher } from "./path-matcher.js";
import type { IngressRef, RouteMatch } from "./types.js";

export interface LostClaim<B, P> {
  readonly claim: Claim<B, P>;
  readonly winner: IngressRef;
}

/**
 * Every claim on one host key ("foo.com", "*.foo.com" or "" for every host),
 * kept in conflict order, with the winners compiled into a PathMatcher.
 */
export class VirtualHost<B, P> {
  readonly key: string;
  readonly claims: readonly Claim<B, P>[];
  readonly losers: readonly LostClaim<B, P>[];
  readonly lostClaims: ReadonlySet<Claim<B, P>>;
  readonly matcher: PathMatcher<RouteMatch<B, P>>;

  /** `claims` must already be sorted with compareClaims. */
  constructor(key: string, claims: readonly Claim<B, P>[]) {
    this.key = key;
    this.claims = claims;
    const winners = new Map<string, Claim<B, P>>();
    const losers: LostClaim<B, P>[] = [];
    for (const claim of claims) {
      const slot = (claim.exact ? "E" : "P") + claim.match;
      const winner = winners.get(slot);
      if (winner === undefined) winners.set(slot, claim);
      else losers.push({ claim, winner: winner.record.ref });
    }
    this.losers = losers;
    this.lostClaims = new Set(losers.map((loser) => loser.claim));
    this.matcher = new PathMatcher(
      Array.from(winners.values(), (claim) => ({ exact: claim.exact, match: claim.match, route: claim.route })),
    );
  }

  get routeCount(): number {
    return this.matcher.size;
  }

  /**
   * This host with the claims of `replaced` Ingresses dropped and `added`
   * (sorted) merged in; undefined when nothing is left. Linear in the host's size.
   */
  replace(replaced: ReadonlySet<string>, added: readonly Claim<B, P>[]): VirtualHost<B, P> | undefined {
    const merged: Claim<B, P>[] = [];
    let next = 0;
    for (const claim of this.claims) {
      if (replaced.has(claim.record.key)) continue;
      while (next < added.length && compareClaims(added[next] as Claim<B, P>, claim) < 0) {
        merged.push(added[next++] as Claim<B, P>);
      }
      merged.push(claim);
    }
    while (next < added.length) merged.push(added[next++] as Claim<B, P>);
    return merged.length === 0 ? undefined : new VirtualHost(this.key, merged);
  }
}
