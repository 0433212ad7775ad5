import { HOP_BY_HOP_HEADERS } from "@rennet/router";

/**
 * An incremental, strict HTTP/1.1 response parser for one upstream
 * connection: status line, headers and body framing (Content-Length, chunked,
 * or until close), reset per request. Pure: bytes in, callbacks out.
 *
 * Strict because a backend that frames a response ambiguously (Content-Length
 * and Transfer-Encoding both, two different lengths, obs-fold, bare LF) could
 * desynchronise a pooled connection and hand one client's bytes to another:
 * such a response is refused (502), never guessed at.
 */

export interface ResponseSink {
  /** The final response's head (1xx heads are skipped): end-to-end headers only, flat [name, value, …]. */
  onHead(status: number, headers: string[]): void;
  onBody(chunk: Buffer): void;
  /** The response ended; `reusable` says whether the connection may carry another request. */
  onEnd(reusable: boolean): void;
}

export class ResponseParseError extends Error {
  readonly code = "RENNET_UPSTREAM_BAD_RESPONSE";
}

const HOP_BY_HOP: ReadonlySet<string> = new Set(HOP_BY_HOP_HEADERS);
const NOTABLE_LENGTHS: ReadonlySet<number> = new Set(
  [...HOP_BY_HOP_HEADERS, "content-length"].map((name) => name.length),
);
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
/** Larger heads are refused; nginx's default proxy_buffer_size is 4-8 KiB. */
export const MAX_RESPONSE_HEAD = 64 * 1024;
const MAX_CHUNK_LINE = 4096;

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** RFC 9110 token characters, by char code. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CHAR[c.charCodeAt(0)] = 1;
}
const DIGITS = /^\d{1,15}$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,13})[\t ]*(?:;.*)?$/;

// What the body is framed by.
const NO_BODY = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

// Where the parser is.
const IN_HEAD = 0;
const IN_BODY = 1; // LENGTH or UNTIL_CLOSE
const CHUNK_LINE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
const DONE = 6;

export class ResponseParser {
  readonly #sink: ResponseSink;
  #state = DONE;
  #headRequest = false;
  #pending: Buffer | null = null;
  #framing = NO_BODY;
  #remaining = 0;
  #reusable = true;
  #line = "";

  constructor(sink: ResponseSink) {
    this.#sink = sink;
  }

  /** Prepares for the response to a new request. */
  reset(headRequest: boolean): void {
    this.#state = IN_HEAD;
    this.#headRequest = headRequest;
    this.#pending = null;
    this.#framing = NO_BODY;
    this.#remaining = 0;
    this.#reusable = true;
    this.#line = "";
  }

