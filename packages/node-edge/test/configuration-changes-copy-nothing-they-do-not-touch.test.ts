/**
 * applyDelta: a change replaces only the backends it names, and the configuration it was made
 * from (which in-flight requests keep using) stays exactly as it was.
 */
import type { ResolvedBackend, TranslationDelta } from "@rennet/k8s-sync";
import { describe, expect, it } from "vitest";
import { applyDelta, EMPTY_CONFIG } from "../src/edge-config.js";

const resolved = (key: string, address: string): ResolvedBackend => ({
  kind: "endpoints",
  key,
  service: key.split(":")[0] ?? "",
  endpoints: [{ address, port: 80 }],
  terminatingFallback: false,
});

const delta = (backends: [string, ResolvedBackend | undefined][]): TranslationDelta => ({
  upsert: [],
  remove: [],
  backends: new Map(backends),
  tlsChanged: false,
});

describe("a configuration change", () => {
  it("leaves the previous configuration's backends untouched, and keeps the targets it does not name", () => {
    const first = applyDelta(EMPTY_CONFIG, delta([["a:http", resolved("a:http", "10.0.0.1")]])).config;
    const second = applyDelta(
      first,
      delta([
        ["a:http", resolved("a:http", "10.0.0.2")],
        ["b:http", resolved("b:http", "10.0.0.3")],
      ]),
    ).config;
    const third = applyDelta(second, delta([["a:http", undefined]]));
    expect(first.backends.get("a:http")?.endpoints[0]?.host).toBe("10.0.0.1");
    expect(first.backends.size).toBe(1);
    expect(second.backends.get("a:http")?.endpoints[0]?.host).toBe("10.0.0.2");
    expect(second.backends.size).toBe(2);
    expect(third.config.backends.get("a:http")).toBeUndefined();
    expect([...third.config.backends].map(([key]) => key)).toEqual(["b:http"]);
    // b's target (and its round-robin position) carries over; a's is released.
    expect(third.config.backends.get("b:http")).toBe(second.backends.get("b:http"));
    expect(third.released).toEqual([second.backends.get("a:http")]);
  });
});
