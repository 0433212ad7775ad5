const DOT = 46;
const OPEN_BRACKET = 91;

/**
 * The virtual-host key of a Host header: lower-case, without ":port" and
 * without a trailing dot. Returns the same string when nothing changes, so the
 * common case allocates nothing.
 */
export function normalizeHost(raw: string): string {
  let host = raw;
  if (host.charCodeAt(0) === OPEN_BRACKET) {
    const close = host.indexOf("]");
    if (close !== -1 && close < host.length - 1) host = host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(":");
    if (colon !== -1 && host.indexOf(":", colon + 1) === -1) host = host.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === DOT) host = host.slice(0, -1);
  // Native, and it returns the same string when nothing is upper case.
  return host.toLowerCase();
}
