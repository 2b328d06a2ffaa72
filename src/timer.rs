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
    // SAFETY: `loop_` is a live loop and `h` writable memory for a
    // uv_timer_t, both the caller's (uv.h: uv_timer_init).
    unsafe {
        handle::init(loop_, h as *mut uv_handle_t, UV_TIMER);
        (*h).timer_cb = None;
        (*h).timeout = 0;
        (*h).repeat = 0;
        (*h).start_id = 0;
        queue::init(&mut (*h).node);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_start(
    h: *mut uv_timer_t,
    cb: uv_timer_cb,
    timeout: u64,
    repeat: u64,
) -> c_int {
    // SAFETY: `h` is a live uv_timer_t the caller initialised with
    // uv_timer_init (uv.h), so its loop is live and we are on its thread.
    unsafe {
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
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_stop(h: *mut uv_timer_t) -> c_int {
    // SAFETY: `h` is a live uv_timer_t the caller initialised with
    // uv_timer_init (uv.h), so its loop is live; its `node` is self-linked
    // or on the due list of a timer phase still running (timer::run).
    unsafe {
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
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_again(h: *mut uv_timer_t) -> c_int {
    // SAFETY: `h` is a live uv_timer_t the caller initialised with
    // uv_timer_init (uv.h).
    unsafe {
        if (*h).timer_cb.is_none() {
            return -libc::EINVAL;
        }
        if (*h).repeat != 0 {
            uv_timer_stop(h);
            uv_timer_start(h, (*h).timer_cb, (*h).repeat, (*h).repeat);
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_set_repeat(h: *mut uv_timer_t, repeat: u64) {
    // SAFETY: `h` is a live uv_timer_t of the caller's (uv.h).
    unsafe { (*h).repeat = repeat };
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_get_repeat(h: *const uv_timer_t) -> u64 {
    // SAFETY: `h` is a live uv_timer_t of the caller's (uv.h).
    unsafe { (*h).repeat }
}

#[no_mangle]
pub unsafe extern "C" fn uv_timer_get_due_in(h: *const uv_timer_t) -> u64 {
    // SAFETY: `h` is a live uv_timer_t the caller initialised with
    // uv_timer_init (uv.h), so its loop is live.
    let (timeout, now) = unsafe { ((*h).timeout, (*(*h).h.loop_).time) };
    timeout.saturating_sub(now)
}

/// Milliseconds until the next timer is due: -1 for none, clamped to INT_MAX.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its own thread.
pub unsafe fn next_timeout(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_` and its inner fields are live (the contract); the set
    // is only read, and the key copied out.
    let (first, now) = unsafe {
        let first = (*inner(loop_)).timers.keys().next().copied();
        (first, (*loop_).time)
    };
    let Some((due, _)) = first else {
        return -1;
    };
    if due <= now {
        return 0;
    }
    (due - now).min(c_int::MAX as u64) as c_int
}

/// The timer phase: every timer due now is taken off the set first, then
/// each is re-armed (if repeating) and called; a callback that stops a timer
/// still waiting in this list keeps it from running.
///
/// # Safety
/// `loop_` must be a live, initialised loop, used on its own thread, whose
/// timer set holds only live timers (uv_timer_stop takes a timer out before
/// its close completes).
pub unsafe fn run(loop_: *mut uv_loop_t) {
    let mut ready = uv__queue {
        next: std::ptr::null_mut(),
        prev: std::ptr::null_mut(),
    };
    let ready_ptr: *mut uv__queue = &mut ready;
    // SAFETY: `ready` is a local node, in no list, that outlives its use here.
    unsafe { queue::init(ready_ptr) };
    loop {
        // SAFETY: `loop_` and its inner fields are live (the contract); the
        // set is only read, and the entry copied out before anything runs.
        let (first, now) = unsafe {
            let first = (*inner(loop_)).timers.iter().next().map(|(k, v)| (*k, *v));
            (first, (*loop_).time)
        };
        let Some(((due, _), h)) = first else { break };
        if due > now {
            break;
        }
        // SAFETY: `h` came from the set, so it is a live timer (the
        // contract); stopping it leaves its node self-linked, free to join
        // `ready`.
        unsafe {
            uv_timer_stop(h);
            queue::insert_tail(ready_ptr, &mut (*h).node);
        }
    }
    // SAFETY: every node on `ready` is the `node` of a live timer: a callback
    // that stops or closes one of them unlinks it (uv_timer_stop) before the
    // user may free it. `h` is not touched after its callback.
    unsafe {
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
}
