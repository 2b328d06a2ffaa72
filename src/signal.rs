//! uv_signal_*: deliver process signals to loops.
//!
//! One process-wide handler per watched signal writes a message for every
//! handle watching it into that handle's loop's signal pipe; the loop reads
//! the pipe and calls back on its own thread. The registry of handles is
//! guarded by a pipe-based lock, the only kind a signal handler may take;
//! threads that change it block all signals while they hold it, so the
//! handler never waits on its own thread.

use crate::abi::*;
use crate::handle;
use crate::sys::{errno, retry_eintr};
use crate::watcher;
use libc::{c_int, c_uint, c_void};
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use crate::handle::SIGNAL_ONE_SHOT;

const NSIG: usize = 65;

/// Per signal, the handles watching it, linked through `tree_entry.left`.
/// `tree_entry.color` is 1 for a one-shot handle: a copy of its
/// SIGNAL_ONE_SHOT flag that, like the link, is only touched under the lock,
/// because other loops' threads read it (survey) while the owner's thread
/// may be changing other bits of `h.flags` (uv_ref, handle start/stop).
static WATCHERS: [AtomicPtr<uv_signal_t>; NSIG] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; NSIG];
static LOCK_RD: AtomicI32 = AtomicI32::new(-1);
static LOCK_WR: AtomicI32 = AtomicI32::new(-1);
static GLOBAL_INIT: std::sync::Once = std::sync::Once::new();

#[repr(C)]
#[derive(Clone, Copy)]
struct Msg {
    handle: *mut uv_signal_t,
    signum: c_int,
    /// The 4 bytes after `signum` that would otherwise be padding: named and
    /// zeroed, so the signal handler never writes uninitialised stack bytes
    /// into the pipe (found by compat/memcheck: "write(buf) points to
    /// uninitialised byte(s)" in on_signal).
    _pad: c_int,
}

/// (Re)creates the lock pipe with the lock released. Also run in a forked
/// child, where the parent's lock may have been held by a thread that is gone.
extern "C" fn global_reinit() {
    let mut fds = [-1; 2];
    let old_rd = LOCK_RD.load(Ordering::Acquire);
    let old_wr = LOCK_WR.load(Ordering::Acquire);
    if old_rd >= 0 {
        // SAFETY: the old lock pipe is ours alone (nothing else closes or
        // reuses these numbers); in the fork child no thread can be using it.
        unsafe {
            libc::close(old_rd);
            libc::close(old_wr);
        }
    }
    // SAFETY: `fds` has the two ints pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        std::process::abort();
    }
    LOCK_RD.store(fds[0], Ordering::Release);
    LOCK_WR.store(fds[1], Ordering::Release);
    unlock();
}

fn global_init() {
    GLOBAL_INIT.call_once(|| {
        // SAFETY: registers a child handler that only touches this module's
        // statics and descriptors; no prepare/parent handlers.
        unsafe { libc::pthread_atfork(None, None, Some(global_reinit)) };
        global_reinit();
    });
}

fn lock() -> bool {
    let mut c = 0u8;
    let r = retry_eintr(|| {
        // SAFETY: reads one byte into the local `c`.
        unsafe {
            libc::read(
                LOCK_RD.load(Ordering::Acquire),
                &mut c as *mut u8 as *mut c_void,
                1,
            )
        }
    });
    r == 1
}

fn unlock() {
    let c = 42u8;
    retry_eintr(|| {
        // SAFETY: writes the one byte of the local `c`.
        unsafe {
            libc::write(
                LOCK_WR.load(Ordering::Acquire),
                &c as *const u8 as *const c_void,
                1,
            )
        }
    });
}

/// Blocks every signal in this thread, then takes the lock.
fn block_and_lock() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data for which all-zero is a valid value.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut saved: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both sets are locals, valid for the calls' reads and writes.
    unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
    }
    if !lock() {
        std::process::abort();
    }
    saved
}