  /** Whether the final response head has been parsed. */
  get started(): boolean {
    return this.#state !== IN_HEAD && this.#state !== DONE;
  }

  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Feeds bytes from the connection. Throws ResponseParseError on a malformed
   * response. Bytes beyond the end of the response make it unreusable.
   */
  execute(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      switch (this.#state) {
        case IN_HEAD:
          offset = this.#head(data, offset);
          break;
        case IN_BODY:
          offset = this.#body(data, offset);
          break;
        case CHUNK_LINE:
        case TRAILERS:
          offset = this.#chunkLine(data, offset);
          break;
        case CHUNK_DATA:
          offset = this.#chunkData(data, offset);
          break;
        case CHUNK_DATA_END:
          offset = this.#chunkDataEnd(data, offset);
          break;
        default:
          // Bytes after the end of a response: the connection is out of step.
          throw new ResponseParseError("upstream sent data after the end of the response");
      }
    }
  }

  /** The connection closed (EOF): ends a body delimited by the close, else throws. */
  finish(): void {
    if (this.#state === IN_BODY && this.#framing === UNTIL_CLOSE) {
      this.#end();
      return;
    }
    if (this.#state === DONE) return;
    throw new ResponseParseError(
      this.#state === IN_HEAD ? "upstream closed the connection before responding" : "upstream response truncated",
    );
  }

  #head(data: Buffer, offset: number): number {
    let buffer = data;
    let from = offset;
    let searchFrom = offset;
    if (this.#pending !== null) {
      const kept = this.#pending.length;
      buffer = Buffer.concat([this.#pending, data.subarray(offset)]);
      this.#pending = null;
      from = 0;
      searchFrom = Math.max(0, kept - 3);
    }
    const end = buffer.indexOf(HEAD_END, searchFrom);
    if (end === -1) {
      if (buffer.length - from > MAX_RESPONSE_HEAD) throw new ResponseParseError("upstream response head too large");
      this.#pending = Buffer.from(buffer.subarray(from));
      return data.length;
    }
    if (end - from > MAX_RESPONSE_HEAD) throw new ResponseParseError("upstream response head too large");
    this.#parseHead(buffer.toString("latin1", from, end));
    // Where the head ended in `data`'s own offsets.
    return data.length - (buffer.length - (end + 4));
  }

  #parseHead(text: string): void {
    if (!isWellFormedHead(text)) throw new ResponseParseError("upstream sent a malformed response head");
    let lineEnd = text.indexOf("\r\n");
    if (lineEnd === -1) lineEnd = text.length;
    const statusLine = STATUS_LINE.exec(text.slice(0, lineEnd));
    if (statusLine === null) throw new ResponseParseError("upstream sent a malformed status line");
    const http10 = statusLine[1] === "0";
    const status = Number(statusLine[2]);
    const headers: string[] = [];
    let contentLength = -1;
    let transferEncoding: string | null = null;
    let connection: string | null = null;
    while (lineEnd < text.length) {
      const start = lineEnd + 2;
      lineEnd = text.indexOf("\r\n", start);
      if (lineEnd === -1) lineEnd = text.length;
      const colon = tokenEnd(text, start, lineEnd);
      if (colon === start || text.charCodeAt(colon) !== 58) {
        throw new ResponseParseError("upstream sent a malformed header line");
      }
      const name = text.slice(start, colon);
      const value = text.slice(colon + 1, lineEnd).trim();
      // Lower-casing only names as long as one the parser must look at.
      if (NOTABLE_LENGTHS.has(name.length)) {
        const lower = name.toLowerCase();
        if (lower === "content-length") {
          contentLength = parseContentLength(value, contentLength);
        } else if (lower === "transfer-encoding") {
          transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
          continue;
        } else if (lower === "connection") {
          connection = connection === null ? value : `${connection}, ${value}`;
          continue;
        } else if (HOP_BY_HOP.has(lower)) {
          continue;
        }
      }
      headers.push(name, value);
    }
    if (status < 200) {
      // 1xx: informational; the final response follows on the same connection.
      if (status === 101) throw new ResponseParseError("upstream switched protocols on a plain request");
      this.#state = IN_HEAD;
      return;
    }
    if (transferEncoding !== null && contentLength !== -1) {
      throw new ResponseParseError("upstream sent both Content-Length and Transfer-Encoding");
    }
    let filtered = headers;
    this.#reusable = !http10;
    // "keep-alive" (nginx's usual) names nothing to remove; anything else is read token by token.
    if (connection !== null && connection.toLowerCase() !== "keep-alive") {
      const tokens = connectionTokens(connection);
      if (tokens.has("close")) this.#reusable = false;
      filtered = withoutListed(headers, tokens);
    }
    if (this.#headRequest || status === 204 || status === 304) {
      this.#framing = NO_BODY;
    } else if (transferEncoding !== null) {
      if (/(?:^|,)[\t ]*chunked[\t ]*$/i.test(transferEncoding)) {
        this.#framing = CHUNKED;
      } else {
        // RFC 9112 §6.3: a response whose final coding is not chunked lasts until the close.
        this.#framing = UNTIL_CLOSE;
        this.#reusable = false;
      }
    } else if (contentLength !== -1) {
      this.#framing = LENGTH;
      this.#remaining = contentLength;
    } else {
      this.#framing = UNTIL_CLOSE;
      this.#reusable = false;
    }
    this.#sink.onHead(status, filtered);
    if (this.#framing === NO_BODY || (this.#framing === LENGTH && this.#remaining === 0)) this.#end();
    else this.#state = this.#framing === CHUNKED ? CHUNK_LINE : IN_BODY;
  }

  #body(data: Buffer, offset: number): number {
    if (this.#framing === UNTIL_CLOSE) {
      this.#sink.onBody(offset === 0 ? data : data.subarray(offset));
      return data.length;
    }
    const available = data.length - offset;
    if (available <= this.#remaining) {
      this.#remaining -= available;
      this.#sink.onBody(offset === 0 ? data : data.subarray(offset));
      if (this.#remaining === 0) this.#end();
      return data.length;
    }
    const end = offset + this.#remaining;
    this.#remaining = 0;
    this.#sink.onBody(data.subarray(offset, end));
    this.#end();
    return end;
  }

  /** A chunk-size line, or a trailer line (TRAILERS), possibly split across reads. */
  #chunkLine(data: Buffer, offset: number): number {
    const lf = data.indexOf(10, offset);
    const piece = data.toString("latin1", offset, lf === -1 ? data.length : lf + 1);
    this.#line += piece;
    if (this.#line.length > MAX_CHUNK_LINE) throw new ResponseParseError("upstream sent an overlong chunk line");
    if (lf === -1) return data.length;
    const line = this.#line;
    this.#line = "";
    if (line.length < 2 || line.charCodeAt(line.length - 2) !== 13) {
      throw new ResponseParseError("upstream sent a chunk line without CRLF");
    }
    const content = line.slice(0, -2);
    if (this.#state === TRAILERS) {
      // Trailers are dropped (Node's server would need them declared up front); an empty line ends the body.
      if (content === "") this.#end();
      else if (content.indexOf(":") <= 0) throw new ResponseParseError("upstream sent a malformed trailer");
      return lf + 1;
    }
    const size = CHUNK_SIZE.exec(content);
    if (size === null) throw new ResponseParseError("upstream sent a malformed chunk size");
    this.#remaining = Number.parseInt(size[1] as string, 16);
    this.#state = this.#remaining === 0 ? TRAILERS : CHUNK_DATA;
    return lf + 1;
  }

  #chunkData(data: Buffer, offset: number): number {
    const take = Math.min(this.#remaining, data.length - offset);
    this.#remaining -= take;
    this.#sink.onBody(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take));
    if (this.#remaining === 0) {
      this.#state = CHUNK_DATA_END;
      this.#remaining = 2;
    }
    return offset + take;
  }

  /** The CRLF after a chunk's data (remaining counts its bytes still to come). */
  #chunkDataEnd(data: Buffer, offset: number): number {
    let at = offset;
    while (at < data.length && this.#remaining > 0) {
      const expected = this.#remaining === 2 ? 13 : 10;
      if (data[at] !== expected) throw new ResponseParseError("upstream sent chunk data of the wrong size");
      this.#remaining--;
      at++;
    }
    if (this.#remaining === 0) this.#state = CHUNK_LINE;
    return at;
  }

  #end(): void {
    this.#state = DONE;
    this.#sink.onEnd(this.#reusable);
  }
}

