import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import type { ReadBuffers } from "./read-buffers.js";
import { ResponseParseError, ResponseParser, type ResponseSink } from "./response-parser.js";
import { UpstreamError } from "./upstream-errors.js";

/** One request for an upstream, its head already formatted. */
export interface UpstreamRequest {
  readonly method: string;
  /** Request line and headers, ending with the empty line. */
  readonly head: string;
  /** The body to stream after the head, or null. */
  readonly body: Readable | null;
  /** Re-frame the body as chunked (its length is not known up front). */
  readonly chunked: boolean;
  /** Set when the request no longer wants a connection (e.g. its client left while it queued). */
  canceled: boolean;
}

/** The receiving side of one exchange; every method is called at most once per request except onResponseData. */
export interface UpstreamHandler {
  /**
   * Its writes complete only after the read that produced them ends (TLS,
   * HTTP/2): it gets copies, not views of the connection's read memory.
   */
  readonly keepsChunks: boolean;
  /** A connection took the request: `controller` aborts it and pauses or resumes its response. */
  onRequestStart(controller: UpstreamController): void;
  /** The final response head, end-to-end headers only. */
  onResponseStart(status: number, headers: string[]): void;
  /**
   * Return false when the client is full: if the response goes on past this
   * read, reading pauses (onPaused) until `controller.resume(this)`.
   */
  onResponseData(chunk: Buffer): boolean;
  /** Reading paused because onResponseData returned false and the response is not over. */
  onPaused(): void;
  onResponseEnd(): void;
  /** The exchange failed, before or after the response started. */
  onResponseError(error: Error): void;
  /**
   * Everything one read from the connection produced has been delivered (also
   * after the end). Returns whether the handler is done with that read's
   * chunks (written through, nothing of them queued): the connection reads
   * into the same memory again only then, else into new memory.
   */
  onReadEnd(): boolean;
}

/** Controls the exchange of `handler`; calls for an exchange that is over are ignored. */
export interface UpstreamController {
  abort(handler: UpstreamHandler, reason: Error): void;
  pause(handler: UpstreamHandler): void;
  resume(handler: UpstreamHandler): void;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The connection finished a request and may carry another. */
  release(connection: UpstreamConnection): void;
  /** The connection is gone. */
  remove(connection: UpstreamConnection): void;
  /**
   * A reused connection failed before any response byte: the server had closed
   * it as the request went out (the keep-alive race). The pool sends the request
   * again once, on a new connection.
   */
  resend(request: UpstreamRequest, handler: UpstreamHandler): void;
}

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  /** Inactivity allowed while a request is in flight (no byte either way). */
  readonly responseTimeoutMs: number;
  readonly readBuffers: ReadBuffers;
}

const CRLF = "\r\n";
const LAST_CHUNK = "0\r\n\r\n";

/**
 * One keep-alive HTTP/1.1 connection to an endpoint, one request at a time:
 * writes the head, streams the body with backpressure, parses the response
 * strictly and hands it to the request's handler.
 */
export class UpstreamConnection implements ResponseSink, UpstreamController {
  readonly #owner: ConnectionOwner;
  readonly #socket: Socket;
  readonly #parser: ResponseParser;
  readonly #responseTimeoutMs: number;
  #connected = false;
  #closed = false;
  /** Requests completed on this connection. */
  #served = 0;
  #request: UpstreamRequest | null = null;
  #handler: UpstreamHandler | null = null;
  /** Bytes of the current response seen (the keep-alive race only applies before the first). */
  #received = false;
  #bodySent = true;
  #detachBody: (() => void) | null = null;
  #ended = false;
  #reusable = false;
  /** The handler said the client is full during the current read. */
  #full = false;
  /** When the connection last went idle (Date.now), for the pool's idle limit. */
  idleSince = 0;
  readonly #readBuffers: ReadBuffers;
  /** This connection's own read memory, when it got some (see ReadBuffers). */
  #own: Buffer | null = null;
  /** The handler still holds chunks of the last read into #own: the next read goes into new memory. */
  #ownHeld = false;

