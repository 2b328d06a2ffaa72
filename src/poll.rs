//! uv_poll_*: tell the user when an arbitrary descriptor becomes readable,
//! writable, disconnected or has priority data. Level-triggered.

use crate::abi::*;
use crate::handle;
use crate::watcher::{self, POLLERR, POLLIN, POLLOUT, POLLPRI, POLLRDHUP};
use libc::{c_int, c_uint};

pub const UV_READABLE: c_int = 1;
pub const UV_WRITABLE: c_int = 2;
pub const UV_DISCONNECT: c_int = 4;
pub const UV_PRIORITIZED: c_int = 8;

/// The watcher callback of every poll handle.
///
/// # Safety
/// `loop_` is the live loop and `w` the `io_watcher` of a live `uv_poll_t`
/// of that loop (the loop's dispatch passes only registered watchers).
unsafe extern "C" fn on_io(loop_: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
    // SAFETY: `w` is the `io_watcher` field of a uv_poll_t (contract above).
    let h = unsafe { crate::container_of!(w, uv_poll_t, io_watcher) };
    // sysfs reports POLLERR|POLLPRI for a change: only a bare POLLERR is an error.
    if events & POLLERR != 0 && events & POLLPRI == 0 {
        // SAFETY: `h` is live until its callback runs; nothing of it is
        // touched after the callback, which may close or free it.
        unsafe {
            watcher::stop(loop_, w, watcher::ALL);
            handle::stop(h as *mut uv_handle_t);
            if let Some(cb) = (*h).poll_cb {
                cb(h, -libc::EBADF, 0);
            }
        }
        return;
    }
    let mut pevents = 0;
    if events & POLLIN != 0 {
        pevents |= UV_READABLE;
    }
    if events & POLLPRI != 0 {
        pevents |= UV_PRIORITIZED;
    }
    if events & POLLOUT != 0 {
        pevents |= UV_WRITABLE;
    }
    if events & POLLRDHUP != 0 {
        pevents |= UV_DISCONNECT;
    }
    // SAFETY: `h` is live (contract above); it is not touched after the
    // callback, which may close or free it.
    unsafe {
        if let Some(cb) = (*h).poll_cb {
            cb(h, 0, pevents);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_poll_init(
    loop_: *mut uv_loop_t,
    h: *mut uv_poll_t,
    fd: c_int,
) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `loop_` is a live, initialised loop and `h` points to
    // writable storage for a uv_poll_t that outlives the handle (uv.h).
    unsafe {
        if watcher::fd_exists(loop_, fd) {
            return -libc::EEXIST;
        }
        let err = watcher::check_fd(loop_, fd);
        if err != 0 {
            return err;
        }
        let err = watcher::set_nonblock(fd, true);
        if err != 0 {
            return err;
        }
        handle::init(loop_, h as *mut uv_handle_t, UV_POLL);
        watcher::init(&mut (*h).io_watcher, Some(on_io), fd);
        (*h).poll_cb = None;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_poll_init_socket(
    loop_: *mut uv_loop_t,
    h: *mut uv_poll_t,
    fd: c_int,
) -> c_int {
    // SAFETY: the same contract as uv_poll_init, passed on unchanged.
    unsafe { uv_poll_init(loop_, h, fd) }
}

/// # Safety
/// `h` is a live uv_poll_t initialised with uv_poll_init, on a live loop.
unsafe fn stop(h: *mut uv_poll_t) {
    // SAFETY: `h` and its loop are live (contract above).
    unsafe {
        let loop_ = (*h).h.loop_;
        watcher::stop(loop_, &mut (*h).io_watcher, watcher::ALL);
        handle::stop(h as *mut uv_handle_t);
        if (*h).io_watcher.fd >= 0 {
            watcher::invalidate_fd(loop_, (*h).io_watcher.fd);
        }
    }
}

/// uv_close's part for a poll handle.
///
/// # Safety
/// `h` is a live uv_poll_t initialised with uv_poll_init, being closed.
pub unsafe fn close(h: *mut uv_poll_t) {
    // SAFETY: the contract of `stop` is this function's own.
    unsafe { stop(h) };
}

#[no_mangle]
pub unsafe extern "C" fn uv_poll_stop(h: *mut uv_poll_t) -> c_int {
    // SAFETY: `h` is a live uv_poll_t the caller initialised with
    // uv_poll_init (uv.h).
    unsafe {
        if handle::is_closing(h as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        stop(h);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_poll_start(
    h: *mut uv_poll_t,
    pevents: c_int,
    cb: Option<unsafe extern "C" fn(*mut uv_poll_t, c_int, c_int)>,
) -> c_int {
    if pevents & !(UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED) != 0 {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is a live uv_poll_t the caller initialised with
    // uv_poll_init (uv.h); its loop outlives it.
    unsafe {
        if handle::is_closing(h as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        let loop_ = (*h).h.loop_;
        let w: *mut uv__io_t = &mut (*h).io_watcher;
        let owner = watcher::owner(loop_, (*w).fd);
        if !owner.is_null() && owner != w {
            return -libc::EEXIST;
        }
        stop(h);
    }
    if pevents == 0 {
        return 0;
    }
    let mut events = 0;
    if pevents & UV_READABLE != 0 {
        events |= POLLIN;
    }
    if pevents & UV_PRIORITIZED != 0 {
        events |= POLLPRI;
    }
    if pevents & UV_WRITABLE != 0 {
        events |= POLLOUT;
    }
    if pevents & UV_DISCONNECT != 0 {
        events |= POLLRDHUP;
    }
    // SAFETY: as above: `h` is a live poll handle of a live loop.
    unsafe {
        let loop_ = (*h).h.loop_;
        watcher::start(loop_, &mut (*h).io_watcher, events);
        handle::start(h as *mut uv_handle_t);
        (*h).poll_cb = cb;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::MaybeUninit;

    /// A negative descriptor is EBADF: check_fd's epoll probe answers it, as
    /// libuv's does. The handle is left uninitialised, so the loop closes
    /// with nothing on it.
    #[test]
    fn negative_fd_is_ebadf() {
        let mut lp = MaybeUninit::<uv_loop_t>::zeroed();
        let mut h = MaybeUninit::<uv_poll_t>::zeroed();
        // SAFETY: `lp` and `h` are zeroed storage alive for the whole test;
        // the loop is initialised before use and closed at the end.
        unsafe {
            let lp = lp.as_mut_ptr();
            assert_eq!(crate::loop_::uv_loop_init(lp), 0);
            assert_eq!(uv_poll_init(lp, h.as_mut_ptr(), -1), -libc::EBADF);
            assert_eq!(uv_poll_init_socket(lp, h.as_mut_ptr(), -7), -libc::EBADF);
            assert_eq!(uv_poll_init(lp, std::ptr::null_mut(), 0), -libc::EINVAL);
            assert_eq!(crate::loop_::uv_loop_close(lp), 0);
        }
    }
}
