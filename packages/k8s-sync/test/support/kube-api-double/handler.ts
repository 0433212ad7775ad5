/**
 * One request, in the API server's order: record it, injected failures, authentication (bearer token), routing,
 * authorization (forbid rules), then the verb's handler.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, rootPaths, SERVER_VERSION } from "./discovery.js";
import type { RequestBody } from "./http.js";
import { mediaType, readBody, sendError, sendJson, sendStatus } from "./http.js";
import { listResponse } from "./list.js";
import type { RecordedRequest, Verb } from "./recording.js";
import type { Route } from "./routing.js";
import { route } from "./routing.js";
import {
  ApiError,
  failure,
  forbidden,
  internalError,
  methodNotAllowed,
  notFound,
  pathNotFound,
  unauthorized,
} from "./status.js";
import type { Store } from "./store.js";
import type { Switches } from "./switches.js";
import type { WatchHub } from "./watch.js";
import { createObject, deleteObject, patchObject, updateObject } from "./writes.js";

export interface HandlerDeps {
  readonly store: Store;
  readonly watches: WatchHub;
  readonly switches: Switches;
  readonly token: string;
  readonly user: string;
  readonly requests: RecordedRequest[];
  /** host:port, for /api's serverAddressByClientCIDRs. */
  readonly serverAddress: () => string;
}

function verbOf(method: string, r: Route | undefined, query: URLSearchParams): Verb | undefined {
  if (r?.type !== "resource") return undefined;
  switch (method) {
    case "GET": {
      if (r.name !== undefined) return "get";
      const watch = query.get("watch");
      return watch === "true" || watch === "1" ? "watch" : "list";
    }
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return undefined;
  }
}

function record(req: IncomingMessage, url: URL, body: RequestBody, r: Route | undefined, verb: Verb | undefined) {
  const resource = r?.type === "resource" ? r : undefined;
  const rec: RecordedRequest = {
    time: Date.now(),
    method: req.method ?? "GET",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType: req.headers["content-type"],
    userAgent: req.headers["user-agent"],
    body: body.parsed ?? body.raw,
    verb,
    group: resource?.def.group,
    resource: resource?.def.resource,
    subresource: resource?.subresource,
    namespace: resource?.namespace,
    name: resource?.name,
    status: 0,
  };
  return rec;
}

function discovery(deps: HandlerDeps, r: Route): unknown {
  switch (r.type) {
    case "root":
      return rootPaths();
    case "health":
      return "ok";
    case "version":
      return SERVER_VERSION;
    case "apiVersions":
      return apiVersions(deps.serverAddress());
    case "apiGroupList":
      return apiGroupList();
    case "apiGroup":
      return apiGroup(r.group);
    case "resourceList":
      return apiResourceList(r.group, r.version);
    case "resource":
      return undefined;
  }
}

function serveResource(
  deps: HandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  r: Extract<Route, { type: "resource" }>,
  verb: Verb | undefined,
  query: URLSearchParams,
  body: RequestBody,
): void {
  if (verb === undefined) throw methodNotAllowed();
  const { def, namespace, name, subresource } = r;
  if (deps.switches.isForbidden(def, verb, namespace, subresource)) {
    throw forbidden(def, { verb, user: deps.user, namespace, name, subresource });
  }
  if (name === undefined) {
    switch (verb) {
      case "list":
        sendJson(res, 200, listResponse(deps.store, def, namespace, query));
        return;
      case "watch":
        deps.watches.open(req, res, def, namespace, query);
        return;
      case "create":
        if (def.namespaced && namespace === undefined) throw methodNotAllowed();
        sendJson(res, 201, createObject(deps.store, def, namespace, body.parsed, body.parseError));
        return;
      default:
        throw methodNotAllowed();
    }
  }
  const target = { def, namespace, name, subresource };
  switch (verb) {
    case "get": {
      const obj = deps.store.get(def, namespace, name);
      if (!obj) throw notFound(def, name);
      sendJson(res, 200, obj);
      return;
    }
    case "update":
      sendJson(res, 200, updateObject(deps.store, target, body.parsed, body.parseError));
      return;
    case "patch": {
      const contentType = mediaType(req.headers["content-type"]);
      const { object, created } = patchObject(deps.store, target, contentType, body.parsed, body.parseError, query);
      sendJson(res, created ? 201 : 200, object);
      return;
    }
    case "delete":
      if (subresource !== undefined) throw methodNotAllowed();
      sendStatus(res, deleteObject(deps.store, target, body.parsed));
      return;
    default:
      throw methodNotAllowed();
  }
}

export async function handleRequest(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://kube-api-double");
  let body: RequestBody;
  try {
    body = await readBody(req);
  } catch {
    // The client went away mid-body, or the body is over the limit.
    if (!req.destroyed) sendStatus(res, failure(413, "RequestEntityTooLarge", "the request is too large"));
    return;
  }
  const r = route(url.pathname);
  const verb = verbOf(req.method ?? "GET", r, url.searchParams);
  const rec = record(req, url, body, r, verb);
  deps.requests.push(rec);
  try {
    const injected = deps.switches.takeFailure(rec);
    if (injected) throw injected;
    if (r?.type !== "health" && req.headers.authorization !== `Bearer ${deps.token}`) throw unauthorized();
    if (r === undefined) throw pathNotFound();
    if (r.type === "resource") {
      serveResource(deps, req, res, r, verb, url.searchParams, body);
    } else {
      if (req.method !== "GET") throw methodNotAllowed();
      const doc = discovery(deps, r);
      if (doc === undefined) throw pathNotFound();
      if (typeof doc === "string") {
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
        res.end(doc);
      } else {
        sendJson(res, 200, doc);
      }
    }
  } catch (err) {
    sendError(res, err instanceof ApiError ? err : internalError(err));
  }
  rec.status = res.headersSent ? res.statusCode : 0;
}
