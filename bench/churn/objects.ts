/**
 * The cluster the churn bench serves: per app a Service (port "http"), one EndpointSlice and one Ingress
 * (host app-NNNNN.example.com, Prefix /), spread over manifest files; a pool of extra "churn" Ingresses that
 * the change stream removes (oldest first) while it adds new ones; and a small YAML writer for the manifest
 * source. The same objects feed the API double.
 */

export type Manifest = Record<string, unknown>;

export const NAMESPACE = "default";
export const CONTROLLER = "rennet.dev/ingress-controller";

/** One endpoint of an EndpointSlice: a backend address, ready or on its way out. */
export interface EndpointState {
  readonly address: string;
  readonly ready: boolean;
}

export interface App {
  readonly index: number;
  readonly name: string;
  readonly host: string;
  readonly file: number;
  endpoints: EndpointState[];
}

export interface ChurnIngress {
  readonly name: string;
  readonly host: string;
  /** The app whose Service it routes to (and whose file holds it). */
  readonly app: App;
}

export function ingressClass(): Manifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: { name: "rennet", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
    spec: { controller: CONTROLLER },
  };
}

export function service(name: string): Manifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: NAMESPACE },
    spec: { ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
  };
}

export function sliceName(serviceName: string): string {
  return `${serviceName}-abc12`;
}

export function endpointSlice(serviceName: string, port: number, endpoints: readonly EndpointState[]): Manifest {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: sliceName(serviceName),
      namespace: NAMESPACE,
      labels: { "kubernetes.io/service-name": serviceName },
    },
    addressType: "IPv4",
    ports: [{ name: "http", port, protocol: "TCP" }],
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.address],
      // A pod on its way out: not ready, still serving, terminating (what kube-controller-manager writes).
      conditions: endpoint.ready ? { ready: true } : { ready: false, serving: true, terminating: true },
    })),
  };
}

export function ingress(name: string, host: string, serviceName: string): Manifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: NAMESPACE },
    spec: {
      ingressClassName: "rennet",
      rules: [
        {
          host,
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: serviceName, port: { name: "http" } } } },
            ],
          },
        },
      ],
    },
  };
}

export interface ClusterOptions {
  readonly apps: number;
  readonly files: number;
  /** Apps that carry the constant load: spread evenly over all apps (and so over all files). */
  readonly loadRoutes: number;
  /** Extra Ingresses present from the start, removed oldest first by the change stream. */
  readonly churnPool: number;
  /** Backend addresses (all on `port`); each app starts on two of them, which two varies by app. */
  readonly backends: readonly string[];
  readonly port: number;
}

/** The state both sources are made from and the change stream mutates. */
export class Cluster {
  readonly options: ClusterOptions;
  readonly apps: App[] = [];
  readonly loadApps: App[] = [];
  /** Churn Ingresses present, oldest first. */
  readonly churn: ChurnIngress[] = [];
  #churnSeq = 0;

  constructor(options: ClusterOptions) {
    this.options = options;
    const { apps, files, backends } = options;
    const perFile = Math.ceil(apps / files);
    const pairs = Math.max(1, Math.floor(backends.length / 2));
    for (let index = 0; index < apps; index++) {
      const pair = index % pairs;
      const name = `app-${String(index).padStart(5, "0")}`;
      this.apps.push({
        index,
        name,
        host: `${name}.example.com`,
        file: Math.floor(index / perFile),
        endpoints: [backends[2 * pair], backends[2 * pair + 1] ?? backends[2 * pair]].map((address) => ({
          address: address as string,
          ready: true,
        })),
      });
    }
    const step = apps / Math.min(options.loadRoutes, apps);
    for (let k = 0; k < Math.min(options.loadRoutes, apps); k++)
      this.loadApps.push(this.apps[Math.floor(k * step)] as App);
    const loadSet = new Set(this.loadApps);
    const others = this.apps.filter((app) => !loadSet.has(app));
    for (let k = 0; k < options.churnPool; k++) {
      this.churn.push(this.newChurnIngress(others[(k * 7919) % others.length] ?? (this.apps[0] as App), "pre"));
    }
  }

  newChurnIngress(app: App, prefix = "churn"): ChurnIngress {
    const name = `${prefix}-${String(this.#churnSeq++).padStart(5, "0")}`;
    return { name, host: `${name}.example.com`, app };
  }

  get fileCount(): number {
    return Math.ceil(this.apps.length / Math.ceil(this.apps.length / this.options.files));
  }

  appObjects(app: App): Manifest[] {
    return [
      service(app.name),
      endpointSlice(app.name, this.options.port, app.endpoints),
      ingress(app.name, app.host, app.name),
    ];
  }

  churnObject(churn: ChurnIngress): Manifest {
    return ingress(churn.name, churn.host, churn.app.name);
  }

  /** Everything, for seeding the API double. */
  allObjects(): Manifest[] {
    const all: Manifest[] = [ingressClass()];
    for (const app of this.apps) all.push(...this.appObjects(app));
    for (const churn of this.churn) all.push(this.churnObject(churn));
    return all;
  }

  /** The objects of one manifest file: its apps, then the churn Ingresses routing to them. */
  fileObjects(file: number): Manifest[] {
    const objects: Manifest[] = [];
    for (const app of this.apps) if (app.file === file) objects.push(...this.appObjects(app));
    for (const churn of this.churn) if (churn.app.file === file) objects.push(this.churnObject(churn));
    return objects;
  }
}

export function fileName(file: number): string {
  return `apps-${String(file).padStart(3, "0")}.yaml`;
}

// --- YAML: block style, strings double-quoted --------------------------------------------------------------------

function scalar(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[]";
  if (value !== null && typeof value === "object") return "{}";
  return String(value);
}

function isScalar(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function key(name: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(name) ? name : JSON.stringify(name);
}

function block(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item)) {
        out.push(`${indent}- ${scalar(item)}`);
        continue;
      }
      const nested: string[] = [];
      block(item, `${indent}  `, nested);
      out.push(`${indent}- ${(nested[0] ?? "").slice(indent.length + 2)}`);
      for (let i = 1; i < nested.length; i++) out.push(nested[i] as string);
    }
    return;
  }
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    if (isScalar(item)) out.push(`${indent}${key(name)}: ${scalar(item)}`);
    else {
      out.push(`${indent}${key(name)}:`);
      block(item, `${indent}  `, out);
    }
  }
}

/** Multi-document YAML of the objects. */
export function toYaml(objects: readonly Manifest[]): string {
  return `${objects
    .map((object) => {
      const lines: string[] = [];
      block(object, "", lines);
      return lines.join("\n");
    })
    .join("\n---\n")}\n`;
}
