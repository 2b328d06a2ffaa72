//! The file operations themselves, run synchronously on whatever thread
//! calls `perform` (the caller's for sync requests, a pool worker for async
//! ones). Each returns libuv's result convention: >= 0 on success, a
//! negative UV_E* (= -errno) on failure.
//!
//! Descriptors: the functions that read or write a descriptor they are
//! given are unsafe for I/O safety's sake (a descriptor another part of the
//! process owns, say one backing a mapping, must not be written behind its
//! back); their callers pass the request's, which uv.h makes the caller's
//! business, or ones opened here.

use super::*;
use crate::error::UV_EOF;
use crate::sys::IOV_MAX;
use crate::sys::{errno, retry_eintr};
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

// uv_buf_t is laid out as struct iovec (uv.h on Unix), so a request's list
// goes to readv/writev (and the ring's) as it is.
const _: () = assert!(
    std::mem::size_of::<uv_buf_t>() == std::mem::size_of::<libc::iovec>()
        && std::mem::offset_of!(uv_buf_t, base) == std::mem::offset_of!(libc::iovec, iov_base)
        && std::mem::offset_of!(uv_buf_t, len) == std::mem::offset_of!(libc::iovec, iov_len)
);

/// Clears this thread's errno (readdir reports errors only through it).
fn clear_errno() {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { *libc::__errno_location() = 0 };
}

/// Performs the request's operation now and stores its outcome in
/// `req->result` (and `req->ptr` for stat results), as libuv's worker does.
/// EINTR is retried except for close (the descriptor is gone either way)
/// and read (libuv reports it so a reader can notice signals).
///
/// # Safety
/// `req` is a request an entry point filled for its type, under uv.h's
/// request contract (see `super`), and the calling thread has it to itself
/// for the call (the caller's thread for a sync request, a pool worker for
/// an async one).
pub(crate) unsafe fn perform(req: *mut uv_fs_t) {
    // SAFETY: `req` is filled and ours for the call (contract).
    let ty = unsafe { (*req).fs_type };
    let retry = !(ty == UV_FS_CLOSE || ty == UV_FS_READ);
    let r = loop {
        // SAFETY: as above; `ty` is its type.
        let r = unsafe { run(req, ty) };
        if !(retry && r == -(libc::EINTR as isize)) {
            break r;
        }
    };
    // SAFETY: as above.
    unsafe {
        (*req).result = r;
        if r == 0 && (ty == UV_FS_STAT || ty == UV_FS_FSTAT || ty == UV_FS_LSTAT) {
            (*req).ptr = ptr::addr_of_mut!((*req).statbuf) as *mut c_void;
        }
    }
}

