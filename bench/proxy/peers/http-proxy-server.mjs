// node-http-proxy (the http-proxy package) on Node's http server, with a
// keep-alive agent to the backend; xfwd appends X-Forwarded-For.
//   node http-proxy-server.mjs <port> <backend-port>
import http from "node:http";
import httpProxy from "http-proxy";

const [port, backendPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${backendPort}`, agent, xfwd: true });
proxy.on("error", (_error, _req, res) => {
  if (typeof res.writeHead === "function" && !res.headersSent) res.writeHead(502);
  res.end();
});
http.createServer((req, res) => proxy.web(req, res)).listen(port, "127.0.0.1");
