//! uv_fs_*: file system requests, synchronous (no callback) or on the pool.
//!
//! The request plumbing is split so that more than one engine can complete
//! the same `uv_fs_t`:
//! - the `uv_fs_*` entry points only fill the request (`begin`, `own_path`,
//!   ...) and hand it to `dispatch`;
//! - `ops::perform` executes a filled request synchronously and stores its
//!   result (the sync path and the pool worker both use it);
//! - `finish` completes an asynchronous request on the loop thread.
//!
//! An io_uring engine can therefore claim a request in `dispatch`, and when
//! its completion arrives store the result and call `finish`.

use crate::abi::*;
use crate::pool::WorkKind;
use libc::{c_char, c_int, c_uint, c_void, size_t, ssize_t};
use std::ptr::{self, null_mut};

mod cached_stat;
pub(crate) mod ops;
#[cfg(test)]
mod tests;
pub(crate) mod uring;

// uv_fs_type
pub const UV_FS_OPEN: c_int = 1;
pub const UV_FS_CLOSE: c_int = 2;
pub const UV_FS_READ: c_int = 3;
pub const UV_FS_WRITE: c_int = 4;
pub const UV_FS_SENDFILE: c_int = 5;
pub const UV_FS_STAT: c_int = 6;
pub const UV_FS_LSTAT: c_int = 7;
pub const UV_FS_FSTAT: c_int = 8;
pub const UV_FS_FTRUNCATE: c_int = 9;
pub const UV_FS_UTIME: c_int = 10;
pub const UV_FS_FUTIME: c_int = 11;
pub const UV_FS_ACCESS: c_int = 12;
pub const UV_FS_CHMOD: c_int = 13;
pub const UV_FS_FCHMOD: c_int = 14;
pub const UV_FS_FSYNC: c_int = 15;
pub const UV_FS_FDATASYNC: c_int = 16;
pub const UV_FS_UNLINK: c_int = 17;
pub const UV_FS_RMDIR: c_int = 18;
pub const UV_FS_MKDIR: c_int = 19;
pub const UV_FS_MKDTEMP: c_int = 20;
pub const UV_FS_RENAME: c_int = 21;
pub const UV_FS_SCANDIR: c_int = 22;
pub const UV_FS_LINK: c_int = 23;
pub const UV_FS_SYMLINK: c_int = 24;
pub const UV_FS_READLINK: c_int = 25;
pub const UV_FS_CHOWN: c_int = 26;
pub const UV_FS_FCHOWN: c_int = 27;
pub const UV_FS_REALPATH: c_int = 28;
pub const UV_FS_COPYFILE: c_int = 29;
pub const UV_FS_LCHOWN: c_int = 30;
pub const UV_FS_OPENDIR: c_int = 31;
pub const UV_FS_READDIR: c_int = 32;
pub const UV_FS_CLOSEDIR: c_int = 33;
pub const UV_FS_STATFS: c_int = 34;
pub const UV_FS_MKSTEMP: c_int = 35;
pub const UV_FS_LUTIME: c_int = 36;

pub const UV_FS_COPYFILE_EXCL: c_int = 1;
pub const UV_FS_COPYFILE_FICLONE: c_int = 2;
pub const UV_FS_COPYFILE_FICLONE_FORCE: c_int = 4;

// uv_dirent_type_t
pub const UV_DIRENT_UNKNOWN: c_int = 0;
pub const UV_DIRENT_FILE: c_int = 1;
pub const UV_DIRENT_DIR: c_int = 2;
pub const UV_DIRENT_LINK: c_int = 3;
pub const UV_DIRENT_FIFO: c_int = 4;
pub const UV_DIRENT_SOCKET: c_int = 5;
pub const UV_DIRENT_CHAR: c_int = 6;
pub const UV_DIRENT_BLOCK: c_int = 7;

const EINVAL: c_int = -libc::EINVAL;
const ENOMEM: c_int = -libc::ENOMEM;

