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
use libc::{c_int, c_uint};

pub const POLLIN: c_uint = libc::POLLIN as c_uint;
pub const POLLPRI: c_uint = libc::POLLPRI as c_uint;
pub const POLLOUT: c_uint = libc::POLLOUT as c_uint;
pub const POLLERR: c_uint = libc::POLLERR as c_uint;
pub const POLLHUP: c_uint = libc::POLLHUP as c_uint;
pub const POLLRDHUP: c_uint = libc::EPOLLRDHUP as c_uint;
pub const ALL: c_uint = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;

pub unsafe fn init(w: *mut uv__io_t, cb: uv__io_cb, fd: c_int) {
    queue::init(&mut (*w).pending_queue);
    queue::init(&mut (*w).watcher_queue);
    (*w).cb = cb;
    (*w).fd = fd;
    (*w).events = 0;
    (*w).pevents = 0;
}

/// The watcher registered for `fd` (null when none); None when `fd` is
/// beyond the table, i.e. was never started in this loop.
unsafe fn slot(loop_: *mut uv_loop_t, fd: c_int) -> Option<*mut uv__io_t> {
    let table = &(*inner(loop_)).watchers;
    table.get(usize::try_from(fd).ok()?).copied()
}

/// Adds `events` to what `w` waits for.
pub unsafe fn start(loop_: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
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

/// Removes `events` from what `w` waits for.
pub unsafe fn stop(loop_: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
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

/// Stops `w` for good: no callback for events already collected either.
pub unsafe fn close(loop_: *mut uv_loop_t, w: *mut uv__io_t) {
    stop(loop_, w, ALL);
    queue::remove(&mut (*w).pending_queue);
    if (*w).fd >= 0 {
        invalidate_fd(loop_, (*w).fd);
    }
}

/// Queues `w`'s callback for the loop's pending phase.
pub unsafe fn feed(loop_: *mut uv_loop_t, w: *mut uv__io_t) {
    if queue::is_empty(&(*w).pending_queue) {
        queue::insert_tail(&mut (*loop_).pending_queue, &mut (*w).pending_queue);
    }
}

pub unsafe fn is_active(w: *const uv__io_t, events: c_uint) -> bool {
    (*w).pevents & events != 0
}

/// Forgets `fd`: drops its events from the batch being dispatched and takes
/// it out of the kernel's interest set now, before the number can be reused.
pub unsafe fn invalidate_fd(loop_: *mut uv_loop_t, fd: c_int) {
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

/// Whether the kernel can watch `fd` at all (regular files cannot be).
pub unsafe fn check_fd(loop_: *mut uv_loop_t, fd: c_int) -> c_int {
    let li = inner(loop_);
    match (*li).backend.check_fd(fd) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// Hands queued interest changes to the kernel; called before each wait.
pub unsafe fn flush(loop_: *mut uv_loop_t) {
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
        let fresh = (*w).events == 0;
        (*w).events = (*w).pevents;
        // A failure here means the descriptor was closed behind our back;
        // libuv aborts, we leave it to the next read/write to report.
        let _ = (*inner(loop_)).backend.set((*w).fd, (*w).pevents, fresh);
    }
}

/// Delivers one readiness event from the kernel to its watcher.
pub unsafe fn dispatch(loop_: *mut uv_loop_t, fd: c_int, mut events: c_uint) -> bool {
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
    true
}

/// Whether some watcher of this loop already owns `fd`.
pub unsafe fn fd_exists(loop_: *mut uv_loop_t, fd: c_int) -> bool {
    matches!(slot(loop_, fd), Some(entry) if !entry.is_null())
}

/// The watcher that owns `fd` in this loop, if any.
pub unsafe fn owner(loop_: *mut uv_loop_t, fd: c_int) -> *mut uv__io_t {
    slot(loop_, fd).unwrap_or(std::ptr::null_mut())
}

/// Puts `fd` in (or out of) non-blocking mode.
pub fn set_nonblock(fd: c_int, on: bool) -> c_int {
    let mut v: c_int = on as c_int;
    loop {
        let r = unsafe { libc::ioctl(fd, libc::FIONBIO, &mut v) };
        if r == 0 {
            return 0;
        }
        let e = unsafe { *libc::__errno_location() };
        if e == libc::EINTR {
            continue;
        }
        if e != libc::ENOTTY {
            return -e;
        }
        break;
    }
    // Some descriptors refuse the ioctl; fcntl works on all of them.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return -*libc::__errno_location();
        }
        let new = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        if new != flags && libc::fcntl(fd, libc::F_SETFL, new) < 0 {
            return -*libc::__errno_location();
        }
    }
    0
}

/// Sets or clears close-on-exec on `fd`.
pub fn set_cloexec(fd: c_int, on: bool) -> c_int {
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 {
            return -*libc::__errno_location();
        }
        let new = if on {
            flags | libc::FD_CLOEXEC
        } else {
            flags & !libc::FD_CLOEXEC
        };
        if new != flags && libc::fcntl(fd, libc::F_SETFD, new) < 0 {
            return -*libc::__errno_location();
        }
    }
    0
}
