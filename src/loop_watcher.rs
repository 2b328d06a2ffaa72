//! uv_idle_*, uv_prepare_* and uv_check_*: handles called once per loop turn
//! in their phase. The three share one layout and one implementation.

use crate::abi::*;
use crate::handle;
use crate::queue;
use libc::c_int;

type PhaseCb = Option<unsafe extern "C" fn(*mut uv_phase_handle_t)>;

unsafe fn list_of(h: *mut uv_phase_handle_t) -> *mut uv__queue {
    let loop_ = (*h).h.loop_;
    match (*h).h.type_ {
        UV_IDLE => &mut (*loop_).idle_handles,
        UV_PREPARE => &mut (*loop_).prepare_handles,
        _ => &mut (*loop_).check_handles,
    }
}

unsafe fn init(loop_: *mut uv_loop_t, h: *mut uv_phase_handle_t, type_: c_int) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    handle::init(loop_, h as *mut uv_handle_t, type_);
    (*h).cb = None;
    queue::init(&mut (*h).queue);
    0
}

unsafe fn start(h: *mut uv_phase_handle_t, cb: PhaseCb) -> c_int {
    if handle::is_active(h as *const uv_handle_t) {
        return 0;
    }
    if cb.is_none() {
        return -libc::EINVAL;
    }
    // libuv runs the newest handle of a phase first.
    queue::insert_head(list_of(h), &mut (*h).queue);
    (*h).cb = cb;
    handle::start(h as *mut uv_handle_t);
    0
}

unsafe fn stop(h: *mut uv_phase_handle_t) -> c_int {
    if !handle::is_active(h as *const uv_handle_t) {
        return 0;
    }
    queue::remove(&mut (*h).queue);
    handle::stop(h as *mut uv_handle_t);
    0
}

pub unsafe fn close(h: *mut uv_phase_handle_t) {
    stop(h);
}

/// Runs one phase. The list is detached first: a handle started by a
/// callback waits for the next turn, one stopped by a callback is skipped.
unsafe fn run(head: *mut uv__queue) {
    queue::for_each_requeued(head, |q| {
        let h = crate::container_of!(q, uv_phase_handle_t, queue);
        if let Some(cb) = (*h).cb {
            cb(h);
        }
    });
}

pub unsafe fn run_idle(loop_: *mut uv_loop_t) {
    run(&mut (*loop_).idle_handles)
}

pub unsafe fn run_prepare(loop_: *mut uv_loop_t) {
    run(&mut (*loop_).prepare_handles)
}

pub unsafe fn run_check(loop_: *mut uv_loop_t) {
    run(&mut (*loop_).check_handles)
}

macro_rules! phase_api {
    ($init:ident, $start:ident, $stop:ident, $ty:expr) => {
        #[no_mangle]
        pub unsafe extern "C" fn $init(loop_: *mut uv_loop_t, h: *mut uv_phase_handle_t) -> c_int {
            init(loop_, h, $ty)
        }

        #[no_mangle]
        pub unsafe extern "C" fn $start(h: *mut uv_phase_handle_t, cb: PhaseCb) -> c_int {
            start(h, cb)
        }

        #[no_mangle]
        pub unsafe extern "C" fn $stop(h: *mut uv_phase_handle_t) -> c_int {
            stop(h)
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
