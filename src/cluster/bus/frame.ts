import { Packr } from 'msgpackr';

/**
 * Cluster-bus framing, with no I/O: `[u32 BE length][u8 kind][u32 BE request id][u16 BE type
 * length][type utf8][msgpack payload]`, where `length` counts the bytes after itself.
 */

export const FrameKind = { request: 0, response: 1, errorResponse: 2, oneway: 3 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const LENGTH_BYTES = 4;
/** kind + request id + type length: the smallest body a frame can have (its payload aside). */
const BODY_FIXED_BYTES = 1 + 4 + 2;
export const FRAME_HEADER_BYTES = LENGTH_BYTES + BODY_FIXED_BYTES;
/** Types are short names picked in code ('gossip', 'kv.put'); the limit keeps stats keys sane. */
export const TYPE_BYTES_MAX = 255;
/** Values up to 512 MiB plus their key, version and msgpack framing must fit. */
export const DEFAULT_MAX_FRAME_BYTES = 600 * 1024 * 1024;
export const REQUEST_ID_MAX = 0xffff_ffff;
/**
 * A frame body larger than this that has not fully arrived is copied straight into its own buffer
 * as chunks arrive, so a 512 MiB value costs 512 MiB of memory on receipt rather than twice that.
 */
const ASSEMBLE_MIN_BYTES = 256 * 1024;
/** Payloads this small are copied next to their header so a batch of frames concatenates cheaply. */
const INLINE_PAYLOAD_MAX_BYTES = 16 * 1024;

export interface Frame {
  kind: FrameKind;
  id: number;
  type: string;
  payload: unknown;
  /** Bytes on the wire, length prefix included (for stats). */
  wireBytes: number;
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/**
 * Records off: every node decodes every frame on its own, with no shared structure table to keep in
 * sync. bigint round-trips as bigint (versions, counters) and numbers stay numbers; 64-bit integers
 * from any other encoder decode as bigint rather than losing precision.
 */
const PACK_OPTIONS = { useRecords: false, useBigIntExtension: true, int64AsType: 'bigint' } as const;
const packr = new Packr(PACK_OPTIONS);
/**
 * Used for frames that are views into a socket read chunk: a binary value would otherwise share the
 * chunk's memory and pin the whole chunk (up to 64 KiB) for as long as a handler keeps the value.
 */
const copyingPackr = new Packr({ ...PACK_OPTIONS, copyBuffers: true });

const typeBytesCache = new Map<string, Buffer>();
const TYPE_CACHE_MAX = 1024;

function typeBytes(type: string): Buffer {
  let bytes = typeBytesCache.get(type);
  if (bytes !== undefined) return bytes;
  bytes = Buffer.from(type, 'utf8');
  if (bytes.length > TYPE_BYTES_MAX) throw new FrameError(`bus message type too long (${bytes.length} bytes)`);
  if (typeBytesCache.size < TYPE_CACHE_MAX) typeBytesCache.set(type, bytes);
  return bytes;
}

/**
 * Encodes one frame as one buffer, or as header and payload when the payload is large enough that
 * copying it would cost more than a second write segment. Throws if the payload cannot be encoded.
 */
export function encodeFrame(kind: FrameKind, id: number, type: string, payload: unknown): Buffer[] {
  const typeBuf = typeBytes(type);
  const body = packr.pack(payload);
  const headerBytes = FRAME_HEADER_BYTES + typeBuf.length;
  const inline = body.length <= INLINE_PAYLOAD_MAX_BYTES;
  const out = Buffer.allocUnsafe(inline ? headerBytes + body.length : headerBytes);
  out.writeUInt32BE(headerBytes - LENGTH_BYTES + body.length, 0);
  out[4] = kind;
  out.writeUInt32BE(id, 5);
  out.writeUInt16BE(typeBuf.length, 9);
  typeBuf.copy(out, FRAME_HEADER_BYTES);
  if (!inline) return [out, body];
  body.copy(out, headerBytes);
  return [out];
}

export function encodedBytes(parts: readonly Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

export interface DecodeResult {
  frames: Frame[];
  /** Set when the stream is malformed; the connection must be closed and the decoder dropped. */
  error?: FrameError;
}

/**
 * Reassembles frames from a byte stream cut anywhere. Frames that lie inside one chunk are decoded
 * in place; frames spanning chunks are copied once.
 */
export class FrameDecoder {
  private chunks: (Buffer | undefined)[] = [];
  private first = 0;
  private offset = 0;
  private buffered = 0;
  /** Body length of the frame being read, or -1 while its length prefix is incomplete. */
  private bodyBytes = -1;
  private assembly: Buffer | undefined;
  private assembled = 0;
  private failed: FrameError | undefined;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered + this.assembled;
  }

  push(chunk: Buffer): DecodeResult {
    const frames: Frame[] = [];
    if (this.failed) return { frames, error: this.failed };
    try {
      let input = chunk;
      if (this.assembly !== undefined) {
        input = this.fillAssembly(input, frames);
        if (input.length === 0) return { frames };
      }
      this.append(input);
      this.drain(frames);
      return { frames };
    } catch (err) {
      this.failed = err instanceof FrameError ? err : new FrameError(String(err));
      this.chunks = [];
      this.assembly = undefined;
      return { frames, error: this.failed };
    }
  }

  private fillAssembly(input: Buffer, frames: Frame[]): Buffer {
    const target = this.assembly!;
    const n = Math.min(input.length, target.length - this.assembled);
    input.copy(target, this.assembled, 0, n);
    this.assembled += n;
    if (this.assembled < target.length) return input.subarray(input.length);
    this.assembly = undefined;
    this.assembled = 0;
    this.bodyBytes = -1;
    frames.push(parseBody(target, false));
    return input.subarray(n);
  }

  private append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.first > 1024) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  private drain(frames: Frame[]): void {
    for (;;) {
      if (this.bodyBytes < 0) {
        if (this.buffered < LENGTH_BYTES) return;
        this.bodyBytes = this.checkedLength(this.take(LENGTH_BYTES).readUInt32BE(0));
      }
      if (this.buffered < this.bodyBytes) {
        if (this.bodyBytes >= ASSEMBLE_MIN_BYTES) this.startAssembly();
        return;
      }
      const shared = this.headRemaining() >= this.bodyBytes;
      const body = this.take(this.bodyBytes);
      this.bodyBytes = -1;
      frames.push(parseBody(body, shared));
    }
  }

  private checkedLength(length: number): number {
    if (length < BODY_FIXED_BYTES) throw new FrameError(`bus frame too short (${length} bytes)`);
    if (length + LENGTH_BYTES > this.maxFrameBytes) {
      throw new FrameError(`bus frame of ${length + LENGTH_BYTES} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    return length;
  }

  private startAssembly(): void {
    const have = this.buffered;
    this.assembly = this.take(have, Buffer.allocUnsafe(this.bodyBytes));
    this.assembled = have;
  }

  private headRemaining(): number {
    const head = this.chunks[this.first];
    return head === undefined ? 0 : head.length - this.offset;
  }

  /** Removes n buffered bytes: a view when they sit in one chunk, else a copy (into `into` if given). */
  private take(n: number, into?: Buffer): Buffer {
    const head = this.chunks[this.first]!;
    if (into === undefined && head.length - this.offset >= n) {
      const view = head.subarray(this.offset, this.offset + n);
      this.advance(n);
      return view;
    }
    const out = into ?? Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.first]!;
      const step = Math.min(chunk.length - this.offset, n - filled);
      chunk.copy(out, filled, this.offset, this.offset + step);
      filled += step;
      this.advance(step);
    }
    return out;
  }

  private advance(n: number): void {
    this.buffered -= n;
    this.offset += n;
    if (this.offset < this.chunks[this.first]!.length) return;
    this.chunks[this.first] = undefined;
    this.first++;
    this.offset = 0;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    }
  }
}

function parseBody(body: Buffer, shared: boolean): Frame {
  const kind = body[0]!;
  if (kind > FrameKind.oneway) throw new FrameError(`unknown bus frame kind ${kind}`);
  const id = body.readUInt32BE(1);
  const typeLength = body.readUInt16BE(5);
  const payloadStart = BODY_FIXED_BYTES + typeLength;
  if (typeLength > TYPE_BYTES_MAX || payloadStart >= body.length) {
    throw new FrameError(`malformed bus frame (type length ${typeLength}, body ${body.length} bytes)`);
  }
  const type = body.toString('utf8', BODY_FIXED_BYTES, payloadStart);
  let payload: unknown;
  try {
    payload = (shared ? copyingPackr : packr).unpack(body.subarray(payloadStart));
  } catch (err) {
    throw new FrameError(`undecodable bus payload for '${type}': ${(err as Error).message}`);
  }
  return { kind: kind as FrameKind, id, type, payload, wireBytes: body.length + LENGTH_BYTES };
}
