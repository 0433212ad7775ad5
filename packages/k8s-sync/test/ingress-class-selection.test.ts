import { describe, expect, test } from "vitest";
import type { IngressClass } from "../src/index.js";
import { CONTROLLER_NAME, hasDefaultClass, servesIngress, translate } from "../src/index.js";
import {
  backend,
  CLASS_NAME,
  type IngressOptions,
  ingress,
  ingressClass,
  OPTIONS,
  rule,
  service,
  snapshot,
} from "./support/fixtures.js";

const OTHER_CONTROLLER = "k8s.io/ingress-nginx";

const ours = ingressClass("rennet");
const oursDefault = ingressClass("rennet-default", { isDefault: true });
const oursNotDefault = ingressClass("rennet-explicit-false", { isDefault: false });
const theirs = ingressClass("nginx", { controller: OTHER_CONTROLLER });
const theirsDefault = ingressClass("nginx-default", { controller: OTHER_CONTROLLER, isDefault: true });

function classMap(...classes: IngressClass[]): Map<string, IngressClass> {
  return new Map(classes.map((c) => [c.metadata?.name ?? "", c]));
}

interface Case {
  name: string;
  ingress: IngressOptions;
  classes: IngressClass[];
  served: boolean;
}

const cases: Case[] = [
  // spec.ingressClassName
  {
    name: "ingressClassName names an IngressClass of our controller",
    ingress: { className: "rennet" },
    classes: [ours],
    served: true,
  },
  {
    name: "ingressClassName names another controller's IngressClass",
    ingress: { className: "nginx" },
    classes: [ours, theirs],
    served: false,
  },
  {
    name: "ingressClassName names an IngressClass that does not exist",
    ingress: { className: "missing" },
    classes: [ours],
    served: false,
  },
  {
    name: "ingressClassName matches by IngressClass name, not by our legacy class name",
    ingress: { className: CLASS_NAME },
    classes: [theirs, ingressClass(CLASS_NAME, { controller: OTHER_CONTROLLER })],
    served: false,
  },
  {
    name: "an explicit foreign class is not served even though one of our classes is the default",
    ingress: { className: "nginx" },
    classes: [oursDefault, theirs],
    served: false,
  },
  {
    name: "an explicit class of ours is served while another class of ours is the default",
    ingress: { className: "rennet" },
    classes: [ours, oursDefault],
    served: true,
  },
  // the legacy annotation
  {
    name: "the legacy annotation names our class",
    ingress: { classAnnotation: CLASS_NAME },
    classes: [],
    served: true,
  },
  {
    name: "the legacy annotation names another class",
    ingress: { classAnnotation: "nginx" },
    classes: [ours],
    served: false,
  },
  {
    name: "the legacy annotation is compared with our class name, not with IngressClass names",
    ingress: { classAnnotation: "rennet-default" },
    classes: [oursDefault],
    served: false,
  },
  {
    name: "the annotation takes precedence: ours wins over a foreign ingressClassName",
    ingress: { classAnnotation: CLASS_NAME, className: "nginx" },
    classes: [ours, theirs],
    served: true,
  },
  {
    name: "the annotation takes precedence: a foreign annotation wins over our ingressClassName",
    ingress: { classAnnotation: "nginx", className: "rennet" },
    classes: [ours, theirs],
    served: false,
  },
  {
    name: "a foreign annotation is not served even though one of our classes is the default",
    ingress: { classAnnotation: "nginx" },
    classes: [oursDefault],
    served: false,
  },
  {
    name: "an empty annotation counts as absent (ingressClassName decides)",
    ingress: { classAnnotation: "", className: "rennet" },
    classes: [ours],
    served: true,
  },
  // no class at all
  {
    name: "no class while one of our IngressClasses is the default",
    ingress: {},
    classes: [ours, oursDefault],
    served: true,
  },
  { name: "no class and no default IngressClass", ingress: {}, classes: [ours, theirs], served: false },
  { name: "no class and no IngressClass at all", ingress: {}, classes: [], served: false },
  {
    name: "no class while only another controller's IngressClass is the default",
    ingress: {},
    classes: [ours, theirsDefault],
    served: false,
  },
  {
    name: 'no class while our IngressClass says is-default-class: "false"',
    ingress: {},
    classes: [oursNotDefault],
    served: false,
  },
  {
    name: 'no class while our IngressClass says is-default-class with another value than "true"',
    ingress: {},
    classes: [ingressClass("rennet-yes", { isDefault: "yes" })],
    served: false,
  },
  {
    name: "an empty ingressClassName counts as no class",
    ingress: { className: "" },
    classes: [oursDefault],
    served: true,
  },
];

