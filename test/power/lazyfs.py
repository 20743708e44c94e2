#!/usr/bin/python3
"""
A FUSE passthrough filesystem that loses what was not synced, for power-loss tests.

    lazyfs.py BACKING MOUNTPOINT STATUS_FILE

Reads and directory operations go to BACKING. File data written through the mount is kept in
this process's memory, 4 KiB page by page per inode, and reaches BACKING only when the file is
fsync'ed or fdatasync'ed (or written through a handle opened O_SYNC / O_DSYNC, which is how
LMDB writes its meta page). Reads see the written data, as they would through a page cache.

Control: writing a line to the virtual file MOUNTPOINT/.lazyfs
    cut            power cut: every unsynced byte is dropped
    cut-torn SEED  power cut where a random half of the unsynced 512-byte sectors (chosen by SEED)
                   did reach the disk, in any order, as a drive may leave them when power fails
                   mid-writeback (a torn write)
    arm REGEX K [torn SEED]
                   cut (plain, or torn) when the K-th mutating operation whose "op path" text
                   matches REGEX arrives, before that operation takes effect (ops: write,
                   dsync-write (through an O_SYNC/O_DSYNC handle), truncate, fsync, create,
                   rename, unlink, link, mkdir, rmdir, fsyncdir; REGEX has no spaces: use \s)
After a cut every operation fails with EIO, so nothing more becomes durable; the test then kills
the process using the mount and unmounts it, and a new mount of BACKING shows the disk as it was
left. STATUS_FILE (outside the mount) is rewritten with a JSON summary after each cut and counts.

Directory entries: a create, mkdir, link, rename, unlink or rmdir is durable once the directory
it changed is fsync'ed, and no sooner (POSIX's promise; ext4 and XFS often persist more, with a
file's fsync, but need not). A power cut undoes the changes not yet covered, newest first; a
removed or replaced file waits in BACKING.trash until then so that it can come back.
"""
import errno
import json
import os
import random
import re
import shutil
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations

PAGE = 4096
SECTOR = 512
CONTROL = '/.lazyfs'
CONTROL_FH = 1 << 30
SYNC_FLAGS = os.O_SYNC | os.O_DSYNC


class Pending:
    """Unsynced state of one inode: dirty pages, the logical size, and where old data stops counting."""

    def __init__(self, fd):
        # A private handle, so the pages can still be written (torn cut) after the file is closed.
        self.fd = os.dup(fd)
        size = os.fstat(fd).st_size
        self.pages = {}
        self.size = size
        # Backing bytes at or past this offset were cut by a truncate not yet synced: they read as zeros.
        self.zero_from = size


