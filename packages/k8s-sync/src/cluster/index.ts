/**
 * @rennet/k8s-sync/cluster: the Kubernetes API side (informers, leader
 * election, status, Events). A subpath of its own so that standalone mode
 * never loads @kubernetes/client-node.
 * @module
 */
export { describeApiError } from "./api-errors.js";
export { ClusterSource, type ClusterSourceOptions, type ObjectChanges } from "./cluster-source.js";
export { EventRecorder, type EventRecorderOptions, type EventTarget } from "./event-recorder.js";
export {
  IngressStatusWriter,
  type LoadBalancerIngress,
  publishEntry,
  statusChanges,
} from "./ingress-status.js";
export { loadKubeConfig } from "./kube-config.js";
export { type LeaderElectionOptions, LeaderElector } from "./leader-election.js";
export { CONTROLLER_PERMISSIONS, type Permission } from "./permissions.js";
export { LAST_APPLIED_ANNOTATION, slimObject } from "./slim.js";
