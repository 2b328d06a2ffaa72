//! The file operations themselves, run synchronously on whatever thread
//! calls `perform` (the caller's for sync requests, a pool worker for async
//! ones). Each returns libuv's result convention: >= 0 on success, a
//! negative UV_E* (= -errno) on failure.

use super::*;
use crate::error::UV_EOF;
use crate::sys::errno;
use crate::sys::IOV_MAX;
use libc::off_t;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};

/// Converts a `-1 and errno` syscall result into libuv's convention.
fn cvt(r: isize) -> isize {
    if r == -1 {
        -(errno() as isize)
    } else {
        r
    }
}

fn cvt_int(r: c_int) -> isize {
    cvt(r as isize)
}

/// Performs the request's operation now and stores its outcome in
/// `req->result` (and `req->ptr` for stat results), as libuv's worker does.
/// EINTR is retried except for close (the descriptor is gone either way)
/// and read (libuv reports it so a reader can notice signals).
pub(crate) unsafe fn perform(req: *mut uv_fs_t) {
    let ty = (*req).fs_type;
    let retry = !(ty == UV_FS_CLOSE || ty == UV_FS_READ);
    let r = loop {
        let r = run(req, ty);
        if !(retry && r == -(libc::EINTR as isize)) {
            break r;
        }
    };
    (*req).result = r;
    if r == 0 && (ty == UV_FS_STAT || ty == UV_FS_FSTAT || ty == UV_FS_LSTAT) {
        (*req).ptr = ptr::addr_of_mut!((*req).statbuf) as *mut c_void;
    }
}

unsafe fn run(req: *mut uv_fs_t, ty: c_int) -> isize {
    let path = (*req).path;
    let new_path = (*req).new_path;
    let file = (*req).file;
    match ty {
        UV_FS_OPEN => cvt_int(libc::open(
            path,
            (*req).flags | libc::O_CLOEXEC,
            (*req).mode as c_uint,
        )),
        UV_FS_CLOSE => close_fd(file) as isize,
        UV_FS_READ => read(req),
        UV_FS_WRITE => write_all(req),
        UV_FS_SENDFILE => {
            let mut off = (*req).off;
            let r = sendfile(file, (*req).flags, &mut off, (*req).bufsml[0].len);
            (*req).off = off;
            r
        }
        UV_FS_STAT => stat_path(path, false, ptr::addr_of_mut!((*req).statbuf)),
        UV_FS_LSTAT => stat_path(path, true, ptr::addr_of_mut!((*req).statbuf)),
        UV_FS_FSTAT => stat_fd(file, ptr::addr_of_mut!((*req).statbuf)),
        UV_FS_FTRUNCATE => cvt_int(libc::ftruncate64(file, (*req).off)),
        UV_FS_UTIME => set_times(req, path, 0),
        UV_FS_LUTIME => set_times(req, path, libc::AT_SYMLINK_NOFOLLOW),
        UV_FS_FUTIME => {
            let ts = [to_timespec((*req).atime), to_timespec((*req).mtime)];
            cvt_int(libc::futimens(file, ts.as_ptr()))
        }
        UV_FS_ACCESS => cvt_int(libc::access(path, (*req).flags)),
        UV_FS_CHMOD => cvt_int(libc::chmod(path, (*req).mode)),
        UV_FS_FCHMOD => cvt_int(libc::fchmod(file, (*req).mode)),
        UV_FS_FSYNC => cvt_int(libc::fsync(file)),
        UV_FS_FDATASYNC => cvt_int(libc::fdatasync(file)),
        UV_FS_UNLINK => cvt_int(libc::unlink(path)),
        UV_FS_RMDIR => cvt_int(libc::rmdir(path)),
        UV_FS_MKDIR => cvt_int(libc::mkdir(path, (*req).mode)),
        UV_FS_MKDTEMP => {
            if libc::mkdtemp((*req).path as *mut c_char).is_null() {
                -(errno() as isize)
            } else {
                0
            }
        }
        UV_FS_MKSTEMP => mkstemp(req),
        UV_FS_RENAME => cvt_int(libc::rename(path, new_path)),
        UV_FS_SCANDIR => scandir(req),
        UV_FS_LINK => cvt_int(libc::link(path, new_path)),
        // Flags only matter on Windows.
        UV_FS_SYMLINK => cvt_int(libc::symlink(path, new_path)),
        UV_FS_READLINK => readlink(req),
        UV_FS_CHOWN => cvt_int(libc::chown(path, (*req).uid, (*req).gid)),
        UV_FS_FCHOWN => cvt_int(libc::fchown(file, (*req).uid, (*req).gid)),
        UV_FS_LCHOWN => cvt_int(libc::lchown(path, (*req).uid, (*req).gid)),
        UV_FS_REALPATH => realpath(req),
        UV_FS_COPYFILE => copyfile(path, new_path, (*req).flags),
        UV_FS_OPENDIR => opendir(req),
        UV_FS_READDIR => readdir(req),
        UV_FS_CLOSEDIR => closedir(req),
        UV_FS_STATFS => statfs(req),
        _ => -(libc::EINVAL as isize),
    }
}

