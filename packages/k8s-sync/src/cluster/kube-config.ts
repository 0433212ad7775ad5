import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/**
 * The cluster rennet talks to: --kubeconfig, else $KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account.
 */
export function loadKubeConfig(flag: string | undefined): { config: KubeConfig; from: string } {
  const config = new KubeConfig();
  if (flag !== undefined) {
    config.loadFromFile(flag);
    return { config, from: flag };
  }
  const env = process.env.KUBECONFIG;
  if (env !== undefined && env !== "") {
    config.loadFromDefault();
    return { config, from: `KUBECONFIG=${env}` };
  }
  const home = join(homedir(), ".kube", "config");
  if (existsSync(home)) {
    config.loadFromFile(home);
    return { config, from: home };
  }
  if (process.env.KUBERNETES_SERVICE_HOST === undefined) {
    throw new Error("no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a cluster");
  }
  config.loadFromCluster();
  return { config, from: "in-cluster service account" };
}
