/** Writes a kubeconfig that points a client at the double: plain HTTP on loopback and a bearer token. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigSpec {
  readonly server: string;
  readonly token: string;
  /** The context's default namespace. */
  readonly namespace: string;
}

export const CONTEXT_NAME = "kube-api-double";

export function kubeconfigYaml(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: CONTEXT_NAME,
        // @kubernetes/client-node refuses an http:// server unless insecure-skip-tls-verify is set.
        cluster: { server: spec.server, "insecure-skip-tls-verify": true },
      },
    ],
    users: [{ name: CONTEXT_NAME, user: { token: spec.token } }],
    contexts: [
      { name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: CONTEXT_NAME, namespace: spec.namespace } },
    ],
    "current-context": CONTEXT_NAME,
    preferences: {},
  });
}

/** Writes the kubeconfig into a fresh temporary directory; returns its path and a function that removes the directory. */
export async function writeKubeconfig(spec: KubeconfigSpec): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "kube-api-double-"));
  const path = join(dir, "kubeconfig.yaml");
  await writeFile(path, kubeconfigYaml(spec), { mode: 0o600 });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