describe("which Ingresses rennet serves", () => {
  test.each(cases)("$name", ({ ingress: options, classes, served }) => {
    expect(servesIngress(ingress("cheddar", options), classMap(...classes), OPTIONS)).toBe(served);
  });

  test("translate() only returns the Ingresses of our class", () => {
    const rules = [rule("cheese.example.com", ["/", "Prefix", backend("web", 80)])];
    const result = translate(
      snapshot(
        ours,
        theirs,
        service("web"),
        ingress("by-class", { className: "rennet", rules }),
        ingress("by-annotation", { classAnnotation: CLASS_NAME, rules }),
        ingress("foreign-class", { className: "nginx", rules }),
        ingress("foreign-annotation", { classAnnotation: "nginx", rules }),
        ingress("no-class", { rules }),
      ),
      OPTIONS,
    );
    expect(result.ingresses.map((i) => i.name).sort()).toEqual(["by-annotation", "by-class"]);
  });

  test("translate() serves class-less Ingresses when one of our IngressClasses is the default", () => {
    const rules = [rule("cheese.example.com", ["/", "Prefix", backend("web", 80)])];
    const result = translate(
      snapshot(
        oursDefault,
        theirs,
        service("web"),
        ingress("no-class", { rules }),
        ingress("foreign", { className: "nginx", rules }),
      ),
      OPTIONS,
    );
    expect(result.ingresses.map((i) => i.name)).toEqual(["no-class"]);
  });

  test("Ingresses of other classes do not contribute backends or problems", () => {
    const result = translate(
      snapshot(ours, ingress("foreign", { className: "nginx", defaultBackend: backend("missing", 80) })),
      OPTIONS,
    );
    expect(result.ingresses).toEqual([]);
    expect(result.backends.size).toBe(0);
    expect(result.problems).toEqual([]);
  });
});

describe("the controller and class name are configurable", () => {
  const custom = { className: "edge", controller: "example.com/edge" };

  test("an IngressClass is ours when its spec.controller is the configured controller", () => {
    const classes = classMap(ingressClass("edge", { controller: "example.com/edge" }), ingressClass("rennet"));
    expect(servesIngress(ingress("a", { className: "edge" }), classes, custom)).toBe(true);
    expect(servesIngress(ingress("b", { className: "rennet" }), classes, custom)).toBe(false);
  });

  test("the default controller is rennet.dev/ingress-controller", () => {
    expect(CONTROLLER_NAME).toBe("rennet.dev/ingress-controller");
    const classes = classMap(ingressClass("x", { controller: "rennet.dev/ingress-controller" }));
    expect(servesIngress(ingress("a", { className: "x" }), classes, { className: "whatever" })).toBe(true);
  });

  test("the legacy annotation is compared with the configured class name", () => {
    expect(servesIngress(ingress("a", { classAnnotation: "edge" }), new Map(), custom)).toBe(true);
    expect(servesIngress(ingress("b", { classAnnotation: "rennet" }), new Map(), custom)).toBe(false);
  });

  test("hasDefaultClass only counts default IngressClasses of the configured controller", () => {
    const classes = classMap(ingressClass("rennet", { isDefault: true }));
    expect(hasDefaultClass(classes, OPTIONS)).toBe(true);
    expect(hasDefaultClass(classes, custom)).toBe(false);
    expect(
      hasDefaultClass(classMap(ingressClass("edge", { controller: "example.com/edge", isDefault: true })), custom),
    ).toBe(true);
  });
});
