//! uv_random: cryptographically strong bytes from the kernel, either at once
//! (no callback) or filled on the thread pool and reported to the loop.

use crate::abi::*;
use crate::pool::WorkKind;
use crate::sys::errno;
use libc::{c_int, c_uint, c_void, size_t};

/// libuv's limit: larger requests are refused with UV_E2BIG.
const MAX_LEN: size_t = 0x7FFF_FFFF;

/// getrandom() promises that requests of at most 256 bytes are neither
/// short nor interrupted, so big requests go in such pieces.
const CHUNK: usize = 256;

/// Fills `buf` with getrandom(2). Err(-ENOSYS) (or -EPERM from a seccomp
/// filter) means the syscall is unavailable and the caller should fall back.
///
/// # Safety
/// `buf` points to `len` writable bytes.
unsafe fn fill_getrandom(buf: *mut u8, len: usize) -> Result<(), c_int> {
    let mut pos = 0;
    while pos < len {
        let want = (len - pos).min(CHUNK);
        // SAFETY: pos + want <= len, inside the caller's buffer.
        let n = unsafe { libc::syscall(libc::SYS_getrandom, buf.add(pos), want, 0 as c_uint) };
        if n < 0 {
            match errno() {
                libc::EINTR => continue,
                e => return Err(-e),
            }
        }
        if n == 0 {
            return Err(-libc::EIO);
        }
        pos += n as usize;
    }
    Ok(())
}

/// Fills `buf` from /dev/urandom, which must be a character device (a
/// regular file planted there would give predictable bytes).
///
/// # Safety
/// `buf` points to `len` writable bytes.
unsafe fn fill_devurandom(buf: *mut u8, len: usize) -> Result<(), c_int> {
    // SAFETY: a static NUL-terminated path.
    let fd = unsafe { libc::open(c"/dev/urandom".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(-errno());
    }
    let result = (|| {
        // SAFETY: libc::stat is plain data, all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open (ours); `st` is a local the call writes.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return Err(-errno());
        }
        if st.st_mode & libc::S_IFMT != libc::S_IFCHR {
            return Err(-libc::EIO);
        }
        let mut pos = 0;
        while pos < len {
            // SAFETY: pos < len: the caller's buffer has len - pos bytes left.
            let n = unsafe { libc::read(fd, buf.add(pos) as *mut c_void, len - pos) };
            if n < 0 {
                match errno() {
                    libc::EINTR => continue,
                    e => return Err(-e),
                }
            }
            if n == 0 {
                return Err(-libc::EIO);
            }
            pos += n as usize;
        }
        Ok(())
    })();
    // SAFETY: `fd` was opened above and is closed once.
    unsafe { libc::close(fd) };
    result
}