/// close(2), where EINTR and EINPROGRESS mean the close is under way: the
/// descriptor is released, so they are not errors.
pub(crate) unsafe fn close_fd(fd: c_int) -> c_int {
    if libc::close(fd) == -1 {
        let e = errno();
        if e != libc::EINTR && e != libc::EINPROGRESS {
            return -e;
        }
    }
    0
}

// --- read / write ----------------------------------------------------------

unsafe fn read(req: *mut uv_fs_t) -> isize {
    let fd = (*req).file;
    let off = (*req).off;
    let bufs = (*req).bufs;
    let n = ((*req).nbufs as usize).min(IOV_MAX);
    let iov = bufs as *const libc::iovec;
    let r = if n == 0 {
        0
    } else if off < 0 {
        if n == 1 {
            cvt(libc::read(fd, (*bufs).base as *mut c_void, (*bufs).len))
        } else {
            cvt(libc::readv(fd, iov, n as c_int))
        }
    } else if n == 1 {
        cvt(libc::pread64(
            fd,
            (*bufs).base as *mut c_void,
            (*bufs).len,
            off,
        ))
    } else {
        cvt(libc::preadv64(fd, iov, n as c_int, off))
    };
    // The async copy of the list is no longer needed; a sync request only
    // borrowed the caller's.
    if (*req).cb.is_some() && bufs != ptr::addr_of_mut!((*req).bufsml) as *mut uv_buf_t {
        crate::alloc::free(bufs as *mut c_void);
    }
    (*req).bufs = null_mut();
    (*req).nbufs = 0;
    r
}

/// One write(2)-family call over at most IOV_MAX buffers.
unsafe fn write_once(fd: c_int, bufs: *const uv_buf_t, n: usize, off: off_t) -> isize {
    let iov = bufs as *const libc::iovec;
    if off < 0 {
        if n == 1 {
            cvt(libc::write(fd, (*bufs).base as *const c_void, (*bufs).len))
        } else {
            cvt(libc::writev(fd, iov, n as c_int))
        }
    } else if n == 1 {
        cvt(libc::pwrite64(
            fd,
            (*bufs).base as *const c_void,
            (*bufs).len,
            off,
        ))
    } else {
        cvt(libc::pwritev64(fd, iov, n as c_int, off))
    }
}

/// Drops the first `done` bytes from a buffer list; returns how many
/// buffers were consumed entirely (the next one is trimmed in place).
pub(crate) unsafe fn advance_bufs(bufs: *mut uv_buf_t, nbufs: usize, mut done: usize) -> usize {
    let mut i = 0;
    while i < nbufs && done > 0 && (*bufs.add(i)).len <= done {
        done -= (*bufs.add(i)).len;
        i += 1;
    }
    if done > 0 && i < nbufs {
        let b = bufs.add(i);
        (*b).base = (*b).base.add(done);
        (*b).len -= done;
    }
    i
}

/// Writes the whole list, continuing after partial writes and in batches
/// of IOV_MAX, as libuv does. Returns the bytes written, or the error if
/// nothing was written.
unsafe fn write_all(req: *mut uv_fs_t) -> isize {
    let fd = (*req).file;
    let first = (*req).bufs;
    let mut bufs = first;
    let mut left = (*req).nbufs as usize;
    let mut total: isize = 0;
    while left > 0 {
        let n = left.min(IOV_MAX);
        let r = loop {
            let r = write_once(fd, bufs, n, (*req).off);
            if r != -(libc::EINTR as isize) {
                break r;
            }
        };
        if r <= 0 {
            if total == 0 {
                total = r;
            }
            break;
        }
        if (*req).off >= 0 {
            (*req).off += r as off_t;
        }
        let consumed = advance_bufs(bufs, left, r as usize);
        bufs = bufs.add(consumed);
        left -= consumed;
        total += r;
    }
    if first != ptr::addr_of_mut!((*req).bufsml) as *mut uv_buf_t {
        crate::alloc::free(first as *mut c_void);
    }
    (*req).bufs = null_mut();
    (*req).nbufs = 0;
    total
}