/// Resets the public and private fields every request starts from (libuv's
/// INIT). Returns false when there is no request to fill.
///
/// # Safety
/// `req` is null or points to a uv_fs_t the caller may write and that is not
/// in flight (the request contract below).
unsafe fn begin(loop_: *mut uv_loop_t, req: *mut uv_fs_t, fs_type: c_int, cb: uv_fs_cb) -> bool {
    if req.is_null() {
        return false;
    }
    // Only async requests are counted on the loop (in `dispatch`).
    // SAFETY: `req` is non-null and writable (contract); only plain fields
    // are stored, nothing is read from memory that may be uninitialised.
    unsafe {
        (*req).r.type_ = UV_FS;
        (*req).fs_type = fs_type;
        (*req).result = 0;
        (*req).ptr = null_mut();
        (*req).loop_ = loop_;
        (*req).path = ptr::null();
        (*req).new_path = ptr::null();
        (*req).bufs = null_mut();
        (*req).cb = cb;
    }
    true
}

/// Stores `path` in the request: borrowed for sync calls (the caller's
/// memory outlives the call), copied for async ones.
///
/// # Safety
/// `req` is a request `begin` has filled; `path` is null or a NUL-terminated
/// string.
unsafe fn own_path(req: *mut uv_fs_t, path: *const c_char) -> c_int {
    if path.is_null() {
        return EINVAL;
    }
    // SAFETY: `req` is writable and `path` a C string (contract). A sync
    // request borrows the string only for the call; an async one owns the
    // copy, freed by uv_fs_req_cleanup.
    unsafe {
        if (*req).cb.is_none() {
            (*req).path = path;
            return 0;
        }
        let p = crate::alloc::strdup(path);
        if p.is_null() {
            return ENOMEM;
        }
        (*req).path = p;
    }
    0
}

/// Stores two paths; async copies share one allocation, freed through
/// `req->path` by uv_fs_req_cleanup.
///
/// # Safety
/// As `own_path`, for both strings.
unsafe fn own_paths(req: *mut uv_fs_t, path: *const c_char, new_path: *const c_char) -> c_int {
    if path.is_null() || new_path.is_null() {
        return EINVAL;
    }
    // SAFETY: `req` is writable and both paths are C strings (contract):
    // strlen stays inside them, and `p` was allocated with room for both
    // strings and their NULs, so each copy and `p.add(a)` stay inside it.
    unsafe {
        if (*req).cb.is_none() {
            (*req).path = path;
            (*req).new_path = new_path;
            return 0;
        }
        let a = libc::strlen(path) + 1;
        let b = libc::strlen(new_path) + 1;
        let p = crate::alloc::malloc(a + b) as *mut c_char;
        if p.is_null() {
            return ENOMEM;
        }
        ptr::copy_nonoverlapping(path, p, a);
        ptr::copy_nonoverlapping(new_path, p.add(a), b);
        (*req).path = p;
        (*req).new_path = p.add(a);
    }
    0
}

/// Copies the caller's buffer list into the request (bufsml when it fits).
///
/// # Safety
/// `req` is a request `begin` has filled; `bufs` points to `nbufs` readable
/// uv_buf_t.
unsafe fn copy_bufs(req: *mut uv_fs_t, bufs: *const uv_buf_t, nbufs: c_uint) -> c_int {
    let n = nbufs as usize;
    // SAFETY: `req` is writable (contract); bufsml holds 4 entries, so n of
    // them fit when n <= 4, and otherwise `dst` has room for n.
    unsafe {
        let dst = if n <= (*req).bufsml.len() {
            ptr::addr_of_mut!((*req).bufsml) as *mut uv_buf_t
        } else {
            let bytes = match n.checked_mul(std::mem::size_of::<uv_buf_t>()) {
                Some(b) => b,
                None => return ENOMEM,
            };
            crate::alloc::malloc(bytes) as *mut uv_buf_t
        };
        if dst.is_null() {
            return ENOMEM;
        }
        // `bufs` holds n entries (contract); `dst` is ours, so no overlap.
        ptr::copy_nonoverlapping(bufs, dst, n);
        (*req).bufs = dst;
        (*req).nbufs = nbufs;
    }
    0
}

/// Runs a filled request: now, returning its result, when it has no
/// callback; otherwise queued, returning 0.
///
/// # Safety
/// `req` is a request filled for its type by an entry point, under the
/// request contract below (an async one stays valid until its callback).
unsafe fn dispatch(req: *mut uv_fs_t) -> c_int {
    // SAFETY: `req` is filled for its type (contract); a sync request is
    // run on this thread and the caller keeps it for the call.
    unsafe {
        if (*req).cb.is_none() {
            ops::perform(req);
            return (*req).result as c_int;
        }
    }
    // SAFETY: as above.
    let loop_ = unsafe { (*req).loop_ };
    if loop_.is_null() {
        return EINVAL;
    }
    // SAFETY: an async request with a loop: by the request contract the loop
    // is initialised and this is its thread, and the request stays valid and
    // untouched by the caller until its callback, as both engines need.
    unsafe {
        if !uring::try_submit(loop_, req) {
            submit_to_pool(loop_, req);
        }
    }
    0
}

