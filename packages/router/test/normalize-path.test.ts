import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { normalizePath } from "../src/index.js";
import { referenceNormalizePath } from "./support/reference-matcher.js";

function accepted(target: string, path: string, query = "") {
  return [target, path, query] as const;
}

describe("normalizePath accepts and rewrites", () => {
  test.each([
    accepted("/", "/"),
    accepted("/a/b", "/a/b"),
    accepted("/a/b/", "/a/b/"),
    // query split off raw, including the "?"
    accepted("/a?x=1", "/a", "?x=1"),
    accepted("/a?", "/a", "?"),
    accepted("/?q", "/", "?q"),
    accepted("/a?x=%zz&y=/../..&z=?", "/a", "?x=%zz&y=/../..&z=?"),
    accepted("/a%3Fb?c", "/a%3Fb", "?c"),
    // merged slashes
    accepted("//", "/"),
    accepted("//a///b", "/a/b"),
    accepted("/a//", "/a/"),
    accepted("///a/b//?x", "/a/b/", "?x"),
    // dot segments
    accepted("/.", "/"),
    accepted("/./", "/"),
    accepted("/./a", "/a"),
    accepted("/a/.", "/a/"),
    accepted("/a/./b", "/a/b"),
    accepted("/a/..", "/"),
    accepted("/a/../", "/"),
    accepted("/a/../b", "/b"),
    accepted("/a/b/..", "/a/"),
    accepted("/a/b/../c/./d/", "/a/c/d/"),
    accepted("/a/b/../../c", "/c"),
    accepted("/a//../b", "/b"),
    accepted("/a/.../b", "/a/.../b"),
    accepted("/a/..b/.c", "/a/..b/.c"),
    accepted("/.well-known/x", "/.well-known/x"),
    // escapes of unreserved characters are decoded
    accepted("/%41%5a%61%7A%30%39", "/AZaz09"),
    accepted("/%2d%2E%5f%7e", "/-._~"),
    accepted("/%7Euser", "/~user"),
    // other escapes keep upper-case hex
    accepted("/a%2fb", "/a%2Fb"),
    accepted("/a%2Fb", "/a%2Fb"),
    accepted("/caf%c3%a9", "/caf%C3%A9"),
    accepted("/a%20b", "/a%20b"),
    accepted("/%25", "/%25"),
    accepted("/%3f", "/%3F"),
    accepted("/%ff", "/%FF"),
    // an encoded slash is not a separator
    accepted("/a%2F..", "/a%2F.."),
    accepted("/a/%2f/../b", "/a/b"),
    // encoded dots are dot segments
    accepted("/a/%2e", "/a/"),
    accepted("/a/%2E%2e", "/"),
    accepted("/a/%2e%2E/b", "/b"),
    accepted("/a/.%2e/b", "/b"),
    accepted("/a/%2e/b", "/a/b"),
    accepted("/%2e%2e%2e", "/..."),
    // other characters pass through
    accepted("/a;b=c,d", "/a;b=c,d"),
    accepted("/a:b@c!$&'()*+", "/a:b@c!$&'()*+"),
  ])("%j → path %j, query %j", (target, path, query) => {
    expect(normalizePath(target)).toEqual({ ok: true, path, query });
  });
});

describe("normalizePath rejects", () => {
  test.each([
    ["an empty target", ""],
    ["a relative path", "foo"],
    ["the asterisk form", "*"],
    ["the absolute form", "http://example.com/a"],
    ["the authority form", "example.com:443"],
    ["a query alone", "?a=b"],
    ["a space", "/a b"],
    ["a space in the query", "/a?b c"],
    ["a tab", "/a\tb"],
    ["a newline", "/a\n"],
    ["a carriage return", "/a\r"],
    ["a raw NUL", "/a\u0000"],
    ["a DEL", "/a\u007f"],
    ["a control character in the query", "/a?\u0001"],
    ["a fragment", "/a#b"],
    ["a fragment after the query", "/a?b#c"],
    ["a bare %", "/a%"],
    ["a % with one hex digit", "/a%4"],
    ["a % with one hex digit before a slash", "/a%4/b"],
    ["a % with non-hex digits", "/a%zz"],
    ["a % with one non-hex digit", "/a%4g"],
    ["a double %", "/%%41"],
    ["an encoded NUL", "/a%00b"],
    ["a .. above the root", "/.."],
    ["a .. above the root with a trailing slash", "/../"],
    ["a .. above the root in the middle", "/../a"],
    ["two .. after one segment", "/a/../.."],
    ["an encoded .. above the root", "/%2e%2e"],
    ["a mixed encoded .. above the root", "/a/../.%2E/b"],
  ])("%s (%j)", (_label, target) => {
    const result = normalizePath(target);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });
});

describe("normalizePath is a normaliser", () => {
  const pieces = ["/", ".", "..", "%2e", "%2E", "%41", "%2f", "a", "b", "?", "//", "%", "%0", "%00", "%7e", "%c3"];
  const target = fc
    .array(fc.constantFrom(...pieces), { maxLength: 12 })
    .map((parts) => parts.join(""))
    .chain((body) => fc.constantFrom(`/${body}`, body));

  test("agrees with the reference normaliser on random targets", () => {
    fc.assert(
      fc.property(target, (raw) => {
        const actual = normalizePath(raw);
        const expected = referenceNormalizePath(raw);
        expect({ target: raw, ok: actual.ok }).toEqual({ target: raw, ok: expected.ok });
        if (actual.ok && expected.ok) {
          expect({ target: raw, path: actual.path, query: actual.query }).toEqual({
            target: raw,
            path: expected.path,
            query: expected.query,
          });
        }
      }),
      { numRuns: 3000 },
    );
  });

  test("is idempotent and yields paths without dot segments or empty segments", () => {
    fc.assert(
      fc.property(target, (raw) => {
        const once = normalizePath(raw);
        if (!once.ok) return;
        const twice = normalizePath(once.path);
        expect(twice).toEqual({ ok: true, path: once.path, query: "" });
        expect(once.path.startsWith("/")).toBe(true);
        expect(once.path.includes("//")).toBe(false);
        expect(once.path.split("/").some((segment) => segment === "." || segment === "..")).toBe(false);
        expect(/%(?:[0-9A-F][a-f]|[a-f][0-9A-F]|[a-f]{2})/.test(once.path)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