// --- sendfile / copyfile ----------------------------------------------------

static NO_COPY_FILE_RANGE: AtomicBool = AtomicBool::new(false);

fn fs_magic(fd: c_int) -> Option<u64> {
    let mut s = std::mem::MaybeUninit::<libc::statfs64>::uninit();
    if unsafe { libc::fstatfs64(fd, s.as_mut_ptr()) } == -1 {
        return None;
    }
    Some(unsafe { s.assume_init() }.f_type as u64)
}

fn is_cifs_or_smb(fd: c_int) -> bool {
    matches!(
        fs_magic(fd).map(|m| m as u32),
        Some(0x0000_517B | 0xFE53_4D42 | 0xFF53_4D42)
    )
}

/// Kernel version as (major, minor), from uname.
fn kernel_version() -> (u32, u32) {
    let mut u = std::mem::MaybeUninit::<libc::utsname>::zeroed();
    if unsafe { libc::uname(u.as_mut_ptr()) } != 0 {
        return (0, 0);
    }
    let u = unsafe { u.assume_init() };
    let rel = unsafe { CStr::from_ptr(u.release.as_ptr()) }.to_bytes();
    let mut it = rel
        .split(|&c| c == b'.' || c == b'-')
        .map(|p| std::str::from_utf8(p).ok().and_then(|s| s.parse().ok()));
    let major = it.next().flatten().unwrap_or(0);
    let minor = it.next().flatten().unwrap_or(0);
    (major, minor)
}

/// CephFS before 4.20 refuses copy_file_range with EACCES.
fn is_buggy_cephfs(fd: c_int) -> bool {
    fs_magic(fd) == Some(0x00C3_6400) && kernel_version() < (4, 20)
}

/// copy_file_range, or -ENOSYS when the caller should use another way.
unsafe fn try_copy_file_range(in_fd: c_int, off: &mut off_t, out_fd: c_int, len: usize) -> isize {
    if NO_COPY_FILE_RANGE.load(Ordering::Relaxed) {
        return -(libc::ENOSYS as isize);
    }
    let r = libc::syscall(
        libc::SYS_copy_file_range,
        in_fd,
        off as *mut off_t,
        out_fd,
        null_mut::<off_t>(),
        len,
        0 as c_uint,
    ) as isize;
    if r != -1 {
        return r;
    }
    let e = errno();
    let fallback = match e {
        libc::EACCES => is_buggy_cephfs(in_fd),
        libc::ENOSYS => {
            NO_COPY_FILE_RANGE.store(true, Ordering::Relaxed);
            true
        }
        libc::EPERM => is_cifs_or_smb(out_fd),
        libc::ENOTSUP | libc::EXDEV => true,
        _ => false,
    };
    if fallback {
        -(libc::ENOSYS as isize)
    } else {
        -(e as isize)
    }
}

/// Copies up to `len` bytes from `in_fd` at `*off` to `out_fd` (at its
/// position): copy_file_range, then sendfile, then read/write. `*off` is
/// advanced by what was sent.
pub(crate) unsafe fn sendfile(out_fd: c_int, in_fd: c_int, off: &mut off_t, len: usize) -> isize {
    let start = *off;
    let mut r = try_copy_file_range(in_fd, off, out_fd, len);
    if r == -(libc::ENOSYS as isize) {
        r = cvt(libc::sendfile64(out_fd, in_fd, off as *mut off_t, len));
    }
    if r >= 0 || *off > start {
        return (*off - start) as isize;
    }
    let e = -r as c_int;
    if matches!(e, libc::EINVAL | libc::EIO | libc::ENOTSOCK | libc::EXDEV) {
        return sendfile_emul(out_fd, in_fd, off, len);
    }
    r
}