/** No control characters but HTAB, and CR only as part of CRLF (so no bare CR or LF either). */
function isWellFormedHead(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c !== 0x7f) || c === 9) continue;
    if (c === 13 && text.charCodeAt(i + 1) === 10) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

/** Where the token starting at `start` ends (the first non-token character, or `end`). */
function tokenEnd(text: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] !== 1) break;
    i++;
  }
  return i;
}

function parseContentLength(value: string, previous: number): number {
  if (previous === -1 && DIGITS.test(value)) return Number(value);
  // "5, 5" (a list of the same length) is allowed by RFC 9110 §8.6; anything else ambiguous is refused.
  let length = -1;
  for (const part of value.split(",")) {
    const digits = part.trim();
    if (!DIGITS.test(digits)) throw new ResponseParseError("upstream sent an invalid Content-Length");
    const n = Number(digits);
    if (length !== -1 && n !== length) throw new ResponseParseError("upstream sent conflicting Content-Length");
    length = n;
  }
  if (previous !== -1 && previous !== length) {
    throw new ResponseParseError("upstream sent conflicting Content-Length");
  }
  return length;
}

function connectionTokens(value: string): Set<string> {
  const tokens = new Set<string>();
  for (const part of value.split(",")) {
    const token = part.trim().toLowerCase();
    if (token !== "") tokens.add(token);
  }
  return tokens;
}

function withoutListed(headers: string[], listed: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!listed.has((headers[i] as string).toLowerCase())) out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}