/// Queues an async request on the pool. fs work is fast I/O, as in libuv, so
/// slow lookups can never take every worker away from it.
///
/// # Safety
/// On `loop_`'s thread; `loop_` is initialised; `req` is an async request
/// filled for its type, in no engine yet, that stays valid until its
/// callback (uv.h).
pub(crate) unsafe fn submit_to_pool(loop_: *mut uv_loop_t, req: *mut uv_fs_t) {
    // SAFETY: the loop is live and ours (contract). The work item lives in
    // the request, which outlives the work and its done callback.
    unsafe {
        crate::req::register(loop_);
        crate::work::submit(
            loop_,
            ptr::addr_of_mut!((*req).work_req),
            WorkKind::FastIo,
            pool_work,
            pool_done,
        );
    }
}

/// A worker runs the request.
///
/// # Safety
/// `w` is the `work_req` of a uv_fs_t queued by `submit_to_pool`, which the
/// worker has to itself until its done callback.
unsafe extern "C" fn pool_work(w: *mut uv__work) {
    // SAFETY: `w` is embedded in a uv_fs_t (contract), so stepping back to
    // the request stays inside it; the worker has it to itself.
    unsafe { ops::perform(crate::container_of!(w, uv_fs_t, work_req)) };
}

/// The request's work is over (run by a worker or the ring, or cancelled).
///
/// # Safety
/// On the loop thread; `w` is the `work_req` of a live async uv_fs_t whose
/// work is over, so nothing else touches the request.
pub(crate) unsafe extern "C" fn pool_done(w: *mut uv__work, status: c_int) {
    // SAFETY: `w` is embedded in a uv_fs_t (contract), which is live and
    // the loop thread's again.
    unsafe {
        let req = crate::container_of!(w, uv_fs_t, work_req);
        if status == -libc::ECANCELED {
            (*req).result = -libc::ECANCELED as ssize_t;
        }
        finish(req);
    }
}

/// Completes an async request on the loop thread: `req->result` (and
/// whatever the op left in `ptr`) is final. The request may be freed by the
/// callback, so nothing touches it afterwards.
///
/// # Safety
/// On the loop thread; `req` is a live async request whose operation is
/// over, counted on its loop.
pub(crate) unsafe fn finish(req: *mut uv_fs_t) {
    // SAFETY: `req` and its loop are live (contract); the request is read
    // before the callback, which may free it, and not after.
    unsafe {
        crate::req::unregister((*req).loop_);
        if let Some(cb) = (*req).cb {
            cb(req);
        }
    }
}

// ---------------------------------------------------------------------------
// Entry points. Each fills the request as libuv does (fields are set even
// when the call then fails) and dispatches it.
//
// The request contract (uv.h), which the entry points and the helpers below
// rely on: `req` is null or points to a uv_fs_t the caller owns and that is
// not in flight; each pointer argument is null or valid (paths are
// NUL-terminated strings, `bufs` holds `nbufs` entries, `dir` is a uv_dir_t
// from uv_fs_opendir whose `dirents` holds `nentries`); with a callback
// (async), `loop_` is an initialised loop and this is its thread, and the
// request, the buffers' memory and `dir` stay valid, untouched by the
// caller, until the callback has run.

macro_rules! try_uv {
    ($e:expr) => {{
        let r = $e;
        if r != 0 {
            return r;
        }
    }};
}

macro_rules! begin_or_einval {
    ($loop:expr, $req:expr, $ty:expr, $cb:expr) => {
        if !begin($loop, $req, $ty, $cb) {
            return EINVAL;
        }
    };
}

