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
use crate::sys::errno;
use crate::watcher;
use libc::{c_int, c_uint, c_void};
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use crate::handle::SIGNAL_ONE_SHOT;

const NSIG: usize = 65;

/// Per signal, the handles watching it, linked through `tree_entry.left`.
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
    unsafe {
        let old_rd = LOCK_RD.load(Ordering::Acquire);
        let old_wr = LOCK_WR.load(Ordering::Acquire);
        if old_rd >= 0 {
            libc::close(old_rd);
            libc::close(old_wr);
        }
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            libc::abort();
        }
        LOCK_RD.store(fds[0], Ordering::Release);
        LOCK_WR.store(fds[1], Ordering::Release);
    }
    unlock();
}

fn global_init() {
    GLOBAL_INIT.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(global_reinit));
        global_reinit();
    });
}

fn lock() -> bool {
    let mut c = 0u8;
    loop {
        let r = unsafe {
            libc::read(
                LOCK_RD.load(Ordering::Acquire),
                &mut c as *mut u8 as *mut c_void,
                1,
            )
        };
        if r == 1 {
            return true;
        }
        if r < 0 && errno() == libc::EINTR {
            continue;
        }
        return false;
    }
}

fn unlock() {
    let c = 42u8;
    loop {
        let r = unsafe {
            libc::write(
                LOCK_WR.load(Ordering::Acquire),
                &c as *const u8 as *const c_void,
                1,
            )
        };
        if r < 0 && errno() == libc::EINTR {
            continue;
        }
        return;
    }
}

/// Blocks every signal in this thread, then takes the lock.
fn block_and_lock() -> libc::sigset_t {
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut saved: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
        if !lock() {
            libc::abort();
        }
        saved
    }
}

fn unlock_and_unblock(saved: &libc::sigset_t) {
    unlock();
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, saved, std::ptr::null_mut()) };
}

extern "C" fn on_signal(signum: c_int) {
    let saved_errno = errno();
    if !lock() {
        unsafe { *libc::__errno_location() = saved_errno };
        return;
    }
    let mut h = WATCHERS
        .get(signum as usize)
        .map_or(std::ptr::null_mut(), |w| w.load(Ordering::Acquire));
    while !h.is_null() {
        unsafe {
            let msg = Msg {
                handle: h,
                signum,
                _pad: 0,
            };
            let fd = (*(*h).h.loop_).signal_pipefd[1];
            let r = loop {
                let r = libc::write(
                    fd,
                    &msg as *const Msg as *const c_void,
                    std::mem::size_of::<Msg>(),
                );
                if r < 0 && errno() == libc::EINTR {
                    continue;
                }
                break r;
            };
            // A full pipe drops the message (the loop is far behind anyway).
            if r >= 0 {
                (*h).caught_signals = (*h).caught_signals.wrapping_add(1);
            }
            h = (*h).tree_entry.left;
        }
    }
    unlock();
    unsafe { *libc::__errno_location() = saved_errno };
}

fn register_handler(signum: c_int, oneshot: bool) -> c_int {
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        libc::sigfillset(&mut sa.sa_mask);
        sa.sa_sigaction = on_signal as extern "C" fn(c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        if oneshot {
            sa.sa_flags |= libc::SA_RESETHAND;
        }
        if libc::sigaction(signum, &sa, std::ptr::null_mut()) != 0 {
            return -errno();
        }
    }
    0
}

fn restore_default(signum: c_int) {
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signum, &sa, std::ptr::null_mut());
    }
}

/// Whether any handle in the list for `signum` is not one-shot, and
/// whether there is any handle at all. Called with the lock held.
unsafe fn survey(signum: usize) -> (bool, bool) {
    let mut h = WATCHERS[signum].load(Ordering::Acquire);
    let any = !h.is_null();
    while !h.is_null() {
        if (*h).h.flags & SIGNAL_ONE_SHOT == 0 {
            return (any, true);
        }
        h = (*h).tree_entry.left;
    }
    (any, false)
}

