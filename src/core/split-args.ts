/**
 * A line split into arguments as Redis's sdssplitargs does it (config files, command-line options,
 * redis-cli): blanks separate words; "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes;
 * 'single quotes' take only \'. A closing quote must end the word. Returns undefined for
 * unbalanced quotes, as Redis reports them.
 */
export function splitArgs(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const blank = (c: string | undefined): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\0' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && blank(line[i])) i++;
    if (i >= n) return out;
    let word = '';
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return undefined;
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          word += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
          i += 2;
          continue;
        }
        if (c === '"') {
          // The closing quote must be followed by a blank or the end.
          if (i + 1 < n && !blank(line[i + 1])) return undefined;
          inDouble = false;
          i++;
          break;
        }
        word += c;
        i++;
        continue;
      }
      if (inSingle) {
        if (c === undefined) return undefined;
        if (c === '\\' && line[i + 1] === "'") {
          word += "'";
          i += 2;
          continue;
        }
        if (c === "'") {
          if (i + 1 < n && !blank(line[i + 1])) return undefined;
          inSingle = false;
          i++;
          break;
        }
        word += c;
        i++;
        continue;
      }
      if (c === undefined || blank(c)) break;
      if (c === '"') inDouble = true;
      else if (c === "'") inSingle = true;
      else word += c;
      i++;
    }
    out.push(word);
  }
}