/// The portable fallback: pread (or read, for unseekable input) and write,
/// waiting for a non-blocking output to become writable.
unsafe fn sendfile_emul(out_fd: c_int, in_fd: c_int, off: &mut off_t, len: usize) -> isize {
    let mut buf = [0u8; 8192];
    let mut offset = *off;
    let mut use_pread = true;
    let mut sent: usize = 0;
    while sent < len {
        let chunk = (len - sent).min(buf.len());
        let nread = loop {
            let r = if use_pread {
                libc::pread64(in_fd, buf.as_mut_ptr() as *mut c_void, chunk, offset)
            } else {
                libc::read(in_fd, buf.as_mut_ptr() as *mut c_void, chunk)
            };
            if r != -1 || errno() != libc::EINTR {
                break r;
            }
        };
        if nread == 0 {
            break;
        }
        if nread == -1 {
            let e = errno();
            if use_pread && sent == 0 && (e == libc::EIO || e == libc::ESPIPE) {
                use_pread = false;
                continue;
            }
            if sent == 0 {
                return -(e as isize);
            }
            break;
        }
        let nread = nread as usize;
        let mut written = 0usize;
        while written < nread {
            let n = libc::write(
                out_fd,
                buf.as_ptr().add(written) as *const c_void,
                nread - written,
            );
            if n != -1 {
                written += n as usize;
                continue;
            }
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            if e != libc::EAGAIN && e != libc::EWOULDBLOCK {
                return -(e as isize);
            }
            let mut pfd = libc::pollfd {
                fd: out_fd,
                events: libc::POLLOUT,
                revents: 0,
            };
            let p = loop {
                let p = libc::poll(&mut pfd, 1, -1);
                if p != -1 || errno() != libc::EINTR {
                    break p;
                }
            };
            if p == -1 || (pfd.revents & !libc::POLLOUT) != 0 {
                return -(libc::EIO as isize);
            }
        }
        offset += nread as off_t;
        sent += nread;
    }
    *off = offset;
    sent as isize
}

unsafe fn open_retry(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    loop {
        let fd = libc::open(path, flags | libc::O_CLOEXEC, mode);
        if fd >= 0 {
            return fd;
        }
        let e = errno();
        if e != libc::EINTR {
            return -e;
        }
    }
}

unsafe fn fstat_raw(fd: c_int) -> Result<libc::stat64, c_int> {
    let mut st = std::mem::MaybeUninit::<libc::stat64>::uninit();
    if libc::fstat64(fd, st.as_mut_ptr()) == -1 {
        return Err(-errno());
    }
    Ok(st.assume_init())
}

/// uv_fs_copyfile: the destination gets the source's contents, mode,
/// owner (best effort) and times; on failure a destination we created or
/// truncated is removed, as libuv does.
unsafe fn copyfile(path: *const c_char, new_path: *const c_char, flags: c_int) -> isize {
    let src = open_retry(path, libc::O_RDONLY, 0);
    if src < 0 {
        return src as isize;
    }
    let mut dst = -1;
    let err = copy_into(src, new_path, flags, &mut dst);
    let mut result = err.min(0);
    let e = close_fd(src);
    if e != 0 && result == 0 {
        result = e;
    }
    if dst >= 0 {
        let e = close_fd(dst);
        if e != 0 && result == 0 {
            result = e;
        }
        if result != 0 {
            libc::unlink(new_path);
        }
    }
    result as isize
}

