/**
 * Kubernetes manifests for the end-to-end tests: builders for IngressClass, Service,
 * EndpointSlice and Ingress objects, a small YAML writer (block style, strings double-quoted), and
 * a temp directory to write them to in place or by write-then-rename.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Manifest = Record<string, unknown>;

export const RENNET_CONTROLLER = "rennet.dev/ingress-controller";

export function ingressClass(name = "rennet", options: { controller?: string; isDefault?: boolean } = {}): Manifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: {
      name,
      ...(options.isDefault === undefined
        ? {}
        : { annotations: { "ingressclass.kubernetes.io/is-default-class": String(options.isDefault) } }),
    },
    spec: { controller: options.controller ?? RENNET_CONTROLLER },
  };
}

export interface ServicePortSpec {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
}

export function service(
  name: string,
  options: { namespace?: string; ports?: readonly ServicePortSpec[]; externalName?: string } = {},
): Manifest {
  const ports = options.ports ?? [{ name: "http", port: 80, targetPort: "http" }];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: options.namespace ?? "default" },
    spec: {
      ...(options.externalName !== undefined ? { type: "ExternalName", externalName: options.externalName } : {}),
      ports: ports.map((port) => ({ ...port, protocol: "TCP" })),
    },
  };
}

export interface EndpointSpec {
  readonly address: string;
  /** Omitted: no `ready` condition at all (which means ready). */
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export function endpointSlice(
  serviceName: string,
  options: {
    name?: string;
    namespace?: string;
    ports: readonly { name?: string; port: number }[];
    endpoints: readonly (EndpointSpec | string)[];
  },
): Manifest {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: options.name ?? `${serviceName}-abc12`,
      namespace: options.namespace ?? "default",
      labels: { "kubernetes.io/service-name": serviceName },
    },
    addressType: "IPv4",
    ports: options.ports.map((port) => ({ name: port.name ?? "", port: port.port, protocol: "TCP" })),
    endpoints: options.endpoints.map((spec) => {
      const endpoint = typeof spec === "string" ? { address: spec, ready: true } : spec;
      const conditions: Record<string, boolean> = {};
      if (endpoint.ready !== undefined) conditions.ready = endpoint.ready;
      if (endpoint.serving !== undefined) conditions.serving = endpoint.serving;
      if (endpoint.terminating !== undefined) conditions.terminating = endpoint.terminating;
      return { addresses: [endpoint.address], ...(Object.keys(conditions).length > 0 ? { conditions } : {}) };
    }),
  };
}

/** A Service (port 80 named "http") and one EndpointSlice of ready endpoints on `port`. */
export function serviceWithEndpoints(
  name: string,
  port: number,
  endpoints: readonly (EndpointSpec | string)[],
  namespace = "default",
): Manifest[] {
  return [service(name, { namespace }), endpointSlice(name, { namespace, ports: [{ name: "http", port }], endpoints })];
}

export interface BackendRef {
  readonly service: string;
  /** A number refers to the Service port by number, a string by name. Default "http". */
  readonly port?: number | string;
}

export interface PathSpec extends BackendRef {
  readonly path?: string;
  readonly pathType?: string;
}

export interface RuleSpec {
  readonly host?: string;
  readonly paths: readonly PathSpec[];
}

function backend(ref: BackendRef): Manifest {
  const port = ref.port ?? "http";
  return { service: { name: ref.service, port: typeof port === "number" ? { number: port } : { name: port } } };
}

export function ingress(
  name: string,
  options: {
    namespace?: string;
    /** spec.ingressClassName; default "rennet"; null for none. */
    className?: string | null;
    annotations?: Record<string, string>;
    rules?: readonly RuleSpec[];
    defaultBackend?: BackendRef;
  },
): Manifest {
  const className = options.className === undefined ? "rennet" : options.className;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
    },
    spec: {
      ...(className !== null ? { ingressClassName: className } : {}),
      ...(options.defaultBackend !== undefined ? { defaultBackend: backend(options.defaultBackend) } : {}),
      ...(options.rules !== undefined
        ? {
            rules: options.rules.map((rule) => ({
              ...(rule.host !== undefined ? { host: rule.host } : {}),
              http: {
                paths: rule.paths.map((path) => ({
                  path: path.path ?? "/",
                  pathType: path.pathType ?? "Prefix",
                  backend: backend(path),
                })),
              },
            })),
          }
        : {}),
    },
  };
}

/** A one-host Ingress sending everything under "/" to `serviceName`. */
export function simpleIngress(name: string, host: string, serviceName: string): Manifest {
  return ingress(name, { rules: [{ host, paths: [{ path: "/", service: serviceName }] }] });
}

// --- YAML -------------------------------------------------------------------------------------

function isInline(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function inline(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[]";
  if (value !== null && typeof value === "object") return "{}";
  return String(value);
}

function key(name: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(name) ? name : JSON.stringify(name);
}

function block(value: unknown, indent: string): string[] {
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isInline(item)) {
        lines.push(`${indent}- ${inline(item)}`);
        continue;
      }
      const nested = block(item, `${indent}  `);
      if (Array.isArray(item)) {
        lines.push(`${indent}-`, ...nested);
      } else {
        lines.push(`${indent}- ${(nested[0] ?? "").slice(indent.length + 2)}`, ...nested.slice(1));
      }
    }
    return lines;
  }
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    if (isInline(item)) lines.push(`${indent}${key(name)}: ${inline(item)}`);
    else lines.push(`${indent}${key(name)}:`, ...block(item, `${indent}  `));
  }
  return lines;
}

/** Multi-document YAML of the objects. */
export function toYaml(objects: readonly Manifest[]): string {
  return `${objects.map((object) => block(object, "").join("\n")).join("\n---\n")}\n`;
}

// --- files ------------------------------------------------------------------------------------

export class ManifestDir {
  readonly dir: string;
  #renames = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<ManifestDir> {
    return new ManifestDir(await mkdtemp(join(tmpdir(), "rennet-e2e-")));
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  /** Rewrites the file in place (truncate, then write). */
  async write(file: string, objects: readonly Manifest[]): Promise<void> {
    await writeFile(this.path(file), toYaml(objects));
  }

  /**
   * Rewrites the file in place synchronously: truncation and content land together, as an editor
   * saving in place does. (An async write can leave the file empty for as long as the writing
   * process is busy elsewhere, and an empty file is a valid, empty manifest.)
   */
  writeSync(file: string, objects: readonly Manifest[]): void {
    writeFileSync(this.path(file), toYaml(objects));
  }

  async writeText(file: string, text: string): Promise<void> {
    await writeFile(this.path(file), text);
  }

  /** Writes a hidden temp file next to it, then renames it over the file (what editors and kubectl-like tools do). */
  async replace(file: string, objects: readonly Manifest[]): Promise<void> {
    const temp = this.path(`.${file}.${process.pid}.${this.#renames++}.tmp`);
    await writeFile(temp, toYaml(objects));
    await rename(temp, this.path(file));
  }

  async remove(file: string): Promise<void> {
    await unlink(this.path(file));
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