  constructor(owner: ConnectionOwner, options: ConnectionOptions) {
    this.#owner = owner;
    this.#responseTimeoutMs = options.responseTimeoutMs;
    this.#readBuffers = options.readBuffers;
    this.#parser = new ResponseParser(this);
    this.#socket = connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      onread: { buffer: () => this.#nextReadBuffer(), callback: (bytes, buffer) => this.#onRead(bytes, buffer) },
    });
    this.#socket.setTimeout(options.connectTimeoutMs);
    this.#socket.on("connect", () => this.#onConnect());
    this.#socket.on("end", () => this.#onEnd());
    this.#socket.on("timeout", () => this.#onTimeout());
    this.#socket.on("error", (error: Error) => this.#fail(error));
    this.#socket.on("close", () => this.#onClose());
  }

  get busy(): boolean {
    return this.#handler !== null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends `request`; its handler hears everything that follows. */
  send(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.#request = request;
    this.#handler = handler;
    this.#received = false;
    this.#ended = false;
    this.#full = false;
    this.#bodySent = request.body === null;
    this.#parser.reset(request.method === "HEAD");
    handler.onRequestStart(this);
    if (this.#handler !== handler) return; // aborted from onRequestStart
    if (this.#connected) this.#write(request);
  }

  abort(handler: UpstreamHandler, reason: Error): void {
    if (this.#handler !== handler) return;
    this.#fail(new UpstreamError("RENNET_UPSTREAM_ABORTED", reason.message));
  }

  pause(handler: UpstreamHandler): void {
    if (this.#handler === handler) this.#socket.pause();
  }

  resume(handler: UpstreamHandler): void {
    if (this.#handler === handler) this.#socket.resume();
  }

  /** Closes the connection (idle, or the pool is closing). */
  close(): void {
    this.#socket.destroy();
  }

  #onConnect(): void {
    this.#connected = true;
    this.#socket.setTimeout(this.#responseTimeoutMs);
    if (this.#request !== null) this.#write(this.#request);
  }

  #write(request: UpstreamRequest): void {
    const socket = this.#socket;
    socket.write(request.head, "latin1");
    const body = request.body;
    if (body !== null) this.#streamBody(body, request.chunked);
  }

  #streamBody(body: Readable, chunked: boolean): void {
    const socket = this.#socket;
    const handler = this.#handler;
    const onData = (chunk: Buffer) => {
      if (this.#handler !== handler) return;
      let ok: boolean;
      if (chunked) {
        if (chunk.length === 0) return;
        socket.cork();
        socket.write(chunk.length.toString(16) + CRLF, "latin1");
        socket.write(chunk);
        ok = socket.write(CRLF, "latin1");
        socket.uncork();
      } else {
        ok = socket.write(chunk);
      }
      if (!ok) {
        body.pause();
        socket.once("drain", () => body.resume());
      }
    };
    const onEnd = () => {
      detach();
      if (this.#handler !== handler) return;
      if (chunked) socket.write(LAST_CHUNK, "latin1");
      this.#bodySent = true;
    };
    // The client went away (or its stream broke) before its body ended: the upstream request is incomplete.
    const onBroken = () => {
      detach();
      if (this.#handler === handler && !this.#bodySent) {
        this.#fail(new UpstreamError("RENNET_UPSTREAM_ABORTED", "the client's request body ended early"));
      }
    };
    const detach = () => {
      this.#detachBody = null;
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onBroken);
      body.off("close", onBroken);
    };
    this.#detachBody = detach;
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onBroken);
    body.on("close", onBroken);
    if (body.isPaused()) body.resume();
  }

  /** Called by the socket before the first read and after each one. */
  #nextReadBuffer(): Buffer {
    const buffers = this.#readBuffers;
    if (this.#own === null) this.#own = buffers.takeOwn();
    else if (this.#ownHeld) this.#own = buffers.replaceOwn();
    this.#ownHeld = false;
    return this.#own ?? buffers.shared;
  }

  /** Returns true: pausing is done with socket.pause() where needed, not by the return value. */
  #onRead(bytes: number, buffer: Uint8Array): boolean {
    const view = (buffer as Buffer).subarray(0, bytes);
    // Copied where the bytes must outlive this read: the shared memory is every other limited
    // connection's next read, and a handler that keeps chunks would pin the own memory each time.
    if (buffer === this.#readBuffers.shared || this.#handler?.keepsChunks === true) {
      this.#onData(Buffer.from(view));
    } else if (!this.#onData(view)) {
      this.#ownHeld = true;
    }
    return true;
  }

  /** Returns whether the handler is done with `data` (see UpstreamHandler.onReadEnd). */
  #onData(data: Buffer): boolean {
    const handler = this.#handler;
    if (handler === null) {
      // Bytes nobody asked for: the connection is out of step.
      this.#socket.destroy();
      return true;
    }
    this.#received = true;
    this.#parse(handler, data);
    // Pausing only now, and only when the response goes on: a response that ended within this
    // read (the common case) costs no readStop/readStart pair on the socket.
    if (this.#full) {
      this.#full = false;
      if (this.#handler === handler) {
        this.#socket.pause();
        handler.onPaused();
      }
    }
    // Whatever this read produced has been handed over: the handler may flush it as one write.
    return handler.onReadEnd();
  }

  #parse(handler: UpstreamHandler, data: Buffer): void {
    try {
      this.#parser.execute(data);
    } catch (error) {
      // A parse error, or anything a handler threw (say writeHead refusing a header): the exchange
      // fails rather than the process, which would otherwise die in this socket's 'data' listener.
      if (!(error instanceof ResponseParseError) || !this.#ended) {
        this.#fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.#reusable = false; // the response ended but more bytes followed
    }
    if (!this.#ended || this.#handler !== handler) return;
    if (!this.#bodySent) {
      // The response came before the whole body went out (say a 413): stop sending; the
      // connection cannot carry another request.
      this.#detachBody?.();
      this.#reusable = false;
    }
    this.#finish();
  }

  // ResponseSink: called from inside the parser.
  onHead(status: number, headers: string[]): void {
    this.#handler?.onResponseStart(status, headers);
  }

  onBody(chunk: Buffer): void {
    const handler = this.#handler;
    if (handler !== null && !handler.onResponseData(chunk)) this.#full = true;
  }

  onEnd(reusable: boolean): void {
    this.#ended = true;
    this.#reusable = reusable;
  }

  /** The response ended and the request body (if any) went out: hand the connection back, then tell the handler. */
  #finish(): void {
    const handler = this.#handler as UpstreamHandler;
    this.#handler = null;
    this.#request = null;
    this.#served++;
    if (this.#socket.isPaused()) this.#socket.resume();
    if (this.#reusable) {
      this.idleSince = Date.now();
      this.#owner.release(this);
    } else {
      this.#socket.destroy();
    }
    handler.onResponseEnd();
  }

  #onEnd(): void {
    if (this.#handler === null) {
      this.#socket.destroy();
      return;
    }
    try {
      this.#parser.finish();
    } catch (error) {
      this.#fail(new UpstreamError("RENNET_UPSTREAM_CLOSED", (error as Error).message));
      return;
    }
    this.#reusable = false;
    this.#bodySent = true;
    this.#finish();
  }

  #onTimeout(): void {
    if (!this.#connected) {
      this.#fail(new UpstreamError("RENNET_UPSTREAM_CONNECT_TIMEOUT", "connecting to the upstream timed out"));
    } else if (this.#handler !== null) {
      this.#fail(new UpstreamError("RENNET_UPSTREAM_RESPONSE_TIMEOUT", "the upstream did not respond in time"));
    } else {
      this.#socket.destroy(); // idle too long
    }
  }

  #onClose(): void {
    if (this.#own !== null) {
      this.#own = null;
      this.#readBuffers.releaseOwn();
    }
    if (this.#handler !== null) {
      this.#fail(new UpstreamError("RENNET_UPSTREAM_CLOSED", "the upstream closed the connection"));
    }
    if (!this.#closed) {
      this.#closed = true;
      this.#owner.remove(this);
    }
  }

  /** Ends the current exchange with `error`; the connection is not reused. */
  #fail(error: Error): void {
    const handler = this.#handler;
    const request = this.#request;
    this.#handler = null;
    this.#request = null;
    this.#detachBody?.();
    this.#socket.destroy();
    if (!this.#closed) {
      this.#closed = true;
      this.#owner.remove(this);
    }
    if (handler === null || request === null) return;
    const code = (error as { code?: string }).code;
    const raced =
      this.#served > 0 &&
      !this.#received &&
      request.body === null &&
      (code === "ECONNRESET" || code === "EPIPE" || code === "RENNET_UPSTREAM_CLOSED");
    if (raced) this.#owner.resend(request, handler);
    else handler.onResponseError(error);
  }
}