/// Fills `buf[..len]`, returning 0 or a UV_E* code.
///
/// # Safety
/// `buf` points to `len` writable bytes (any pointer when `len` is 0).
unsafe fn fill(buf: *mut u8, len: usize) -> c_int {
    if len == 0 {
        return 0;
    }
    // SAFETY: the caller's contract, passed on.
    let r = match unsafe { fill_getrandom(buf, len) } {
        // SAFETY: the caller's contract, passed on.
        Err(e) if e == -libc::ENOSYS || e == -libc::EPERM => unsafe { fill_devurandom(buf, len) },
        other => other,
    };
    match r {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// # Safety
/// `w` is the `work_req` of a uv_random_t submitted by uv_random; the caller
/// keeps it and its buffer alive until its callback (uv.h).
unsafe extern "C" fn random_work(w: *mut uv__work) {
    // SAFETY: the contract: `w` sits in a live uv_random_t whose `buf` holds
    // `buflen` writable bytes; only this worker touches it until done.
    unsafe {
        let req = crate::container_of!(w, uv_random_t, work_req);
        (*req).status = fill((*req).buf as *mut u8, (*req).buflen);
    }
}

/// # Safety
/// As `random_work`; called once, on the loop thread, after it.
unsafe extern "C" fn random_done(w: *mut uv__work, status: c_int) {
    // SAFETY: the contract: `w` sits in a live uv_random_t of a live loop;
    // nothing is read from `req` after the callback, which may free it.
    unsafe {
        let req = crate::container_of!(w, uv_random_t, work_req);
        crate::req::unregister((*req).loop_);
        // A cancelled request reports UV_ECANCELED; otherwise the fill's result.
        let status = if status == 0 { (*req).status } else { status };
        if let Some(cb) = (*req).cb {
            cb(req, status, (*req).buf, (*req).buflen);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_random(
    loop_: *mut uv_loop_t,
    req: *mut uv_random_t,
    buf: *mut c_void,
    buflen: size_t,
    flags: c_uint,
    cb: uv_random_cb,
) -> c_int {
    // Same order of checks as libuv: size first, then flags.
    if buflen > MAX_LEN {
        return -libc::E2BIG;
    }
    if flags != 0 {
        return -libc::EINVAL;
    }
    if cb.is_none() {
        // SAFETY: uv.h's contract: `buf` holds `buflen` writable bytes.
        return unsafe { fill(buf as *mut u8, buflen) };
    }
    if loop_.is_null() || req.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h's contract: `loop_` is an initialised loop, `req` a
    // uv_random_t and `buf` `buflen` writable bytes, both kept alive by the
    // caller until `cb` runs.
    unsafe {
        crate::req::init(loop_, req as *mut uv_req_t, UV_RANDOM);
        (*req).loop_ = loop_;
        (*req).status = 0;
        (*req).cb = cb;
        (*req).buf = buf;
        (*req).buflen = buflen;
        // libuv runs this as CPU work (UV__WORK_CPU).
        crate::work::submit(
            loop_,
            &mut (*req).work_req,
            WorkKind::Cpu,
            random_work,
            random_done,
        );
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loop_::{uv_loop_close, uv_loop_init, uv_run};
    use std::mem::MaybeUninit;

    #[test]
    fn sync_checks_and_fill() {
        // SAFETY: every buffer passed is local and at least the length given,
        // except where the call must refuse before touching it (E2BIG).
        unsafe {
            let mut buf = [0u8; 256];
            let p = buf.as_mut_ptr() as *mut c_void;
            let (null_loop, null_req) = (std::ptr::null_mut(), std::ptr::null_mut());
            assert_eq!(
                uv_random(null_loop, null_req, p, 256, u32::MAX, None),
                -libc::EINVAL
            );
            assert_eq!(
                uv_random(null_loop, null_req, p, usize::MAX, u32::MAX, None),
                -libc::E2BIG
            );
            assert_eq!(
                uv_random(null_loop, null_req, p, 0x8000_0000, 0, None),
                -libc::E2BIG
            );
            assert_eq!(uv_random(null_loop, null_req, p, 0, 0, None), 0);
            assert_eq!(buf, [0u8; 256]);
            assert_eq!(uv_random(null_loop, null_req, p, 256, 0, None), 0);
            assert_ne!(buf, [0u8; 256]);
            // Larger than one getrandom chunk, and not a multiple of it.
            let mut big = vec![0u8; 4099];
            assert_eq!(
                uv_random(
                    null_loop,
                    null_req,
                    big.as_mut_ptr() as _,
                    big.len(),
                    0,
                    None
                ),
                0
            );
            assert_ne!(&big[3843..], &[0u8; 256][..]);
        }
    }

    #[test]
    fn devurandom_fallback_fills() {
        let mut buf = [0u8; 300];
        // SAFETY: `buf` is local, of the length passed.
        unsafe {
            assert_eq!(fill_devurandom(buf.as_mut_ptr(), buf.len()), Ok(()));
        }
        assert_ne!(&buf[44..], &[0u8; 256][..]);
    }

    struct Seen {
        calls: usize,
        status: c_int,
        buf: usize,
        len: usize,
    }

    unsafe extern "C" fn on_random(
        req: *mut uv_random_t,
        status: c_int,
        buf: *mut c_void,
        len: size_t,
    ) {
        // SAFETY: the test set `r.data` to its `Seen`, alive across uv_run.
        unsafe {
            let seen = (*req).r.data as *mut Seen;
            (*seen).calls += 1;
            (*seen).status = status;
            (*seen).buf = buf as usize;
            (*seen).len = len;
        }
    }

    #[test]
    fn async_fill_on_pool() {
        // SAFETY: the loop, request, `seen` and `scratch` are locals that
        // outlive every uv_run that may touch them; the loop is closed last.
        unsafe {
            let mut lp = MaybeUninit::<uv_loop_t>::zeroed();
            let lp = lp.as_mut_ptr();
            assert_eq!(uv_loop_init(lp), 0);
            let mut req: uv_random_t = std::mem::zeroed();
            let mut seen = Seen {
                calls: 0,
                status: -1,
                buf: 0,
                len: 1,
            };
            req.r.data = &mut seen as *mut Seen as *mut c_void;
            let mut scratch = [0u8; 256];
            let p = scratch.as_mut_ptr() as *mut c_void;

            assert_eq!(
                uv_random(lp, &mut req, p, 256, u32::MAX, Some(on_random)),
                -libc::EINVAL
            );
            assert_eq!(
                uv_random(lp, &mut req, p, usize::MAX, u32::MAX, Some(on_random)),
                -libc::E2BIG
            );

            assert_eq!(uv_random(lp, &mut req, p, 0, 0, Some(on_random)), 0);
            assert_eq!(seen.calls, 0, "callback must not run synchronously");
            assert_eq!(uv_run(lp, 0), 0);
            assert_eq!(seen.calls, 1);
            assert_eq!(seen.status, 0);
            assert_eq!(seen.buf, p as usize);
            assert_eq!(seen.len, 0);
            assert_eq!(scratch, [0u8; 256]);
            assert_eq!(req.r.type_, UV_RANDOM);

            assert_eq!(uv_random(lp, &mut req, p, 256, 0, Some(on_random)), 0);
            assert_eq!(seen.calls, 1);
            assert_eq!(uv_run(lp, 0), 0);
            assert_eq!(seen.calls, 2);
            assert_eq!(seen.status, 0);
            assert_eq!(seen.len, 256);
            assert_ne!(scratch, [0u8; 256]);

            assert_eq!(uv_loop_close(lp), 0);
        }
    }
}
