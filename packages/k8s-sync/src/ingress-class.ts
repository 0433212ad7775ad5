import type { Ingress, IngressClass } from "./objects.js";
import { CONTROLLER_NAME, DEFAULT_CLASS_ANNOTATION, INGRESS_CLASS_ANNOTATION } from "./objects.js";

export interface ClassOptions {
  /** The class name rennet answers to in the legacy annotation (--ingress-class). */
  readonly className: string;
  /** spec.controller of the IngressClasses that are ours. */
  readonly controller?: string;
}

function isOurs(ingressClass: IngressClass | undefined, controller: string): boolean {
  return ingressClass?.spec?.controller === controller;
}

/** Whether one of our IngressClasses is marked as the cluster default. */
export function hasDefaultClass(classes: ReadonlyMap<string, IngressClass>, options: ClassOptions): boolean {
  const controller = options.controller ?? CONTROLLER_NAME;
  for (const ingressClass of classes.values()) {
    if (isOurs(ingressClass, controller) && ingressClass.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true") {
      return true;
    }
  }
  return false;
}

/**
 * Whether rennet serves this Ingress, as Kubernetes defines classes: the
 * legacy annotation (which takes precedence) naming our class, or
 * spec.ingressClassName naming an IngressClass of our controller, or no class
 * at all while one of our IngressClasses is the default.
 */
export function servesIngress(
  ingress: Ingress,
  classes: ReadonlyMap<string, IngressClass>,
  options: ClassOptions,
  defaultClass = hasDefaultClass(classes, options),
): boolean {
  const annotated = ingress.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (annotated !== undefined && annotated !== "") return annotated === options.className;
  const className = ingress.spec?.ingressClassName;
  if (className !== undefined && className !== "") {
    return isOurs(classes.get(className), options.controller ?? CONTROLLER_NAME);
  }
  return defaultClass;
}
