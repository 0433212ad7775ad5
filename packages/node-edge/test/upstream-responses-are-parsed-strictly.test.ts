import { describe, expect, it } from "vitest";
import { MAX_RESPONSE_HEAD, ResponseParser, type ResponseSink } from "../src/upstream/response-parser.js";

interface Parsed {
  status: number;
  headers: string[];
  body: string;
  ended: boolean;
  reusable: boolean;
}

function recorder(): { sink: ResponseSink; parsed: Parsed } {
  const parsed: Parsed = { status: 0, headers: [], body: "", ended: false, reusable: false };
  return {
    parsed,
    sink: {
      onHead(status, headers) {
        parsed.status = status;
        parsed.headers = headers;
      },
      onBody(chunk) {
        parsed.body += chunk.toString("latin1");
      },
      onEnd(reusable) {
        parsed.ended = true;
        parsed.reusable = reusable;
      },
    },
  };
}

/** Parses `wire` delivered in the given pieces; `eof` reports the connection's close afterwards. */
function parse(pieces: string[], options: { head?: boolean; eof?: boolean } = {}): Parsed {
  const { sink, parsed } = recorder();
  const parser = new ResponseParser(sink);
  parser.reset(options.head ?? false);
  for (const piece of pieces) parser.execute(Buffer.from(piece, "latin1"));
  if (options.eof) parser.finish();
  return parsed;
}

/** Every way of cutting `wire` in two, plus byte by byte: the parse must not depend on how reads fall. */
function everySplit(wire: string): string[][] {
  const splits: string[][] = [[wire], [...wire]];
  for (let i = 1; i < wire.length; i++) splits.push([wire.slice(0, i), wire.slice(i)]);
  return splits;
}

const CHUNKED =
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";

describe("the upstream response parser", () => {
  it("reads a Content-Length body whatever the reads' boundaries", () => {
    const wire = "HTTP/1.1 201 Created\r\nContent-Length: 11\r\nX-Id: 7\r\n\r\nhello world";
    for (const pieces of everySplit(wire)) {
      expect(parse(pieces)).toEqual({
        status: 201,
        headers: ["Content-Length", "11", "X-Id", "7"],
        body: "hello world",
        ended: true,
        reusable: true,
      });
    }
  });

  it("de-chunks a chunked body, extensions and trailers included, whatever the reads' boundaries", () => {
    for (const pieces of everySplit(CHUNKED)) {
      const parsed = parse(pieces);
      expect(parsed.body).toBe("hello, world");
      expect(parsed.ended).toBe(true);
      expect(parsed.reusable).toBe(true);
      // Transfer-Encoding is hop-by-hop: the client side frames the body itself.
      expect(parsed.headers).toEqual(["Content-Type", "text/plain"]);
    }
  });

  it("drops hop-by-hop headers and those the Connection header names", () => {
    const parsed = parse([
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: s\r\n" +
        "Upgrade: h2c\r\nProxy-Authenticate: Basic\r\nX-Kept: k\r\nContent-Length: 0\r\n\r\n",
    ]);
    expect(parsed.headers).toEqual(["X-Kept", "k", "Content-Length", "0"]);
    expect(parsed.reusable).toBe(true);
  });

  it("expects no body after HEAD, 204 and 304 even with a Content-Length", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n"], { head: true })).toMatchObject({
      body: "",
      ended: true,
      reusable: true,
    });
    for (const status of ["204 No Content", "304 Not Modified"]) {
      expect(parse([`HTTP/1.1 ${status}\r\nContent-Length: 64\r\n\r\n`])).toMatchObject({ body: "", ended: true });
    }
  });

  it("skips informational responses and reads the final one", () => {
    const parsed = parse([
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ]);
    expect(parsed).toMatchObject({ status: 200, body: "ok", ended: true });
  });

  it("reads a body without length until the close, and does not reuse that connection", () => {
    const parsed = parse(["HTTP/1.1 200 OK\r\n\r\nstream", "ed"], { eof: true });
    expect(parsed).toMatchObject({ body: "streamed", ended: true, reusable: false });
    const notChunked = parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz"], { eof: true });
    expect(notChunked).toMatchObject({ body: "zz", ended: true, reusable: false });
  });

  it("does not reuse a connection after Connection: close or an HTTP/1.0 response", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]).reusable).toBe(false);
    expect(parse(["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"]).reusable).toBe(false);
  });

  it("accepts a Content-Length repeated with the same value", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"]).body).toBe("ok");
  });

  const malformed: [string, string][] = [
    ["both framings", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ["conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"],
    ["a length list that disagrees", "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n"],
    ["a signed length", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n"],
    ["obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 0\r\n\r\n"],
    ["a bare LF", "HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n"],
    ["a bare CR", "HTTP/1.1 200 OK\r\nX-A: a\rX-B: b\r\nContent-Length: 0\r\n\r\n"],
    ["a NUL in a value", "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n"],
    ["space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"],
    ["a line without a colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n"],
    ["a bad status line", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"],
    ["another protocol", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"],
    ["a protocol switch", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"],
    ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    ["a chunk longer than announced", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"],
    ["a chunk line with a bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n"],
    ["bytes after the response", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n"],
  ];
  for (const [what, wire] of malformed) {
    it(`refuses ${what}`, () => {
      expect(() => parse([wire])).toThrow(/upstream/);
    });
  }

  it("refuses a head larger than its limit, even arriving in small reads", () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(MAX_RESPONSE_HEAD)}`;
    const pieces = big.match(/[\s\S]{1,1000}/g) as string[];
    expect(() => parse(pieces)).toThrow(/too large/);
  });

  it("reports a response cut short by the close", () => {
    expect(() => parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], { eof: true })).toThrow(/truncated/);
    expect(() => parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"], { eof: true })).toThrow(
      /truncated/,
    );
    expect(() => parse([], { eof: true })).toThrow(/before responding/);
  });

  it("parses one response after another once reset, as a kept-alive connection does", () => {
    const { sink, parsed } = recorder();
    const parser = new ResponseParser(sink);
    for (const body of ["first", "second"]) {
      parser.reset(false);
      parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, "latin1"));
      expect(parsed.body.endsWith(body)).toBe(true);
      expect(parser.done).toBe(true);
    }
  });
});
