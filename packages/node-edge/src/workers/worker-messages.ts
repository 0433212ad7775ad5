import type { Translation, TranslationDelta } from "@rennet/k8s-sync";
import type { MetricObjectWithValues, MetricValue } from "prom-client";

/**
 * What the control-plane process and its data-plane workers say to each
 * other over the cluster IPC channel ("advanced" serialisation: Maps pass
 * as they are). The channel is ordered, so a worker that got a snapshot and
 * then deltas applies them in the order the control plane did.
 */
export type ToWorker =
  | {
      readonly type: "rennet:config";
      /** The control plane's configuration generation this brings the worker to. */
      readonly generation: number;
      readonly delta: TranslationDelta;
      /** Present when TLS inputs changed (and in every snapshot). */
      readonly tls?: Translation["tls"];
    }
  | { readonly type: "rennet:metrics"; readonly id: number }
  | { readonly type: "rennet:drain" };

export type FromWorker =
  | { readonly type: "rennet:listening"; readonly http: number; readonly https: number }
  | { readonly type: "rennet:applied"; readonly generation: number }
  | {
      readonly type: "rennet:metrics";
      readonly id: number;
      readonly metrics: MetricObjectWithValues<MetricValue<string>>[];
    };

export function isMessage<T extends { type: string }>(message: unknown): message is T {
  return (
    typeof message === "object" &&
    message !== null &&
    typeof (message as { type?: unknown }).type === "string" &&
    (message as { type: string }).type.startsWith("rennet:")
  );
}
