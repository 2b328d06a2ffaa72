//! Async uv_fs_* as native io_uring operations, when the loop has a ring.
//! Synchronous calls never come here; operations the kernel lacks, and any
//! request while the ring is stale (credentials changed), go to the pool.
//!
//! Everything a request keeps while the ring runs it lives here (`InFlight`);
//! the ring itself sees an entry and the request's address as its token. A
//! finished request ends like a pool one: its `uv__work`'s done callback runs
//! on the loop thread.
//!
//! What an entry points at stays alive until its completion is reaped: the
//! request itself (its address is the token; uv.h keeps it valid until its
//! callback, which only `complete` runs, after the completion); its paths,
//! the request's own copies (async requests always copy), freed by
//! uv_fs_req_cleanup after the callback; a read's or write's buffer list,
//! the request's copy, freed by `complete` after the completion, and the
//! buffers' memory, the caller's until the callback; the statx space, owned
//! by the request's `Aux` until `complete` or a withdrawal before the kernel
//! saw the entry.

use super::*;
use crate::loop_::inner;
use crate::sys::IOV_MAX;
use io_uring::{opcode, types};
use std::collections::HashMap;
use std::ptr::NonNull;

/// Above this many file operations in the ring, stats go to its workers
/// instead of being answered on the loop thread (see `cached_stat`).
const INLINE_STAT_MAX_IN_FLIGHT: usize = 8;

/// From this many requests of the loop in flight, a stat goes to the pool.
const STAT_TO_POOL_AT: c_uint = 32;

/// A loop's file requests in its ring, by request address.
#[derive(Default)]
pub struct InFlight {
    reqs: HashMap<usize, Aux>,
}

/// What a request in the ring needs kept alive besides itself.
#[derive(Default)]
struct Aux {
    /// The statx result space the kernel writes (from Box::into_raw, freed
    /// when the Aux goes): held by address, not as a Box, since a Box claims
    /// unique access that the kernel's write would break.
    statx: Option<NonNull<libc::statx>>,
    /// The start of the buffer list of a write (a partial write moves
    /// `req->bufs` on; the copy is freed from its start).
    first_buf: usize,
    /// The result of a stat answered before submission (a no-op carries it
    /// through the ring, so the callback keeps its place in the order).
    inline_res: Option<i32>,
}

impl Drop for Aux {
    fn drop(&mut self) {
        if let Some(p) = self.statx.take() {
            // SAFETY: `p` came from Box::into_raw in try_submit and nothing
            // else frees it; an Aux is dropped only once its operation is
            // complete or was withdrawn before the kernel saw it.
            drop(unsafe { Box::from_raw(p.as_ptr()) });
        }
    }
}

impl InFlight {
    /// Whether the loop thread may answer a stat itself (fs::cached_stat).
    /// With few operations in flight that saves a thread hand-off per stat
    /// (7x the pool at one in flight, measured); with many, the ring's
    /// workers run them on every CPU and beat one loop thread.
    fn inline_stat_allowed(&self) -> bool {
        self.reqs.len() < INLINE_STAT_MAX_IN_FLIGHT
    }
}

const AT_FDCWD: types::Fd = types::Fd(libc::AT_FDCWD);

fn offset(off: libc::off_t) -> u64 {
    // -1 asks for the file's current position.
    if off < 0 {
        u64::MAX
    } else {
        off as u64
    }
}

/// Builds the SQE for a read or write of the request's remaining buffers.
/// The entry points at the request's list (read as `iovec`s: same layout,
/// see `ops`) and at the buffers' memory.
///
/// # Safety
/// `req` is a live async read or write, the loop thread's, whose list
/// `bufs` holds `nbufs` >= 1 entries.
unsafe fn rw_sqe(req: *mut uv_fs_t, write: bool) -> io_uring::squeue::Entry {
    // SAFETY: `req` is live and ours (contract).
    let (fd, bufs, nbufs, off) = unsafe { ((*req).file, (*req).bufs, (*req).nbufs, (*req).off) };
    let fd = types::Fd(fd);
    let n = (nbufs as usize).min(IOV_MAX);
    let off = offset(off);
    if n == 1 {
        // SAFETY: the list holds at least one entry (contract).
        let b = unsafe { &*bufs };
        let len = b.len.min(u32::MAX as usize) as u32;
        // What memcheck would say of the buffer at a read(2) or write(2):
        // it does not see the kernel's access through the ring.
        if write {
            crate::valgrind::check_defined(b.base as *const c_void, len as usize);
        } else {
            crate::valgrind::check_addressable(b.base as *const c_void, len as usize);
        }
        if write {
            opcode::Write::new(fd, b.base as *const u8, len)
                .offset(off)
                .build()
        } else {
            opcode::Read::new(fd, b.base as *mut u8, len)
                .offset(off)
                .build()
        }
    } else {
        let iov = bufs as *const libc::iovec;
        // SAFETY: the list holds `nbufs` >= n entries (contract).
        unsafe { crate::valgrind::check_iov(iov, n, write) };
        if write {
            opcode::Writev::new(fd, iov, n as u32).offset(off).build()
        } else {
            opcode::Readv::new(fd, iov, n as u32).offset(off).build()
        }
    }
}

