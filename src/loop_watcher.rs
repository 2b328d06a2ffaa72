//! uv_idle_*, uv_prepare_* and uv_check_*: handles called once per loop turn
//! in their phase. The three share one layout and one implementation.

use crate::abi::*;
use crate::handle;
use crate::queue;
use libc::c_int;

type PhaseCb = Option<unsafe extern "C" fn(*mut uv_phase_handle_t)>;

/// The loop's list for `h`'s phase.
///
/// # Safety
/// `h` must be a live idle, prepare or check handle initialised by [`init`],
/// whose loop is live.
unsafe fn list_of(h: *mut uv_phase_handle_t) -> *mut uv__queue {
    // SAFETY: `h` and its loop are live (the contract); only field addresses
    // are taken.
    unsafe {
        let loop_ = (*h).h.loop_;
        match (*h).h.type_ {
            UV_IDLE => &mut (*loop_).idle_handles,
            UV_PREPARE => &mut (*loop_).prepare_handles,
            _ => &mut (*loop_).check_handles,
        }
    }
}

/// # Safety
/// `loop_` must be NULL or a live loop, `h` NULL or writable memory for a
/// `uv_phase_handle_t` (uv.h's contract of uv_idle_init and its kin).
unsafe fn init(loop_: *mut uv_loop_t, h: *mut uv_phase_handle_t, type_: c_int) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: both are non-null, so live and writable (the contract).
    unsafe {
        handle::init(loop_, h as *mut uv_handle_t, type_);
        (*h).cb = None;
        queue::init(&mut (*h).queue);
    }
    0
}

/// # Safety
/// `h` must be a live handle initialised by [`init`], whose loop is live,
/// used on the loop's thread.
unsafe fn start(h: *mut uv_phase_handle_t, cb: PhaseCb) -> c_int {
    // SAFETY: `h` is live (the contract).
    if unsafe { handle::is_active(h as *const uv_handle_t) } {
        return 0;
    }
    if cb.is_none() {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is inactive, so its node is in no list, and its phase's
    // list is a live list of its loop (the contract).
    unsafe {
        // libuv runs the newest handle of a phase first.
        queue::insert_head(list_of(h), &mut (*h).queue);
        (*h).cb = cb;
        handle::start(h as *mut uv_handle_t);
    }
    0
}

/// # Safety
/// As for [`start`].
unsafe fn stop(h: *mut uv_phase_handle_t) -> c_int {
    // SAFETY: `h` is live (the contract); an active handle's node is on its
    // phase's list (or on the private list of a phase now running).
    unsafe {
        if !handle::is_active(h as *const uv_handle_t) {
            return 0;
        }
        queue::remove(&mut (*h).queue);
        handle::stop(h as *mut uv_handle_t);
    }
    0
}

/// The handle-specific part of uv_close.
///
/// # Safety
/// As for [`start`].
pub unsafe fn close(h: *mut uv_phase_handle_t) {
    // SAFETY: same contract.
    unsafe { stop(h) };
}

/// Runs one phase. The list is detached first: a handle started by a
/// callback waits for the next turn, one stopped by a callback is skipped.
///
/// # Safety
/// `head` must be one of the three phase lists of a live loop, used on its
/// thread.
unsafe fn run(head: *mut uv__queue) {
    // SAFETY: the list holds the `queue` nodes of live, active phase handles
    // (closing one stops it, which unlinks it before the user may free it);
    // `h` is not touched after its callback.
    unsafe {
        queue::for_each_requeued(head, |q| {
            let h = crate::container_of!(q, uv_phase_handle_t, queue);
            if let Some(cb) = (*h).cb {
                cb(h);
            }
        })
    }
}

/// # Safety
/// `loop_` must be a live, initialised loop, used on its thread.
pub unsafe fn run_idle(loop_: *mut uv_loop_t) {
    // SAFETY: the list is a field of the live loop (the contract).
    unsafe { run(std::ptr::addr_of_mut!((*loop_).idle_handles)) }
}

/// # Safety
/// As for [`run_idle`].
pub unsafe fn run_prepare(loop_: *mut uv_loop_t) {
    // SAFETY: the list is a field of the live loop (the contract).
    unsafe { run(std::ptr::addr_of_mut!((*loop_).prepare_handles)) }
}

/// # Safety
/// As for [`run_idle`].
pub unsafe fn run_check(loop_: *mut uv_loop_t) {
    // SAFETY: the list is a field of the live loop (the contract).
    unsafe { run(std::ptr::addr_of_mut!((*loop_).check_handles)) }
}

macro_rules! phase_api {
    ($init:ident, $start:ident, $stop:ident, $ty:expr) => {
        #[no_mangle]
        pub unsafe extern "C" fn $init(loop_: *mut uv_loop_t, h: *mut uv_phase_handle_t) -> c_int {
            // SAFETY: uv.h's contract of the init call: `loop_` a live
            // loop, `h` memory for the handle (NULL is refused).
            unsafe { init(loop_, h, $ty) }
        }

        #[no_mangle]
        pub unsafe extern "C" fn $start(h: *mut uv_phase_handle_t, cb: PhaseCb) -> c_int {
            // SAFETY: `h` is a live handle the caller initialised with the
            // matching init (uv.h).
            unsafe { start(h, cb) }
        }

        #[no_mangle]
        pub unsafe extern "C" fn $stop(h: *mut uv_phase_handle_t) -> c_int {
            // SAFETY: `h` is a live handle the caller initialised with the
            // matching init (uv.h).
            unsafe { stop(h) }
        }
    };
}

phase_api!(uv_idle_init, uv_idle_start, uv_idle_stop, UV_IDLE);
phase_api!(
    uv_prepare_init,
    uv_prepare_start,
    uv_prepare_stop,
    UV_PREPARE
);
phase_api!(uv_check_init, uv_check_start, uv_check_stop, UV_CHECK);
