//! Descriptor watchers (`uv__io_t`), part of the loop core: what streams,
//! polls, UDP handles and the loop's own signal/inotify descriptors use to be
//! told about readiness by the loop's epoll set.
//!
//! Level-triggered, one watcher per descriptor per loop, as in libuv. Changes
//! of interest are queued on `loop->watcher_queue` and handed to the kernel
//! just before the next wait, so a callback that stops and restarts a watcher
//! costs no system call.

use crate::abi::*;
use crate::backend::Event;
use crate::loop_::inner;
use crate::queue;
use crate::sys::{errno, retry_eintr};
use libc::{c_int, c_uint};

pub const POLLIN: c_uint = libc::POLLIN as c_uint;
pub const POLLPRI: c_uint = libc::POLLPRI as c_uint;
pub const POLLOUT: c_uint = libc::POLLOUT as c_uint;
pub const POLLERR: c_uint = libc::POLLERR as c_uint;
pub const POLLHUP: c_uint = libc::POLLHUP as c_uint;
pub const POLLRDHUP: c_uint = libc::EPOLLRDHUP as c_uint;
pub const ALL: c_uint = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;

/// Sets up `w` for `fd`, watching nothing yet.
///
/// # Safety
/// `w` points to a writable uv__io_t that is in no queue.
pub unsafe fn init(w: *mut uv__io_t, cb: uv__io_cb, fd: c_int) {
    // SAFETY: the caller's contract; the queue nodes are self-linked anew.
    unsafe {
        queue::init(&mut (*w).pending_queue);
        queue::init(&mut (*w).watcher_queue);
        (*w).cb = cb;
        (*w).fd = fd;
        (*w).events = 0;
        (*w).pevents = 0;
    }
}

/// The watcher registered for `fd` (null when none); None when `fd` is
/// beyond the table, i.e. was never started in this loop.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
unsafe fn slot(loop_: *mut uv_loop_t, fd: c_int) -> Option<*mut uv__io_t> {
    // SAFETY: the contract: the loop's LoopInner is live, and only this
    // thread touches the table; the borrow ends before this fn returns.
    let table = unsafe { &(*inner(loop_)).watchers };
    table.get(usize::try_from(fd).ok()?).copied()
}

/// Adds `events` to what `w` waits for.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread; `w` is a watcher
/// set up by `init`, alive (inside its handle) while it is started.
pub unsafe fn start(loop_: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
    // SAFETY: the contract: `w`, the loop and its LoopInner (a separate
    // allocation, so `table` aliases nothing else touched here) are live and
    // this thread's; no callback runs while `table` is borrowed.
    unsafe {
        let Ok(fd) = usize::try_from((*w).fd) else {
            return;
        };
        (*w).pevents |= events;
        let table = &mut (*inner(loop_)).watchers;
        if table.len() <= fd {
            table.resize(fd + 1, std::ptr::null_mut());
        }
        if (*w).events == (*w).pevents {
            return;
        }
        if queue::is_empty(&(*w).watcher_queue) {
            queue::insert_tail(&mut (*loop_).watcher_queue, &mut (*w).watcher_queue);
        }
        if table[fd].is_null() {
            table[fd] = w;
            (*loop_).nfds += 1;
        }
    }
}

/// Removes `events` from what `w` waits for.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread; `w` is a watcher
/// set up by `init`, alive (inside its handle) while it is started.
pub unsafe fn stop(loop_: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
    // SAFETY: the contract: `w`, the loop and its LoopInner are live and
    // this thread's; `entry` is compared, not dereferenced; the fd indexes
    // the table because slot() found it there.
    unsafe {
        if (*w).fd < 0 {
            return;
        }
        let Some(entry) = slot(loop_, (*w).fd) else {
            // Never started.
            return;
        };
        (*w).pevents &= !events;
        if (*w).pevents == 0 {
            queue::remove(&mut (*w).watcher_queue);
            (*w).events = 0;
            if std::ptr::eq(entry, w) {
                let table = &mut (*inner(loop_)).watchers;
                table[(*w).fd as usize] = std::ptr::null_mut();
                (*loop_).nfds -= 1;
            }
        } else if queue::is_empty(&(*w).watcher_queue) {
            queue::insert_tail(&mut (*loop_).watcher_queue, &mut (*w).watcher_queue);
        }
    }
}

/// Stops `w` for good: no callback for events already collected either.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread; `w` is a watcher
/// set up by `init`, alive (inside its handle) while it is started.
pub unsafe fn close(loop_: *mut uv_loop_t, w: *mut uv__io_t) {
    // SAFETY: the contract, passed on; `w` is live for the whole call.
    unsafe {
        stop(loop_, w, ALL);
        queue::remove(&mut (*w).pending_queue);
        if (*w).fd >= 0 {
            invalidate_fd(loop_, (*w).fd);
        }
    }
}

/// Queues `w`'s callback for the loop's pending phase.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread; `w` is a watcher
/// set up by `init`, alive (inside its handle) while it is started.
pub unsafe fn feed(loop_: *mut uv_loop_t, w: *mut uv__io_t) {
    // SAFETY: the contract: `w` and the loop's pending queue are live and
    // only this thread changes them.
    unsafe {
        if queue::is_empty(&(*w).pending_queue) {
            queue::insert_tail(&mut (*loop_).pending_queue, &mut (*w).pending_queue);
        }
    }
}

/// Whether `w` waits for any of `events`.
///
/// # Safety
/// `w` points to a watcher set up by `init`.
pub unsafe fn is_active(w: *const uv__io_t, events: c_uint) -> bool {
    // SAFETY: the contract: `w` is readable.
    unsafe { (*w).pevents & events != 0 }
}

