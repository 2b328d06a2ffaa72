//! uv_fs_poll_*: watch a path by stat()ing it every `interval` ms and
//! reporting changes.
//!
//! Each start..stop period owns a context (`handle->poll_ctx`) with an
//! internal timer and a stat request run on the pool. A stop cannot free the
//! context while its stat is in flight, so contexts of earlier periods are
//! chained through `previous` until their timer has closed; the handle's own
//! close completes only after the last of them.
//!
//! Lifetime of a context: it is freed only by `timer_closed`, and its timer
//! is closed only while no stat is in flight (the timer is armed exactly
//! between a stat's completion and the next submission). So a context, and
//! its handle (whose close waits for every context), outlive each stat and
//! each user callback made from it.

use crate::abi::*;
use crate::pool::WorkKind;
use crate::{handle, timer};
use libc::{c_char, c_int, c_uint, size_t};
use std::ffi::{CStr, CString};
use std::ptr::null_mut;

pub type uv_fs_poll_cb =
    unsafe extern "C" fn(*mut uv_fs_poll_t, c_int, *const uv_stat_t, *const uv_stat_t);

struct PollCtx {
    parent: *mut uv_fs_poll_t,
    /// 0 before the first result, 1 after a successful stat, else the last
    /// error: an error is reported once, not on every poll.
    busy_polling: c_int,
    interval: u64,
    start_time: u64,
    loop_: *mut uv_loop_t,
    poll_cb: Option<uv_fs_poll_cb>,
    timer: uv_timer_t,
    work: uv__work,
    /// Filled by the worker.
    result: c_int,
    fresh: uv_stat_t,
    /// The last successful stat.
    statbuf: uv_stat_t,
    previous: *mut PollCtx,
    path: CString,
}

static ZERO_STAT: uv_stat_t = uv_stat_t {
    st_dev: 0,
    st_mode: 0,
    st_nlink: 0,
    st_uid: 0,
    st_gid: 0,
    st_rdev: 0,
    st_ino: 0,
    st_size: 0,
    st_blksize: 0,
    st_blocks: 0,
    st_flags: 0,
    st_gen: 0,
    st_atim: uv_timespec_t {
        tv_sec: 0,
        tv_nsec: 0,
    },
    st_mtim: uv_timespec_t {
        tv_sec: 0,
        tv_nsec: 0,
    },
    st_ctim: uv_timespec_t {
        tv_sec: 0,
        tv_nsec: 0,
    },
    st_birthtim: uv_timespec_t {
        tv_sec: 0,
        tv_nsec: 0,
    },
};

/// The fields libuv compares to decide that a file changed.
fn same(a: &uv_stat_t, b: &uv_stat_t) -> bool {
    a.st_ctim.tv_nsec == b.st_ctim.tv_nsec
        && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
        && a.st_birthtim.tv_nsec == b.st_birthtim.tv_nsec
        && a.st_ctim.tv_sec == b.st_ctim.tv_sec
        && a.st_mtim.tv_sec == b.st_mtim.tv_sec
        && a.st_birthtim.tv_sec == b.st_birthtim.tv_sec
        && a.st_size == b.st_size
        && a.st_mode == b.st_mode
        && a.st_uid == b.st_uid
        && a.st_gid == b.st_gid
        && a.st_ino == b.st_ino
        && a.st_dev == b.st_dev
        && a.st_flags == b.st_flags
        && a.st_gen == b.st_gen
}

/// Runs on a pool worker.
///
/// # Safety
/// `w` is the `work` field of a live PollCtx whose stat is in flight: until
/// stat_done, the loop thread touches neither `result` nor `fresh`, and
/// `path` is never written after creation.
unsafe extern "C" fn stat_work(w: *mut uv__work) {
    // SAFETY: as the contract says; only the fields named there are
    // accessed, through the raw pointer (no reference to the whole context
    // the loop thread may be reading).
    unsafe {
        let ctx = crate::container_of!(w, PollCtx, work);
        let mut st = ZERO_STAT;
        (*ctx).result = crate::fs::ops::stat_path((*ctx).path.as_ptr(), false, &mut st) as c_int;
        (*ctx).fresh = st;
    }
}

/// Starts one stat of the context's path on the pool. Counted as a request
/// in flight, as libuv's uv_fs_stat is.
///
/// # Safety
/// `ctx` is a live context of a live loop, with no stat in flight and its
/// timer not armed.
unsafe fn submit_stat(ctx: *mut PollCtx) {
    // SAFETY: as the contract says; the context outlives the stat (see the
    // module docs), and `work` is not in use by another submission.
    unsafe {
        crate::req::register((*ctx).loop_);
        crate::work::submit(
            (*ctx).loop_,
            &mut (*ctx).work,
            WorkKind::FastIo,
            stat_work,
            stat_done,
        );
    }
}

