/** Discovery documents: /version, /api, /apis, /apis/<group>, /api/v1 and /apis/<group>/<version> (legacy, unaggregated). */
import { RESOURCE_VERBS, RESOURCES, STATUS_VERBS } from "./resources.js";

export const SERVER_VERSION = {
  major: "1",
  minor: "33",
  gitVersion: "v1.33.0+kube-api-double",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2025-01-01T00:00:00Z",
  goVersion: "go1.24.0",
  compiler: "gc",
  platform: "linux/amd64",
} as const;

export function rootPaths(): unknown {
  const paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"];
  for (const g of groups()) paths.push(`/apis/${g.name}`, `/apis/${g.name}/${g.version}`);
  return { paths: [...new Set(paths)].sort() };
}

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function groups(): { name: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const d of RESOURCES) if (d.group !== "" && !seen.has(d.group)) seen.set(d.group, d.version);
  return [...seen].map(([name, version]) => ({ name, version }));
}

function groupEntry(name: string, version: string) {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(): unknown {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups().map((g) => groupEntry(g.name, g.version)) };
}

/** The APIGroup for one group, or undefined when the double does not serve it. */
export function apiGroup(name: string): unknown {
  const g = groups().find((x) => x.name === name);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...groupEntry(g.name, g.version) } : undefined;
}

/** The APIResourceList for a group version, or undefined when the double does not serve it. */
export function apiResourceList(group: string, version: string): unknown {
  const defs = RESOURCES.filter((d) => d.group === group && d.version === version);
  if (defs.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const d of defs) {
    resources.push({
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: [...RESOURCE_VERBS],
      ...(d.shortNames.length > 0 ? { shortNames: [...d.shortNames] } : {}),
    });
    if (d.statusSubresource) {
      resources.push({
        name: `${d.resource}/status`,
        singularName: "",
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: [...STATUS_VERBS],
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}