/// Forgets `fd`: drops its events from the batch being dispatched and takes
/// it out of the kernel's interest set now, before the number can be reused.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn invalidate_fd(loop_: *mut uv_loop_t, fd: c_int) {
    // SAFETY: the contract: LoopInner is live. `batch` is empty or the slice
    // loop_::dispatch is walking (it set it and reads it only through the
    // same raw pointer, one entry at a time), so i < len stays inside it and
    // no reference to an entry is alive while it is overwritten.
    unsafe {
        let li = inner(loop_);
        let batch = (*li).batch;
        let base = batch as *mut Event;
        for i in 0..batch.len() {
            let ev = base.add(i);
            if matches!(*ev, Event::Io { fd: f, .. } if f == fd) {
                *ev = Event::Void;
            }
        }
        (*li).backend.remove(fd);
    }
}

/// Whether the kernel can watch `fd` at all (regular files cannot be).
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn check_fd(loop_: *mut uv_loop_t, fd: c_int) -> c_int {
    // SAFETY: the contract: the loop's LoopInner and its backend are live.
    let r = unsafe { (*inner(loop_)).backend.check_fd(fd) };
    match r {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// Hands queued interest changes to the kernel; called before each wait.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn flush(loop_: *mut uv_loop_t) {
    // SAFETY: the contract: the loop is live; every node on its watcher
    // queue is the `watcher_queue` of a live watcher (stop and close unlink
    // it before the handle can go), and no callback runs in this loop.
    unsafe {
        let head: *mut uv__queue = &mut (*loop_).watcher_queue;
        while !queue::is_empty(head) {
            let q = queue::head(head);
            queue::remove(q);
            let w = crate::container_of!(q, uv__io_t, watcher_queue);
            if (*w).events == (*w).pevents {
                // Stopped and restarted (or a stop of events it did not have, as
                // a drained write queue does) since the kernel last heard: the
                // registration is already right. One system call per round trip
                // saved on a ping-pong, where libuv makes it.
                continue;
            }
            (*w).events = (*w).pevents;
            (*inner(loop_)).backend.stage((*w).fd, (*w).pevents);
        }
        // A failure here means the descriptor was closed behind our back;
        // libuv aborts, we leave it to the next read/write to report.
        (*inner(loop_)).backend.commit();
    }
}

/// Delivers one readiness event from the kernel to its watcher.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn dispatch(loop_: *mut uv_loop_t, fd: c_int, mut events: c_uint) -> bool {
    // SAFETY: the contract: the loop is live; a non-null table entry is a
    // started watcher, alive until stop() clears the entry; nothing of `w`
    // is read after the callback, which may close and free its handle.
    unsafe {
        let w = match slot(loop_, fd) {
            Some(entry) if !entry.is_null() => entry,
            _ => {
                // Stopped watching since: take it out of the interest set.
                (*inner(loop_)).backend.remove(fd);
                return false;
            }
        };
        events &= (*w).pevents | POLLERR | POLLHUP;
        // epoll may report only ERR or HUP; let the reader/writer see the error.
        if events == POLLERR || events == POLLHUP {
            events |= (*w).pevents & (POLLIN | POLLOUT | POLLRDHUP | POLLPRI);
        }
        if events == 0 {
            return false;
        }
        if let Some(cb) = (*w).cb {
            cb(loop_, w, events);
        }
    }
    true
}

/// Whether some watcher of this loop already owns `fd`.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn fd_exists(loop_: *mut uv_loop_t, fd: c_int) -> bool {
    // SAFETY: the contract, passed on.
    matches!(unsafe { slot(loop_, fd) }, Some(entry) if !entry.is_null())
}

/// The watcher that owns `fd` in this loop, if any.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn owner(loop_: *mut uv_loop_t, fd: c_int) -> *mut uv__io_t {
    // SAFETY: the contract, passed on.
    unsafe { slot(loop_, fd) }.unwrap_or(std::ptr::null_mut())
}

/// Puts `fd` in (or out of) non-blocking mode.
pub fn set_nonblock(fd: c_int, on: bool) -> c_int {
    let mut v: c_int = on as c_int;
    // SAFETY: FIONBIO reads one int, `v`, a local; a bad fd only fails.
    let r = retry_eintr(|| unsafe { libc::ioctl(fd, libc::FIONBIO, &mut v) });
    if r == 0 {
        return 0;
    }
    let e = errno();
    if e != libc::ENOTTY {
        return -e;
    }
    // Some descriptors refuse the ioctl; fcntl works on all of them.
    set_fd_flag(fd, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK, on)
}

/// Sets or clears close-on-exec on `fd`.
pub fn set_cloexec(fd: c_int, on: bool) -> c_int {
    set_fd_flag(fd, libc::F_GETFD, libc::F_SETFD, libc::FD_CLOEXEC, on)
}

/// Sets or clears `flag` in the flags fcntl's `get` reads and `set` writes
/// (F_GETFL/F_SETFL or F_GETFD/F_SETFD); no write when nothing changes.
fn set_fd_flag(fd: c_int, get: c_int, set: c_int, flag: c_int, on: bool) -> c_int {
    // SAFETY: the get commands take no argument; a bad fd only fails.
    let flags = unsafe { libc::fcntl(fd, get) };
    if flags < 0 {
        return -errno();
    }
    let new = if on { flags | flag } else { flags & !flag };
    // SAFETY: the set commands take an int; a bad fd only fails.
    if new != flags && unsafe { libc::fcntl(fd, set, new) } < 0 {
        return -errno();
    }
    0
}
