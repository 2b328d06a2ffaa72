//! What every handle shares: init, active/ref accounting, close, walk, and
//! the small accessors of uv_handle_t.

use crate::abi::*;
use crate::queue;
use libc::{c_char, c_int, c_void, size_t};

// Every private bit of uv_handle_t::flags, in one table, with libuv's values
// (a flags dump compares with libuv's). Bits from 0x0100_0000 up mean
// different things for different handle types, as in libuv's own enum.

// Every handle.
pub const CLOSING: u32 = 0x1;
pub const CLOSED: u32 = 0x2;
pub const ACTIVE: u32 = 0x4;
pub const REF: u32 = 0x8;
pub const INTERNAL: u32 = 0x10;
// Streams (TCP, pipe, tty); BOUND and IPV6 also UDP.
pub const SHUT: u32 = 0x200;
pub const READ_PARTIAL: u32 = 0x400;
pub const READ_EOF: u32 = 0x800;
pub const READING: u32 = 0x1000;
pub const BOUND: u32 = 0x2000;
pub const READABLE: u32 = 0x4000;
pub const WRITABLE: u32 = 0x8000;
pub const BLOCKING_WRITES: u32 = 0x10_0000;
pub const IPV6: u32 = 0x40_0000;
// TCP only.
pub const TCP_NODELAY: u32 = 0x100_0000;
pub const TCP_KEEPALIVE: u32 = 0x200_0000;
// UDP only.
pub const UDP_PROCESSING: u32 = 0x100_0000;
pub const UDP_CONNECTED: u32 = 0x200_0000;
pub const UDP_RECVMMSG: u32 = 0x400_0000;
// Signal only: started with uv_signal_start_oneshot.
pub const SIGNAL_ONE_SHOT: u32 = 0x100_0000;

/// libuv's `uv__handle_init`: links the handle into its loop, referenced.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread, and `h`
/// writable memory for a handle of `type_` that is in no loop's handle list
/// (its list node is overwritten).
pub unsafe fn init(loop_: *mut uv_loop_t, h: *mut uv_handle_t, type_: uv_handle_type) {
    // SAFETY: `h` is writable and `loop_`'s handle list is live (the contract).
    unsafe {
        (*h).loop_ = loop_;
        (*h).type_ = type_;
        (*h).flags = REF;
        (*h).close_cb = None;
        (*h).next_closing = std::ptr::null_mut();
        (*h).u = [std::ptr::null_mut(); 4];
        queue::insert_tail(&mut (*loop_).handle_queue, &mut (*h).handle_queue);
    }
}

/// # Safety
/// `h` must point at a readable handle.
pub unsafe fn is_active(h: *const uv_handle_t) -> bool {
    // SAFETY: `h` is readable (the contract).
    unsafe { (*h).flags & ACTIVE != 0 }
}

/// # Safety
/// `h` must point at a readable handle.
pub unsafe fn is_closing(h: *const uv_handle_t) -> bool {
    // SAFETY: `h` is readable (the contract).
    unsafe { (*h).flags & (CLOSING | CLOSED) != 0 }
}

/// Marks `h` active, counting it on its loop if referenced.
///
/// # Safety
/// `h` must be a live handle initialised by [`init`], whose loop is live,
/// used on the loop's thread.
pub unsafe fn start(h: *mut uv_handle_t) {
    // SAFETY: `h` and its loop are live, and only this thread touches them
    // (the contract).
    unsafe {
        if (*h).flags & ACTIVE != 0 {
            return;
        }
        (*h).flags |= ACTIVE;
        if (*h).flags & REF != 0 {
            (*(*h).loop_).active_handles += 1;
        }
    }
}

/// Marks `h` inactive, uncounting it on its loop if referenced.
///
/// # Safety
/// As for [`start`].
pub unsafe fn stop(h: *mut uv_handle_t) {
    // SAFETY: `h` and its loop are live, and only this thread touches them
    // (the contract).
    unsafe {
        if (*h).flags & ACTIVE == 0 {
            return;
        }
        (*h).flags &= !ACTIVE;
        if (*h).flags & REF != 0 {
            (*(*h).loop_).active_handles -= 1;
        }
    }
}