/// Runs the operation once.
///
/// # Safety
/// As `perform`; `ty` is the request's type.
unsafe fn run(req: *mut uv_fs_t, ty: c_int) -> isize {
    // SAFETY: `req` is filled for `ty` and ours (contract). So for the path
    // ops `path` (and `new_path` for rename, link, symlink and copyfile) is
    // a C string the entry point checked; `file` is read only by the
    // descriptor ops, whose entry points set it; what libc writes through
    // is a local or a field of the request (mkdtemp edits the template, the
    // request's own copy). The helpers' contracts are this one, for the
    // types they serve.
    unsafe {
        let path = (*req).path;
        let new_path = (*req).new_path;
        let file = || (*req).file;
        match ty {
            UV_FS_OPEN => cvt_int(libc::open(
                path,
                (*req).flags | libc::O_CLOEXEC,
                (*req).mode as c_uint,
            )),
            UV_FS_CLOSE => close_fd(file()) as isize,
            UV_FS_READ => read(req),
            UV_FS_WRITE => write_all(req),
            UV_FS_SENDFILE => {
                let mut off = (*req).off;
                let r = sendfile(file(), (*req).flags, &mut off, (*req).bufsml[0].len);
                (*req).off = off;
                r
            }
            UV_FS_STAT => stat_path(path, false, ptr::addr_of_mut!((*req).statbuf)),
            UV_FS_LSTAT => stat_path(path, true, ptr::addr_of_mut!((*req).statbuf)),
            UV_FS_FSTAT => stat_fd(file(), ptr::addr_of_mut!((*req).statbuf)),
            UV_FS_FTRUNCATE => cvt_int(libc::ftruncate64(file(), (*req).off)),
            UV_FS_UTIME => set_times(req, path, 0),
            UV_FS_LUTIME => set_times(req, path, libc::AT_SYMLINK_NOFOLLOW),
            UV_FS_FUTIME => {
                let ts = [to_timespec((*req).atime), to_timespec((*req).mtime)];
                cvt_int(libc::futimens(file(), ts.as_ptr()))
            }
            UV_FS_ACCESS => cvt_int(libc::access(path, (*req).flags)),
            UV_FS_CHMOD => cvt_int(libc::chmod(path, (*req).mode)),
            UV_FS_FCHMOD => cvt_int(libc::fchmod(file(), (*req).mode)),
            UV_FS_FSYNC => cvt_int(libc::fsync(file())),
            UV_FS_FDATASYNC => cvt_int(libc::fdatasync(file())),
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
            UV_FS_FCHOWN => cvt_int(libc::fchown(file(), (*req).uid, (*req).gid)),
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
}

/// close(2), where EINTR and EINPROGRESS mean the close is under way: the
/// descriptor is released, so they are not errors.
///
/// # Safety
/// `fd` is a descriptor the caller may close (the request's, or one opened
/// here) and nothing uses it afterwards.
pub(crate) unsafe fn close_fd(fd: c_int) -> c_int {
    // SAFETY: the caller gives `fd` up (contract).
    if unsafe { libc::close(fd) } == -1 {
        let e = errno();
        if e != libc::EINTR && e != libc::EINPROGRESS {
            return -e;
        }
    }
    0
}

// --- read / write ----------------------------------------------------------

/// # Safety
/// `req` is a read filled by uv_fs_read, ours for the call (see `perform`):
/// its list holds `nbufs` entries, each writable for its length (uv.h).
unsafe fn read(req: *mut uv_fs_t) -> isize {
    // SAFETY: `req` is ours (contract).
    let (fd, off, bufs, nbufs) = unsafe { ((*req).file, (*req).off, (*req).bufs, (*req).nbufs) };
    let n = (nbufs as usize).min(IOV_MAX);
    let iov = bufs as *const libc::iovec;
    // SAFETY: the list holds at least n entries, laid out as iovecs (checked
    // at compile time above), each naming memory writable for its length.
    let r = unsafe {
        if n == 0 {
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
        }
    };
    // The async copy of the list is no longer needed; a sync request only
    // borrowed the caller's.
    // SAFETY: an async request's list is its own copy (copy_bufs), in
    // bufsml or on the heap, freed here once; the fields are reset so that
    // uv_fs_req_cleanup does not free it again.
    unsafe {
        if (*req).cb.is_some() && bufs != ptr::addr_of_mut!((*req).bufsml) as *mut uv_buf_t {
            crate::alloc::free(bufs as *mut c_void);
        }
        (*req).bufs = null_mut();
        (*req).nbufs = 0;
    }
    r
}

/// One write(2)-family call over at most IOV_MAX buffers.
///
/// # Safety
/// `bufs` holds `n` >= 1 entries, each readable for its length; `fd` is a
/// descriptor the caller may write (see the module's documentation).
unsafe fn write_once(fd: c_int, bufs: *const uv_buf_t, n: usize, off: off_t) -> isize {
    let iov = bufs as *const libc::iovec;
    // SAFETY: the list holds n entries, each readable for its length, laid
    // out as iovecs; `fd` is the caller's to write (contract).
    unsafe {
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
}

/// Drops the first `done` bytes from a buffer list; returns how many
/// buffers were consumed entirely (the next one is trimmed in place).
///
/// # Safety
/// `bufs` holds `nbufs` writable entries, each naming `len` bytes of one
/// allocation.
pub(crate) unsafe fn advance_bufs(bufs: *mut uv_buf_t, nbufs: usize, mut done: usize) -> usize {
    let mut i = 0;
    // SAFETY: i < nbufs whenever an entry is touched (contract). The trimmed
    // entry has len > done, so its moved base stays inside its buffer.
    unsafe {
        while i < nbufs && done > 0 && (*bufs.add(i)).len <= done {
            done -= (*bufs.add(i)).len;
            i += 1;
        }
        if done > 0 && i < nbufs {
            let b = bufs.add(i);
            (*b).base = (*b).base.add(done);
            (*b).len -= done;
        }
    }
    i
}

/// Writes the whole list, continuing after partial writes and in batches
/// of IOV_MAX, as libuv does. Returns the bytes written, or the error if
/// nothing was written.
///
/// # Safety
/// `req` is a write filled by uv_fs_write, ours for the call (see
/// `perform`): its list is its own copy (copy_bufs) of `nbufs` entries, each
/// readable for its length (uv.h).
unsafe fn write_all(req: *mut uv_fs_t) -> isize {
    // SAFETY: `req` is ours (contract).
    let (fd, first, nbufs) = unsafe { ((*req).file, (*req).bufs, (*req).nbufs) };
    let mut bufs = first;
    let mut left = nbufs as usize;
    let mut total: isize = 0;
    // SAFETY: `bufs` always starts the `left` entries not yet written in
    // full (advance_bufs counts them), so each call stays inside the list;
    // `req` is ours.
    unsafe {
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
    }
    // SAFETY: the list is the request's own copy, freed from its start once
    // (when on the heap); the fields are reset so uv_fs_req_cleanup does not
    // free it again.
    unsafe {
        if first != ptr::addr_of_mut!((*req).bufsml) as *mut uv_buf_t {
            crate::alloc::free(first as *mut c_void);
        }
        (*req).bufs = null_mut();
        (*req).nbufs = 0;
    }
    total
}

// --- sendfile / copyfile ----------------------------------------------------

static NO_COPY_FILE_RANGE: AtomicBool = AtomicBool::new(false);

fn fs_magic(fd: c_int) -> Option<u64> {
    let mut s = std::mem::MaybeUninit::<libc::statfs64>::uninit();
    // SAFETY: fstatfs64 writes a statfs64 into `s`, which has room for one;
    // it only queries the descriptor, whatever it is.
    if unsafe { libc::fstatfs64(fd, s.as_mut_ptr()) } == -1 {
        return None;
    }
    // SAFETY: fstatfs64 succeeded, so it filled `s`.
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
    // SAFETY: uname writes a utsname into `u`, which has room for one.
    if unsafe { libc::uname(u.as_mut_ptr()) } != 0 {
        return (0, 0);
    }
    // SAFETY: zeroed, then filled by uname: plain chars either way.
    let u = unsafe { u.assume_init() };
    // SAFETY: uname NUL-terminates `release` within the array (and the
    // zeroed start guarantees a NUL even if it did not).
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
///
/// # Safety
/// The caller may read `in_fd` and write `out_fd` (see the module's
/// documentation).
unsafe fn try_copy_file_range(in_fd: c_int, off: &mut off_t, out_fd: c_int, len: usize) -> isize {
    if NO_COPY_FILE_RANGE.load(Ordering::Relaxed) {
        return -(libc::ENOSYS as isize);
    }
    // SAFETY: the descriptors are the caller's to use (contract); `off` is
    // a live off_t and the output offset is null (the file's position).
    let r = unsafe {
        libc::syscall(
            libc::SYS_copy_file_range,
            in_fd,
            off as *mut off_t,
            out_fd,
            null_mut::<off_t>(),
            len,
            0 as c_uint,
        )
    } as isize;
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
///
/// # Safety
/// The caller may read `in_fd` and write `out_fd` (see the module's
/// documentation).
pub(crate) unsafe fn sendfile(out_fd: c_int, in_fd: c_int, off: &mut off_t, len: usize) -> isize {
    let start = *off;
    // SAFETY: the descriptors are the caller's to use (contract).
    let mut r = unsafe { try_copy_file_range(in_fd, off, out_fd, len) };
    if r == -(libc::ENOSYS as isize) {
        // SAFETY: as above; `off` is a live off_t.
        r = cvt(unsafe { libc::sendfile64(out_fd, in_fd, off as *mut off_t, len) });
    }
    if r >= 0 || *off > start {
        return (*off - start) as isize;
    }
    let e = -r as c_int;
    if matches!(e, libc::EINVAL | libc::EIO | libc::ENOTSOCK | libc::EXDEV) {
        // SAFETY: as above.
        return unsafe { sendfile_emul(out_fd, in_fd, off, len) };
    }
    r
}

/// The portable fallback: pread (or read, for unseekable input) and write,
/// waiting for a non-blocking output to become writable.
///
/// # Safety
/// The caller may read `in_fd` and write `out_fd` (see the module's
/// documentation).
unsafe fn sendfile_emul(out_fd: c_int, in_fd: c_int, off: &mut off_t, len: usize) -> isize {
    let mut buf = [0u8; 8192];
    let mut offset = *off;
    let mut use_pread = true;
    let mut sent: usize = 0;
    while sent < len {
        let chunk = (len - sent).min(buf.len());
        // SAFETY: `buf` has room for `chunk` bytes (at most its length);
        // `in_fd` is the caller's to read (contract).
        let nread = retry_eintr(|| unsafe {
            if use_pread {
                libc::pread64(in_fd, buf.as_mut_ptr() as *mut c_void, chunk, offset)
            } else {
                libc::read(in_fd, buf.as_mut_ptr() as *mut c_void, chunk)
            }
        });
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
            // SAFETY: written < nread <= buf.len(): the bytes from `written`
            // to `nread` are inside `buf`; `out_fd` is the caller's to write.
            let n = unsafe {
                libc::write(
                    out_fd,
                    buf.as_ptr().add(written) as *const c_void,
                    nread - written,
                )
            };
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
            // SAFETY: one live pollfd, and a count of one.
            let p = retry_eintr(|| unsafe { libc::poll(&mut pfd, 1, -1) });
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

/// open(2), retried on EINTR; the descriptor or -errno.
///
/// # Safety
/// `path` is a NUL-terminated string.
unsafe fn open_retry(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
    // SAFETY: `path` is a C string (contract).
    let fd = retry_eintr(|| unsafe { libc::open(path, flags | libc::O_CLOEXEC, mode) });
    if fd >= 0 {
        fd
    } else {
        -errno()
    }
}

/// fstat(2): only queries the descriptor, whatever it is.
fn fstat_raw(fd: c_int) -> Result<libc::stat64, c_int> {
    let mut st = std::mem::MaybeUninit::<libc::stat64>::uninit();
    // SAFETY: fstat64 writes a stat64 into `st`, which has room for one.
    if unsafe { libc::fstat64(fd, st.as_mut_ptr()) } == -1 {
        return Err(-errno());
    }
    // SAFETY: fstat64 succeeded, so it filled `st`.
    Ok(unsafe { st.assume_init() })
}

/// uv_fs_copyfile: the destination gets the source's contents, mode,
/// owner (best effort) and times; on failure a destination we created or
/// truncated is removed, as libuv does.
///
/// # Safety
/// `path` and `new_path` are NUL-terminated strings.
unsafe fn copyfile(path: *const c_char, new_path: *const c_char, flags: c_int) -> isize {
    // SAFETY: `path` is a C string (contract).
    let src = unsafe { open_retry(path, libc::O_RDONLY, 0) };
    if src < 0 {
        return src as isize;
    }
    let mut dst = -1;
    // SAFETY: `src` was opened for reading just above; `new_path` is a C
    // string (contract).
    let err = unsafe { copy_into(src, new_path, flags, &mut dst) };
    let mut result = err.min(0);
    // SAFETY: both descriptors were opened here and are closed once.
    unsafe {
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
    }
    result as isize
}

/// The body of copyfile once the source is open; `dst` receives the
/// destination descriptor as soon as it exists so the caller can close it.
///
/// # Safety
/// `src` is a descriptor the caller opened for reading; `new_path` is a
/// NUL-terminated string.
unsafe fn copy_into(src: c_int, new_path: *const c_char, flags: c_int, dst: &mut c_int) -> c_int {
    let sst = match fstat_raw(src) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut dflags = libc::O_WRONLY | libc::O_CREAT;
    if flags & UV_FS_COPYFILE_EXCL != 0 {
        dflags |= libc::O_EXCL;
    }
    // SAFETY: `new_path` is a C string (contract).
    let fd = unsafe { open_retry(new_path, dflags, sst.st_mode) };
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
        // SAFETY: `fd` is the destination opened above, ours to write.
        if unsafe { libc::ftruncate64(fd, 0) } != 0 {
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
    // SAFETY: `times` is two live timespecs; `fd` is our destination.
    if unsafe { libc::futimens(fd, times.as_ptr()) } == -1 {
        return -errno();
    }
    // Ownership is best effort: only root may give files away.
    // SAFETY: `fd` is our destination; plain values.
    let _ = unsafe { libc::fchown(fd, sst.st_uid, sst.st_gid) };
    // SAFETY: as above.
    if unsafe { libc::fchmod(fd, sst.st_mode) } == -1 {
        let e = -errno();
        // CIFS/SMB mounts refuse chmod but the copy itself is fine.
        if e != -libc::EPERM || !is_cifs_or_smb(fd) {
            return e;
        }
    }

    if flags & (UV_FS_COPYFILE_FICLONE | UV_FS_COPYFILE_FICLONE_FORCE) != 0 {
        // SAFETY: FICLONE's argument is the source descriptor, not a
        // pointer; both descriptors are ours.
        if unsafe { libc::ioctl(fd, libc::FICLONE, src) } == 0 {
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
        // SAFETY: we may read `src` (contract) and write `fd`, opened here.
        let n = unsafe { sendfile(fd, src, &mut off, chunk) };
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
///
/// # Safety
/// `path` is a NUL-terminated string; `buf` points to a uv_stat_t the
/// caller may write.
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
    // SAFETY: `path` is a C string (contract) and `sx` has room for the
    // statx the kernel writes; the descriptor is only queried.
    let rc = unsafe { libc::syscall(libc::SYS_statx, dirfd, path, flags, mask, sx.as_mut_ptr()) };
    if rc == 0 {
        // SAFETY: zeroed, then filled by statx; `buf` is writable (contract).
        unsafe { statx_to_stat(&sx.assume_init(), &mut *buf) };
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

/// stat or lstat of `path` into `buf`.
///
/// # Safety
/// `path` is a NUL-terminated string; `buf` points to a uv_stat_t the
/// caller may write.
pub(crate) unsafe fn stat_path(path: *const c_char, lstat: bool, buf: *mut uv_stat_t) -> isize {
    let flags = if lstat { libc::AT_SYMLINK_NOFOLLOW } else { 0 };
    // SAFETY: this fn's contract is try_statx's.
    if let Some(r) = unsafe { try_statx(libc::AT_FDCWD, path, flags, buf) } {
        return r;
    }
    let mut st = std::mem::MaybeUninit::<libc::stat64>::uninit();
    // SAFETY: `path` is a C string (contract); `st` has room for a stat64.
    let rc = unsafe {
        if lstat {
            libc::lstat64(path, st.as_mut_ptr())
        } else {
            libc::stat64(path, st.as_mut_ptr())
        }
    };
    if rc == -1 {
        return -(errno() as isize);
    }
    // SAFETY: the call succeeded, so it filled `st`; `buf` is writable.
    unsafe { stat64_to_stat(&st.assume_init(), &mut *buf) };
    0
}

/// fstat of `fd` into `buf` (the descriptor is only queried).
///
/// # Safety
/// `buf` points to a uv_stat_t the caller may write.
pub(crate) unsafe fn stat_fd(fd: c_int, buf: *mut uv_stat_t) -> isize {
    // SAFETY: a literal empty path; `buf` is writable (contract).
    if let Some(r) = unsafe { try_statx(fd, c"".as_ptr(), libc::AT_EMPTY_PATH, buf) } {
        return r;
    }
    match fstat_raw(fd) {
        Ok(st) => {
            // SAFETY: `buf` is writable (contract).
            stat64_to_stat(&st, unsafe { &mut *buf });
            0
        }
        Err(e) => e as isize,
    }
}

/// # Safety
/// `req` is a statfs request, ours for the call (see `perform`).
unsafe fn statfs(req: *mut uv_fs_t) -> isize {
    let mut s = std::mem::MaybeUninit::<libc::statfs64>::uninit();
    // SAFETY: `path` is the request's C string (uv_fs_statfs refuses null);
    // `s` has room for a statfs64.
    if unsafe { libc::statfs64((*req).path, s.as_mut_ptr()) } == -1 {
        return -(errno() as isize);
    }
    // SAFETY: statfs64 succeeded, so it filled `s`.
    let s = unsafe { s.assume_init() };
    // SAFETY: allocating has no precondition; the result is checked below.
    let out =
        unsafe { crate::alloc::malloc(std::mem::size_of::<uv_statfs_t>()) } as *mut uv_statfs_t;
    if out.is_null() {
        return -(libc::ENOMEM as isize);
    }
    // SAFETY: `out` is a fresh allocation of one uv_statfs_t (malloc's
    // alignment suffices); the request, ours, takes it as its result, freed
    // by uv_fs_req_cleanup.
    unsafe {
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
    }
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

/// # Safety
/// `req` is a utime or lutime request, ours for the call (see `perform`),
/// and `path` its C string.
unsafe fn set_times(req: *mut uv_fs_t, path: *const c_char, flags: c_int) -> isize {
    // SAFETY: `req` is ours (contract).
    let ts = unsafe { [to_timespec((*req).atime), to_timespec((*req).mtime)] };
    // SAFETY: `path` is a C string (contract); `ts` is two live timespecs.
    cvt_int(unsafe { libc::utimensat(libc::AT_FDCWD, path, ts.as_ptr(), flags) })
}

// --- temporary names ----------------------------------------------------------

/// # Safety
/// `req` is a mkstemp request, ours for the call (see `perform`): its path
/// is its own copy of the template (template_op), which it may edit.
unsafe fn mkstemp(req: *mut uv_fs_t) -> isize {
    // SAFETY: `req` is ours and its path the template copy, a C string that
    // may be written (contract); the borrow of its bytes ends before the
    // writes below.
    unsafe {
        let path = (*req).path as *mut c_char;
        let bad = !CStr::from_ptr(path).to_bytes().ends_with(b"XXXXXX");
        // Checked here so a bad template is EINVAL without trying anything.
        let r = if bad {
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
}

// --- links ------------------------------------------------------------------

/// # Safety
/// `req` is a readlink request, ours for the call (see `perform`).
unsafe fn readlink(req: *mut uv_fs_t) -> isize {
    let mut size = 4096usize;
    loop {
        // SAFETY: `req` is ours and its path a C string (uv_fs_readlink
        // refuses null). `buf` has size + 1 bytes: readlink writes at most
        // `size`, and the NUL goes at n < size. It is freed here unless the
        // request takes it as its result (freed by uv_fs_req_cleanup).
        unsafe {
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
        }
        size *= 2;
    }
}

/// # Safety
/// `req` is a realpath request, ours for the call (see `perform`).
unsafe fn realpath(req: *mut uv_fs_t) -> isize {
    // SAFETY: `req` is ours and its path a C string (uv_fs_realpath refuses
    // null); a null buffer asks realpath to allocate the result.
    let tmp = unsafe { libc::realpath((*req).path, null_mut()) };
    if tmp.is_null() {
        return -(errno() as isize);
    }
    // realpath's buffer comes from the C library; the user frees ours.
    // SAFETY: `tmp` is realpath's NUL-terminated result, from the C
    // library's malloc, freed once here after the copy.
    let out = unsafe {
        let out = crate::alloc::strdup(tmp);
        libc::free(tmp as *mut c_void);
        out
    };
    if out.is_null() {
        return -(libc::ENOMEM as isize);
    }
    // SAFETY: `req` is ours; the copy is its result, freed by
    // uv_fs_req_cleanup.
    unsafe { (*req).ptr = out as *mut c_void };
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
///
/// # Safety
/// `req` is a scandir request, ours for the call (see `perform`).
unsafe fn scandir(req: *mut uv_fs_t) -> isize {
    // SAFETY: `req` is ours and its path a C string (uv_fs_scandir refuses
    // null).
    let d = unsafe { libc::opendir((*req).path) };
    if d.is_null() {
        return -(errno() as isize);
    }
    let mut ents: Vec<*mut u8> = Vec::new();
    let err;
    loop {
        clear_errno();
        // SAFETY: `d` is the stream opened above, not yet closed.
        let e = unsafe { libc::readdir64(d) };
        if e.is_null() {
            err = errno();
            break;
        }
        // SAFETY: a non-null readdir64 result is a dirent64 with a
        // NUL-terminated d_name, valid until the next readdir64 on `d`; the
        // name is copied before that.
        let name = unsafe { CStr::from_ptr((*e).d_name.as_ptr()) }.to_bytes();
        if is_dot_or_dotdot(name) {
            continue;
        }
        // SAFETY: allocating has no precondition; checked for null.
        let p = unsafe { crate::alloc::malloc(NAME_OFF + name.len() + 1) } as *mut u8;
        if p.is_null() {
            err = libc::ENOMEM;
            break;
        }
        // SAFETY: `p` has NAME_OFF + len + 1 bytes: the header (the fields
        // before d_name, read from the live entry `e`), the name and its NUL.
        unsafe {
            ptr::copy_nonoverlapping(e as *const u8, p, NAME_OFF);
            ptr::copy_nonoverlapping(name.as_ptr(), p.add(NAME_OFF), name.len());
            *p.add(NAME_OFF + name.len()) = 0;
        }
        ents.push(p);
    }
    // SAFETY: `d` is open and closed once; no entry of it is used after.
    unsafe { libc::closedir(d) };
    let free_all = |ents: &[*mut u8]| {
        for &p in ents {
            // SAFETY: each entry is an allocation of ours, freed once (the
            // callers return right after).
            unsafe { crate::alloc::free(p as *mut c_void) };
        }
    };
    if err != 0 {
        free_all(&ents);
        return -(err as isize);
    }
    ents.sort_by(|&a, &b| {
        // SAFETY: each entry has a NUL-terminated name at NAME_OFF, written
        // above.
        let (a, b) = unsafe {
            (
                CStr::from_ptr(a.add(NAME_OFF) as *const c_char),
                CStr::from_ptr(b.add(NAME_OFF) as *const c_char),
            )
        };
        a.cmp(b)
    });
    // SAFETY: `req` is ours.
    unsafe { (*req).nbufs = 0 };
    if ents.is_empty() {
        // SAFETY: as above.
        unsafe { (*req).ptr = null_mut() };
        return 0;
    }
    // SAFETY: allocating has no precondition; checked for null.
    let arr = unsafe { crate::alloc::malloc(ents.len() * std::mem::size_of::<*mut u8>()) }
        as *mut *mut u8;
    if arr.is_null() {
        free_all(&ents);
        return -(libc::ENOMEM as isize);
    }
    // SAFETY: `arr` has room for ents.len() pointers; the request, ours,
    // takes the array and entries as its result (uv_fs_scandir_next and
    // uv_fs_req_cleanup free them).
    unsafe {
        ptr::copy_nonoverlapping(ents.as_ptr(), arr, ents.len());
        (*req).ptr = arr as *mut c_void;
    }
    ents.len() as isize
}

/// Hands out the next scandir entry; the previous one is freed, and the
/// array once the end is reached (UV_EOF).
///
/// # Safety
/// `req` is a finished scandir request, not in flight, left as `scandir`
/// and earlier calls of this fn left it; `ent` is writable.
pub(crate) unsafe fn scandir_next(req: *mut uv_fs_t, ent: *mut uv_dirent_t) -> c_int {
    // SAFETY: per the contract, a non-negative result is the length of the
    // array at `ptr` (null when empty or used up), entries before `nbufs - 1`
    // are freed and the rest live; `cur` only moves forward, so each entry is
    // freed once and the array once, and `ptr` is reset with it.
    unsafe {
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
    }
    0
}

/// Frees the scandir entries not yet freed by uv_fs_scandir_next (the one
/// it last handed out included) and the array.
///
/// # Safety
/// As `scandir_next`, and `ptr` is non-null.
pub(crate) unsafe fn scandir_cleanup(req: *mut uv_fs_t) {
    // SAFETY: as in scandir_next: entries from `nbufs - 1` on are live and
    // freed once here, then the array; `ptr` is reset.
    unsafe {
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
}

/// # Safety
/// `req` is an opendir request, ours for the call (see `perform`).
unsafe fn opendir(req: *mut uv_fs_t) -> isize {
    // SAFETY: allocating has no precondition; checked for null.
    let dir = unsafe { crate::alloc::malloc(std::mem::size_of::<uv_dir_t>()) } as *mut uv_dir_t;
    if dir.is_null() {
        return -(libc::ENOMEM as isize);
    }
    // SAFETY: `dir` is a fresh allocation of one uv_dir_t (all-zero is a
    // valid one); `req` is ours and its path a C string (uv_fs_opendir
    // refuses null). On success the request hands `dir` to the caller, who
    // frees it with uv_fs_closedir.
    unsafe {
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
    }
    0
}

/// Fills up to `dir->nentries` of the caller's dirents; names are ours and
/// freed by uv_fs_req_cleanup.
///
/// # Safety
/// `req` is a readdir request, ours for the call (see `perform`): `ptr` is
/// the caller's uv_dir_t from uv_fs_opendir, with an open stream and
/// `dirents` holding `nentries` writable entries (uv.h), not used elsewhere
/// meanwhile.
unsafe fn readdir(req: *mut uv_fs_t) -> isize {
    // SAFETY: per the contract.
    let (stream, dirents, cap) = unsafe {
        let dir = (*req).ptr as *mut uv_dir_t;
        ((*dir).dir, (*dir).dirents, (*dir).nentries)
    };
    let mut n = 0usize;
    let mut err = 0;
    while n < cap {
        clear_errno();
        // SAFETY: `stream` is the uv_dir_t's open stream (contract).
        let e = unsafe { libc::readdir64(stream) };
        if e.is_null() {
            err = errno();
            break;
        }
        // SAFETY: a non-null readdir64 result is a live dirent64 with a
        // NUL-terminated d_name, copied before the next readdir64.
        let (name, d_type) =
            unsafe { (CStr::from_ptr((*e).d_name.as_ptr()).to_bytes(), (*e).d_type) };
        if is_dot_or_dotdot(name) {
            continue;
        }
        // SAFETY: a copy into a fresh allocation; checked for null.
        let copy = unsafe { crate::alloc::strdup_bytes(name) };
        if copy.is_null() {
            err = libc::ENOMEM;
            break;
        }
        // SAFETY: n < cap = nentries, the length of `dirents` (contract).
        unsafe {
            let de = dirents.add(n);
            (*de).name = copy;
            (*de).type_ = dirent_type(d_type);
        }
        n += 1;
    }
    if err != 0 {
        for i in 0..n {
            // SAFETY: entries below n were filled above with names of ours,
            // each freed once and reset.
            unsafe {
                let de = dirents.add(i);
                crate::alloc::free((*de).name as *mut c_void);
                (*de).name = ptr::null();
            }
        }
        return -(err as isize);
    }
    n as isize
}

/// Frees the names the last uv_fs_readdir put in the caller's dirents.
///
/// # Safety
/// `req` is a finished readdir request, not in flight; `ptr`, if non-null,
/// is its uv_dir_t, whose first `result` dirents (when >= 0) hold names
/// `readdir` allocated and nothing freed yet.
pub(crate) unsafe fn readdir_cleanup(req: *mut uv_fs_t) {
    // SAFETY: per the contract; each name is freed once and reset, and
    // `ptr` is reset first so a second cleanup does nothing.
    unsafe {
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
}

/// # Safety
/// `req` is a closedir request, ours for the call (see `perform`): `ptr` is
/// the caller's uv_dir_t from uv_fs_opendir, which it gives up (uv.h).
unsafe fn closedir(req: *mut uv_fs_t) -> isize {
    // SAFETY: per the contract: the stream is closed once, and the uv_dir_t,
    // allocated by `opendir`, freed once; `ptr` is reset.
    unsafe {
        let dir = (*req).ptr as *mut uv_dir_t;
        if !(*dir).dir.is_null() {
            libc::closedir((*dir).dir);
            (*dir).dir = null_mut();
        }
        crate::alloc::free(dir as *mut c_void);
        (*req).ptr = null_mut();
    }
    0
}
