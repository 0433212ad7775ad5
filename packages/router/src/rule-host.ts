export type RuleHost =
  | { readonly ok: true; readonly kind: "any" | "exact" | "wildcard"; readonly key: string }
  | { readonly ok: false; readonly message: string };

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function dnsNameProblem(name: string): string | null {
  if (name.length > 253) return "is longer than 253 characters";
  if (IPV4.test(name)) return "is an IP address; Kubernetes allows only DNS names";
  for (const label of name.split(".")) {
    if (label === "") return "has an empty label";
    if (!LABEL.test(label)) {
      return `has an invalid label "${label}" (lower-case letters, digits and '-', 1 to 63 characters, starting and ending alphanumeric)`;
    }
  }
  return null;
}

/**
 * Validates an Ingress rule's host. The key is "" for a rule without host,
 * the lower-cased name for an exact host, and "*.suffix" for a wildcard.
 */
export function parseRuleHost(host: unknown): RuleHost {
  if (host === undefined || host === null || host === "") return { ok: true, kind: "any", key: "" };
  if (typeof host !== "string") return { ok: false, message: `host must be a string, got ${typeof host}` };
  const name = host.toLowerCase();
  if (name.startsWith("*.")) {
    const problem = dnsNameProblem(name.slice(2));
    if (problem !== null) return { ok: false, message: `wildcard host "${host}" ${problem}` };
    return { ok: true, kind: "wildcard", key: name };
  }
  if (name.includes("*")) {
    return {
      ok: false,
      message: `host "${host}" has a '*' that is not the whole first label (write "*.example.com")`,
    };
  }
  const problem = dnsNameProblem(name);
  if (problem !== null) return { ok: false, message: `host "${host}" ${problem}` };
  return { ok: true, kind: "exact", key: name };
}