/// The body of copyfile once the source is open; `dst` receives the
/// destination descriptor as soon as it exists so the caller can close it.
unsafe fn copy_into(src: c_int, new_path: *const c_char, flags: c_int, dst: &mut c_int) -> c_int {
    let sst = match fstat_raw(src) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut dflags = libc::O_WRONLY | libc::O_CREAT;
    if flags & UV_FS_COPYFILE_EXCL != 0 {
        dflags |= libc::O_EXCL;
    }
    let fd = open_retry(new_path, dflags, sst.st_mode);
    if fd < 0 {
        return fd;
    }
    *dst = fd;

    if flags & UV_FS_COPYFILE_EXCL == 0 {
        let dstst = match fstat_raw(fd) {
            Ok(s) => s,
            Err(e) => return e,
        };
        // Copying a file onto itself: nothing to do (truncating would
        // destroy it).
        if sst.st_dev == dstst.st_dev && sst.st_ino == dstst.st_ino {
            return 0;
        }
        if libc::ftruncate64(fd, 0) != 0 {
            let e = -errno();
            // An append-only or similar file we cannot truncate is fine
            // only if it is already empty.
            if e != -libc::EACCES || dstst.st_size > 0 {
                return e;
            }
        }
    }

    let times = [
        libc::timespec {
            tv_sec: sst.st_atime,
            tv_nsec: sst.st_atime_nsec,
        },
        libc::timespec {
            tv_sec: sst.st_mtime,
            tv_nsec: sst.st_mtime_nsec,
        },
    ];
    if libc::futimens(fd, times.as_ptr()) == -1 {
        return -errno();
    }
    // Ownership is best effort: only root may give files away.
    let _ = libc::fchown(fd, sst.st_uid, sst.st_gid);
    if libc::fchmod(fd, sst.st_mode) == -1 {
        let e = -errno();
        // CIFS/SMB mounts refuse chmod but the copy itself is fine.
        if e != -libc::EPERM || !is_cifs_or_smb(fd) {
            return e;
        }
    }

    if flags & (UV_FS_COPYFILE_FICLONE | UV_FS_COPYFILE_FICLONE_FORCE) != 0 {
        if libc::ioctl(fd, libc::FICLONE, src) == 0 {
            return 0;
        }
        if flags & UV_FS_COPYFILE_FICLONE_FORCE != 0 {
            return -errno();
        }
    }

    let mut left = sst.st_size;
    let mut off: off_t = 0;
    while left > 0 {
        let chunk = left.min(isize::MAX as off_t) as usize;
        let n = sendfile(fd, src, &mut off, chunk);
        if n == -(libc::EINTR as isize) {
            continue;
        }
        if n < 0 {
            return n as c_int;
        }
        // The source shrank under us: what is there has been copied.
        if n == 0 {
            break;
        }
        left -= n as off_t;
    }
    0
}

// --- stat -------------------------------------------------------------------

static NO_STATX: AtomicBool = AtomicBool::new(false);

fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

/// Fills `buf` from a statx result (birth time included when the file
/// system has one).
pub(crate) fn statx_to_stat(s: &libc::statx, buf: &mut uv_stat_t) {
    let ts = |t: &libc::statx_timestamp| uv_timespec_t {
        tv_sec: t.tv_sec as libc::c_long,
        tv_nsec: t.tv_nsec as libc::c_long,
    };
    *buf = uv_stat_t {
        st_dev: makedev(s.stx_dev_major, s.stx_dev_minor),
        st_mode: s.stx_mode as u64,
        st_nlink: s.stx_nlink as u64,
        st_uid: s.stx_uid as u64,
        st_gid: s.stx_gid as u64,
        st_rdev: makedev(s.stx_rdev_major, s.stx_rdev_minor),
        st_ino: s.stx_ino,
        st_size: s.stx_size,
        st_blksize: s.stx_blksize as u64,
        st_blocks: s.stx_blocks,
        st_flags: 0,
        st_gen: 0,
        st_atim: ts(&s.stx_atime),
        st_mtim: ts(&s.stx_mtime),
        st_ctim: ts(&s.stx_ctime),
        st_birthtim: ts(&s.stx_btime),
    };
}

/// Fills `buf` from stat(2); Linux's struct stat has no birth time, so
/// libuv reports the change time there.
// Field widths differ between x86_64 and aarch64, hence casts that are
// no-ops on one of them.
#[allow(clippy::unnecessary_cast)]
fn stat64_to_stat(s: &libc::stat64, buf: &mut uv_stat_t) {
    let ctim = uv_timespec_t {
        tv_sec: s.st_ctime,
        tv_nsec: s.st_ctime_nsec,
    };
    *buf = uv_stat_t {
        st_dev: s.st_dev,
        st_mode: s.st_mode as u64,
        st_nlink: s.st_nlink as u64,
        st_uid: s.st_uid as u64,
        st_gid: s.st_gid as u64,
        st_rdev: s.st_rdev,
        st_ino: s.st_ino,
        st_size: s.st_size as u64,
        st_blksize: s.st_blksize as u64,
        st_blocks: s.st_blocks as u64,
        st_flags: 0,
        st_gen: 0,
        st_atim: uv_timespec_t {
            tv_sec: s.st_atime,
            tv_nsec: s.st_atime_nsec,
        },
        st_mtim: uv_timespec_t {
            tv_sec: s.st_mtime,
            tv_nsec: s.st_mtime_nsec,
        },
        st_ctim: ctim,
        st_birthtim: ctim,
    };
}