/// The ring's statx for a stat, lstat or fstat request, into `buf`.
///
/// # Safety
/// `req` is a live stat, lstat or fstat request, the loop thread's; `path`
/// is its path (unused for fstat).
unsafe fn statx_sqe(
    req: *mut uv_fs_t,
    path: *const c_char,
    buf: *mut types::statx,
) -> io_uring::squeue::Entry {
    let mask = libc::STATX_BASIC_STATS | libc::STATX_BTIME;
    // SAFETY: `req` is live and ours (contract).
    let (ty, file) = unsafe { ((*req).fs_type, (*req).file) };
    match ty {
        UV_FS_FSTAT => opcode::Statx::new(types::Fd(file), c"".as_ptr(), buf)
            .flags(libc::AT_EMPTY_PATH)
            .mask(mask)
            .build(),
        UV_FS_LSTAT => opcode::Statx::new(AT_FDCWD, path, buf)
            .flags(libc::AT_SYMLINK_NOFOLLOW)
            .mask(mask)
            .build(),
        _ => opcode::Statx::new(AT_FDCWD, path, buf).mask(mask).build(),
    }
}

/// Claims an async request for the ring; false leaves it to the pool.
/// The set of operations is libuv's: others (rmdir, ftruncate, ...) stay on
/// the pool, where uv_cancel can still withdraw them.
///
/// # Safety
/// On `loop_`'s thread; `loop_` is initialised; `req` is an async request
/// filled for its type by an entry point, in no engine yet, that stays valid
/// with its paths, list and buffers' memory until its callback (uv.h).
pub(crate) unsafe fn try_submit(loop_: *mut uv_loop_t, req: *mut uv_fs_t) -> bool {
    // SAFETY: the loop is initialised and this is its thread (contract), so
    // its LoopInner is live and nobody else is using it. `u` and `inflight`
    // borrow two different fields of it; no user code runs while they live.
    let (u, inflight, turn, running) = unsafe {
        let li = inner(loop_);
        let Some(u) = (*li).backend.ring() else {
            return false;
        };
        (
            u,
            &mut (*li).fs_ring,
            (*li).metrics.loop_count,
            (*li).running,
        )
    };
    // Outside a loop turn nobody will enter the ring soon: a worker starts
    // the request at once (and uv_cancel can still withdraw it). Inside a
    // turn, requests batch up for the loop's next io_uring_enter.
    if running == 0 || !u.submit_allowed(turn) {
        return false;
    }
    // SAFETY: `req` is filled and in no engine (contract): only this thread
    // touches it. begin set these three; each arm below reads only fields
    // its entry point set (a caller's request may be uninitialised memory).
    let (ty, path, new_path) = unsafe { ((*req).fs_type, (*req).path, (*req).new_path) };
    // SAFETY: as above; called only for the descriptor ops, whose entry
    // points set `file`.
    let file = || unsafe { (*req).file };
    let mut aux = Aux::default();
    let (code, sqe) = match ty {
        UV_FS_OPEN => {
            // SAFETY: as above; uv_fs_open set both.
            let (flags, mode) = unsafe { ((*req).flags, (*req).mode) };
            (
                opcode::OpenAt::CODE,
                opcode::OpenAt::new(AT_FDCWD, path)
                    .flags(flags | libc::O_CLOEXEC)
                    .mode(mode)
                    .build(),
            )
        }
        UV_FS_CLOSE => {
            // The ring's close may drop the last reference from an io-wq
            // worker, whose final release is deferred: the callback can come
            // before the file stops being open for writing, and an exec of it
            // then fails with ETXTBSY (seen once in 200 on 6.12). A file open
            // for writing is closed by a worker thread instead, whose close
            // has finished the release when it returns, as libuv's does.
            // SAFETY: F_GETFL only reads the descriptor's status flags.
            let fl = unsafe { libc::fcntl(file(), libc::F_GETFL) };
            if fl < 0 || fl & libc::O_ACCMODE != libc::O_RDONLY {
                return false;
            }
            (
                opcode::Close::CODE,
                opcode::Close::new(types::Fd(file())).build(),
            )
        }
        UV_FS_READ | UV_FS_WRITE => {
            // SAFETY: as above; uv_fs_read and uv_fs_write set these.
            let (off, nbufs, bufs) = unsafe { ((*req).off, (*req).nbufs, (*req).bufs) };
            if off < 0 && !u.rw_cur_pos {
                return false;
            }
            let write = ty == UV_FS_WRITE;
            if write {
                aux.first_buf = bufs as usize;
                // SAFETY: `req` is ours, as above.
                unsafe { (*req).result = 0 };
            }
            let code = match (nbufs, write) {
                (1, false) => opcode::Read::CODE,
                (1, true) => opcode::Write::CODE,
                (_, false) => opcode::Readv::CODE,
                (_, true) => opcode::Writev::CODE,
            };
            // SAFETY: a live read or write, ours; uv_fs_read and uv_fs_write
            // refuse an empty list and copy it into the request.
            (code, unsafe { rw_sqe(req, write) })
        }
        UV_FS_STAT | UV_FS_LSTAT | UV_FS_FSTAT => {
            // SAFETY: the loop is live and ours, as above.
            if unsafe { (*loop_).active_reqs } >= STAT_TO_POOL_AT {
                // Deep queues of stats: the pool's workers do them faster
                // than io-wq's (bench/fs at 64 in flight: ring 0.83x the
                // pool), and with nothing of them in the ring the loop
                // waits in epoll_wait as in pool mode.
                return false;
            }
            // SAFETY: libc::statx is plain integers: all-zero bytes are a value.
            let mut buf: Box<libc::statx> = Box::new(unsafe { std::mem::zeroed() });
            // With many in flight, the ring's statx (run by io-wq workers on
            // every CPU) beats the one loop thread; and the ring, not the
            // pool: sending them to the pool measured 0.45-0.65x at 16-64 in
            // flight, the loop then waking through its eventfd per batch.
            let cached = if inflight.inline_stat_allowed() {
                // SAFETY: for stat and lstat `path` is the request's C string
                // (uv_fs_stat/lstat refuse null); fstat does not read it.
                unsafe {
                    super::cached_stat::try_stat(
                        path,
                        if ty == UV_FS_FSTAT { file() } else { -1 },
                        ty == UV_FS_FSTAT,
                        ty == UV_FS_LSTAT,
                        &mut buf,
                    )
                }
            } else {
                None
            };
            let bufp = Box::into_raw(buf);
            aux.statx = NonNull::new(bufp);
            let bufp = bufp as *mut types::statx;
            if let Some(res) = cached {
                // Answered without blocking: the callback still comes from
                // the loop, through a no-op completion of this turn's enter.
                aux.inline_res = Some(res);
                (opcode::Nop::CODE, opcode::Nop::new().build())
            } else {
                // SAFETY: a live stat request, ours, and its path.
                (opcode::Statx::CODE, unsafe { statx_sqe(req, path, bufp) })
            }
        }
        UV_FS_FSYNC => (
            opcode::Fsync::CODE,
            opcode::Fsync::new(types::Fd(file())).build(),
        ),
        UV_FS_FDATASYNC => (
            opcode::Fsync::CODE,
            opcode::Fsync::new(types::Fd(file()))
                .flags(types::FsyncFlags::DATASYNC)
                .build(),
        ),
        UV_FS_RENAME => (
            opcode::RenameAt::CODE,
            opcode::RenameAt::new(AT_FDCWD, path, AT_FDCWD, new_path).build(),
        ),
        UV_FS_UNLINK => (
            opcode::UnlinkAt::CODE,
            opcode::UnlinkAt::new(AT_FDCWD, path).build(),
        ),
        UV_FS_MKDIR => {
            // SAFETY: as above; uv_fs_mkdir set it.
            let mode = unsafe { (*req).mode };
            (
                opcode::MkDirAt::CODE,
                opcode::MkDirAt::new(AT_FDCWD, path).mode(mode).build(),
            )
        }
        UV_FS_LINK => (
            opcode::LinkAt::CODE,
            opcode::LinkAt::new(AT_FDCWD, path, AT_FDCWD, new_path).build(),
        ),
        UV_FS_SYMLINK => (
            opcode::SymlinkAt::CODE,
            opcode::SymlinkAt::new(AT_FDCWD, path, new_path).build(),
        ),
        _ => return false,
    };
    if !u.supports(code) {
        return false;
    }
    // SAFETY: the loop is live and ours, and the request ours until its
    // completion (contract); its work item now leads to `pool_done`.
    unsafe {
        crate::req::register(loop_);
        let w = ptr::addr_of_mut!((*req).work_req);
        (*w).loop_ = loop_;
        (*w).work = None;
        (*w).done = Some(pool_done);
    }
    // From here the entry's memory must outlive its completion: see the
    // module's documentation for what keeps each piece alive.
    inflight.reqs.insert(req as usize, aux);
    u.push_op(sqe, req as usize);
    true
}

