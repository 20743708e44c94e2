/**
 * The ACL file format (`aclfile`, ACL SAVE / ACL LOAD): one `user <name> <rules…>` line per user,
 * blank lines allowed, nothing else. Parsing only splits and validates lines; applying the rules is
 * acl-registry's.
 */
import { hasSpaces, mergeSelectorArgs } from './acl-rules.js';

export interface UserLine {
  name: string;
  rules: Buffer[];
  line: number;
}

/** Lines of an ACL file, or Redis's error texts for the lines that are not user lines. */
export function parseAclFile(text: string, filename: string): { users: UserLine[]; errors: string } {
  const users: UserLine[] = [];
  let errors = '';
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    const lineNo = i + 1;
    if (line === '') return;
    const argv = line.split(' ').filter((w) => w.length > 0);
    if (argv.length === 0) return;
    if (argv[0] !== 'user' || argv.length < 2) {
      errors += `${filename}:${lineNo} should start with user keyword followed by the username. `;
      return;
    }
    const name = argv[1]!;
    if (hasSpaces(Buffer.from(name, 'latin1'))) {
      errors += `'${filename}:${lineNo}: username '${name}' contains invalid characters. `;
      return;
    }
    const merged = mergeSelectorArgs(argv.slice(2).map((a) => Buffer.from(a, 'latin1')));
    if (typeof merged === 'number') {
      errors += `${filename}:${lineNo}: Unmatched parenthesis in selector definition.`;
      return;
    }
    users.push({ name, rules: merged, line: lineNo });
  });
  return { users, errors };
}

/** An ACL file's text for `lines` (name and description, already in name order). */
export function formatAclFile(lines: ReadonlyArray<{ name: string; description: string }>): string {
  return lines.map((l) => `user ${l.name} ${l.description}\n`).join('');
}

/**
 * `user` lines of a config file (`user alice on >pw ~* +@all`): the words after `user`, split as
 * redis.conf splits them (spaces; a selector may span several words).
 */
export function splitUserDirective(value: string): { name: string; rules: Buffer[] } | string {
  const words = value.split(/[ \t]+/).filter((w) => w.length > 0);
  if (words.length === 0) return 'a user line needs a username';
  const merged = mergeSelectorArgs(words.slice(1).map((w) => Buffer.from(w, 'latin1')));
  if (typeof merged === 'number') return `Unmatched parenthesis in selector definition of user '${words[0]}'`;
  return { name: words[0]!, rules: merged };
}
