#!/usr/bin/env node
/**
 * Writes src/commands/command-docs.json: Redis 7.0's COMMAND DOCS for every command and subcommand
 * ringkv registers, read from a running redis-server 7.0 over RESP3; and src/commands/command-info.json:
 * the tips and key specs of COMMAND INFO for the same names (command-info-redis.ts).
 *
 *   npm run build && node scripts/gen-command-docs.mjs <redis-port>
 *
 * The command table comes from dist/ (hence the build). Entries are keyed by full name
 * (`client|kill`) and hold Redis's fields in Redis's order; the `subcommands` map is left out and
 * rebuilt at reply time from ringkv's registered subcommands (command-docs.ts). Map values become
 * JSON objects, bulk strings strings, integers numbers, arrays arrays. The only sets Redis 7.0 sends
 * here are `flags` and `doc_flags` (of simple strings) and `history` (of [version, change] arrays),
 * which become arrays. The script stops when the reply holds any other shape, since
 * command-docs.ts could not reproduce it.
 */
import net from 'node:net';
import { writeFileSync } from 'node:fs';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node scripts/gen-command-docs.mjs <redis-port>');
  process.exit(2);
}
const OUT = new URL('../src/commands/command-docs.json', import.meta.url);
const INFO_OUT = new URL('../src/commands/command-info.json', import.meta.url);
/** Keys whose value Redis sends as a set, and the type of the set's members. */
const SET_KEYS = new Map([['flags', 'simple'], ['doc_flags', 'simple'], ['history', 'array']]);
/** COMMAND entry fields kept in command-info.json: flags (a set of simple strings), tips (a set of bulks) and key specs. */
const ENTRY_FLAGS = 2;
const ENTRY_TIPS = 7;
const ENTRY_KEY_SPECS = 8;
const ENTRY_SUBCOMMANDS = 9;

class Incomplete extends Error {}

/** One RESP3 value at `pos`: { v, next }, v typed as { t, v }. */
function decode(buf, pos) {
  if (pos >= buf.length) throw new Incomplete();
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) throw new Incomplete();
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('latin1', pos + 1, eol);
  let next = eol + 2;
  const many = (count) => {
    const items = [];
    for (let i = 0; i < count; i++) {
      const r = decode(buf, next);
      items.push(r.v);
      next = r.next;
    }
    return items;
  };
  switch (type) {
    case '+': return { v: { t: 'simple', v: line }, next };
    case '-': throw new Error(`redis-server answered an error: ${line}`);
    case ':': return { v: { t: 'int', v: Number(line) }, next };
    case '$': {
      const len = Number(line);
      if (next + len + 2 > buf.length) throw new Incomplete();
      return { v: { t: 'bulk', v: buf.toString('utf8', next, next + len) }, next: next + len + 2 };
    }
    case '*': return { v: { t: 'array', v: many(Number(line)) }, next };
    case '~': return { v: { t: 'set', v: many(Number(line)) }, next };
    case '%': {
      const items = many(Number(line) * 2);
      const pairs = [];
      for (let i = 0; i < items.length; i += 2) pairs.push([items[i], items[i + 1]]);
      return { v: { t: 'map', v: pairs }, next };
    }
    default: throw new Error(`unexpected RESP3 type ${JSON.stringify(type)}`);
  }
}

function request(argvs) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const replies = [];
    sock.on('connect', () => {
      for (const argv of argvs) sock.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      try {
        while (replies.length < argvs.length) {
          const { v, next } = decode(buf, 0);
          replies.push(v);
          buf = buf.subarray(next);
        }
      } catch (err) {
        if (!(err instanceof Incomplete)) reject(err);
        return;
      }
      sock.destroy();
      resolve(replies);
    });
    sock.on('error', reject);
  });
}

/** The JSON form of a docs value; `key` is the map key it stands under. */
function toJson(value, key) {
  switch (value.t) {
    case 'bulk': return value.v;
    case 'int': return value.v;
    case 'map': {
      const out = {};
      for (const [k, v] of value.v) {
        if (k.t !== 'bulk') throw new Error(`map key of type ${k.t}`);
        out[k.v] = toJson(v, k.v);
      }
      return out;
    }
    case 'array':
      if (SET_KEYS.has(key)) throw new Error(`an array under ${key}`);
      return value.v.map((v) => toJson(v, undefined));
    case 'set':
      if (!SET_KEYS.has(key) || value.v.some((v) => v.t !== SET_KEYS.get(key))) throw new Error(`a set under ${key}`);
      return value.v.map((v) => (v.t === 'simple' ? v.v : toJson(v, undefined)));
    default: throw new Error(`a ${value.t} under ${key}`);
  }
}

const [hello, docs, info] = await request([['HELLO', '3'], ['COMMAND', 'DOCS'], ['COMMAND']]);
const version = hello.v.find(([k]) => k.v === 'version')?.[1].v;
if (!/^7\.0\./.test(version ?? '')) throw new Error(`the docs come from Redis 7.0; this server is ${version}`);

const { buildCommandTable } = await import('../dist/src/commands/table.js');
const table = buildCommandTable();
const registered = new Set();
for (const spec of table.values()) {
  registered.add(spec.name);
  for (const sub of spec.subcommands ?? []) registered.add(sub.name);
}

const entries = {};
const collect = (name, doc) => {
  const { subcommands, ...fields } = doc;
  if (registered.has(name)) entries[name] = fields;
  for (const [sub, subDoc] of Object.entries(subcommands ?? {})) collect(sub, subDoc);
};
for (const [name, doc] of Object.entries(toJson(docs))) collect(name, doc);

const names = Object.keys(entries).sort();
const missing = [...registered].filter((n) => !(n in entries)).sort();
writeFileSync(OUT, `{\n${names.map((n) => `${JSON.stringify(n)}: ${JSON.stringify(entries[n])}`).join(',\n')}\n}\n`);

// COMMAND: per registered name, its flags, tips and key specs as Redis 7.0 gives them.
const infos = {};
const walk = (entry) => {
  const name = entry.v[0].v;
  const flags = entry.v[ENTRY_FLAGS].v.map((f) => f.v);
  const tips = entry.v[ENTRY_TIPS].v.map((t) => t.v);
  const keySpecs = entry.v[ENTRY_KEY_SPECS].v.map((k) => toJson(k));
  if (registered.has(name)) infos[name] = { flags, tips, key_specs: keySpecs };
  for (const sub of entry.v[ENTRY_SUBCOMMANDS].v) walk(sub);
};
for (const entry of info.v) walk(entry);
const infoNames = Object.keys(infos).sort();
writeFileSync(INFO_OUT, `{\n${infoNames.map((n) => `${JSON.stringify(n)}: ${JSON.stringify(infos[n])}`).join(',\n')}\n}\n`);
console.log(`${names.length} entries from Redis ${version}; registered without Redis docs: ${missing.join(' ')}`);
