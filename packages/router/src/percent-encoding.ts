const HEX = "0123456789ABCDEF";

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

function isUnreserved(code: number): boolean {
  return (
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    (code >= 48 && code <= 57) || // 0-9
    code === 45 || // -
    code === 46 || // .
    code === 95 || // _
    code === 126 // ~
  );
}

/**
 * Brings percent-escapes to one form: unreserved characters decoded, the rest
 * kept with upper-case hex (RFC 3986 §6.2.2), so "/%7Euser" and "/~user" match
 * the same rule. Returns null for a broken escape or an encoded NUL.
 */
export function normalizePercentEncoding(text: string): string | null {
  let out = "";
  let copiedUpTo = 0;
  let at = text.indexOf("%");
  while (at !== -1) {
    const high = hexValue(text.charCodeAt(at + 1));
    const low = hexValue(text.charCodeAt(at + 2));
    if (high < 0 || low < 0) return null;
    const code = high * 16 + low;
    if (code === 0) return null;
    out += text.slice(copiedUpTo, at);
    out += isUnreserved(code) ? String.fromCharCode(code) : `%${HEX[high]}${HEX[low]}`;
    copiedUpTo = at + 3;
    at = text.indexOf("%", copiedUpTo);
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}
