//! uv_queue_work and uv_cancel: user work on the pool, and the plumbing every
//! pool-backed request (fs, getaddrinfo, getnameinfo, random) goes through.

use crate::abi::*;
use crate::pool::{self, WorkKind};
use libc::c_int;

pub type WorkFn = unsafe extern "C" fn(*mut uv__work);
pub type DoneFn = unsafe extern "C" fn(*mut uv__work, c_int);

/// Hands `w` to the pool; `done(w, status)` runs on the loop thread after
/// `work(w)` ran on a worker, or with UV_ECANCELED if it was cancelled.
/// The caller has already counted its request on the loop (`req::init`).
///
/// # Safety
/// `loop_` is an initialised loop; `w` is a writable uv__work, not already
/// submitted, that stays alive and untouched by its owner until `done` has
/// run; `work` and `done` accept it.
pub unsafe fn submit(
    loop_: *mut uv_loop_t,
    w: *mut uv__work,
    kind: WorkKind,
    work: WorkFn,
    done: DoneFn,
) {
    // SAFETY: the caller's contract: `w` is ours to fill in and hand over.
    unsafe {
        (*w).loop_ = loop_;
        (*w).work = Some(work);
        (*w).done = Some(done);
        crate::queue::init(&mut (*w).wq);
        pool::submit(w, kind);
    }
}

/// # Safety
/// `w` is the `work_req` of a uv_work_t submitted by uv_queue_work, alive
/// until its after_work_cb (uv.h).
unsafe extern "C" fn run_user_work(w: *mut uv__work) {
    // SAFETY: the contract: `w` sits inside a live uv_work_t, whose work_cb
    // takes it.
    unsafe {
        let req = crate::container_of!(w, uv_work_t, work_req);
        if let Some(cb) = (*req).work_cb {
            cb(req);
        }
    }
}

/// # Safety
/// As `run_user_work`; called once, on the loop thread.
unsafe extern "C" fn finish_user_work(w: *mut uv__work, status: c_int) {
    // SAFETY: the contract: `w` sits inside a live uv_work_t whose loop is
    // alive; nothing is read from `req` after the callback, which may free it.
    unsafe {
        let req = crate::container_of!(w, uv_work_t, work_req);
        crate::req::unregister((*req).loop_);
        if let Some(cb) = (*req).after_work_cb {
            cb(req, status);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_queue_work(
    loop_: *mut uv_loop_t,
    req: *mut uv_work_t,
    work_cb: uv_work_cb,
    after_work_cb: uv_after_work_cb,
) -> c_int {
    if loop_.is_null() || req.is_null() || work_cb.is_none() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h's contract: `loop_` is an initialised loop and `req` a
    // uv_work_t the caller keeps alive until after_work_cb.
    unsafe {
        crate::req::init(loop_, req as *mut uv_req_t, UV_WORK);
        (*req).loop_ = loop_;
        (*req).work_cb = work_cb;
        (*req).after_work_cb = after_work_cb;
        submit(
            loop_,
            &mut (*req).work_req,
            WorkKind::Cpu,
            run_user_work,
            finish_user_work,
        );
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_cancel(req: *mut uv_req_t) -> c_int {
    if req.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h's contract: `req` is a live request the caller
    // initialised; its `type_` says which struct it is, so each cast reads
    // the struct it really is. `work_req` is only addressed, never borrowed:
    // a worker may be running it right now. A work item that pool::cancel
    // removed is no longer seen by any worker, so this thread may finish it.
    unsafe {
        if (*req).type_ == UV_FS && crate::fs::uring::cancel(req as *mut uv_fs_t) {
            return 0;
        }
        let (loop_, w) = match (*req).type_ {
            UV_FS => {
                let r = req as *mut uv_fs_t;
                ((*r).loop_, std::ptr::addr_of_mut!((*r).work_req))
            }
            UV_GETADDRINFO => {
                let r = req as *mut uv_getaddrinfo_t;
                ((*r).loop_, std::ptr::addr_of_mut!((*r).work_req))
            }
            UV_GETNAMEINFO => {
                let r = req as *mut uv_getnameinfo_t;
                ((*r).loop_, std::ptr::addr_of_mut!((*r).work_req))
            }
            UV_RANDOM => {
                let r = req as *mut uv_random_t;
                ((*r).loop_, std::ptr::addr_of_mut!((*r).work_req))
            }
            UV_WORK => {
                let r = req as *mut uv_work_t;
                ((*r).loop_, std::ptr::addr_of_mut!((*r).work_req))
            }
            _ => return -libc::EINVAL,
        };
        if loop_.is_null() || !pool::cancel(w) {
            return -libc::EBUSY;
        }
        (*w).work = None;
        crate::loop_::post_done(w, -libc::ECANCELED);
    }
    0
}
