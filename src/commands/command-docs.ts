import { readFileSync } from 'node:fs';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { CommandSpec } from './spec.js';
import { OWN_DOCS } from './command-docs-own.js';

/** One value of a COMMAND DOCS reply, as command-docs.json holds it. */
export type DocValue = string | number | readonly DocValue[] | { readonly [field: string]: DocValue };
/** One command's docs: Redis's fields in Redis's order, without `subcommands`. */
export type CommandDoc = { readonly [field: string]: DocValue };

/** Fields Redis sends as sets: of simple strings (flags) or of [version, change] arrays (history). */
const SET_FIELDS = new Set(['flags', 'doc_flags', 'history']);

let loaded: ReadonlyMap<string, CommandDoc> | undefined;

/**
 * The docs by full name (`client|kill`), read on the first COMMAND DOCS only: about 130 KB of JSON,
 * 0.4 MB parsed, that most nodes never need (docs/decisions.md, "Admin commands Redis has and
 * ringkv cannot honour").
 */
export function commandDocs(): ReadonlyMap<string, CommandDoc> {
  if (loaded === undefined) {
    const fromRedis = JSON.parse(readFileSync(new URL('./command-docs.json', import.meta.url), 'utf8')) as Record<string, CommandDoc>;
    loaded = new Map([...Object.entries(fromRedis), ...Object.entries(OWN_DOCS)]);
  }
  return loaded;
}

/** A docs value as Redis sends it: maps, strings as bulks, numbers as integers, `flags` and `history` as sets. */
export function writeDocValue(out: ReplyWriter, value: DocValue, field?: string): void {
  if (typeof value === 'string') return out.bulk(value);
  if (typeof value === 'number') return out.int(value);
  if (Array.isArray(value)) {
    const items = value as readonly DocValue[];
    if (field !== undefined && SET_FIELDS.has(field)) out.setHeader(items.length);
    else out.arrayHeader(items.length);
    // A set's strings are Redis's status replies (flag names); arrays hold bulk strings.
    for (const item of items) {
      if (typeof item === 'string' && field !== undefined && SET_FIELDS.has(field)) out.simple(item);
      else writeDocValue(out, item);
    }
    return;
  }
  writeFields(out, value as CommandDoc, 0);
}

/** A docs map's header (with room for `extra` more fields the caller writes) and its fields. */
function writeFields(out: ReplyWriter, doc: CommandDoc, extra: number): void {
  const fields = Object.entries(doc);
  out.mapHeader(fields.length + extra);
  for (const [k, v] of fields) {
    out.bulk(k);
    writeDocValue(out, v, k);
  }
}

/**
 * One command's docs map; a container's documented subcommands follow under `subcommands`, last,
 * as Redis places them, in the order ringkv registers them.
 */
export function writeCommandDoc(out: ReplyWriter, spec: CommandSpec, docs: ReadonlyMap<string, CommandDoc>): void {
  const subs = (spec.subcommands ?? []).filter((s) => docs.has(s.name));
  writeFields(out, docs.get(spec.name) ?? {}, subs.length > 0 ? 1 : 0);
  if (subs.length === 0) return;
  out.bulk('subcommands');
  out.mapHeader(subs.length);
  for (const s of subs) {
    out.bulk(s.name);
    writeCommandDoc(out, s, docs);
  }
}
