/**
 * The parts of Kubernetes objects rennet reads, typed loosely on purpose:
 * input comes from files and API servers and is validated where it is used.
 */

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly creationTimestamp?: string;
  readonly resourceVersion?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

export interface ServiceBackendPort {
  readonly number?: number;
  readonly name?: string;
}

export interface IngressBackend {
  readonly service?: { readonly name?: string; readonly port?: ServiceBackendPort };
  readonly resource?: { readonly apiGroup?: string; readonly kind?: string; readonly name?: string };
}

export interface HTTPIngressPath {
  readonly path?: string;
  readonly pathType?: string;
  readonly backend?: IngressBackend;
}

export interface IngressRule {
  readonly host?: string;
  readonly http?: { readonly paths?: readonly HTTPIngressPath[] };
}

export interface IngressTLS {
  readonly hosts?: readonly string[];
  readonly secretName?: string;
}

export interface Ingress extends KubeObject {
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly defaultBackend?: IngressBackend;
    readonly rules?: readonly IngressRule[];
    readonly tls?: readonly IngressTLS[];
  };
  readonly status?: unknown;
}

export interface IngressClass extends KubeObject {
  readonly spec?: { readonly controller?: string };
}

export interface ServicePort {
  readonly name?: string;
  readonly port?: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
}

export interface Service extends KubeObject {
  readonly spec?: {
    readonly type?: string;
    readonly externalName?: string;
    readonly ports?: readonly ServicePort[];
  };
}

export interface EndpointConditions {
  readonly ready?: boolean | null;
  readonly serving?: boolean | null;
  readonly terminating?: boolean | null;
}

export interface Endpoint {
  readonly addresses?: readonly string[];
  readonly conditions?: EndpointConditions;
  readonly nodeName?: string;
  readonly zone?: string;
}

export interface EndpointPort {
  readonly name?: string | null;
  readonly port?: number | null;
  readonly protocol?: string;
}

export interface EndpointSlice extends KubeObject {
  readonly addressType?: string;
  readonly endpoints?: readonly Endpoint[] | null;
  readonly ports?: readonly EndpointPort[] | null;
}

export interface Secret extends KubeObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";
export const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
export const CONTROLLER_NAME = "rennet.dev/ingress-controller";