/// Puts the rest of a write (its list already advanced) back into the ring
/// under the same token; without a ring that takes it (none, or one given
/// up), hands `aux` back and the write reports what it did.
///
/// # Safety
/// On the loop's thread; `li` is the loop's live LoopInner; `req` a live
/// write of this loop whose previous entry has completed.
unsafe fn requeue_write(
    li: *mut crate::loop_::LoopInner,
    req: *mut uv_fs_t,
    token: usize,
    aux: Aux,
) -> Result<(), Aux> {
    // SAFETY: `li` and `req` are live and this thread's (contract); the
    // list's remaining entries are the request's own copy.
    unsafe {
        let Some(u) = (*li).backend.ring().filter(|u| u.usable()) else {
            return Err(aux);
        };
        let sqe = rw_sqe(req, true);
        (*li).fs_ring.reqs.insert(token, aux);
        u.push_op(sqe, token);
    }
    Ok(())
}

/// The ring finished the operation of the request at `token` with `res`.
///
/// # Safety
/// On `loop_`'s thread; `loop_` is initialised; `token` is the token of an
/// operation `try_submit` or `complete` pushed to this loop's ring, and `res`
/// its completion: the kernel is done with its entry, and the request is
/// live (uv.h) and the loop thread's alone.
pub(crate) unsafe fn complete(loop_: *mut uv_loop_t, token: usize, res: i32) {
    // SAFETY: the loop is live and this is its thread (contract).
    let li = unsafe { inner(loop_) };
    let req = token as *mut uv_fs_t;
    // SAFETY: as above; the map is borrowed for the removal only.
    let mut aux = unsafe { (*li).fs_ring.reqs.remove(&token) }.unwrap_or_default();
    let res = aux.inline_res.unwrap_or(res);
    // SAFETY: the request is live and ours (contract).
    let (ty, result) = unsafe { ((*req).fs_type, (*req).result) };
    // A write the ring has partly done ends here: its list has been advanced
    // in place, and the pool's write would count from zero and free it from
    // the moved start.
    let progressed = ty == UV_FS_WRITE && result > 0;
    // uvring never asks the kernel to cancel an operation, yet 6.1 answered
    // a write ECANCELED during a SIGSTOP/SIGCONT storm (compat/hazards test
    // 7, forced ring; the kernel fails io-wq work it will not run that way):
    // the operation did not run. That, and a signal interrupting it in a worker (EINTR,
    // which the pool's calls retry; close's EINTR means it is done), is no
    // answer for the user: it is run again.
    let again = res == -libc::ECANCELED || (res == -libc::EINTR && ty != UV_FS_CLOSE);
    if again && progressed {
        // The rest of a partly done write goes back into the ring (its list
        // has moved on, which the pool's write would not know).
        // SAFETY: the request is live and ours, its list's remaining
        // entries are the ones the cancelled entry named (contract).
        match unsafe { requeue_write(li, req, token, aux) } {
            Ok(()) => return,
            Err(back) => aux = back,
        }
    }
    if (res == -libc::EOPNOTSUPP || again) && !progressed {
        // This kind of file does not do it in the ring, or the ring did not
        // run it: let a worker do it.
        // SAFETY: the ring is done with the request, which goes to the pool
        // as it would have from dispatch (nothing of it done yet).
        unsafe {
            crate::req::unregister(loop_);
            submit_to_pool(loop_, req);
        }
        return;
    }
    // SAFETY: the request is live and ours, and the kernel is done with what
    // its entry named (contract): its result fields may be written, and its
    // list read, advanced and freed. Each piece is justified where used.
    unsafe {
        match ty {
            UV_FS_STAT | UV_FS_LSTAT | UV_FS_FSTAT => {
                (*req).result = res.min(0) as ssize_t;
                if res >= 0 {
                    // The statx space is the Aux's, and the kernel's write
                    // to it is complete with this completion.
                    if let Some(sx) = aux.statx {
                        ops::statx_to_stat(sx.as_ref(), &mut (*req).statbuf);
                    }
                    (*req).ptr = ptr::addr_of_mut!((*req).statbuf) as *mut c_void;
                }
            }
            UV_FS_READ => {
                (*req).result = res as ssize_t;
                if res > 0 {
                    // The kernel filled `res` bytes of the list's buffers,
                    // unseen by memcheck: say so (the entry named at most
                    // IOV_MAX of them).
                    let n = ((*req).nbufs as usize).min(IOV_MAX);
                    let iov = (*req).bufs as *const libc::iovec;
                    crate::valgrind::kernel_wrote_iov(iov, n, res as usize);
                }
                release_bufs(req, (*req).bufs as usize);
            }
            UV_FS_WRITE => {
                if res > 0 {
                    (*req).result += res as ssize_t;
                    if (*req).off >= 0 {
                        (*req).off += res as libc::off_t;
                    }
                    // The list holds `nbufs` entries and the kernel wrote
                    // `res` bytes from them, so advancing stays inside it.
                    let left = (*req).nbufs as usize;
                    let consumed = ops::advance_bufs((*req).bufs, left, res as usize);
                    if consumed < left {
                        // A partial write: continue with what is left.
                        (*req).bufs = (*req).bufs.add(consumed);
                        (*req).nbufs = (left - consumed) as c_uint;
                        match requeue_write(li, req, token, aux) {
                            Ok(()) => return,
                            Err(back) => aux = back,
                        }
                    }
                } else if (*req).result == 0 {
                    (*req).result = res as ssize_t;
                }
                release_bufs(req, aux.first_buf);
            }
            UV_FS_CLOSE if res == -libc::EINTR || res == -libc::EINPROGRESS => (*req).result = 0,
            _ => (*req).result = res as ssize_t,
        }
    }
    // The one completion path, shared with the pool.
    // SAFETY: the request is live and ours; `done` is `pool_done`, set by
    // try_submit, and its operation is over. The callback may free the
    // request: nothing here touches it afterwards.
    unsafe {
        let w = ptr::addr_of_mut!((*req).work_req);
        if let Some(done) = (*w).done {
            done(w, 0);
        }
    }
}

