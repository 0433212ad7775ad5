/** Parses "250ms", "5s", "2m" or a plain number of seconds into milliseconds; NaN when malformed. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  const unit = match[2] ?? "s";
  return Math.round(value * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"]);
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function port(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 0 || value > 65535)
    throw new UsageError(`--${flag} must be a port number (0-65535), got "${text}"`);
  return value;
}

export function duration(flag: string, text: string): number {
  const value = parseDuration(text);
  if (!Number.isFinite(value))
    throw new UsageError(`--${flag} must be a duration such as 500ms, 5s or 2m, got "${text}"`);
  return value;
}

export function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, got "${text}"`);
  }
  return text as T;
}

export function namespacedName(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(text)) {
    throw new UsageError(`--${flag} must be namespace/name, got "${text}"`);
  }
  return text;
}
