/**
 * Versions: 16 bytes = 6-byte big-endian wall-clock ms ‖ 2-byte big-endian logical counter ‖
 * 8-byte node tag. The layout makes byte order equal version order, so storage and comparison
 * need no decoding; the node tag breaks ties between coordinators deterministically.
 */

export const VERSION_BYTES = 16;
export const NODE_TAG_BYTES = 8;
/** Largest wall time the 48-bit field holds (year ~10889). */
export const WALL_MAX = 2 ** 48 - 1;
export const LOGICAL_MAX = 0xffff;

/** Lower than every real version. Shared instance: never write into it. */
export const ZERO_VERSION: Buffer = Buffer.alloc(VERSION_BYTES);

/** Throws unless `v` is a 16-byte version; versions are checked where read, not trusted. */
export function assertVersion(v: Uint8Array): void {
  if (v.length !== VERSION_BYTES) {
    throw new RangeError(`version must be ${VERSION_BYTES} bytes, got ${v.length}`);
  }
}

export function assertNodeTag(tag: Uint8Array): void {
  if (tag.length !== NODE_TAG_BYTES) {
    throw new RangeError(`node tag must be ${NODE_TAG_BYTES} bytes, got ${tag.length}`);
  }
}

/** Orders versions; higher wins under last-writer-wins. */
export function compareVersions(a: Buffer, b: Buffer): -1 | 0 | 1 {
  assertVersion(a);
  assertVersion(b);
  return Buffer.compare(a, b);
}

export function versionWall(v: Buffer): number {
  assertVersion(v);
  return v.readUIntBE(0, 6);
}

export function versionLogical(v: Buffer): number {
  assertVersion(v);
  return v.readUInt16BE(6);
}

/** The coordinator's node tag as 16 lowercase hex digits, the form vector clocks use. */
export function versionNode(v: Buffer): string {
  assertVersion(v);
  return v.toString('hex', 8, 16);
}

/** Builds a version; the inverse of versionWall/versionLogical/versionNode. */
export function encodeVersion(wall: number, logical: number, nodeTag: Buffer): Buffer {
  if (!Number.isInteger(wall) || wall < 0 || wall > WALL_MAX) {
    throw new RangeError(`version wall time out of range: ${wall}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > LOGICAL_MAX) {
    throw new RangeError(`version logical counter out of range: ${logical}`);
  }
  assertNodeTag(nodeTag);
  const v = Buffer.allocUnsafe(VERSION_BYTES);
  v.writeUIntBE(wall, 0, 6);
  v.writeUInt16BE(logical, 6);
  nodeTag.copy(v, 8);
  return v;
}

/** `<wall ms>.<logical>@<node>` plus the ISO time, so log readers can line versions up with events. */
export function formatVersion(v: Buffer): string {
  const wall = versionWall(v);
  return `${wall}.${versionLogical(v)}@${versionNode(v)} (${new Date(wall).toISOString()})`;
}