/// statx, or None when the kernel (or a seccomp filter) does not allow it,
/// in which case it is not tried again.
unsafe fn try_statx(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    buf: *mut uv_stat_t,
) -> Option<isize> {
    if NO_STATX.load(Ordering::Relaxed) {
        return None;
    }
    let mut sx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // STATX_BASIC_STATS | STATX_BTIME
    let mask: c_uint = 0xFFF;
    let rc = libc::syscall(libc::SYS_statx, dirfd, path, flags, mask, sx.as_mut_ptr());
    if rc == 0 {
        statx_to_stat(&sx.assume_init(), &mut *buf);
        return Some(0);
    }
    let e = if rc == -1 { errno() } else { 0 };
    if rc == -1
        && !matches!(
            e,
            libc::EINVAL | libc::EPERM | libc::ENOSYS | libc::EOPNOTSUPP
        )
    {
        return Some(-(e as isize));
    }
    NO_STATX.store(true, Ordering::Relaxed);
    None
}

pub(crate) unsafe fn stat_path(path: *const c_char, lstat: bool, buf: *mut uv_stat_t) -> isize {
    let flags = if lstat { libc::AT_SYMLINK_NOFOLLOW } else { 0 };
    if let Some(r) = try_statx(libc::AT_FDCWD, path, flags, buf) {
        return r;
    }
    let mut st = std::mem::MaybeUninit::<libc::stat64>::uninit();
    let rc = if lstat {
        libc::lstat64(path, st.as_mut_ptr())
    } else {
        libc::stat64(path, st.as_mut_ptr())
    };
    if rc == -1 {
        return -(errno() as isize);
    }
    stat64_to_stat(&st.assume_init(), &mut *buf);
    0
}

pub(crate) unsafe fn stat_fd(fd: c_int, buf: *mut uv_stat_t) -> isize {
    if let Some(r) = try_statx(fd, c"".as_ptr(), libc::AT_EMPTY_PATH, buf) {
        return r;
    }
    match fstat_raw(fd) {
        Ok(st) => {
            stat64_to_stat(&st, &mut *buf);
            0
        }
        Err(e) => e as isize,
    }
}

unsafe fn statfs(req: *mut uv_fs_t) -> isize {
    let mut s = std::mem::MaybeUninit::<libc::statfs64>::uninit();
    if libc::statfs64((*req).path, s.as_mut_ptr()) == -1 {
        return -(errno() as isize);
    }
    let s = s.assume_init();
    let out = crate::alloc::malloc(std::mem::size_of::<uv_statfs_t>()) as *mut uv_statfs_t;
    if out.is_null() {
        return -(libc::ENOMEM as isize);
    }
    out.write(uv_statfs_t {
        f_type: s.f_type as u64,
        f_bsize: s.f_bsize as u64,
        f_blocks: s.f_blocks,
        f_bfree: s.f_bfree,
        f_bavail: s.f_bavail,
        f_files: s.f_files,
        f_ffree: s.f_ffree,
        f_spare: [0; 4],
    });
    (*req).ptr = out as *mut c_void;
    0
}

// --- times ------------------------------------------------------------------

/// A libuv time (seconds as a double) as a timespec. Microsecond
/// resolution, as libuv keeps it for consistency across platforms;
/// infinity means "now" and NaN "leave unchanged" (UV_FS_UTIME_NOW /
/// UV_FS_UTIME_OMIT).
pub(crate) fn to_timespec(t: f64) -> libc::timespec {
    if t.is_nan() {
        return libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        };
    }
    if t.is_infinite() {
        return libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        };
    }
    let mut sec = t as libc::time_t;
    let mut nsec = ((t - sec as f64) * 1e9) as libc::c_long;
    nsec -= nsec % 1000;
    if nsec < 0 {
        nsec += 1_000_000_000;
        sec -= 1;
    }
    libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    }
}

unsafe fn set_times(req: *mut uv_fs_t, path: *const c_char, flags: c_int) -> isize {
    let ts = [to_timespec((*req).atime), to_timespec((*req).mtime)];
    cvt_int(libc::utimensat(libc::AT_FDCWD, path, ts.as_ptr(), flags))
}

// --- temporary names ----------------------------------------------------------

unsafe fn mkstemp(req: *mut uv_fs_t) -> isize {
    let path = (*req).path as *mut c_char;
    let bytes = CStr::from_ptr(path).to_bytes();
    // Checked here so a bad template is EINVAL without trying anything.
    let r = if !bytes.ends_with(b"XXXXXX") {
        -(libc::EINVAL as isize)
    } else {
        cvt_int(libc::mkostemp(path, libc::O_CLOEXEC))
    };
    if r < 0 {
        // libuv clears the template on failure.
        *path = 0;
    }
    r
}

