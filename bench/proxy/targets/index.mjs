// The targets, in the order of the table. direct and nginx are the references.
import direct from "./direct.mjs";
import fastify from "./fastify.mjs";
import haproxy from "./haproxy.mjs";
import httpProxy from "./http-proxy.mjs";
import nginx from "./nginx.mjs";
import rennet from "./rennet.mjs";

export const TARGETS = [direct, rennet, nginx, haproxy, httpProxy, fastify];
