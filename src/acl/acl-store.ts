/**
 * ACL files on disk: read whole, written to a temporary file that is fsynced and renamed over the
 * old one, so a crash leaves either the old or the new file (as Redis's ACL SAVE).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';

export function readAclFile(path: string): string {
  return readFileSync(path, 'latin1');
}

export function writeAclFile(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, Buffer.from(text, 'latin1'));
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}
