//! Requests: the common head (`uv_req_t`), accessors, and the loop's count of
//! requests in flight, which keeps `uv_run` alive.

use crate::abi::*;
use libc::{c_char, c_void, size_t};

/// Marks `req` as in flight on `loop_` (libuv's `uv__req_init` + register).
///
/// # Safety
/// `req` must be valid for writes of a `uv_req_t` head, and `loop_` as for
/// [`register`].
pub unsafe fn init(loop_: *mut uv_loop_t, req: *mut uv_req_t, type_: uv_req_type) {
    // SAFETY: `req` is writable (the contract).
    unsafe { (*req).type_ = type_ };
    // SAFETY: same contract.
    unsafe { register(loop_) };
}

/// Counts one more request in flight on `loop_`.
///
/// # Safety
/// `loop_` must be a live, initialised loop, and this must run on its thread
/// (the count is not atomic).
pub unsafe fn register(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is live and only its thread touches the count (the contract).
    unsafe { (*loop_).active_reqs += 1 };
}

/// Counts one request in flight less on `loop_`.
///
/// # Safety
/// As for [`register`].
pub unsafe fn unregister(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is live and only its thread touches the count (the contract).
    unsafe { (*loop_).active_reqs = (*loop_).active_reqs.saturating_sub(1) };
}

const REQ_NAMES: [&[u8]; 10] = [
    b"req\0",
    b"connect\0",
    b"write\0",
    b"shutdown\0",
    b"udp_send\0",
    b"fs\0",
    b"work\0",
    b"getaddrinfo\0",
    b"getnameinfo\0",
    b"random\0",
];

#[no_mangle]
pub extern "C" fn uv_req_type_name(type_: uv_req_type) -> *const c_char {
    if (UV_REQ..UV_REQ_TYPE_MAX).contains(&type_) {
        REQ_NAMES[(type_ - UV_REQ) as usize].as_ptr() as *const c_char
    } else {
        std::ptr::null()
    }
}

#[no_mangle]
pub extern "C" fn uv_req_size(type_: uv_req_type) -> size_t {
    use std::mem::size_of;
    match type_ {
        UV_REQ => size_of::<uv_req_t>(),
        UV_CONNECT => size_of::<uv_connect_t>(),
        UV_WRITE => size_of::<uv_write_t>(),
        UV_SHUTDOWN => size_of::<uv_shutdown_t>(),
        UV_UDP_SEND => size_of::<uv_udp_send_t>(),
        UV_FS => size_of::<uv_fs_t>(),
        UV_WORK => size_of::<uv_work_t>(),
        UV_GETADDRINFO => size_of::<uv_getaddrinfo_t>(),
        UV_GETNAMEINFO => size_of::<uv_getnameinfo_t>(),
        UV_RANDOM => size_of::<uv_random_t>(),
        _ => usize::MAX,
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_req_get_data(req: *const uv_req_t) -> *mut c_void {
    // SAFETY: `req` points at a request of the caller's (uv.h: any uv_req_t).
    unsafe { (*req).data }
}

#[no_mangle]
pub unsafe extern "C" fn uv_req_set_data(req: *mut uv_req_t, data: *mut c_void) {
    // SAFETY: `req` points at a request of the caller's (uv.h: any uv_req_t).
    unsafe { (*req).data = data };
}

#[no_mangle]
pub unsafe extern "C" fn uv_req_get_type(req: *const uv_req_t) -> uv_req_type {
    // SAFETY: `req` points at a request of the caller's (uv.h: any uv_req_t).
    unsafe { (*req).type_ }
}
