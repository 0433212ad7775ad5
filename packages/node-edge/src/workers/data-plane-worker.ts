import type { Log } from "@rennet/k8s-sync";
import { DataPlane, type DataPlaneOptions } from "../data-plane.js";
import { applyDelta } from "../edge-config.js";
import { stderrLog } from "../logger.js";
import { EdgeMetrics } from "../metrics.js";
import { type FromWorker, isMessage, type ToWorker } from "./worker-messages.js";

function send(message: FromWorker): void {
  process.send?.(message);
}

/**
 * A data-plane worker (--workers): serves traffic with the configuration the
 * control plane sends, and nothing else (no sources, no translation, no admin
 * port, no Kubernetes writes). Listens once it has its first configuration,
 * so it never answers with an empty table. Resolves to the exit code.
 */
export async function runDataPlaneWorker(
  options: DataPlaneOptions & { readonly gracePeriodMs: number },
): Promise<number> {
  const log: Log = (entry) => stderrLog({ ...entry, worker: process.pid });
  const metrics = new EdgeMetrics();
  // Certificate problems are reported once, by the control plane, which reads the same Secrets.
  const plane = new DataPlane({ ...options, worker: process.pid }, metrics, () => undefined);
  let listening: Promise<unknown> | undefined;
  let drain: () => void = () => undefined;
  const drained = new Promise<void>((resolve) => {
    drain = resolve;
  });

  process.on("message", (message: unknown) => {
    if (!isMessage<ToWorker>(message)) return;
    switch (message.type) {
      case "rennet:config": {
        try {
          if (message.tls !== undefined) plane.applyTls(message.tls);
          plane.proxy.swap(applyDelta(plane.proxy.config, message.delta));
        } catch (error) {
          // Out of step with the control plane: a new worker starts from a snapshot.
          log({ level: "error", msg: "worker could not apply a configuration; restarting", error: String(error) });
          process.exit(1);
        }
        send({ type: "rennet:applied", generation: message.generation });
        listening ??= plane.listen().then(
          (ports) => send({ type: "rennet:listening", ...ports }),
          (error: Error) => {
            log({ level: "error", msg: "worker cannot listen", error: error.message });
            process.exit(1);
          },
        );
        break;
      }
      case "rennet:metrics":
        metrics.registry.getMetricsAsJSON().then(
          (json) => send({ type: "rennet:metrics", id: message.id, metrics: json }),
          () => send({ type: "rennet:metrics", id: message.id, metrics: [] }),
        );
        break;
      case "rennet:drain":
        drain();
        break;
    }
  });
  // The control plane going away (IPC closed) ends the worker too.
  process.on("disconnect", () => drain());
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => drain());

  await drained;
  await listening;
  const outcome = await plane.drain(options.gracePeriodMs, log);
  log({ level: "info", msg: "worker stopped", outcome });
  return 0;
}
