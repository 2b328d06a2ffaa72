//! uv_timer_*: one-shot and repeating timers. Active timers sit in the
//! loop's ordered set keyed by (due time, start order), so equal timeouts
//! fire in the order they were started.

use crate::abi::*;
use crate::handle;
use crate::loop_::inner;
use crate::queue;
use libc::c_int;

#[no_mangle]
pub unsafe extern "C" fn uv_timer_init(loop_: *mut uv_loop_t, h: *mut uv_timer_t) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    handle::init(loop_, h as *mut uv_handle_t, UV_TIMER);
    (*h).timer_cb = None;
    (*h).timeout = 0;
    (*h).repeat = 0;
    (*h).start_id = 0;
    queue::init(&mut (*h).node);
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_start(
    h: *mut uv_timer_t,
    cb: uv_timer_cb,
    timeout: u64,
    repeat: u64,
) -> c_int {
    if handle::is_closing(h as *const uv_handle_t) || cb.is_none() {
        return -libc::EINVAL;
    }
    uv_timer_stop(h);
    let loop_ = (*h).h.loop_;
    (*h).timer_cb = cb;
    (*h).timeout = (*loop_).time.saturating_add(timeout);
    (*h).repeat = repeat;
    (*h).start_id = (*loop_).timer_counter;
    (*loop_).timer_counter += 1;
    (*inner(loop_))
        .timers
        .insert(((*h).timeout, (*h).start_id), h);
    handle::start(h as *mut uv_handle_t);
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_stop(h: *mut uv_timer_t) -> c_int {
    if handle::is_active(h as *const uv_handle_t) {
        let loop_ = (*h).h.loop_;
        (*inner(loop_))
            .timers
            .remove(&((*h).timeout, (*h).start_id));
        handle::stop(h as *mut uv_handle_t);
    } else {
        // Not armed, but maybe waiting in this turn's list of due timers.
        queue::remove(&mut (*h).node);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_again(h: *mut uv_timer_t) -> c_int {
    if (*h).timer_cb.is_none() {
        return -libc::EINVAL;
    }
    if (*h).repeat != 0 {
        uv_timer_stop(h);
        uv_timer_start(h, (*h).timer_cb, (*h).repeat, (*h).repeat);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_set_repeat(h: *mut uv_timer_t, repeat: u64) {
    (*h).repeat = repeat;
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_get_repeat(h: *const uv_timer_t) -> u64 {
    (*h).repeat
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_get_due_in(h: *const uv_timer_t) -> u64 {
    let now = (*(*h).h.loop_).time;
    (*h).timeout.saturating_sub(now)
}

/// Milliseconds until the next timer is due: -1 for none, clamped to INT_MAX.
pub unsafe fn next_timeout(loop_: *mut uv_loop_t) -> c_int {
    let Some((&(due, _), _)) = (*inner(loop_)).timers.iter().next() else {
        return -1;
    };
    let now = (*loop_).time;
    if due <= now {
        return 0;
    }
    (due - now).min(c_int::MAX as u64) as c_int
}

/// The timer phase: every timer due now is taken off the set first, then
/// each is re-armed (if repeating) and called; a callback that stops a timer
/// still waiting in this list keeps it from running.
pub unsafe fn run(loop_: *mut uv_loop_t) {
    let mut ready = uv__queue {
        next: std::ptr::null_mut(),
        prev: std::ptr::null_mut(),
    };
    let ready_ptr: *mut uv__queue = &mut ready;
    queue::init(ready_ptr);
    loop {
        let first = (*inner(loop_)).timers.iter().next().map(|(k, v)| (*k, *v));
        let Some(((due, _), h)) = first else { break };
        if due > (*loop_).time {
            break;
        }
        uv_timer_stop(h);
        queue::insert_tail(ready_ptr, &mut (*h).node);
    }
    while !queue::is_empty(ready_ptr) {
        let q = queue::head(ready_ptr);
        queue::remove(q);
        let h = crate::container_of!(q, uv_timer_t, node);
        uv_timer_again(h);
        if let Some(cb) = (*h).timer_cb {
            cb(h);
        }
    }
}
