/**
 * @rennet/k8s-sync: feeds @rennet/router from manifest files or the
 * Kubernetes API. Translation is pure; sources do the I/O.
 * @module
 */
export {
  ANNOTATION_PREFIX,
  type AnnotationProblem,
  coversHost,
  type IngressPolicies,
  parsePolicies,
} from "./annotations.js";
export { backendKey, type EndpointAddress, type ResolvedBackend, resolveBackend } from "./backends.js";
export { IncrementalTranslator, type TranslationDelta } from "./incremental-translator.js";
export { type ClassOptions, hasDefaultClass, servesIngress } from "./ingress-class.js";
export type { Log, LogEntry } from "./log.js";
export { type ManifestChanges, ManifestSource, type ManifestSourceOptions } from "./manifests/manifest-source.js";
export { type ManifestProblem, type ParsedManifests, parseManifests } from "./manifests/parse-manifests.js";
export * from "./objects.js";
export { KINDS, type Kind, keyOf, objectKey, type Snapshot, sliceServiceKey, snapshotOf } from "./snapshot.js";
export { readTlsSecret, TLS_SECRET_TYPE, type TlsBinding, type TlsSecret, tlsBindings } from "./tls.js";
export {
  type TranslatedIngress,
  type TranslateOptions,
  type Translation,
  TranslationMemo,
  type TranslationProblem,
  translate,
  translateIngress,
} from "./translate.js";
