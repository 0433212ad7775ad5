// Runs one routing scenario against the router's public API and returns a JSON-ready report.
// Loaded both by the worker inside workerd (router-worker.js) and by the Node side of
// workerd.test.ts, each time with the router's dist modules, so the two reports must be equal.

/**
 * @param {typeof import("../../../dist/index.js")} router
 * @param {{ ingresses: unknown[], requests: { host: string, target: string }[], update?: { upsert?: unknown[], remove?: unknown[] } }} input
 */
export function evaluate(router, input) {
  const table = router.compile(input.ingresses);
  const report = { table: describe(table, input.ingresses), answers: answerAll(router, table, input.requests) };
  if (input.update) {
    const updated = table.update(input.update);
    const refs = [...input.ingresses, ...(input.update.upsert ?? []), ...(input.update.remove ?? [])];
    report.updated = { table: describe(updated, refs), answers: answerAll(router, updated, input.requests) };
    // the table update() was called on must be unchanged
    report.original = answerAll(router, table, input.requests);
  }
  return report;
}

function attempt(fn) {
  try {
    return fn();
  } catch (error) {
    return { thrown: { name: error?.name, message: error?.message ?? String(error) } };
  }
}

function describe(table, refs) {
  const seen = new Set();
  const diagnostics = [];
  for (const { namespace, name } of refs) {
    const key = `${namespace}/${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push({ namespace, name, diagnostics: attempt(() => table.diagnostics(namespace, name)) });
  }
  return {
    ingressCount: table.ingressCount,
    routeCount: table.routeCount,
    defaultBackend: table.defaultBackend,
    ingresses: attempt(() => [...table.ingresses()].map((i) => `${i.namespace}/${i.name}`)),
    diagnostics,
    allDiagnostics: attempt(() => table.allDiagnostics()),
    routes: attempt(() => table.routes()),
  };
}

function answerAll(router, table, requests) {
  return requests.map(({ host, target }) => {
    const answer = { host, target, normalizedHost: attempt(() => router.normalizeHost(host)) };
    const normalized = attempt(() => router.normalizePath(target));
    if (normalized.thrown) return { ...answer, normalized };
    if (!normalized.ok) return { ...answer, rejected: normalized.reason };
    const match = attempt(() => table.match(host, normalized.path));
    return {
      ...answer,
      path: normalized.path,
      query: normalized.query,
      match,
      // what a proxy would use: the match, else the cluster default backend
      backend: match && !match.thrown ? match.backend : (table.defaultBackend?.backend ?? null),
    };
  });
}

/** What the runtime offers; the workerd side reports it so the test can check no Node API was there. */
export function environment() {
  return {
    userAgent: globalThis.navigator?.userAgent ?? null,
    process: typeof globalThis.process,
    Buffer: typeof globalThis.Buffer,
    require: typeof globalThis.require,
    setImmediate: typeof globalThis.setImmediate,
  };
}
