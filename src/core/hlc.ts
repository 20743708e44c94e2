import {
  LOGICAL_MAX,
  WALL_MAX,
  assertNodeTag,
  assertVersion,
  encodeVersion,
} from './version.js';

/** An HLC reading without the node tag; what gets persisted as the high-water mark. */
export interface HlcTimestamp {
  wall: number;
  logical: number;
}

export interface HybridClockOptions {
  /**
   * Remote timestamps further than this ahead of our physical clock are refused: adopting them
   * would drag every later local version into the future with the faulty peer.
   */
  maxDriftMs?: number;
}

export const DEFAULT_MAX_DRIFT_MS = 60_000;

/**
 * Hybrid logical clock. Versions it issues are strictly increasing, also when physical time
 * steps back, and exceed every remote version it has observed. Physical time is passed in by the
 * caller so the clock stays deterministic under simulation.
 *
 * Across restarts, the caller persists a high-water mark at or above `last()` and hands it back to
 * the constructor, so a restarted node never reissues a version it gave out before the crash.
 */
export class HybridClock {
  private readonly nodeTag: Buffer;
  private readonly maxDriftMs: number;
  private wall: number;
  private logical: number;

  constructor(nodeTag: Buffer, highWater?: HlcTimestamp, options: HybridClockOptions = {}) {
    assertNodeTag(nodeTag);
    this.nodeTag = Buffer.from(nodeTag); // a private copy: the caller's buffer may be reused
    this.maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    if (!(this.maxDriftMs >= 0)) throw new RangeError(`maxDriftMs must be >= 0: ${this.maxDriftMs}`);
    this.wall = highWater?.wall ?? 0;
    this.logical = highWater?.logical ?? 0;
    assertTimestamp(this.wall, this.logical);
  }

  /** A new version, strictly greater than every version issued or observed before. */
  now(physicalMs: number): Buffer {
    assertPhysical(physicalMs);
    const prevWall = this.wall;
    const prevLogical = this.logical;
    if (physicalMs > this.wall) {
      this.wall = physicalMs;
      this.logical = 0;
    } else {
      this.tick();
    }
    // Monotonicity is the whole point of this class: checked on every reading, not assumed.
    if (this.wall < prevWall || (this.wall === prevWall && this.logical <= prevLogical)) {
      throw new Error(`HLC went backwards: ${prevWall}.${prevLogical} -> ${this.wall}.${this.logical}`);
    }
    return encodeVersion(this.wall, this.logical, this.nodeTag);
  }

  /**
   * Merges a version seen from another node so later local versions order after it. Returns
   * false, adopting nothing, when the remote wall time is more than `maxDriftMs` ahead of
   * `physicalMs` (a peer with a broken clock must not poison ours).
   */
  observe(version: Buffer, physicalMs: number): boolean {
    assertVersion(version);
    assertPhysical(physicalMs);
    const remoteWall = version.readUIntBE(0, 6);
    const remoteLogical = version.readUInt16BE(6);
    if (remoteWall > physicalMs + this.maxDriftMs) return false;
    // Only the timestamp is adopted; the next now() moves past it, with our own node tag.
    if (remoteWall > this.wall || (remoteWall === this.wall && remoteLogical > this.logical)) {
      this.wall = remoteWall;
      this.logical = remoteLogical;
    }
    return true;
  }

  /** The latest timestamp issued or adopted; persist it (or something above) as the high-water mark. */
  last(): HlcTimestamp {
    return { wall: this.wall, logical: this.logical };
  }

  /** Advances within the same wall ms; the 16-bit counter spilling over borrows the next ms. */
  private tick(): void {
    if (this.logical < LOGICAL_MAX) {
      this.logical++;
      return;
    }
    if (this.wall >= WALL_MAX) throw new RangeError('HLC wall time exhausted');
    this.wall++;
    this.logical = 0;
  }
}

function assertPhysical(physicalMs: number): void {
  if (!Number.isInteger(physicalMs) || physicalMs < 0 || physicalMs > WALL_MAX) {
    throw new RangeError(`physical time must be an integer ms in [0, 2^48): ${physicalMs}`);
  }
}

function assertTimestamp(wall: number, logical: number): void {
  if (!Number.isInteger(wall) || wall < 0 || wall > WALL_MAX) {
    throw new RangeError(`HLC wall out of range: ${wall}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > LOGICAL_MAX) {
    throw new RangeError(`HLC logical out of range: ${logical}`);
  }
}
