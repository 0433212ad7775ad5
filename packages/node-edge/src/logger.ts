import type { Log } from "@rennet/k8s-sync";

/** Operational log lines as JSON on stderr; stdout carries the access log. */
export const stderrLog: Log = (entry) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};