fn unlock_and_unblock(saved: &libc::sigset_t) {
    unlock();
    // SAFETY: `saved` is a set pthread_sigmask filled in block_and_lock.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, saved, std::ptr::null_mut()) };
}

extern "C" fn on_signal(signum: c_int) {
    let saved_errno = errno();
    if !lock() {
        // SAFETY: writing this thread's own errno slot.
        unsafe { *libc::__errno_location() = saved_errno };
        return;
    }
    let mut h = WATCHERS
        .get(signum as usize)
        .map_or(std::ptr::null_mut(), |w| w.load(Ordering::Acquire));
    while !h.is_null() {
        let msg = Msg {
            handle: h,
            signum,
            _pad: 0,
        };
        // SAFETY: we hold the lock: every handle in the list is started and
        // live (stop unlinks it under the lock before it can be closed), and
        // so is its loop, whose signal pipe is open while it has handles.
        let fd = unsafe { (*(*h).h.loop_).signal_pipefd[1] };
        let r = retry_eintr(|| {
            // SAFETY: writes the whole of the local `msg`, every byte of
            // which is initialised.
            unsafe {
                libc::write(
                    fd,
                    &msg as *const Msg as *const c_void,
                    std::mem::size_of::<Msg>(),
                )
            }
        });
        // SAFETY: `h` is live and its counters are ours while the lock is
        // held; the loop reads caught_signals only after stop, which waits
        // for this lock.
        unsafe {
            // A full pipe drops the message (the loop is far behind anyway).
            if r >= 0 {
                (*h).caught_signals = (*h).caught_signals.wrapping_add(1);
            }
            h = (*h).tree_entry.left;
        }
    }
    unlock();
    // SAFETY: writing this thread's own errno slot.
    unsafe { *libc::__errno_location() = saved_errno };
}

fn register_handler(signum: c_int, oneshot: bool) -> c_int {
    // SAFETY: struct sigaction is plain data for which all-zero is valid.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `sa.sa_mask` is a local set.
    unsafe { libc::sigfillset(&mut sa.sa_mask) };
    sa.sa_sigaction = on_signal as extern "C" fn(c_int) as usize;
    sa.sa_flags = libc::SA_RESTART;
    if oneshot {
        sa.sa_flags |= libc::SA_RESETHAND;
    }
    // SAFETY: `sa` is a complete sigaction whose handler, on_signal, is
    // async-signal-safe (a pipe lock, write(2), errno restored).
    if unsafe { libc::sigaction(signum, &sa, std::ptr::null_mut()) } != 0 {
        return -errno();
    }
    0
}

fn restore_default(signum: c_int) {
    // SAFETY: struct sigaction is plain data for which all-zero is valid.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = libc::SIG_DFL;
    // SAFETY: `sa` is a complete sigaction asking for the default action.
    unsafe { libc::sigaction(signum, &sa, std::ptr::null_mut()) };
}

/// Whether any handle in the list for `signum` is not one-shot, and
/// whether there is any handle at all.
///
/// # Safety
/// The caller holds the lock (block_and_lock), so every handle in the list
/// is live and no one else changes the list; `signum` < NSIG.
unsafe fn survey(signum: usize) -> (bool, bool) {
    let mut h = WATCHERS[signum].load(Ordering::Acquire);
    let any = !h.is_null();
    while !h.is_null() {
        // SAFETY: `h` is in the list, hence live (contract above); its link
        // and color are written only under the lock, which we hold. (Not its
        // h.flags: another loop's thread may be changing them right now.)
        unsafe {
            if (*h).tree_entry.color == 0 {
                return (any, true);
            }
            h = (*h).tree_entry.left;
        }
    }
    (any, false)
}