unsafe extern "C" fn on_pipe(loop_: *mut uv_loop_t, _w: *mut uv__io_t, _events: c_uint) {
    const N: usize = 32;
    let msz = std::mem::size_of::<Msg>();
    let mut buf = [0u8; N * std::mem::size_of::<Msg>()];
    let mut bytes = 0usize;
    loop {
        let r = libc::read(
            (*loop_).signal_pipefd[0],
            buf.as_mut_ptr().add(bytes) as *mut c_void,
            buf.len() - bytes,
        );
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
            let msg = std::ptr::read_unaligned(buf.as_ptr().add(off) as *const Msg);
            off += msz;
            let h = msg.handle;
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

unsafe fn make_pipe(loop_: *mut uv_loop_t) -> c_int {
    let mut fds = [-1; 2];
    if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) != 0 {
        return -errno();
    }
    (*loop_).signal_pipefd = fds;
    watcher::init(&mut (*loop_).signal_io_watcher, Some(on_pipe), fds[0]);
    watcher::start(loop_, &mut (*loop_).signal_io_watcher, watcher::POLLIN);
    0
}

unsafe fn loop_once_init(loop_: *mut uv_loop_t) -> c_int {
    global_init();
    if (*loop_).signal_pipefd[0] != -1 {
        return 0;
    }
    make_pipe(loop_)
}

/// A forked child gets its own signal pipe; counts start over.
pub unsafe fn loop_fork(loop_: *mut uv_loop_t) -> c_int {
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

/// Closes the loop's signal pipe (uv_loop_close).
pub unsafe fn loop_close(loop_: *mut uv_loop_t) {
    if (*loop_).signal_pipefd[0] == -1 {
        return;
    }
    watcher::close(loop_, &mut (*loop_).signal_io_watcher);
    libc::close((*loop_).signal_pipefd[0]);
    libc::close((*loop_).signal_pipefd[1]);
    (*loop_).signal_pipefd = [-1, -1];
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_init(loop_: *mut uv_loop_t, h: *mut uv_signal_t) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
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
    0
}

unsafe fn start(h: *mut uv_signal_t, cb: uv_signal_cb, signum: c_int, oneshot: bool) -> c_int {
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
    let saved = block_and_lock();
    let (any, any_persistent) = survey(signum as usize);
    // (Re)install when nobody watches yet, or when this is the first handle
    // that wants more than one delivery.
    if !any || (!oneshot && !any_persistent) {
        let err = register_handler(signum, oneshot);
        if err != 0 {
            unlock_and_unblock(&saved);
            return err;
        }
    }
    (*h).signum = signum;
    if oneshot {
        (*h).h.flags |= SIGNAL_ONE_SHOT;
    } else {
        (*h).h.flags &= !SIGNAL_ONE_SHOT;
    }
    (*h).tree_entry.left = WATCHERS[signum as usize].load(Ordering::Acquire);
    WATCHERS[signum as usize].store(h, Ordering::Release);
    unlock_and_unblock(&saved);
    (*h).signal_cb = cb;
    handle::start(h as *mut uv_handle_t);
    0
}

unsafe fn stop(h: *mut uv_signal_t) {
    let signum = (*h).signum;
    if signum == 0 {
        return;
    }
    let saved = block_and_lock();
    let slot = &WATCHERS[signum as usize];
    let mut prev: *mut uv_signal_t = std::ptr::null_mut();
    let mut cur = slot.load(Ordering::Acquire);
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
    unlock_and_unblock(&saved);
    (*h).signum = 0;
    handle::stop(h as *mut uv_handle_t);
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_start(
    h: *mut uv_signal_t,
    cb: uv_signal_cb,
    signum: c_int,
) -> c_int {
    start(h, cb, signum, false)
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_start_oneshot(
    h: *mut uv_signal_t,
    cb: uv_signal_cb,
    signum: c_int,
) -> c_int {
    start(h, cb, signum, true)
}

#[no_mangle]
pub unsafe extern "C" fn uv_signal_stop(h: *mut uv_signal_t) -> c_int {
    if handle::is_closing(h as *const uv_handle_t) {
        return -libc::EINVAL;
    }
    stop(h);
    0
}

pub unsafe fn close(h: *mut uv_signal_t) {
    stop(h);
}

/// Whether the close callback must wait: messages for this handle are still
/// in the pipe, and reading them after the user frees it would be fatal.
pub unsafe fn has_undelivered(h: *mut uv_signal_t) -> bool {
    (*h).caught_signals != (*h).dispatched_signals
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
        let bytes: [u8; 16] = unsafe { std::mem::transmute(msg) };
        assert_eq!(&bytes[8..12], &(-1i32).to_ne_bytes());
        assert_eq!(&bytes[12..16], &[0, 0, 0, 0]);
    }
}
