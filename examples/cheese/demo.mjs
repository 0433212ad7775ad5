// The cheese routing of the Traefik tutorial this project grew from, answered
// by @rennet/router. (The standalone proxy will serve it for real.)
import { compile, normalizePath } from "../../packages/router/dist/index.js";

const cheeses = ["cheddar", "stilton", "wensleydale"];
const ingresses = cheeses.map((cheese) => ({
  namespace: "default",
  name: cheese,
  rules: [
    {
      host: `${cheese}.127.0.0.1.nip.io`,
      http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: cheese, port: 80 } }] },
    },
  ],
}));
ingresses.push({
  namespace: "default",
  name: "cheeses",
  rules: [
    {
      host: "cheeses.127.0.0.1.nip.io",
      http: {
        paths: cheeses.map((cheese) => ({
          path: `/${cheese}`,
          pathType: "Prefix",
          backend: { service: cheese, port: 80 },
        })),
      },
    },
  ],
});

const table = compile(ingresses);
console.log(`rennet router demo: ${table.ingressCount} Ingresses, ${table.routeCount} routes\n`);
const requests = [
  ["cheddar.127.0.0.1.nip.io", "/"],
  ["STILTON.127.0.0.1.nip.io:8000", "/images/stilton.jpg?size=large"],
  ["wensleydale.127.0.0.1.nip.io", "/../etc/passwd"],
  ["cheeses.127.0.0.1.nip.io", "/stilton/"],
  ["cheeses.127.0.0.1.nip.io", "/cheddar/%2e%2e/wensleydale"],
  ["cheeses.127.0.0.1.nip.io", "/cheddarish"],
  ["gouda.127.0.0.1.nip.io", "/"],
];
for (const [host, target] of requests) {
  const normalised = normalizePath(target);
  let answer;
  if (!normalised.ok) answer = `400 (${normalised.reason})`;
  else {
    const route = table.match(host, normalised.path);
    answer = route
      ? `${route.backend.service}:${route.backend.port}  via ${route.ingress.name} (${route.pathType} ${route.path})`
      : "404 page not found";
  }
  console.log(`${host.padEnd(30)} ${target.padEnd(32)} -> ${answer}`);
}