/// A request on one path and nothing else.
///
/// # Safety
/// The request contract for `loop_`, `req` and `path`.
unsafe fn path_op(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    ty: c_int,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (this fn's) is what begin, own_path and
    // dispatch need.
    unsafe {
        begin_or_einval!(loop_, req, ty, cb);
        try_uv!(own_path(req, path));
        dispatch(req)
    }
}

/// A request on one descriptor and nothing else.
///
/// # Safety
/// The request contract for `loop_` and `req`.
unsafe fn fd_op(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    ty: c_int,
    file: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (this fn's) is what begin and dispatch need;
    // begin returned true, so `req` is non-null.
    unsafe {
        begin_or_einval!(loop_, req, ty, cb);
        (*req).file = file;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_open(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    flags: c_int,
    mode: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and `path` is what own_path needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_OPEN, cb);
        try_uv!(own_path(req, path));
        (*req).flags = flags;
        (*req).mode = mode as libc::mode_t;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_close(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_` and `req`, which is
    // fd_op's.
    unsafe { fd_op(loop_, req, UV_FS_CLOSE, file, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_read(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    off: i64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true and `bufs` holds `nbufs` entries. A sync read borrows the
    // caller's list for the call only; an async one reads from a copy.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_READ, cb);
        if bufs.is_null() || nbufs == 0 {
            return EINVAL;
        }
        (*req).off = off as libc::off_t;
        (*req).file = file;
        if cb.is_none() {
            // A sync read only reads the caller's list; no copy needed.
            (*req).bufs = bufs as *mut uv_buf_t;
            (*req).nbufs = nbufs;
        } else {
            try_uv!(copy_bufs(req, bufs, nbufs));
        }
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_write(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    off: i64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true and `bufs` holds `nbufs` entries, copied into the request.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_WRITE, cb);
        if bufs.is_null() || nbufs == 0 {
            return EINVAL;
        }
        (*req).file = file;
        // Always copied: continuing a partial write edits the list.
        try_uv!(copy_bufs(req, bufs, nbufs));
        (*req).off = off as libc::off_t;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_unlink(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_UNLINK, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_rmdir(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_RMDIR, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_mkdir(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    mode: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and `path` is what own_path needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_MKDIR, cb);
        try_uv!(own_path(req, path));
        (*req).mode = mode as libc::mode_t;
        dispatch(req)
    }
}

/// mkdtemp/mkstemp edit their template, so it is always copied (and
/// always freed by uv_fs_req_cleanup).
///
/// # Safety
/// The request contract for `loop_`, `req` and `tpl`.
unsafe fn template_op(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    ty: c_int,
    tpl: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (this fn's); `tpl` is a non-null C string
    // when strdup reads it, and the copy is the request's to edit.
    unsafe {
        begin_or_einval!(loop_, req, ty, cb);
        if tpl.is_null() {
            return EINVAL;
        }
        let p = crate::alloc::strdup(tpl);
        if p.is_null() {
            return ENOMEM;
        }
        (*req).path = p;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_mkdtemp(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    tpl: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `tpl`,
    // which is template_op's.
    unsafe { template_op(loop_, req, UV_FS_MKDTEMP, tpl, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_mkstemp(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    tpl: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `tpl`,
    // which is template_op's.
    unsafe { template_op(loop_, req, UV_FS_MKSTEMP, tpl, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_scandir(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    flags: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and `path` is what own_path needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_SCANDIR, cb);
        try_uv!(own_path(req, path));
        (*req).flags = flags;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_scandir_next(req: *mut uv_fs_t, ent: *mut uv_dirent_t) -> c_int {
    // SAFETY: both non-null; uv.h: `req` is a request the caller ran
    // uv_fs_scandir with, not in flight, and `ent` a writable uv_dirent_t.
    unsafe {
        if req.is_null() || ent.is_null() {
            return EINVAL;
        }
        ops::scandir_next(req, ent)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_opendir(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_OPENDIR, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_readdir(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    dir: *mut uv_dir_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true and a non-null `dir` is a uv_dir_t from uv_fs_opendir.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_READDIR, cb);
        if dir.is_null() || (*dir).dir.is_null() || (*dir).dirents.is_null() {
            return EINVAL;
        }
        (*req).ptr = dir as *mut c_void;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_closedir(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    dir: *mut uv_dir_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true and a non-null `dir` is a uv_dir_t from uv_fs_opendir.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_CLOSEDIR, cb);
        if dir.is_null() {
            return EINVAL;
        }
        (*req).ptr = dir as *mut c_void;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_stat(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_STAT, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_lstat(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_LSTAT, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_fstat(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_` and `req`, which is
    // fd_op's.
    unsafe { fd_op(loop_, req, UV_FS_FSTAT, file, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_statfs(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_STATFS, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_rename(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    new_path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and both paths are what own_paths needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_RENAME, cb);
        try_uv!(own_paths(req, path, new_path));
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_fsync(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_` and `req`, which is
    // fd_op's.
    unsafe { fd_op(loop_, req, UV_FS_FSYNC, file, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_fdatasync(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_` and `req`, which is
    // fd_op's.
    unsafe { fd_op(loop_, req, UV_FS_FDATASYNC, file, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_ftruncate(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    off: i64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true; the rest are plain values.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_FTRUNCATE, cb);
        (*req).file = file;
        (*req).off = off as libc::off_t;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_copyfile(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    new_path: *const c_char,
    flags: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and both paths are what own_paths needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_COPYFILE, cb);
        if flags & !(UV_FS_COPYFILE_EXCL | UV_FS_COPYFILE_FICLONE | UV_FS_COPYFILE_FICLONE_FORCE)
            != 0
        {
            return EINVAL;
        }
        try_uv!(own_paths(req, path, new_path));
        (*req).flags = flags;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_sendfile(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    out_fd: c_int,
    in_fd: c_int,
    off: i64,
    len: size_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true; the rest are plain values.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_SENDFILE, cb);
        // Where libuv keeps these (flags = in_fd, bufsml[0].len = length), so a
        // request looks the same to anything that inspects it.
        (*req).flags = in_fd;
        (*req).file = out_fd;
        (*req).off = off as libc::off_t;
        (*req).bufsml[0].len = len;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_access(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    mode: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and `path` is what own_path needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_ACCESS, cb);
        try_uv!(own_path(req, path));
        (*req).flags = mode;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_chmod(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    mode: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and `path` is what own_path needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_CHMOD, cb);
        try_uv!(own_path(req, path));
        (*req).mode = mode as libc::mode_t;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_fchmod(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    mode: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true; the rest are plain values.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_FCHMOD, cb);
        (*req).file = file;
        (*req).mode = mode as libc::mode_t;
        dispatch(req)
    }
}

/// # Safety
/// The request contract for `loop_`, `req` and `path`.
unsafe fn time_path_op(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    ty: c_int,
    path: *const c_char,
    atime: f64,
    mtime: f64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (this fn's) is what begin, own_path and
    // dispatch need; `req` is non-null once begin returned true.
    unsafe {
        begin_or_einval!(loop_, req, ty, cb);
        try_uv!(own_path(req, path));
        (*req).atime = atime;
        (*req).mtime = mtime;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_utime(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    atime: f64,
    mtime: f64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is time_path_op's.
    unsafe { time_path_op(loop_, req, UV_FS_UTIME, path, atime, mtime, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_lutime(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    atime: f64,
    mtime: f64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is time_path_op's.
    unsafe { time_path_op(loop_, req, UV_FS_LUTIME, path, atime, mtime, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_futime(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    atime: f64,
    mtime: f64,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true; the rest are plain values.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_FUTIME, cb);
        (*req).file = file;
        (*req).atime = atime;
        (*req).mtime = mtime;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_link(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    new_path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and both paths are what own_paths needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_LINK, cb);
        try_uv!(own_paths(req, path, new_path));
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_symlink(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    new_path: *const c_char,
    flags: c_int,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true, and both paths are what own_paths needs.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_SYMLINK, cb);
        try_uv!(own_paths(req, path, new_path));
        (*req).flags = flags;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_readlink(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_READLINK, path, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_realpath(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is path_op's.
    unsafe { path_op(loop_, req, UV_FS_REALPATH, path, cb) }
}

/// # Safety
/// The request contract for `loop_`, `req` and `path`.
unsafe fn owner_path_op(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    ty: c_int,
    path: *const c_char,
    uid: libc::uid_t,
    gid: libc::gid_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (this fn's) is what begin, own_path and
    // dispatch need; `req` is non-null once begin returned true.
    unsafe {
        begin_or_einval!(loop_, req, ty, cb);
        try_uv!(own_path(req, path));
        (*req).uid = uid;
        (*req).gid = gid;
        dispatch(req)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_chown(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    uid: libc::uid_t,
    gid: libc::gid_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is owner_path_op's.
    unsafe { owner_path_op(loop_, req, UV_FS_CHOWN, path, uid, gid, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_lchown(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    path: *const c_char,
    uid: libc::uid_t,
    gid: libc::gid_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above) for `loop_`, `req` and `path`,
    // which is owner_path_op's.
    unsafe { owner_path_op(loop_, req, UV_FS_LCHOWN, path, uid, gid, cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_fchown(
    loop_: *mut uv_loop_t,
    req: *mut uv_fs_t,
    file: c_int,
    uid: libc::uid_t,
    gid: libc::gid_t,
    cb: uv_fs_cb,
) -> c_int {
    // SAFETY: the request contract (above): `req` is non-null once begin
    // returned true; the rest are plain values.
    unsafe {
        begin_or_einval!(loop_, req, UV_FS_FCHOWN, cb);
        (*req).file = file;
        (*req).uid = uid;
        (*req).gid = gid;
        dispatch(req)
    }
}

/// Frees what the request owns, exactly as libuv: path copies (async
/// requests, and mkdtemp/mkstemp templates), scandir/readdir results, a
/// heap buffer list, and `ptr` results other than the statbuf and an open
/// directory. Every freed field is reset, so a second call does nothing.
#[no_mangle]
pub unsafe extern "C" fn uv_fs_req_cleanup(req: *mut uv_fs_t) {
    // SAFETY: uv.h: `req` is a uv_fs_t the caller filled through a uv_fs_*
    // call (or zeroed), not in flight. What is freed is what that call left to
    // the request (path copies, results, a heap list), and each freed field is
    // reset, so a second call frees nothing.
    unsafe {
        if req.is_null() {
            return;
        }
        let ty = (*req).fs_type;
        if !(*req).path.is_null()
            && ((*req).cb.is_some() || ty == UV_FS_MKDTEMP || ty == UV_FS_MKSTEMP)
        {
            // new_path, if any, lives in the same allocation.
            crate::alloc::free((*req).path as *mut c_void);
        }
        (*req).path = ptr::null();
        (*req).new_path = ptr::null();

        if ty == UV_FS_READDIR && !(*req).ptr.is_null() {
            ops::readdir_cleanup(req);
        }
        if ty == UV_FS_SCANDIR && !(*req).ptr.is_null() {
            ops::scandir_cleanup(req);
        }

        let sml = ptr::addr_of_mut!((*req).bufsml) as *mut uv_buf_t;
        if (*req).bufs != sml {
            crate::alloc::free((*req).bufs as *mut c_void);
        }
        (*req).bufs = null_mut();

        let statbuf = ptr::addr_of_mut!((*req).statbuf) as *mut c_void;
        if ty != UV_FS_OPENDIR && (*req).ptr != statbuf {
            crate::alloc::free((*req).ptr);
        }
        (*req).ptr = null_mut();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_get_type(req: *const uv_fs_t) -> c_int {
    // SAFETY: uv.h: `req` points to a live uv_fs_t.
    unsafe { (*req).fs_type }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_get_result(req: *const uv_fs_t) -> ssize_t {
    // SAFETY: uv.h: `req` points to a live uv_fs_t.
    unsafe { (*req).result }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_get_system_error(req: *const uv_fs_t) -> c_int {
    // SAFETY: uv.h: `req` points to a live uv_fs_t.
    unsafe { -((*req).result as c_int) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_get_ptr(req: *const uv_fs_t) -> *mut c_void {
    // SAFETY: uv.h: `req` points to a live uv_fs_t.
    unsafe { (*req).ptr }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_get_path(req: *const uv_fs_t) -> *const c_char {
    // SAFETY: uv.h: `req` points to a live uv_fs_t.
    unsafe { (*req).path }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_get_statbuf(req: *mut uv_fs_t) -> *mut uv_stat_t {
    // SAFETY: uv.h: `req` points to a live uv_fs_t.
    unsafe { ptr::addr_of_mut!((*req).statbuf) }
}

/// On Unix a uv_os_fd_t is the descriptor itself.
#[no_mangle]
pub extern "C" fn uv_get_osfhandle(fd: c_int) -> c_int {
    fd
}

#[no_mangle]
pub extern "C" fn uv_open_osfhandle(os_fd: c_int) -> c_int {
    os_fd
}
