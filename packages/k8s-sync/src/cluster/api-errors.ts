/** Something the caller can say of the resource an API call was about. */
export interface ApiResourceRef {
  readonly resource: string;
  readonly group: string;
}

function statusCode(error: unknown): number | undefined {
  const value = error as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const candidate of [value?.code, value?.statusCode, value?.response?.statusCode]) {
    if (typeof candidate === "number") return candidate;
  }
  return undefined;
}

function bodyMessage(error: unknown): string | undefined {
  const body = (error as { body?: unknown })?.body;
  const parsed = typeof body === "string" ? safeJson(body) : body;
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One line that says what went wrong with an API call, and for 401/403 which
 * permission is missing, so RBAC problems are fixed from the log alone.
 */
export function describeApiError(error: unknown, ref: ApiResourceRef, verb: string): string {
  const code = statusCode(error);
  const detail = bodyMessage(error) ?? (error instanceof Error ? error.message : String(error));
  const what = `${verb} ${ref.resource}${ref.group === "" ? "" : `.${ref.group}`}`;
  if (code === 401) return `unauthorized (401) to ${what}: the credentials were refused (${detail})`;
  if (code === 403) {
    return `forbidden (403) to ${what}: grant verb "${verb}" on resource "${ref.resource}" in API group "${ref.group}" to rennet's ServiceAccount (${detail})`;
  }
  const cause = (error as { cause?: { code?: unknown } })?.cause?.code ?? (error as { code?: unknown })?.code;
  if (typeof cause === "string") return `cannot ${what}: ${cause} (${detail})`;
  return `cannot ${what}${code === undefined ? "" : ` (HTTP ${code})`}: ${detail}`;
}
