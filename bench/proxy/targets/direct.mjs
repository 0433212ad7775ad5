// No proxy: wrk talks to the backend itself. Backend and wrk share the load
// core, so this is the ceiling of the setup, not the backend's physical limit.
export default {
  key: "direct",
  label: "direct (no proxy)",
  proxied: false,
  notes: "wrk → backend nginx; both on the load core",
  async start(ctx) {
    return { port: ctx.backendPort, pid: null, entry: undefined };
  },
  version() {
    return "—";
  },
};
