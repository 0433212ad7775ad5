/**
 * The memory upstream connections read into. Node's default allocates a new
 * buffer per read: external memory that, at one core's rate of 16 KiB
 * responses under --heap-growing-percent=25 (bin/rennet.mjs), drove a full GC
 * every ~0.6 s. So up to `ownLimit` connections each get memory of their own,
 * reused from read to read; the others (a wide spread of endpoints, each with
 * an idle keep-alive connection, must not pin 32 KiB apiece) read into one
 * shared buffer whose bytes are copied out at once, which costs what Node's
 * own reads cost.
 */
export class ReadBuffers {
  readonly size: number;
  /** Read into by connections without memory of their own; nothing may keep a view of it. */
  readonly shared: Buffer;
  #ownLeft: number;

  constructor(size: number, ownLimit: number) {
    this.size = size;
    this.shared = Buffer.allocUnsafeSlow(size);
    this.#ownLeft = ownLimit;
  }

  /** Memory of the caller's own, or null when `ownLimit` connections have some. */
  takeOwn(): Buffer | null {
    if (this.#ownLeft <= 0) return null;
    this.#ownLeft--;
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** New memory in place of own memory that a client write still holds (the old goes with the write). */
  replaceOwn(): Buffer {
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** A connection that had own memory closed. */
  releaseOwn(): void {
    this.#ownLeft++;
  }
}