/// Whether the context is still its handle's current one, and that handle
/// still started and not closing.
///
/// # Safety
/// `ctx` is a live context (so its parent handle is live too).
unsafe fn still_wanted(ctx: *mut PollCtx) -> bool {
    // SAFETY: as the contract says.
    unsafe {
        let h = (*ctx).parent;
        handle::is_active(h as *const uv_handle_t)
            && !handle::is_closing(h as *const uv_handle_t)
            && (*h).poll_ctx == ctx as *mut libc::c_void
    }
}

/// # Safety
/// Called once on the loop thread by the pool after `stat_work(w)` (or its
/// cancellation): `w` is the `work` field of a live PollCtx.
unsafe extern "C" fn stat_done(w: *mut uv__work, status: c_int) {
    // SAFETY: as the contract says; the worker is done with the context.
    let ctx = unsafe { crate::container_of!(w, PollCtx, work) };
    // SAFETY: the context is live and the loop_ it names too.
    let h = unsafe {
        crate::req::unregister((*ctx).loop_);
        (*ctx).parent
    };
    // SAFETY: the context, and its handle, stay live across the user
    // callbacks (see the module docs: its timer is not armed now, so nothing
    // can free it); the blocks below rest on this too. The callbacks get
    // copies (`prev`, `fresh`) and the static zeros, never references into
    // the context, which is re-read through the raw pointer after.
    unsafe {
        if still_wanted(ctx) {
            let result = if status != 0 { status } else { (*ctx).result };
            if result != 0 {
                if (*ctx).busy_polling != result {
                    // prev is the last good stat (zeros if none), curr zeros.
                    let prev = (*ctx).statbuf;
                    if let Some(cb) = (*ctx).poll_cb {
                        cb(h, result, &prev, &ZERO_STAT);
                    }
                    (*ctx).busy_polling = result;
                }
            } else {
                let fresh = (*ctx).fresh;
                if (*ctx).busy_polling != 0
                    && ((*ctx).busy_polling < 0 || !same(&(*ctx).statbuf, &fresh))
                {
                    let prev = (*ctx).statbuf;
                    if let Some(cb) = (*ctx).poll_cb {
                        cb(h, 0, &prev, &fresh);
                    }
                }
                (*ctx).statbuf = fresh;
                (*ctx).busy_polling = 1;
            }
        }
    }
    // The callback may have stopped, closed or restarted the handle.
    // SAFETY: the context is live (as above).
    if !unsafe { still_wanted(ctx) } {
        // SAFETY: the context is live (as above); its timer is an
        // initialised handle, not armed, and closing it hands the context
        // to timer_closed.
        unsafe {
            crate::handle::uv_close(
                &mut (*ctx).timer as *mut uv_timer_t as *mut uv_handle_t,
                Some(timer_closed),
            )
        };
        return;
    }
    // Next poll one interval after this one started, whatever the stat took.
    // SAFETY: as above; `interval` is >= 1 (set at start), and arming the
    // timer is the last use of the context here.
    unsafe {
        let elapsed = (*(*ctx).loop_).time.saturating_sub((*ctx).start_time);
        let delay = (*ctx).interval - elapsed % (*ctx).interval;
        timer::uv_timer_start(&mut (*ctx).timer, Some(on_timer), delay, 0);
    }
}

/// # Safety
/// Called by the loop with the `timer` field of a live PollCtx.
unsafe extern "C" fn on_timer(t: *mut uv_timer_t) {
    // SAFETY: as the contract says; the one-shot timer has just fired, so it
    // is no longer armed and no stat is in flight: submit_stat's contract.
    unsafe {
        let ctx = crate::container_of!(t, PollCtx, timer);
        (*ctx).start_time = (*(*ctx).loop_).time;
        submit_stat(ctx);
    }
}

