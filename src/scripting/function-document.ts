/**
 * The cluster's function libraries as one document: each library name maps to its newest entry,
 * the library's code or a deletion, stamped with the wall-clock ms of the change and the node that
 * made it. Nodes merge documents entry by entry (last writer wins, ties broken by node id), so two
 * nodes loading different libraries at once both keep both, and a node that restarts or joins
 * catches up from one push. Pure.
 */

export interface FunctionEntry {
  ms: number;
  node: string;
  /** The library's code, base64; absent once deleted (FUNCTION DELETE / FLUSH / RESTORE FLUSH). */
  code?: string;
}

export interface FunctionDocument {
  libs: Record<string, FunctionEntry>;
}

/** Bounds what a peer may make this node parse and compile. */
const CODE_BYTES_MAX = 64 * 1024 * 1024;
const LIBRARIES_MAX = 100_000;

export function emptyDocument(): FunctionDocument {
  return { libs: {} };
}

export function isFunctionDocument(v: unknown): v is FunctionDocument {
  if (typeof v !== 'object' || v === null) return false;
  const libs = (v as { libs?: unknown }).libs;
  if (typeof libs !== 'object' || libs === null || Array.isArray(libs)) return false;
  const entries = Object.entries(libs as Record<string, unknown>);
  if (entries.length > LIBRARIES_MAX) return false;
  let bytes = 0;
  for (const [name, e] of entries) {
    if (name.length > 1024 || typeof e !== 'object' || e === null) return false;
    const entry = e as Record<string, unknown>;
    if (typeof entry.ms !== 'number' || !Number.isSafeInteger(entry.ms) || entry.ms < 0) return false;
    if (typeof entry.node !== 'string' || entry.node.length > 64) return false;
    if (entry.code !== undefined && typeof entry.code !== 'string') return false;
    bytes += typeof entry.code === 'string' ? entry.code.length : 0;
  }
  return bytes <= CODE_BYTES_MAX;
}

/** Whether entry `a` supersedes `b` (undefined: none yet). */
export function newer(a: FunctionEntry, b: FunctionEntry | undefined): boolean {
  if (b === undefined) return true;
  if (a.ms !== b.ms) return a.ms > b.ms;
  return a.node > b.node;
}

/** Folds `incoming` into `doc`; returns the names whose entry changed. */
export function mergeDocument(doc: FunctionDocument, incoming: FunctionDocument): string[] {
  const changed: string[] = [];
  for (const [name, entry] of Object.entries(incoming.libs)) {
    if (newer(entry, doc.libs[name])) {
      doc.libs[name] = { ms: entry.ms, node: entry.node, ...(entry.code === undefined ? {} : { code: entry.code }) };
      changed.push(name);
    }
  }
  return changed;
}

/**
 * Records what a local command changed: `before` and `after` are the installed libraries' code by
 * name around it. A library that appeared or changed gets an entry with its code, one that went a
 * deletion; each stamped later than any entry the document holds, even if this node's clock is behind.
 */
export function recordLocalChange(doc: FunctionDocument, before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>, now: number, node: string): boolean {
  let latest = 0;
  for (const e of Object.values(doc.libs)) latest = Math.max(latest, e.ms);
  const ms = Math.max(now, latest + 1);
  let changed = false;
  for (const [name, code] of after) {
    if (before.get(name) !== code) {
      doc.libs[name] = { ms, node, code };
      changed = true;
    }
  }
  for (const name of before.keys()) {
    if (!after.has(name)) {
      doc.libs[name] = { ms, node };
      changed = true;
    }
  }
  return changed;
}

/** The live libraries, newest first: the order a node installs them in, so a clash of function names resolves the same everywhere. */
export function liveLibraries(doc: FunctionDocument): Array<{ name: string; entry: FunctionEntry & { code: string } }> {
  const live: Array<{ name: string; entry: FunctionEntry & { code: string } }> = [];
  for (const [name, entry] of Object.entries(doc.libs)) if (entry.code !== undefined) live.push({ name, entry: entry as FunctionEntry & { code: string } });
  return live.sort((a, b) => (newer(a.entry, b.entry) ? -1 : 1));
}

/** Each library's version without its code: what the periodic round sends. */
export type FunctionSummary = Record<string, [number, string]>;

export function summarize(doc: FunctionDocument): FunctionSummary {
  const sum: FunctionSummary = {};
  for (const [name, e] of Object.entries(doc.libs)) sum[name] = [e.ms, e.node];
  return sum;
}

export function isFunctionSummary(v: unknown): v is FunctionSummary {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.values(v as Record<string, unknown>);
  return entries.length <= LIBRARIES_MAX && entries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'number' && typeof e[1] === 'string');
}

/** Whether `doc` has an entry the summarised peer lacks or holds older: then it should get the document. */
export function holdsNewer(doc: FunctionDocument, peer: FunctionSummary): boolean {
  for (const [name, e] of Object.entries(doc.libs)) {
    const theirs = peer[name];
    if (theirs === undefined || newer(e, { ms: theirs[0], node: theirs[1] })) return true;
  }
  return false;
}
