// A realistic routing table for rennet in standalone mode: N Ingresses (with
// their Services and EndpointSlices) spread over namespaces and files, of
// mixed shapes — one host and one path, several paths, several hosts,
// wildcard hosts, Exact and Prefix paths, class by name or by default — of
// which exactly one, in the middle of the table, routes BENCH_HOST to the
// nginx backend. The other endpoints are loopback addresses nothing listens
// on; no request is ever routed there.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BENCH_HOST = "bench.rennet.test";
/** The kubernetes.io/tls Secret of the bench host (in the bench Ingress's namespace), when the table has TLS. */
export const BENCH_TLS_SECRET = "bench-tls";

const INGRESS_CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: rennet
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: rennet.dev/ingress-controller
`;

function service(namespace, name) {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
`;
}

function endpointSlice(namespace, name, addresses, port) {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-abc12
  namespace: ${namespace}
  labels:
    kubernetes.io/service-name: ${name}
addressType: IPv4
ports:
  - name: http
    port: ${port}
endpoints:
${addresses.map((a) => `  - addresses: ["${a}"]\n    conditions:\n      ready: true\n`).join("")}`;
}

function tlsSecret(namespace, name, { cert, key }) {
  return `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: ${namespace}
type: kubernetes.io/tls
data:
  tls.crt: ${Buffer.from(cert).toString("base64")}
  tls.key: ${Buffer.from(key).toString("base64")}
`;
}

function ingress(namespace, name, { className, rules, tls }) {
  const rulesYaml = rules
    .map(
      (rule) => `    - host: "${rule.host}"
      http:
        paths:
${rule.paths
  .map(
    (p) => `          - path: ${p.path}
            pathType: ${p.type}
            backend:
              service:
                name: ${p.service}
                port:
                  name: http
`,
  )
  .join("")}`,
    )
    .join("");
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${className ? "  ingressClassName: rennet\n" : ""}${tls ? `  tls:\n    - hosts: ["${tls.host}"]\n      secretName: ${tls.secretName}\n` : ""}  rules:
${rulesYaml}`;
}

/** The Ingress number i (0-based) of the table, with its Services. */
function generated(i) {
  const app = `app-${String(i).padStart(5, "0")}`;
  const domain = `${app}.tenant-${i % 97}.example.com`;
  const main = { path: "/", type: "Prefix", service: app };
  const api = `${app}-api`;
  let rules;
  let services = [app];
  switch (i % 5) {
    case 0: // one host, one path
      rules = [{ host: domain, paths: [main] }];
      break;
    case 1: // an API beside the site
      services = [app, api];
      rules = [
        {
          host: domain,
          paths: [
            { path: "/api", type: "Prefix", service: api },
            { path: "/healthz", type: "Exact", service: api },
            main,
          ],
        },
      ];
      break;
    case 2: // www and apex
      rules = [
        { host: domain, paths: [main] },
        { host: `www.${domain}`, paths: [main] },
      ];
      break;
    case 3: // a wildcard host
      rules = [{ host: `*.${domain}`, paths: [main] }];
      break;
    default: // static assets and the app
      services = [app, api];
      rules = [
        {
          host: domain,
          paths: [
            { path: "/static", type: "Prefix", service: api },
            { path: "/v2/users", type: "Prefix", service: api },
            main,
          ],
        },
      ];
  }
  return { name: app, className: i % 4 !== 0, rules, services };
}

const PER_FILE = 100;
const namespaceOf = (file) => `team-${String(file).padStart(3, "0")}`;

/** The namespace of the bench Ingress (and of its TLS Secret) in a table of `ingresses`. */
export function benchNamespace(ingresses) {
  return namespaceOf(Math.floor(Math.floor(ingresses / 2) / PER_FILE));
}

/**
 * Writes the table into `dir` (files of at most 100 Ingresses, one namespace
 * each); returns the number of objects written. With `tls` ({ cert, key } as
 * PEM), the bench Ingress gets spec.tls for the bench host naming a
 * kubernetes.io/tls Secret BENCH_TLS_SECRET beside it.
 */
export function writeTable(dir, ingresses, backendPort, { tls } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "ingress-class.yaml"), INGRESS_CLASS);
  const benchIndex = Math.floor(ingresses / 2);
  let objects = 1;
  for (let file = 0; file * PER_FILE < ingresses; file++) {
    const namespace = namespaceOf(file);
    const docs = [];
    for (let i = file * PER_FILE; i < Math.min(ingresses, (file + 1) * PER_FILE); i++) {
      if (i === benchIndex) {
        docs.push(
          service(namespace, "nginx-backend"),
          endpointSlice(namespace, "nginx-backend", ["127.0.0.1"], backendPort),
          ingress(namespace, "bench", {
            className: true,
            rules: [{ host: BENCH_HOST, paths: [{ path: "/", type: "Prefix", service: "nginx-backend" }] }],
            tls: tls ? { host: BENCH_HOST, secretName: BENCH_TLS_SECRET } : undefined,
          }),
        );
        objects += 3;
        if (tls) {
          docs.push(tlsSecret(namespace, BENCH_TLS_SECRET, tls));
          objects += 1;
        }
        continue;
      }
      const g = generated(i);
      for (const [k, name] of g.services.entries()) {
        const addresses = [0, 1, 2].map((n) => `127.1.${(i >> 6) & 255}.${((i & 63) << 2) + n + k}`);
        docs.push(service(namespace, name), endpointSlice(namespace, name, addresses, 8080));
        objects += 2;
      }
      docs.push(ingress(namespace, g.name, g));
      objects += 1;
    }
    writeFileSync(join(dir, `${namespace}.yaml`), docs.join("---\n"));
  }
  return objects;
}