// --- links ------------------------------------------------------------------

unsafe fn readlink(req: *mut uv_fs_t) -> isize {
    let mut size = 4096usize;
    loop {
        let buf = crate::alloc::malloc(size + 1) as *mut c_char;
        if buf.is_null() {
            return -(libc::ENOMEM as isize);
        }
        let n = libc::readlink((*req).path, buf, size);
        if n == -1 {
            let e = errno();
            crate::alloc::free(buf as *mut c_void);
            return -(e as isize);
        }
        let n = n as usize;
        if n < size {
            *buf.add(n) = 0;
            (*req).ptr = buf as *mut c_void;
            return 0;
        }
        // Possibly truncated: try again with room to spare.
        crate::alloc::free(buf as *mut c_void);
        size *= 2;
    }
}

unsafe fn realpath(req: *mut uv_fs_t) -> isize {
    let tmp = libc::realpath((*req).path, null_mut());
    if tmp.is_null() {
        return -(errno() as isize);
    }
    // realpath's buffer comes from the C library; the user frees ours.
    let out = crate::alloc::strdup(tmp);
    libc::free(tmp as *mut c_void);
    if out.is_null() {
        return -(libc::ENOMEM as isize);
    }
    (*req).ptr = out as *mut c_void;
    0
}

// --- directories --------------------------------------------------------------

fn dirent_type(d_type: u8) -> c_int {
    match d_type {
        libc::DT_DIR => UV_DIRENT_DIR,
        libc::DT_REG => UV_DIRENT_FILE,
        libc::DT_LNK => UV_DIRENT_LINK,
        libc::DT_FIFO => UV_DIRENT_FIFO,
        libc::DT_SOCK => UV_DIRENT_SOCKET,
        libc::DT_CHR => UV_DIRENT_CHAR,
        libc::DT_BLK => UV_DIRENT_BLOCK,
        _ => UV_DIRENT_UNKNOWN,
    }
}

fn is_dot_or_dotdot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

const NAME_OFF: usize = std::mem::offset_of!(libc::dirent64, d_name);
const TYPE_OFF: usize = std::mem::offset_of!(libc::dirent64, d_type);

/// scandir: `req->ptr` becomes an array of `struct dirent*` (as with
/// libuv's scandir(3)), sorted by name, without "." and "..", each entry
/// allocated only as long as its name. `req->nbufs` is the cursor of
/// uv_fs_scandir_next.
unsafe fn scandir(req: *mut uv_fs_t) -> isize {
    let d = libc::opendir((*req).path);
    if d.is_null() {
        return -(errno() as isize);
    }
    let mut ents: Vec<*mut u8> = Vec::new();
    let err;
    loop {
        *libc::__errno_location() = 0;
        let e = libc::readdir64(d);
        if e.is_null() {
            err = errno();
            break;
        }
        let name = CStr::from_ptr((*e).d_name.as_ptr()).to_bytes();
        if is_dot_or_dotdot(name) {
            continue;
        }
        let p = crate::alloc::malloc(NAME_OFF + name.len() + 1) as *mut u8;
        if p.is_null() {
            err = libc::ENOMEM;
            break;
        }
        ptr::copy_nonoverlapping(e as *const u8, p, NAME_OFF);
        ptr::copy_nonoverlapping(name.as_ptr(), p.add(NAME_OFF), name.len());
        *p.add(NAME_OFF + name.len()) = 0;
        ents.push(p);
    }
    libc::closedir(d);
    let free_all = |ents: &[*mut u8]| {
        for &p in ents {
            crate::alloc::free(p as *mut c_void);
        }
    };
    if err != 0 {
        free_all(&ents);
        return -(err as isize);
    }
    ents.sort_by(|&a, &b| {
        let a = CStr::from_ptr(a.add(NAME_OFF) as *const c_char);
        let b = CStr::from_ptr(b.add(NAME_OFF) as *const c_char);
        a.cmp(b)
    });
    (*req).nbufs = 0;
    if ents.is_empty() {
        (*req).ptr = null_mut();
        return 0;
    }
    let arr = crate::alloc::malloc(ents.len() * std::mem::size_of::<*mut u8>()) as *mut *mut u8;
    if arr.is_null() {
        free_all(&ents);
        return -(libc::ENOMEM as isize);
    }
    ptr::copy_nonoverlapping(ents.as_ptr(), arr, ents.len());
    (*req).ptr = arr as *mut c_void;
    ents.len() as isize
}

