//! uv_async_*: wake a loop from any thread. Sends coalesce: one callback may
//! answer many sends. `pending` says a callback is owed; `u.fd` counts
//! senders inside uv_async_send so that close can wait them out.

use crate::abi::*;
use crate::handle;
use crate::queue;
use libc::c_int;
use std::sync::atomic::{AtomicI32, Ordering};

unsafe fn pending(h: *mut uv_async_t) -> &'static AtomicI32 {
    &*(std::ptr::addr_of_mut!((*h).pending) as *const AtomicI32)
}

unsafe fn busy(h: *mut uv_async_t) -> &'static AtomicI32 {
    &*(std::ptr::addr_of_mut!((*h).h.u) as *const AtomicI32)
}

#[no_mangle]
pub unsafe extern "C" fn uv_async_init(
    loop_: *mut uv_loop_t,
    h: *mut uv_async_t,
    cb: uv_async_cb,
) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    handle::init(loop_, h as *mut uv_handle_t, UV_ASYNC);
    (*h).async_cb = cb;
    (*h).pending = 0;
    queue::insert_tail(&mut (*loop_).async_handles, &mut (*h).queue);
    handle::start(h as *mut uv_handle_t);
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_async_send(h: *mut uv_async_t) -> c_int {
    if h.is_null() {
        return -libc::EINVAL;
    }
    if pending(h).load(Ordering::Relaxed) != 0 {
        return 0;
    }
    busy(h).fetch_add(1, Ordering::SeqCst);
    if pending(h).swap(1, Ordering::SeqCst) == 0 {
        crate::loop_::wake((*h).h.loop_);
    }
    busy(h).fetch_sub(1, Ordering::SeqCst);
    0
}

/// Stops new sends from reaching the handle and waits for senders still
/// inside uv_async_send, so the memory can be freed after the close callback.
pub unsafe fn close(h: *mut uv_async_t) {
    pending(h).store(1, Ordering::SeqCst);
    let mut spins = 0u32;
    while busy(h).load(Ordering::SeqCst) != 0 {
        spins += 1;
        if spins % 1000 == 0 {
            libc::sched_yield();
        } else {
            std::hint::spin_loop();
        }
    }
    queue::remove(&mut (*h).queue);
    handle::stop(h as *mut uv_handle_t);
}

/// Calls back every async handle with a send pending, in creation order.
pub unsafe fn dispatch(loop_: *mut uv_loop_t) {
    queue::for_each_requeued(&mut (*loop_).async_handles, |q| {
        let h = crate::container_of!(q, uv_async_t, queue);
        if pending(h).swap(0, Ordering::SeqCst) == 0 {
            return;
        }
        if let Some(cb) = (*h).async_cb {
            cb(h);
        }
    });
}