/// # Safety
/// Called once by the loop when a context's timer has closed: `t` is the
/// `timer` field of a live PollCtx made by Box::into_raw, whose parent
/// handle is live (it waits for this before completing its close).
unsafe extern "C" fn timer_closed(t: *mut uv_handle_t) {
    // SAFETY: as the contract says. The context is unlinked from its
    // handle's chain (every link a live context) before it is freed once;
    // nothing else refers to it (no stat in flight, timer closed).
    unsafe {
        let ctx = crate::container_of!(t, PollCtx, timer);
        let h = (*ctx).parent;
        if (*h).poll_ctx == ctx as *mut libc::c_void {
            (*h).poll_ctx = (*ctx).previous as *mut libc::c_void;
            if (*h).poll_ctx.is_null() && handle::is_closing(h as *const uv_handle_t) {
                handle::make_close_pending(h as *mut uv_handle_t);
            }
        } else {
            // Unlink from the chain of earlier periods.
            let mut it = (*h).poll_ctx as *mut PollCtx;
            while !it.is_null() && (*it).previous != ctx {
                it = (*it).previous;
            }
            if !it.is_null() {
                (*it).previous = (*ctx).previous;
            }
        }
        drop(Box::from_raw(ctx));
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_poll_init(loop_: *mut uv_loop_t, h: *mut uv_fs_poll_t) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `loop_` is a live loop and `h` the caller's
    // uv_fs_poll_t to initialise (both non-NULL checked).
    unsafe {
        handle::init(loop_, h as *mut uv_handle_t, UV_FS_POLL);
        (*h).poll_ctx = null_mut();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_poll_start(
    h: *mut uv_fs_poll_t,
    cb: Option<uv_fs_poll_cb>,
    path: *const c_char,
    interval: c_uint,
) -> c_int {
    if h.is_null() || path.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `h` is a uv_fs_poll_t initialised by uv_fs_poll_init (so
    // its loop is live and this is its thread) and `path` a C string (both
    // non-NULL checked). uv_timer_t and uv__work are C structs for which
    // all-zero is a valid value before their init. The new context is live
    // (just boxed), its timer not armed, no stat in flight: submit_stat's
    // contract.
    unsafe {
        if handle::is_active(h as *const uv_handle_t) {
            return 0;
        }
        let loop_ = (*h).h.loop_;
        let ctx = Box::into_raw(Box::new(PollCtx {
            parent: h,
            busy_polling: 0,
            interval: if interval == 0 { 1 } else { interval as u64 },
            start_time: (*loop_).time,
            loop_,
            poll_cb: cb,
            timer: std::mem::zeroed(),
            work: std::mem::zeroed(),
            result: 0,
            fresh: ZERO_STAT,
            statbuf: ZERO_STAT,
            previous: (*h).poll_ctx as *mut PollCtx,
            path: CStr::from_ptr(path).to_owned(),
        }));
        timer::uv_timer_init(loop_, &mut (*ctx).timer);
        // Internal and unreferenced: only the fs_poll handle keeps the loop alive.
        (*ctx).timer.h.flags |= handle::INTERNAL;
        handle::unref(&mut (*ctx).timer as *mut uv_timer_t as *mut uv_handle_t);
        submit_stat(ctx);
        (*h).poll_ctx = ctx as *mut libc::c_void;
        handle::start(h as *mut uv_handle_t);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_poll_stop(h: *mut uv_fs_poll_t) -> c_int {
    // SAFETY: uv.h: `h` is NULL or a uv_fs_poll_t initialised by
    // uv_fs_poll_init; its poll_ctx is NULL or its live current context.
    // Only the timer field is read, which the worker never touches.
    unsafe {
        if h.is_null() || !handle::is_active(h as *const uv_handle_t) {
            return 0;
        }
        let ctx = (*h).poll_ctx as *mut PollCtx;
        // With the timer armed no stat is in flight: close it now. Otherwise
        // the stat's completion sees the handle stopped and closes it.
        if !ctx.is_null()
            && handle::is_active(&(*ctx).timer as *const uv_timer_t as *const uv_handle_t)
        {
            crate::handle::uv_close(
                &mut (*ctx).timer as *mut uv_timer_t as *mut uv_handle_t,
                Some(timer_closed),
            );
        }
        handle::stop(h as *mut uv_handle_t);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_poll_getpath(
    h: *mut uv_fs_poll_t,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: uv.h: `h` is an initialised uv_fs_poll_t and `buffer` holds
    // `*size` bytes (`size` checked non-NULL before the read). An active
    // handle's poll_ctx is its live current context, whose `path` is never
    // written after creation (a worker may read it at the same time).
    unsafe {
        if buffer.is_null() || size.is_null() || *size == 0 {
            return -libc::EINVAL;
        }
        if !handle::is_active(h as *const uv_handle_t) || (*h).poll_ctx.is_null() {
            *size = 0;
            return -libc::EINVAL;
        }
        let ctx = (*h).poll_ctx as *mut PollCtx;
        crate::fs_event::copy_path((*ctx).path.as_ptr(), buffer, size)
    }
}

/// uv_close's part: the handle's close completes once every context's
/// timer has closed (at once if there is none).
///
/// # Safety
/// `h` is an initialised uv_fs_poll_t being closed on its loop's thread.
pub unsafe fn close(h: *mut uv_fs_poll_t) {
    // SAFETY: as the contract says (uv_fs_poll_stop's, too).
    unsafe {
        uv_fs_poll_stop(h);
        if (*h).poll_ctx.is_null() {
            handle::make_close_pending(h as *mut uv_handle_t);
        }
    }
}
