#!/usr/bin/env node
/**
 * Fails when the test run skipped a test that the allow-list does not name.
 *
 *   node .ci/check-skips.mjs <vitest JSON report> <allow-list>
 *
 * The allow-list has one entry per line: a regular expression matched against
 * "<file relative to the repo> > <describe …> > <test title>", then " | ", then the reason the
 * skip is acceptable (required). Blank lines and lines starting with # are ignored.
 * A test counts as skipped when its status is anything but passed or failed (skipped, todo,
 * pending, disabled): a test that did not run proves nothing, whatever the reason.
 * Exit 0: nothing unlisted was skipped; 1: an unlisted skip; 2: unreadable report or allow-list.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

function fail(code, message) {
  console.error(`[skips] ${message}`);
  process.exit(code);
}

const [reportPath, allowPath] = process.argv.slice(2);
if (!reportPath || !allowPath) fail(2, 'usage: check-skips.mjs <vitest JSON report> <allow-list>');

let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (e) {
  fail(2, `cannot read the vitest JSON report ${reportPath}: ${e.message}`);
}
if (!Array.isArray(report.testResults)) fail(2, `${reportPath} is not a vitest JSON report (no testResults)`);

let allowText;
try {
  allowText = readFileSync(allowPath, 'utf8');
} catch (e) {
  fail(2, `cannot read the allow-list ${allowPath}: ${e.message}`);
}
const allowed = [];
allowText.split('\n').forEach((raw, i) => {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return;
  const sep = line.indexOf(' | ');
  const pattern = sep < 0 ? line : line.slice(0, sep).trim();
  const reason = sep < 0 ? '' : line.slice(sep + 3).trim();
  if (reason === '') fail(2, `${allowPath}:${i + 1}: an entry needs " | <reason>" after its pattern`);
  let re;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    fail(2, `${allowPath}:${i + 1}: bad pattern: ${e.message}`);
  }
  allowed.push({ line: i + 1, re, reason, used: 0 });
});

const root = process.cwd();
const skipped = [];
for (const file of report.testResults) {
  const rel = path.relative(root, file.name ?? '') || String(file.name);
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed' || t.status === 'failed') continue;
    const name = [rel, ...(t.ancestorTitles ?? []), t.title].join(' > ');
    const entry = allowed.find((a) => a.re.test(name));
    if (entry) entry.used++;
    skipped.push({ name, status: t.status, entry });
  }
}

const unlisted = skipped.filter((s) => s.entry === undefined);
for (const s of skipped) {
  if (s.entry) console.log(`[skips] allowed (${s.status}): ${s.name} — ${s.entry.reason}`);
}
for (const a of allowed) {
  if (a.used === 0) console.log(`[skips] note: ${allowPath}:${a.line} matched no skipped test (${a.re.source})`);
}
for (const s of unlisted) console.log(`[skips] NOT ALLOWED (${s.status}): ${s.name}`);
if (unlisted.length > 0) {
  console.log(`[skips] ${unlisted.length} test(s) did not run and are not in ${allowPath}: make them run here, or list them with the reason`);
  process.exit(1);
}
console.log(`[skips] ${skipped.length} skipped, all listed in ${allowPath}`);
