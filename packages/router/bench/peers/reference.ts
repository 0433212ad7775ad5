/**
 * The reference matcher of the test suite (test/support/reference-matcher.ts):
 * slow on purpose (every lookup re-validates, re-orders and scans every rule),
 * correct by construction. Measured on small tables only.
 */

import { referenceMatch } from "../../test/support/reference-matcher.ts";
import type { Backend, Ingress } from "../tables.ts";
import type { Peer } from "./common.ts";

let table: readonly Ingress[] = [];

export const reference: Peer = {
  name: "reference matcher",
  version: "test/support",
  notes: "referenceMatch(ingresses, host, path): validates, orders and scans every rule on every call.",
  updateStrategy: "n/a (nothing is built).",
  maxRules: 1_000,
  noRetry: true,
  build(ingresses) {
    table = ingresses;
  },
  lookup(host, path): Backend | null {
    const m = referenceMatch(table, host, path);
    return m === null ? null : m.backend;
  },
};
