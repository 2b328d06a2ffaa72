//! Clocks: uv_hrtime, uv_clock_gettime, uv_gettimeofday, uv_sleep, and the
//! coarse millisecond clock the loop keeps in `loop->time`.

use crate::abi::*;
use crate::sys::errno;
use libc::{c_int, c_uint};
use std::sync::atomic::{AtomicI32, Ordering};

pub const UV_CLOCK_MONOTONIC: c_int = 0;
pub const UV_CLOCK_REALTIME: c_int = 1;

fn clock_ns(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a local timespec the call writes; a bad `id` only
    // fails (and leaves zero), it cannot write elsewhere.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

static FAST_CLOCK: AtomicI32 = AtomicI32::new(-1);

/// The loop's clock: CLOCK_MONOTONIC_COARSE when it is at least millisecond
/// accurate (cheaper, and the loop only keeps milliseconds), else MONOTONIC.
pub fn fast_ns() -> u64 {
    let mut id = FAST_CLOCK.load(Ordering::Relaxed);
    if id < 0 {
        let mut res = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `res` is a local timespec the call writes.
        let coarse = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut res) } == 0
            && res.tv_sec == 0
            && res.tv_nsec <= 1_000_000;
        id = if coarse {
            libc::CLOCK_MONOTONIC_COARSE
        } else {
            libc::CLOCK_MONOTONIC
        };
        FAST_CLOCK.store(id, Ordering::Relaxed);
    }
    clock_ns(id)
}

#[no_mangle]
pub extern "C" fn uv_hrtime() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

#[no_mangle]
pub unsafe extern "C" fn uv_clock_gettime(clock_id: c_int, ts: *mut uv_timespec64_t) -> c_int {
    if ts.is_null() {
        return -libc::EFAULT;
    }
    let id = match clock_id {
        UV_CLOCK_MONOTONIC => libc::CLOCK_MONOTONIC,
        UV_CLOCK_REALTIME => libc::CLOCK_REALTIME,
        _ => return -libc::EINVAL,
    };
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a local timespec the call writes.
    if unsafe { libc::clock_gettime(id, &mut t) } != 0 {
        return -errno();
    }
    // SAFETY: `ts` is non-null (checked above) and, by uv.h's contract for
    // uv_clock_gettime, points to a writable uv_timespec64_t.
    unsafe {
        (*ts).tv_sec = t.tv_sec;
        (*ts).tv_nsec = t.tv_nsec as i32;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_gettimeofday(tv: *mut uv_timeval64_t) -> c_int {
    if tv.is_null() {
        return -libc::EINVAL;
    }
    let mut t = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: `t` is a local timeval the call writes; no timezone asked.
    if unsafe { libc::gettimeofday(&mut t, std::ptr::null_mut()) } != 0 {
        return -errno();
    }
    // SAFETY: `tv` is non-null (checked above) and, by uv.h's contract for
    // uv_gettimeofday, points to a writable uv_timeval64_t.
    unsafe {
        (*tv).tv_sec = t.tv_sec;
        (*tv).tv_usec = t.tv_usec as i32;
    }
    0
}

#[no_mangle]
pub extern "C" fn uv_sleep(msec: c_uint) {
    let mut req = libc::timespec {
        tv_sec: (msec / 1000) as libc::time_t,
        tv_nsec: (msec % 1000) as libc::c_long * 1_000_000,
    };
    let mut rem = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // The retry goes on with the time left (`rem`), so it is not a plain
    // retry_eintr.
    // SAFETY: `req` and `rem` are locals; nanosleep reads one, writes the other.
    while unsafe { libc::nanosleep(&req, &mut rem) } == -1 && errno() == libc::EINTR {
        req = rem;
    }
}