/// Frees an async request's copy of its buffer list (unless it lived in
/// the request itself), as the pool path does.
///
/// # Safety
/// `req` is live and the loop thread's, with no operation in flight; `first`
/// is 0, the address of its `bufsml`, or the start of the heap list
/// `copy_bufs` made for it, which nothing else frees.
unsafe fn release_bufs(req: *mut uv_fs_t, first: usize) {
    // SAFETY: per the contract, `first` is freed only if it is the heap list
    // made for this request, and the request is ours to reset.
    unsafe {
        let inline = ptr::addr_of_mut!((*req).bufsml) as usize;
        if first != 0 && first != inline {
            crate::alloc::free(first as *mut c_void);
        }
        (*req).bufs = null_mut();
        (*req).nbufs = 0;
    }
}

/// uv_cancel of a request the ring has not been handed yet: it completes
/// with UV_ECANCELED on the loop thread, as a queued pool request would.
///
/// # Safety
/// On the thread of the request's loop; `req` is a live uv_fs_t filled by a
/// uv_fs_* call (uv.h's condition for uv_cancel).
pub(crate) unsafe fn cancel(req: *mut uv_fs_t) -> bool {
    // SAFETY: `req` is live (contract); a non-null loop_ was set by begin to
    // the caller's loop, and its internal fields are null once it is closed.
    let (loop_, ty, result) = unsafe {
        let loop_ = (*req).loop_;
        if loop_.is_null() || (*loop_).internal_fields.is_null() {
            return false;
        }
        (loop_, (*req).fs_type, (*req).result)
    };
    // The rest of a partly done write is not withdrawn (uv_cancel says
    // EBUSY, as for a request a worker has started): its list has moved on,
    // and uv_fs_req_cleanup would free it from the moved start.
    if ty == UV_FS_WRITE && result > 0 {
        return false;
    }
    // SAFETY: the loop is live and this is its thread (contract). A
    // withdrawn entry never reached the kernel, so its Aux (and statx space)
    // can go, and the request completes through the loop's done queue.
    unsafe {
        let li = inner(loop_);
        let Some(u) = (*li).backend.ring() else {
            return false;
        };
        if !u.withdraw(req as usize) {
            return false;
        }
        (*li).fs_ring.reqs.remove(&(req as usize));
        crate::loop_::post_done(ptr::addr_of_mut!((*req).work_req), -libc::ECANCELED);
    }
    true
}
