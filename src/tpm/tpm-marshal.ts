/**
 * Big-endian marshalling primitives of TPM 2.0 Part 2 (§5 "Base types", TPM2B = 2-byte size + bytes), shared by
 * the structure and command modules. Pure; a short read is a TpmError naming the field.
 */
import { TpmError } from './errors.js';

/** UINT16. */
export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}

/** UINT32 (handles, attributes, sizes). */
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

/** TPM2B: 2-byte size, then the bytes. */
export function tpm2b(b: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  out.set(b, 2);
  return out;
}

/** Sequential reader over a TPM structure; `what` names the structure in errors. */
export class TpmReader {
  private off = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.off;
  }

  /** The next `n` bytes (a view). */
  bytes(n: number, field: string): Buffer {
    if (this.off + n > this.buf.length) throw new TpmError('TOOL_FAILED', 'parse', `${this.what}: truncated at ${field}`);
    this.off += n;
    return this.buf.subarray(this.off - n, this.off);
  }

  u8(field: string): number {
    return this.bytes(1, field)[0];
  }

  u16(field: string): number {
    return this.bytes(2, field).readUInt16BE(0);
  }

  u32(field: string): number {
    return this.bytes(4, field).readUInt32BE(0);
  }

  /** A TPM2B's contents. */
  tpm2b(field: string): Buffer {
    return this.bytes(this.u16(`${field}.size`), field);
  }

  /** Fails when bytes are left over: a structure of the wrong shape must not half-parse. */
  end(): void {
    if (this.remaining !== 0) throw new TpmError('TOOL_FAILED', 'parse', `${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}