/// The loop's signal pipe watcher: calls back the handles whose messages it
/// reads.
///
/// # Safety
/// `loop_` is a live loop whose signal pipe is open (its watcher is started
/// only then, and the pipe is closed only after the watcher).
unsafe extern "C" fn on_pipe(loop_: *mut uv_loop_t, _w: *mut uv__io_t, _events: c_uint) {
    const N: usize = 32;
    let msz = std::mem::size_of::<Msg>();
    let mut buf = [0u8; N * std::mem::size_of::<Msg>()];
    let mut bytes = 0usize;
    loop {
        // SAFETY: the loop is live (contract above); the read lands in the
        // `buf.len() - bytes` bytes of `buf` after the first `bytes`.
        let r = unsafe {
            libc::read(
                (*loop_).signal_pipefd[0],
                buf.as_mut_ptr().add(bytes) as *mut c_void,
                buf.len() - bytes,
            )
        };
        if r < 0 {
            let e = errno();
            if e == libc::EINTR || ((e == libc::EAGAIN) && bytes > 0) {
                // A message is half read: its other half is on its way.
                continue;
            }
            return;
        }
        if r == 0 {
            return;
        }
        bytes += r as usize;
        let end = bytes / msz * msz;
        let mut off = 0;
        while off < end {
            // SAFETY: `off + msz <= end <= bytes`: a whole message on_signal
            // wrote (pipe writes of this size are atomic); read unaligned.
            let msg = unsafe { std::ptr::read_unaligned(buf.as_ptr().add(off) as *const Msg) };
            off += msz;
            let h = msg.handle;
            // SAFETY: a handle with a message in flight stays allocated:
            // its caught_signals counted the message, and uv_close holds
            // back the close callback (after which it may be freed) until
            // dispatched_signals, bumped only below, catches up. So `h` is
            // still live after its callback, even if that closed it.
            unsafe {
                if msg.signum == (*h).signum {
                    if let Some(cb) = (*h).signal_cb {
                        cb(h, (*h).signum);
                    }
                }
                (*h).dispatched_signals = (*h).dispatched_signals.wrapping_add(1);
                if (*h).h.flags & SIGNAL_ONE_SHOT != 0 {
                    stop(h);
                }
            }
        }
        bytes -= end;
        if bytes > 0 {
            buf.copy_within(end..end + bytes, 0);
            continue;
        }
        if end != buf.len() {
            return;
        }
    }
}

/// Opens the loop's signal pipe and starts its watcher.
///
/// # Safety
/// `loop_` is a live, initialised loop with no signal pipe open.
unsafe fn make_pipe(loop_: *mut uv_loop_t) -> c_int {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has the two ints pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return -errno();
    }
    // SAFETY: `loop_` is live (contract above); the watcher is its own field.
    unsafe {
        (*loop_).signal_pipefd = fds;
        watcher::init(&mut (*loop_).signal_io_watcher, Some(on_pipe), fds[0]);
        watcher::start(loop_, &mut (*loop_).signal_io_watcher, watcher::POLLIN);
    }
    0
}

/// # Safety
/// `loop_` is a live, initialised loop.
unsafe fn loop_once_init(loop_: *mut uv_loop_t) -> c_int {
    global_init();
    // SAFETY: `loop_` is live (contract above) and has no pipe when we make one.
    unsafe {
        if (*loop_).signal_pipefd[0] != -1 {
            return 0;
        }
        make_pipe(loop_)
    }
}