class LazyFS(Operations):
    def __init__(self, root, status_file):
        self.root = root
        self.trash = root + '.trash'
        shutil.rmtree(self.trash, ignore_errors=True)
        os.mkdir(self.trash)
        self.trash_seq = 0
        self.dir_changes = []  # not yet durable: {'dirs': set of parent dirs to fsync, 'undo', 'forget'}
        self.status_file = status_file
        self.mutex = threading.Lock()
        self.pending = {}  # inode -> Pending
        self.handles = {}  # fh -> (fd, inode, sync_writes)
        self.next_fh = 1
        self.dead = False
        self.armed = None  # (regex, remaining, torn_seed)
        self.stats = {'writes': 0, 'fsyncs': 0, 'bytes_written': 0, 'bytes_synced': 0, 'ops': {}, 'by_file': {}}
        self.write_status()

    # --- helpers -------------------------------------------------------------------------

    def real(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def write_status(self, extra=None):
        state = dict(self.stats, dead=self.dead)
        if extra:
            state.update(extra)
        tmp = self.status_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(state, f)
        os.replace(tmp, self.status_file)

    def check(self, op, path, offset=None):
        """Every mutating operation passes here: fails after a cut, and fires an armed cut. A write
        is matched as "write <path> @<offset>", so a cut can aim at one page (LMDB's meta pages)."""
        if self.dead:
            raise FuseOSError(errno.EIO)
        self.stats['ops'][op] = self.stats['ops'].get(op, 0) + 1
        name = op + ' ' + re.sub(r'\d+', 'N', path)
        self.stats['by_file'][name] = self.stats['by_file'].get(name, 0) + 1
        if self.armed:
            regex, remaining, seed = self.armed
            what = op + ' ' + path + ('' if offset is None else ' @' + str(offset))
            if regex.search(what):
                if remaining <= 1:
                    self.cut(seed, at=what)
                    raise FuseOSError(errno.EIO)
                self.armed = (regex, remaining - 1, seed)

    def state(self, ino, fd):
        p = self.pending.get(ino)
        if p is None:
            p = Pending(fd)
            self.pending[ino] = p
        return p

    def page(self, p, fd, index):
        """The dirty copy of page `index`, made from what the file holds now when first touched."""
        buf = p.pages.get(index)
        if buf is None:
            start = index * PAGE
            buf = bytearray(PAGE)
            n = max(0, min(PAGE, p.zero_from - start))
            if n > 0:
                old = os.pread(fd, n, start)
                buf[:len(old)] = old
            p.pages[index] = buf
        return buf

    def flush_pending(self, ino, fd):
        """fsync: the inode's pending pages and size reach the backing file, which is synced."""
        p = self.pending.pop(ino, None)
        if p is not None:
            os.close(p.fd)
            if p.zero_from < os.fstat(fd).st_size:
                os.ftruncate(fd, p.zero_from)
            for index in sorted(p.pages):
                start = index * PAGE
                n = min(PAGE, p.size - start)
                if n > 0:
                    os.pwrite(fd, bytes(p.pages[index][:n]), start)
                    self.stats['bytes_synced'] += n
            if os.fstat(fd).st_size != p.size:
                os.ftruncate(fd, p.size)
        os.fsync(fd)

    def cut(self, torn_seed=None, at=None):
        """Power cut: drop unsynced data (or keep a random part of it), then refuse everything."""
        lost_pages = sum(len(p.pages) for p in self.pending.values())
        files = sorted({self.name_of(p.fd) for p in self.pending.values() if p.pages})
        kept = 0
        rng = random.Random(torn_seed)
        for p in self.pending.values():
            if torn_seed is not None:
                fd = p.fd
                # Each 512-byte sector of an unsynced page reached the disk or not, independently:
                # drives guarantee no order among unsynced writes and only sector-sized atomicity.
                # (An unsynced truncate is not applied: the file keeps its old length or grows.)
                for index in sorted(p.pages):
                    for sector in range(0, PAGE, SECTOR):
                        start = index * PAGE + sector
                        n = min(SECTOR, p.size - start)
                        if n > 0 and rng.random() < 0.5:
                            os.pwrite(fd, bytes(p.pages[index][sector:sector + n]), start)
                            kept += 1
                os.fsync(fd)
            os.close(p.fd)
        self.pending.clear()
        undone = []
        for change in reversed(self.dir_changes):
            try:
                change['undo']()
                undone.append(change['what'])
            except OSError as e:
                undone.append('%s (undo failed: %s)' % (change['what'], e))
        self.dir_changes.clear()
        self.dead = True
        self.write_status({'cut_at': at, 'unsynced_pages': lost_pages, 'torn_sectors_kept': kept, 'unsynced_files': files,
                           'dir_changes_undone': undone})

    def fd_of(self, ino):
        for fd, i, _ in self.handles.values():
            if i == ino:
                return fd
        return None

    def name_of(self, fd):
        try:
            return os.path.relpath(os.readlink('/proc/self/fd/%d' % fd), self.root)
        except OSError:
            return '?'

    def drop(self, ino):
        p = self.pending.pop(ino, None)
        if p is not None:
            os.close(p.fd)

    # --- directory entries ---------------------------------------------------------------

    def changed(self, what, paths, undo, forget=None):
        """Records a directory change, durable once every parent directory of `paths` is fsync'ed."""
        self.dir_changes.append({'what': what, 'dirs': {os.path.dirname(p) for p in paths}, 'undo': undo, 'forget': forget})

    def set_aside(self, path):
        """Moves a removed or replaced file to the trash (until its removal is durable); returns where."""
        self.trash_seq += 1
        kept = os.path.join(self.trash, str(self.trash_seq))
        os.rename(self.real(path), kept)
        return kept

    def forget_file(self, kept):
        """A removal became durable: the file set aside goes for good, with any unsynced data of it."""
        ino = os.lstat(kept).st_ino
        os.unlink(kept)
        if self.fd_of(ino) is None:
            self.drop(ino)

    def dir_synced(self, path):
        for change in list(self.dir_changes):
            change['dirs'].discard(path)
            if not change['dirs']:
                self.dir_changes.remove(change)
                if change['forget']:
                    change['forget']()

    # --- control file --------------------------------------------------------------------

    def control(self, text):
        words = text.split()
        if not words:
            return
        if words[0] == 'cut':
            self.cut()
        elif words[0] == 'cut-torn':
            self.cut(int(words[1]))
        elif words[0] == 'arm':
            seed = int(words[4]) if len(words) > 4 and words[3] == 'torn' else None
            self.armed = (re.compile(words[1]), int(words[2]), seed)
        elif words[0] == 'status':
            self.write_status()
        else:
            raise FuseOSError(errno.EINVAL)

    # --- file system operations --------------------------------------------------------------

    def getattr(self, path, fh=None):
        if path == CONTROL:
            return {'st_mode': 0o100600, 'st_nlink': 1, 'st_size': 0}
        with self.mutex:
            if self.dead and path != '/':
                raise FuseOSError(errno.EIO)
            try:
                st = os.lstat(self.real(path))
            except OSError as e:
                raise FuseOSError(e.errno)
            attrs = {k: getattr(st, k) for k in ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size',
                                                   'st_atime', 'st_mtime', 'st_ctime', 'st_ino')}
            p = self.pending.get(st.st_ino)
            if p is not None:
                attrs['st_size'] = p.size
            return attrs

    def readdir(self, path, fh):
        if self.dead:
            raise FuseOSError(errno.EIO)
        return ['.', '..'] + os.listdir(self.real(path))

    def statfs(self, path):
        st = os.statvfs(self.root)
        return {k: getattr(st, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail',
                                             'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    def access(self, path, amode):
        return 0

    def open(self, path, flags):
        if path == CONTROL:
            return CONTROL_FH
        with self.mutex:
            if self.dead:
                raise FuseOSError(errno.EIO)
            kind = 'open-sync ' if flags & SYNC_FLAGS else 'open '
            name = kind + re.sub(r'\d+', 'N', path)
            self.stats['by_file'][name] = self.stats['by_file'].get(name, 0) + 1
            # Data is read and written with pread/pwrite at the offsets the kernel gives, so the
            # backing file is opened plainly; O_SYNC/O_DSYNC and O_TRUNC are carried out here.
            return self.add_handle(os.open(self.real(path), os.O_RDWR), bool(flags & SYNC_FLAGS),
                                   truncate=bool(flags & os.O_TRUNC), path=path)

    def create(self, path, mode, fi=None):
        with self.mutex:
            self.check('create', path)
            fd = os.open(self.real(path), os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
            self.changed('create ' + path, [path], lambda: os.unlink(self.real(path)))
            return self.add_handle(fd, False)

    def add_handle(self, fd, sync_writes, truncate=False, path=''):
        if truncate:
            self.check('truncate', path)
            self.state(os.fstat(fd).st_ino, fd)
            self.do_truncate(os.fstat(fd).st_ino, fd, 0)
        fh = self.next_fh
        self.next_fh += 1
        self.handles[fh] = (fd, os.fstat(fd).st_ino, sync_writes)
        return fh

    def read(self, path, size, offset, fh):
        if fh == CONTROL_FH:
            return b''
        with self.mutex:
            if self.dead:
                raise FuseOSError(errno.EIO)
            fd, ino, _ = self.handles[fh]
            p = self.pending.get(ino)
            if p is None:
                return os.pread(fd, size, offset)
            end = min(offset + size, p.size)
            if offset >= end:
                return b''
            out = bytearray(end - offset)
            base_end = min(end, p.zero_from)
            if base_end > offset:
                old = os.pread(fd, base_end - offset, offset)
                out[:len(old)] = old
            for index in range(offset // PAGE, (end - 1) // PAGE + 1):
                buf = p.pages.get(index)
                if buf is None:
                    continue
                lo = max(offset, index * PAGE)
                hi = min(end, (index + 1) * PAGE)
                out[lo - offset:hi - offset] = buf[lo - index * PAGE:hi - index * PAGE]
            return bytes(out)

    def write(self, path, data, offset, fh):
        if fh == CONTROL_FH:
            with self.mutex:
                self.control(data.decode())
            return len(data)
        with self.mutex:
            fd, ino, sync_writes = self.handles[fh]
            self.check('dsync-write' if sync_writes else 'write', path, offset)
            p = self.state(ino, fd)
            pos = 0
            while pos < len(data):
                at = offset + pos
                index = at // PAGE
                within = at - index * PAGE
                n = min(PAGE - within, len(data) - pos)
                self.page(p, fd, index)[within:within + n] = data[pos:pos + n]
                pos += n
            p.size = max(p.size, offset + len(data))
            self.stats['writes'] += 1
            self.stats['bytes_written'] += len(data)
            if sync_writes:
                self.flush_pending(ino, fd)
            return len(data)

    def truncate(self, path, length, fh=None):
        with self.mutex:
            self.check('truncate', path)
            if fh is not None and fh in self.handles:
                fd, ino, _ = self.handles[fh]
                self.do_truncate(ino, fd, length)
            else:
                fd = os.open(self.real(path), os.O_RDWR)
                try:
                    ino = os.fstat(fd).st_ino
                    self.do_truncate(ino, fd, length)
                    # A truncate by name has no handle to sync later: apply it now.
                    self.flush_pending(ino, fd)
                finally:
                    os.close(fd)

    def do_truncate(self, ino, fd, length):
        p = self.state(ino, fd)
        if length < p.size:
            p.zero_from = min(p.zero_from, length)
            for index in [i for i in p.pages if i * PAGE >= length]:
                del p.pages[index]
            edge = p.pages.get(length // PAGE)
            if edge is not None:
                edge[length % PAGE:] = bytes(PAGE - length % PAGE)
        p.size = length

    def fsync(self, path, datasync, fh):
        if fh == CONTROL_FH:
            return 0
        with self.mutex:
            self.check('fsync', path)
            fd, ino, _ = self.handles[fh]
            self.flush_pending(ino, fd)
            self.stats['fsyncs'] += 1
            return 0

    def fsyncdir(self, path, datasync, fh):
        with self.mutex:
            self.check('fsyncdir', path)
            self.dir_synced(path)
            return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        if fh == CONTROL_FH:
            return 0
        with self.mutex:
            fd, ino, _ = self.handles.pop(fh)
            if os.fstat(fd).st_nlink == 0 and self.fd_of(ino) is None:
                self.drop(ino)
            os.close(fd)
            return 0

    def unlink(self, path):
        with self.mutex:
            self.check('unlink', path)
            kept = self.set_aside(path)
            self.changed('unlink ' + path, [path], lambda: os.rename(kept, self.real(path)), lambda: self.forget_file(kept))

    def rename(self, old, new):
        with self.mutex:
            self.check('rename', old + ' ' + new)
            replaced = self.set_aside(new) if os.path.lexists(self.real(new)) else None
            os.rename(self.real(old), self.real(new))

            def undo():
                os.rename(self.real(new), self.real(old))
                if replaced:
                    os.rename(replaced, self.real(new))
            self.changed('rename %s %s' % (old, new), [old, new], undo, (lambda: self.forget_file(replaced)) if replaced else None)

    def mkdir(self, path, mode):
        with self.mutex:
            self.check('mkdir', path)
            os.mkdir(self.real(path), mode)
            self.changed('mkdir ' + path, [path], lambda: shutil.rmtree(self.real(path)))

    def rmdir(self, path):
        with self.mutex:
            self.check('rmdir', path)
            os.rmdir(self.real(path))
            self.changed('rmdir ' + path, [path], lambda: os.mkdir(self.real(path)))

    def chmod(self, path, mode):
        os.chmod(self.real(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self.real(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self.real(path), times)

    def link(self, target, source):
        with self.mutex:
            self.check('link', target)
            os.link(self.real(source), self.real(target))
            self.changed('link ' + target, [target], lambda: os.unlink(self.real(target)))

    def symlink(self, target, source):
        os.symlink(source, self.real(target))

    def readlink(self, path):
        return os.readlink(self.real(path))


if __name__ == '__main__':
    backing, mountpoint, status = sys.argv[1:4]
    # Foreground; threads so a blocked request does not stall the rest. No kernel writeback cache:
    # every write() reaches this process at once, so it always knows what a crash would lose.
    FUSE(LazyFS(os.path.abspath(backing), os.path.abspath(status)), mountpoint, foreground=True, nothreads=False)
