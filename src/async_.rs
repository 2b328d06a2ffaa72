//! uv_async_*: wake a loop from any thread. Sends coalesce: one callback may
//! answer many sends. `pending` says a callback is owed; `u.fd` counts
//! senders inside uv_async_send so that close can wait them out.

use crate::abi::*;
use crate::handle;
use crate::queue;
use libc::c_int;
use std::sync::atomic::{AtomicI32, Ordering};

/// The handle's `pending` flag, shared between senders and the loop.
///
/// # Safety
/// `h` points to a live uv_async_t; the reference is not used after the
/// handle's memory is released (despite its `'static`).
pub(crate) unsafe fn pending(h: *mut uv_async_t) -> &'static AtomicI32 {
    // SAFETY: `pending` is a C int inside the live handle: same size and
    // alignment as AtomicI32, and only ever accessed atomically.
    unsafe { &*(std::ptr::addr_of_mut!((*h).pending) as *const AtomicI32) }
}

/// The count of senders inside uv_async_send, kept in `u.fd` as libuv does.
///
/// # Safety
/// As `pending`.
unsafe fn busy(h: *mut uv_async_t) -> &'static AtomicI32 {
    // SAFETY: `u` is the handle's 8-aligned union, unused otherwise by async
    // handles; its first 4 bytes serve as the counter, only accessed
    // atomically after init zeroed it.
    unsafe { &*(std::ptr::addr_of_mut!((*h).h.u) as *const AtomicI32) }
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
    // SAFETY: uv.h's contract: `loop_` is an initialised loop and `h` a
    // uv_async_t the caller keeps alive until its close callback; this runs
    // on the loop's thread, the only one that touches its queues.
    unsafe {
        handle::init(loop_, h as *mut uv_handle_t, UV_ASYNC);
        (*h).async_cb = cb;
        (*h).pending = 0;
        queue::insert_tail(&mut (*loop_).async_handles, &mut (*h).queue);
        handle::start(h as *mut uv_handle_t);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_async_send(h: *mut uv_async_t) -> c_int {
    if h.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h's contract: `h` is an initialised async handle not yet
    // closed (sending after uv_close is the caller's bug, as in libuv); from
    // any thread only the atomics and the loop's thread-safe wake are used,
    // and close waits for `busy` to drop before the memory can go.
    unsafe {
        if pending(h).load(Ordering::Relaxed) != 0 {
            return 0;
        }
        busy(h).fetch_add(1, Ordering::SeqCst);
        if pending(h).swap(1, Ordering::SeqCst) == 0 {
            crate::loop_::wake((*h).h.loop_);
        }
        busy(h).fetch_sub(1, Ordering::SeqCst);
    }
    0
}

/// Stops new sends from reaching the handle and waits for senders still
/// inside uv_async_send, so the memory can be freed after the close callback.
///
/// # Safety
/// `h` is a live async handle set up by uv_async_init; called once, from
/// uv_close on the loop's thread.
pub unsafe fn close(h: *mut uv_async_t) {
    // SAFETY: the contract: `h` is live; other threads only touch its atomics.
    unsafe { pending(h).store(1, Ordering::SeqCst) };
    let mut spins = 0u32;
    // SAFETY: as above.
    while unsafe { busy(h).load(Ordering::SeqCst) } != 0 {
        spins += 1;
        if spins % 1000 == 0 {
            // SAFETY: sched_yield has no preconditions.
            unsafe { libc::sched_yield() };
        } else {
            std::hint::spin_loop();
        }
    }
    // SAFETY: the contract: `h` is live and in its loop's async queue, which
    // only the loop's thread (this one) changes.
    unsafe {
        queue::remove(&mut (*h).queue);
        handle::stop(h as *mut uv_handle_t);
        let inner = crate::loop_::inner((*h).h.loop_);
        if (*inner).last_async == h {
            (*inner).last_async = std::ptr::null_mut();
        }
    }
}

/// Calls back every async handle with a send pending, in creation order.
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn dispatch(loop_: *mut uv_loop_t) {
    let visit = |q: *mut uv__queue| {
        // SAFETY: `q` is the queue node of a live async handle (closing
        // unlinks it before its memory may go); nothing of `h` is read after
        // the callback, which may close and free it.
        unsafe {
            let h = crate::container_of!(q, uv_async_t, queue);
            if pending(h).swap(0, Ordering::SeqCst) == 0 {
                return;
            }
            let inner = crate::loop_::inner((*h).h.loop_);
            (*inner).last_async = h;
            (*inner).async_called = true;
            if let Some(cb) = (*h).async_cb {
                cb(h);
            }
        }
    };
    // SAFETY: the contract: the loop and its async queue are live and ours;
    // for_each_requeued tolerates callbacks that close, free or add handles.
    unsafe { queue::for_each_requeued(&mut (*loop_).async_handles, visit) }
}

/// The handle called back last has a send pending: its sender is writing,
/// or about to write, the loop's eventfd. (A busy sender is most likely the
/// last one heard from; looking at every handle would cost each blocking
/// wait as much as there are handles.)
///
/// # Safety
/// `loop_` is an initialised loop and this is its thread.
pub unsafe fn send_in_flight(loop_: *mut uv_loop_t) -> bool {
    // SAFETY: the contract; `last_async` is live or null (close clears it).
    unsafe {
        let h = (*crate::loop_::inner(loop_)).last_async;
        !h.is_null() && pending(h).load(Ordering::Relaxed) != 0
    }
}