/// # Safety
/// As for [`start`].
pub unsafe fn ref_(h: *mut uv_handle_t) {
    // SAFETY: `h` and its loop are live, and only this thread touches them
    // (the contract).
    unsafe {
        if (*h).flags & REF != 0 {
            return;
        }
        (*h).flags |= REF;
        if (*h).flags & CLOSING != 0 {
            return;
        }
        if (*h).flags & ACTIVE != 0 {
            (*(*h).loop_).active_handles += 1;
        }
    }
}

/// # Safety
/// As for [`start`].
pub unsafe fn unref(h: *mut uv_handle_t) {
    // SAFETY: `h` and its loop are live, and only this thread touches them
    // (the contract).
    unsafe {
        if (*h).flags & REF == 0 {
            return;
        }
        (*h).flags &= !REF;
        if (*h).flags & CLOSING != 0 {
            return;
        }
        if (*h).flags & ACTIVE != 0 {
            (*(*h).loop_).active_handles -= 1;
        }
    }
}

/// Queues the handle for its close callback in the next closing phase.
/// libuv runs these newest first; so do we.
///
/// # Safety
/// As for [`start`]; `h` must be closing and not already queued, and stay
/// alive until its close callback (uv.h's close contract).
pub unsafe fn make_close_pending(h: *mut uv_handle_t) {
    // SAFETY: `h` and its loop are live (the contract).
    unsafe {
        let loop_ = (*h).loop_;
        (*h).next_closing = (*loop_).closing_handles;
        (*loop_).closing_handles = h;
    }
}

/// The closing phase of a loop turn.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
pub unsafe fn run_closing(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is live (the contract).
    let mut p = unsafe { std::mem::replace(&mut (*loop_).closing_handles, std::ptr::null_mut()) };
    while !p.is_null() {
        // SAFETY: every handle on the detached chain is closing and kept
        // alive by its owner until its close callback (uv.h), which has not
        // run yet; `next` is read before `p`'s callback may free `p`, and no
        // callback can reach this detached chain (a nested uv_run sees only
        // handles closed after it was detached).
        unsafe {
            let next = (*p).next_closing;
            finish_close(p);
            p = next;
        }
    }
}

