/**
 * Every API call rennet makes in cluster mode, as RBAC sees it. Kept beside
 * the code that makes the calls (watched-resources, ingress-status,
 * leader-election, event-recorder); a test checks deploy/rbac.yaml grants
 * exactly these, so the ClusterRole stays least-privilege and sufficient.
 */
export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
  /** "cluster" for the ClusterRole; "namespace" for rennet's own namespace (the Lease). */
  readonly scope: "cluster" | "namespace";
}

export const CONTROLLER_PERMISSIONS: readonly Permission[] = [
  { group: "networking.k8s.io", resource: "ingresses", verbs: ["get", "list", "watch"], scope: "cluster" },
  { group: "networking.k8s.io", resource: "ingressclasses", verbs: ["get", "list", "watch"], scope: "cluster" },
  { group: "", resource: "services", verbs: ["get", "list", "watch"], scope: "cluster" },
  { group: "discovery.k8s.io", resource: "endpointslices", verbs: ["get", "list", "watch"], scope: "cluster" },
  { group: "", resource: "secrets", verbs: ["get", "list", "watch"], scope: "cluster" },
  { group: "networking.k8s.io", resource: "ingresses/status", verbs: ["update"], scope: "cluster" },
  { group: "", resource: "events", verbs: ["create", "patch"], scope: "cluster" },
  { group: "coordination.k8s.io", resource: "leases", verbs: ["get", "create", "update"], scope: "namespace" },
];