/// Hands out the next scandir entry; the previous one is freed, and the
/// array once the end is reached (UV_EOF).
pub(crate) unsafe fn scandir_next(req: *mut uv_fs_t, ent: *mut uv_dirent_t) -> c_int {
    if (*req).result < 0 {
        return (*req).result as c_int;
    }
    let arr = (*req).ptr as *mut *mut u8;
    if arr.is_null() {
        return UV_EOF;
    }
    let cur = (*req).nbufs as usize;
    if cur > 0 {
        crate::alloc::free(*arr.add(cur - 1) as *mut c_void);
    }
    if cur >= (*req).result as usize {
        crate::alloc::free(arr as *mut c_void);
        (*req).ptr = null_mut();
        return UV_EOF;
    }
    let e = *arr.add(cur);
    (*req).nbufs += 1;
    (*ent).name = e.add(NAME_OFF) as *const c_char;
    (*ent).type_ = dirent_type(*e.add(TYPE_OFF));
    0
}

/// Frees the scandir entries not yet freed by uv_fs_scandir_next (the one
/// it last handed out included) and the array.
pub(crate) unsafe fn scandir_cleanup(req: *mut uv_fs_t) {
    let arr = (*req).ptr as *mut *mut u8;
    if (*req).result >= 0 {
        let n = (*req).result as usize;
        let from = ((*req).nbufs as usize).saturating_sub(1);
        for i in from..n {
            crate::alloc::free(*arr.add(i) as *mut c_void);
        }
    }
    crate::alloc::free(arr as *mut c_void);
    (*req).ptr = null_mut();
}

unsafe fn opendir(req: *mut uv_fs_t) -> isize {
    let dir = crate::alloc::malloc(std::mem::size_of::<uv_dir_t>()) as *mut uv_dir_t;
    if dir.is_null() {
        return -(libc::ENOMEM as isize);
    }
    ptr::write_bytes(dir, 0, 1);
    let d = libc::opendir((*req).path);
    if d.is_null() {
        let e = errno();
        crate::alloc::free(dir as *mut c_void);
        (*req).ptr = null_mut();
        return -(e as isize);
    }
    (*dir).dir = d;
    (*req).ptr = dir as *mut c_void;
    0
}

/// Fills up to `dir->nentries` of the caller's dirents; names are ours and
/// freed by uv_fs_req_cleanup.
unsafe fn readdir(req: *mut uv_fs_t) -> isize {
    let dir = (*req).ptr as *mut uv_dir_t;
    let dirents = (*dir).dirents;
    let cap = (*dir).nentries;
    let mut n = 0usize;
    let mut err = 0;
    while n < cap {
        *libc::__errno_location() = 0;
        let e = libc::readdir64((*dir).dir);
        if e.is_null() {
            err = errno();
            break;
        }
        let name = CStr::from_ptr((*e).d_name.as_ptr()).to_bytes();
        if is_dot_or_dotdot(name) {
            continue;
        }
        let copy = crate::alloc::strdup_bytes(name);
        if copy.is_null() {
            err = libc::ENOMEM;
            break;
        }
        let de = dirents.add(n);
        (*de).name = copy;
        (*de).type_ = dirent_type((*e).d_type);
        n += 1;
    }
    if err != 0 {
        for i in 0..n {
            let de = dirents.add(i);
            crate::alloc::free((*de).name as *mut c_void);
            (*de).name = ptr::null();
        }
        return -(err as isize);
    }
    n as isize
}

pub(crate) unsafe fn readdir_cleanup(req: *mut uv_fs_t) {
    let dir = (*req).ptr as *mut uv_dir_t;
    (*req).ptr = null_mut();
    if dir.is_null() || (*dir).dirents.is_null() {
        return;
    }
    let n = (*req).result.max(0) as usize;
    for i in 0..n {
        let de = (*dir).dirents.add(i);
        crate::alloc::free((*de).name as *mut c_void);
        (*de).name = ptr::null();
    }
}

unsafe fn closedir(req: *mut uv_fs_t) -> isize {
    let dir = (*req).ptr as *mut uv_dir_t;
    if !(*dir).dir.is_null() {
        libc::closedir((*dir).dir);
        (*dir).dir = null_mut();
    }
    crate::alloc::free(dir as *mut c_void);
    (*req).ptr = null_mut();
    0
}