/// A forked child gets its own signal pipe; counts start over.
///
/// # Safety
/// `loop_` is a live loop, in the child after fork, on its own thread.
pub unsafe fn loop_fork(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_` is live (contract above); its pipe descriptors are its
    // own, closed once here; the handle queue links live handles only.
    unsafe {
        if (*loop_).signal_pipefd[0] == -1 {
            return 0;
        }
        watcher::stop(loop_, &mut (*loop_).signal_io_watcher, watcher::POLLIN);
        libc::close((*loop_).signal_pipefd[0]);
        libc::close((*loop_).signal_pipefd[1]);
        (*loop_).signal_pipefd = [-1, -1];
        let head: *mut uv__queue = &mut (*loop_).handle_queue;
        let mut q = (*head).next;
        while q != head {
            let h = crate::container_of!(q, uv_handle_t, handle_queue);
            if (*h).type_ == UV_SIGNAL {
                let s = h as *mut uv_signal_t;
                (*s).caught_signals = 0;
                (*s).dispatched_signals = 0;
            }
            q = (*q).next;
        }
        make_pipe(loop_)
    }
}

/// Closes the loop's signal pipe (uv_loop_close).
///
/// # Safety
/// `loop_` is a live loop with no signal handle left (uv_loop_close).
pub unsafe fn loop_close(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is live and no handle's messages can target its pipe
    // any more (contract above); the descriptors are its own.
    unsafe {
        if (*loop_).signal_pipefd[0] == -1 {
            return;
        }
        watcher::close(loop_, &mut (*loop_).signal_io_watcher);
        libc::close((*loop_).signal_pipefd[0]);
        libc::close((*loop_).signal_pipefd[1]);
        (*loop_).signal_pipefd = [-1, -1];
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_init(loop_: *mut uv_loop_t, h: *mut uv_signal_t) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `loop_` is a live, initialised loop and `h` points to
    // writable storage for a uv_signal_t that outlives the handle (uv.h).
    unsafe {
        let err = loop_once_init(loop_);
        if err != 0 {
            return err;
        }
        handle::init(loop_, h as *mut uv_handle_t, UV_SIGNAL);
        (*h).signum = 0;
        (*h).signal_cb = None;
        (*h).caught_signals = 0;
        (*h).dispatched_signals = 0;
        (*h).tree_entry.left = std::ptr::null_mut();
        (*h).tree_entry.color = 0;
    }
    0
}

/// uv_signal_start and uv_signal_start_oneshot.
///
/// # Safety
/// `h` is a live uv_signal_t initialised with uv_signal_init, used on its
/// loop's thread.
unsafe fn start(h: *mut uv_signal_t, cb: uv_signal_cb, signum: c_int, oneshot: bool) -> c_int {
    // SAFETY: `h` is live (contract above).
    unsafe {
        if handle::is_closing(h as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        if signum <= 0 || signum as usize >= NSIG {
            return -libc::EINVAL;
        }
        if signum == (*h).signum {
            (*h).signal_cb = cb;
            return 0;
        }
        if (*h).signum != 0 {
            stop(h);
        }
    }
    let saved = block_and_lock();
    // SAFETY: we hold the lock and 0 < signum < NSIG.
    let (any, any_persistent) = unsafe { survey(signum as usize) };
    // (Re)install when nobody watches yet, or when this is the first handle
    // that wants more than one delivery.
    if !any || (!oneshot && !any_persistent) {
        let err = register_handler(signum, oneshot);
        if err != 0 {
            unlock_and_unblock(&saved);
            return err;
        }
    }
    // SAFETY: `h` is live and, being stopped, in no list: the handler cannot
    // see it until it is published below, under the lock we hold.
    unsafe {
        (*h).signum = signum;
        if oneshot {
            (*h).h.flags |= SIGNAL_ONE_SHOT;
        } else {
            (*h).h.flags &= !SIGNAL_ONE_SHOT;
        }
        (*h).tree_entry.color = oneshot as c_int;
        (*h).tree_entry.left = WATCHERS[signum as usize].load(Ordering::Acquire);
    }
    WATCHERS[signum as usize].store(h, Ordering::Release);
    unlock_and_unblock(&saved);
    // SAFETY: `h` is live; the handler touches only its counters and link.
    unsafe {
        (*h).signal_cb = cb;
        handle::start(h as *mut uv_handle_t);
    }
    0
}

/// Unlinks `h` from its signal's list and restores the process's handler
/// when no handle needs it any more.
///
/// # Safety
/// `h` is a live uv_signal_t initialised with uv_signal_init, used on its
/// loop's thread.
unsafe fn stop(h: *mut uv_signal_t) {
    // SAFETY: `h` is live (contract above).
    let signum = unsafe { (*h).signum };
    if signum == 0 {
        return;
    }
    let saved = block_and_lock();
    let slot = &WATCHERS[signum as usize];
    let mut prev: *mut uv_signal_t = std::ptr::null_mut();
    let mut cur = slot.load(Ordering::Acquire);
    // SAFETY: we hold the lock, so the list's handles are live and only we
    // change their links; `h` is live (contract above); a started handle's
    // signum is in 1..NSIG.
    unsafe {
        while !cur.is_null() && cur != h {
            prev = cur;
            cur = (*cur).tree_entry.left;
        }
        if !cur.is_null() {
            let next = (*h).tree_entry.left;
            if prev.is_null() {
                slot.store(next, Ordering::Release);
            } else {
                (*prev).tree_entry.left = next;
            }
        }
        (*h).tree_entry.left = std::ptr::null_mut();
        let (any, any_persistent) = survey(signum as usize);
        if !any {
            restore_default(signum);
        } else if !any_persistent && (*h).h.flags & SIGNAL_ONE_SHOT == 0 {
            // Only one-shot watchers remain: the next delivery resets the handler.
            register_handler(signum, true);
        }
    }
    unlock_and_unblock(&saved);
    // SAFETY: `h` is live, and now out of the handler's reach.
    unsafe {
        (*h).signum = 0;
        handle::stop(h as *mut uv_handle_t);
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_start(
    h: *mut uv_signal_t,
    cb: uv_signal_cb,
    signum: c_int,
) -> c_int {
    // SAFETY: `h` is a live uv_signal_t the caller initialised with
    // uv_signal_init (uv.h), used on its loop's thread.
    unsafe { start(h, cb, signum, false) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_start_oneshot(
    h: *mut uv_signal_t,
    cb: uv_signal_cb,
    signum: c_int,
) -> c_int {
    // SAFETY: `h` is a live uv_signal_t the caller initialised with
    // uv_signal_init (uv.h), used on its loop's thread.
    unsafe { start(h, cb, signum, true) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_stop(h: *mut uv_signal_t) -> c_int {
    // SAFETY: `h` is a live uv_signal_t the caller initialised with
    // uv_signal_init (uv.h), used on its loop's thread.
    unsafe {
        if handle::is_closing(h as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        stop(h);
    }
    0
}

/// uv_close's part for a signal handle.
///
/// # Safety
/// `h` is a live uv_signal_t initialised with uv_signal_init, being closed
/// on its loop's thread.
pub unsafe fn close(h: *mut uv_signal_t) {
    // SAFETY: the contract of `stop` is this function's own.
    unsafe { stop(h) };
}

/// Whether the close callback must wait: messages for this handle are still
/// in the pipe, and reading them after the user frees it would be fatal.
///
/// # Safety
/// `h` is a live uv_signal_t, already stopped (closing).
pub unsafe fn has_undelivered(h: *mut uv_signal_t) -> bool {
    // SAFETY: `h` is live; stopped, so the handler no longer writes its
    // counters (stop took the lock after the handler's last write).
    unsafe { (*h).caught_signals != (*h).dispatched_signals }
}

#[cfg(test)]
mod msg_tests {
    use super::*;

    /// What the handler writes to the pipe has no padding: every byte of a
    /// Msg is a field, and the last four are zero (compat/memcheck found
    /// uninitialised padding bytes written by on_signal).
    #[test]
    fn msg_has_no_uninitialised_padding() {
        assert_eq!(
            std::mem::size_of::<Msg>(),
            std::mem::size_of::<*mut uv_signal_t>() + 2 * std::mem::size_of::<c_int>()
        );
        let msg = Msg {
            handle: std::ptr::null_mut(),
            signum: -1,
            _pad: 0,
        };
        // SAFETY: Msg is 16 bytes with no padding (asserted above), every
        // byte initialised, and any bytes are a valid [u8; 16].
        let bytes: [u8; 16] = unsafe { std::mem::transmute(msg) };
        assert_eq!(&bytes[8..12], &(-1i32).to_ne_bytes());
        assert_eq!(&bytes[12..16], &[0, 0, 0, 0]);
    }
}