/// Completes the close of `h` and calls its close callback.
///
/// # Safety
/// `h` must be a closing handle taken off its loop's closing chain, alive
/// until its close callback; the loop live and this its thread.
unsafe fn finish_close(h: *mut uv_handle_t) {
    // SAFETY: `h` and its loop are live (the contract); the type says which
    // struct `h` heads; `h` is not touched after its callback.
    unsafe {
        if (*h).type_ == UV_SIGNAL && crate::signal::has_undelivered(h as *mut uv_signal_t) {
            // Let the loop read the messages still in the pipe first.
            make_close_pending(h);
            return;
        }
        (*h).flags |= CLOSED;
        match (*h).type_ {
            // Pending writes, connect and shutdown complete with UV_ECANCELED.
            UV_TCP | UV_NAMED_PIPE | UV_TTY => crate::stream::destroy(h as *mut uv_stream_t),
            UV_UDP => crate::udp::finish_close(h as *mut uv_udp_t),
            _ => {}
        }
        unref(h);
        queue::remove(&mut (*h).handle_queue);
        if let Some(cb) = (*h).close_cb {
            cb(h);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_close(h: *mut uv_handle_t, close_cb: uv_close_cb) {
    // SAFETY: `h` is NULL or a live handle the caller initialised with its
    // type's init (uv.h), kept alive until `close_cb`; its type says which
    // struct it heads.
    unsafe {
        if h.is_null() || is_closing(h) {
            // libuv asserts here; closing twice is a caller bug we survive.
            return;
        }
        (*h).flags |= CLOSING;
        (*h).close_cb = close_cb;
        match (*h).type_ {
            UV_TIMER => {
                crate::timer::uv_timer_stop(h as *mut uv_timer_t);
            }
            UV_IDLE | UV_PREPARE | UV_CHECK => {
                crate::loop_watcher::close(h as *mut uv_phase_handle_t)
            }
            UV_ASYNC => crate::async_::close(h as *mut uv_async_t),
            UV_POLL => crate::poll::close(h as *mut uv_poll_t),
            UV_TCP => crate::stream::close(h as *mut uv_stream_t),
            UV_NAMED_PIPE => crate::pipe::close(h as *mut uv_pipe_t),
            UV_TTY => crate::tty::close(h as *mut uv_tty_t),
            UV_SIGNAL => crate::signal::close(h as *mut uv_signal_t),
            UV_PROCESS => crate::process::close(h as *mut uv_process_t),
            UV_UDP => crate::udp::close(h as *mut uv_udp_t),
            UV_FS_EVENT => crate::fs_event::close(h as *mut uv_fs_event_t),
            UV_FS_POLL => {
                // Queues itself for the closing phase once its timer is closed.
                crate::fs_poll::close(h as *mut uv_fs_poll_t);
                return;
            }
            _ => stop(h),
        }
        make_close_pending(h);
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_is_active(h: *const uv_handle_t) -> c_int {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { is_active(h) as c_int }
}

#[no_mangle]
pub unsafe extern "C" fn uv_is_closing(h: *const uv_handle_t) -> c_int {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { is_closing(h) as c_int }
}

#[no_mangle]
pub unsafe extern "C" fn uv_ref(h: *mut uv_handle_t) {
    // SAFETY: `h` is a live, initialised handle of the caller's (uv.h).
    unsafe { ref_(h) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_unref(h: *mut uv_handle_t) {
    // SAFETY: `h` is a live, initialised handle of the caller's (uv.h).
    unsafe { unref(h) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_has_ref(h: *const uv_handle_t) -> c_int {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { ((*h).flags & REF != 0) as c_int }
}

/// Calls `cb` for every user handle of the loop. The list is detached first
/// so that handles closed or opened by the callback do not derail the walk.
#[no_mangle]
pub unsafe extern "C" fn uv_walk(loop_: *mut uv_loop_t, walk_cb: uv_walk_cb, arg: *mut c_void) {
    let Some(cb) = walk_cb else { return };
    // SAFETY: `loop_` is a live loop of the caller's (uv.h); every node on
    // its handle list is the `handle_queue` of a live handle (a handle
    // leaves the list in finish_close, before its close callback lets the
    // user free it); `h` is not touched after `cb`.
    unsafe {
        queue::for_each_requeued(std::ptr::addr_of_mut!((*loop_).handle_queue), |q| {
            let h = crate::container_of!(q, uv_handle_t, handle_queue);
            if (*h).flags & INTERNAL == 0 {
                cb(h, arg);
            }
        });
    }
}

const HANDLE_NAMES: [&[u8]; 17] = [
    b"async\0",
    b"check\0",
    b"fs_event\0",
    b"fs_poll\0",
    b"handle\0",
    b"idle\0",
    b"pipe\0",
    b"poll\0",
    b"prepare\0",
    b"process\0",
    b"stream\0",
    b"tcp\0",
    b"timer\0",
    b"tty\0",
    b"udp\0",
    b"signal\0",
    b"file\0",
];

#[no_mangle]
pub extern "C" fn uv_handle_type_name(type_: uv_handle_type) -> *const c_char {
    if (UV_ASYNC..UV_HANDLE_TYPE_MAX).contains(&type_) {
        HANDLE_NAMES[(type_ - UV_ASYNC) as usize].as_ptr() as *const c_char
    } else {
        std::ptr::null()
    }
}

#[no_mangle]
pub extern "C" fn uv_handle_size(type_: uv_handle_type) -> size_t {
    use std::mem::size_of;
    match type_ {
        UV_ASYNC => size_of::<uv_async_t>(),
        UV_CHECK | UV_IDLE | UV_PREPARE => size_of::<uv_phase_handle_t>(),
        UV_FS_EVENT => size_of::<uv_fs_event_t>(),
        UV_FS_POLL => size_of::<uv_fs_poll_t>(),
        UV_HANDLE => size_of::<uv_handle_t>(),
        UV_NAMED_PIPE => size_of::<uv_pipe_t>(),
        UV_POLL => size_of::<uv_poll_t>(),
        UV_PROCESS => size_of::<uv_process_t>(),
        UV_STREAM | UV_TCP => size_of::<uv_stream_t>(),
        UV_TIMER => size_of::<uv_timer_t>(),
        UV_TTY => size_of::<uv_tty_t>(),
        UV_UDP => size_of::<uv_udp_t>(),
        UV_SIGNAL => size_of::<uv_signal_t>(),
        _ => usize::MAX,
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_handle_get_type(h: *const uv_handle_t) -> uv_handle_type {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { (*h).type_ }
}

#[no_mangle]
pub unsafe extern "C" fn uv_handle_get_data(h: *const uv_handle_t) -> *mut c_void {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { (*h).data }
}

#[no_mangle]
pub unsafe extern "C" fn uv_handle_set_data(h: *mut uv_handle_t, data: *mut c_void) {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { (*h).data = data };
}

#[no_mangle]
pub unsafe extern "C" fn uv_handle_get_loop(h: *const uv_handle_t) -> *mut uv_loop_t {
    // SAFETY: `h` is a live handle of the caller's (uv.h).
    unsafe { (*h).loop_ }
}

/// The descriptor behind a stream, UDP or poll handle.
#[no_mangle]
pub unsafe extern "C" fn uv_fileno(h: *const uv_handle_t, fd: *mut c_int) -> c_int {
    // SAFETY: `h` is a live, initialised handle of the caller's (uv.h), so
    // its type says which struct it heads; `fd` is writable (uv.h).
    unsafe {
        let w: *const uv__io_t = match (*h).type_ {
            UV_TCP | UV_NAMED_PIPE | UV_TTY => &(*(h as *const uv_stream_t)).io_watcher,
            UV_UDP => &(*(h as *const uv_udp_t)).io_watcher,
            UV_POLL => &(*(h as *const uv_poll_t)).io_watcher,
            _ => return -libc::EINVAL,
        };
        if is_closing(h) || (*w).fd == -1 {
            return -libc::EBADF;
        }
        *fd = (*w).fd;
    }
    0
}

/// # Safety
/// `loop_` must be NULL (the default loop) or a live, initialised loop, and
/// `stream` NULL (stderr) or an open `FILE`.
unsafe fn print_handles(loop_: *mut uv_loop_t, only_active: bool, stream: *mut libc::FILE) {
    extern "C" {
        static mut stderr: *mut libc::FILE;
    }
    let loop_ = if loop_.is_null() {
        // SAFETY: no precondition beyond being on the default loop's thread,
        // which the caller is when it passes NULL for it.
        unsafe { crate::loop_::uv_default_loop() }
    } else {
        loop_
    };
    if loop_.is_null() {
        // The default loop could not be created: nothing to print.
        return;
    }
    let stream = if stream.is_null() {
        // SAFETY: glibc's `stderr` is always initialised; it is only read.
        unsafe { stderr }
    } else {
        stream
    };
    // SAFETY: `loop_` is live (the contract), so is its handle list and each
    // handle on it; nothing here runs a callback that could change the list.
    unsafe {
        let head: *mut uv__queue = std::ptr::addr_of_mut!((*loop_).handle_queue);
        let mut q = (*head).next;
        while q != head {
            let h = crate::container_of!(q, uv_handle_t, handle_queue);
            q = (*q).next;
            if only_active && !is_active(h) {
                continue;
            }
            let f = (*h).flags;
            let mut name = uv_handle_type_name((*h).type_);
            if name.is_null() {
                name = c"<unknown>".as_ptr();
            }
            libc::fprintf(
                stream,
                c"[%c%c%c] %-8s %p\n".as_ptr(),
                if f & REF != 0 { b'R' } else { b'-' } as c_int,
                if f & ACTIVE != 0 { b'A' } else { b'-' } as c_int,
                if f & INTERNAL != 0 { b'I' } else { b'-' } as c_int,
                name,
                h as *mut c_void,
            );
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_print_all_handles(loop_: *mut uv_loop_t, stream: *mut libc::FILE) {
    // SAFETY: `loop_` is NULL or a live loop, `stream` NULL or an open FILE,
    // both the caller's (uv.h).
    unsafe { print_handles(loop_, false, stream) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_print_active_handles(loop_: *mut uv_loop_t, stream: *mut libc::FILE) {
    // SAFETY: `loop_` is NULL or a live loop, `stream` NULL or an open FILE,
    // both the caller's (uv.h).
    unsafe { print_handles(loop_, true, stream) }
}
