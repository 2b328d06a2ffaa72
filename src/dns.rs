//! uv_getaddrinfo / uv_getnameinfo: the C library's resolver run on the
//! pool as slow I/O, or inline when no callback is given. Resolver errors
//! become UV_EAI_*; host names are converted to ASCII (IDNA punycode) first.

use crate::abi::*;
use crate::error::{
    UV_EAI_ADDRFAMILY, UV_EAI_AGAIN, UV_EAI_BADFLAGS, UV_EAI_CANCELED, UV_EAI_FAIL, UV_EAI_FAMILY,
    UV_EAI_MEMORY, UV_EAI_NODATA, UV_EAI_NONAME, UV_EAI_OVERFLOW, UV_EAI_SERVICE, UV_EAI_SOCKTYPE,
};
use crate::pool::WorkKind;
use libc::{addrinfo, c_char, c_int, c_void, sockaddr};
use std::borrow::Cow;
use std::mem::size_of;
use std::ptr::null_mut;

pub type uv_getaddrinfo_cb = unsafe extern "C" fn(*mut uv_getaddrinfo_t, c_int, *mut addrinfo);
pub type uv_getnameinfo_cb =
    unsafe extern "C" fn(*mut uv_getnameinfo_t, c_int, *const c_char, *const c_char);

// glibc's values of the EAI_* codes the libc crate does not export.
const EAI_NODATA: c_int = -5;
const EAI_ADDRFAMILY: c_int = -9;
const EAI_CANCELED: c_int = -101;

/// Maps a getaddrinfo/getnameinfo result to libuv's error space. `errno`
/// must still be the resolver's for EAI_SYSTEM.
pub fn translate_eai(code: c_int) -> c_int {
    match code {
        0 => 0,
        EAI_ADDRFAMILY => UV_EAI_ADDRFAMILY,
        libc::EAI_AGAIN => UV_EAI_AGAIN,
        libc::EAI_BADFLAGS => UV_EAI_BADFLAGS,
        EAI_CANCELED => UV_EAI_CANCELED,
        libc::EAI_FAIL => UV_EAI_FAIL,
        libc::EAI_FAMILY => UV_EAI_FAMILY,
        libc::EAI_MEMORY => UV_EAI_MEMORY,
        EAI_NODATA => UV_EAI_NODATA,
        libc::EAI_NONAME => UV_EAI_NONAME,
        libc::EAI_OVERFLOW => UV_EAI_OVERFLOW,
        libc::EAI_SERVICE => UV_EAI_SERVICE,
        libc::EAI_SOCKTYPE => UV_EAI_SOCKTYPE,
        libc::EAI_SYSTEM => -crate::sys::errno(),
        // libuv aborts on a code it does not know; a failure is kinder.
        _ => UV_EAI_FAIL,
    }
}

/// One RFC 3492 punycode digit.
fn digit(d: u32) -> u8 {
    if d < 26 {
        b'a' + d as u8
    } else {
        b'0' + (d - 26) as u8
    }
}

fn adapt(mut delta: u32, numpoints: u32, first: bool) -> u32 {
    delta /= if first { 700 } else { 2 };
    delta += delta / numpoints;
    let mut k = 0;
    while delta > 35 * 26 / 2 {
        delta /= 35;
        k += 36;
    }
    k + 36 * delta / (delta + 38)
}

/// Appends one label, as "xn--" punycode when it is not plain ASCII.
fn label_to_ascii(label: &[char], out: &mut Vec<u8>) -> Result<(), c_int> {
    let basic: Vec<u8> = label
        .iter()
        .filter(|c| c.is_ascii())
        .map(|&c| c as u8)
        .collect();
    if basic.len() == label.len() {
        out.extend_from_slice(&basic);
        return Ok(());
    }
    out.extend_from_slice(b"xn--");
    out.extend_from_slice(&basic);
    if !basic.is_empty() {
        out.push(b'-');
    }
    let (mut n, mut delta, mut bias) = (128u32, 0u32, 72u32);
    let mut h = basic.len() as u32;
    let total = label.len() as u32;
    while h < total {
        let m = label
            .iter()
            .map(|&c| c as u32)
            .filter(|&c| c >= n)
            .min()
            .unwrap_or(n);
        delta = (m - n)
            .checked_mul(h + 1)
            .and_then(|d| d.checked_add(delta))
            .ok_or(-libc::E2BIG)?;
        n = m;
        for &c in label {
            let c = c as u32;
            if c < n {
                delta = delta.checked_add(1).ok_or(-libc::E2BIG)?;
            }
            if c != n {
                continue;
            }
            let mut q = delta;
            let mut k = 36;
            loop {
                let t = if k <= bias {
                    1
                } else if k >= bias + 26 {
                    26
                } else {
                    k - bias
                };
                if q < t {
                    break;
                }
                out.push(digit(t + (q - t) % (36 - t)));
                q = (q - t) / (36 - t);
                k += 36;
            }
            out.push(digit(q));
            bias = adapt(delta, h + 1, h == basic.len() as u32);
            delta = 0;
            h += 1;
        }
        delta += 1;
        n += 1;
    }
    Ok(())
}

/// Converts a (UTF-8) host name to what the resolver takes, as libuv does:
/// labels split on '.', U+3002, U+FF0E, U+FF61; at most 255 bytes.
pub fn idna_to_ascii(name: &[u8]) -> Result<Cow<'_, [u8]>, c_int> {
    if name.is_empty() {
        return Err(-libc::EINVAL);
    }
    // Plain ASCII converts to itself (every separator but '.' is non-ASCII):
    // no copy, which a resolver call per request would otherwise pay for.
    let out = if name.is_ascii() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(labels_to_ascii(name)?)
    };
    // libuv converts into a 256-byte buffer, NUL included.
    if out.len() >= 256 {
        return Err(-libc::EINVAL);
    }
    Ok(out)
}

/// The conversion of a name with non-ASCII characters, label by label.
fn labels_to_ascii(name: &[u8]) -> Result<Vec<u8>, c_int> {
    let s = std::str::from_utf8(name).map_err(|_| -libc::EINVAL)?;
    let mut out = Vec::with_capacity(name.len());
    let mut label: Vec<char> = Vec::new();
    for c in s.chars() {
        if matches!(c, '.' | '\u{3002}' | '\u{ff0e}' | '\u{ff61}') {
            label_to_ascii(&label, &mut out)?;
            out.push(b'.');
            label.clear();
        } else {
            label.push(c);
        }
    }
    if !label.is_empty() {
        label_to_ascii(&label, &mut out)?;
    }
    Ok(out)
}

/// The callback uv_getaddrinfo stored in the request's `cb` field.
///
/// # Safety
/// `req` is a live request set up by uv_getaddrinfo.
unsafe fn addrinfo_cb_of(req: *const uv_getaddrinfo_t) -> Option<uv_getaddrinfo_cb> {
    // SAFETY: uv_getaddrinfo stored either null or a uv_getaddrinfo_cb in
    // `cb`; Option<fn> has the null pointer as None.
    unsafe { std::mem::transmute::<*mut c_void, Option<uv_getaddrinfo_cb>>((*req).cb) }
}

/// The callback uv_getnameinfo stored in the request.
///
/// # Safety
/// `req` is a live request set up by uv_getnameinfo.
unsafe fn nameinfo_cb_of(req: *const uv_getnameinfo_t) -> Option<uv_getnameinfo_cb> {
    // SAFETY: uv_getnameinfo stored either null or a uv_getnameinfo_cb in
    // `getnameinfo_cb`; Option<fn> has the null pointer as None.
    unsafe { std::mem::transmute::<*mut c_void, Option<uv_getnameinfo_cb>>((*req).getnameinfo_cb) }
}

/// Runs the resolver (on a pool worker, or inline when there is no callback).
///
/// # Safety
/// `w` is the `work_req` of a uv_getaddrinfo_t set up by uv_getaddrinfo and
/// not yet done; nothing else touches the request meanwhile.
unsafe extern "C" fn getaddrinfo_work(w: *mut uv__work) {
    // SAFETY: `w` is the `work_req` field of a uv_getaddrinfo_t; the request
    // and its copied hints/service/hostname (NUL-terminated) are live and
    // ours until done (contract above).
    unsafe {
        let req = crate::container_of!(w, uv_getaddrinfo_t, work_req);
        let r = libc::getaddrinfo(
            (*req).hostname,
            (*req).service,
            (*req).hints,
            &mut (*req).addrinfo,
        );
        (*req).retcode = translate_eai(r);
    }
}

/// Finishes a uv_getaddrinfo request on the loop thread.
///
/// # Safety
/// `w` is the `work_req` of a uv_getaddrinfo_t whose work ran (or was
/// cancelled); called once, on its loop's thread.
unsafe extern "C" fn getaddrinfo_done(w: *mut uv__work, status: c_int) {
    // SAFETY: `w` is the `work_req` field of a live uv_getaddrinfo_t
    // (contract above); the request is the caller's until the callback, and
    // not touched after it (it may free the request).
    unsafe {
        let req = crate::container_of!(w, uv_getaddrinfo_t, work_req);
        crate::req::unregister((*req).loop_);
        // hints, service and hostname share one allocation; its start is the
        // first of them that is set (see uv_getaddrinfo).
        let block = if !(*req).hints.is_null() {
            (*req).hints as *mut c_void
        } else if !(*req).service.is_null() {
            (*req).service as *mut c_void
        } else {
            (*req).hostname as *mut c_void
        };
        crate::alloc::free(block);
        (*req).hints = null_mut();
        (*req).service = null_mut();
        (*req).hostname = null_mut();
        if status == -libc::ECANCELED {
            (*req).retcode = UV_EAI_CANCELED;
        }
        if let Some(cb) = addrinfo_cb_of(req) {
            cb(req, (*req).retcode, (*req).addrinfo);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_getaddrinfo(
    loop_: *mut uv_loop_t,
    req: *mut uv_getaddrinfo_t,
    cb: Option<uv_getaddrinfo_cb>,
    hostname: *const c_char,
    service: *const c_char,
    hints: *const addrinfo,
) -> c_int {
    if req.is_null() || (hostname.is_null() && service.is_null()) {
        return -libc::EINVAL;
    }
    let host = if hostname.is_null() {
        None
    } else {
        // SAFETY: uv.h: a non-null `hostname` is a NUL-terminated string.
        match idna_to_ascii(unsafe { std::ffi::CStr::from_ptr(hostname) }.to_bytes()) {
            Ok(h) => Some(h),
            Err(e) => return e,
        }
    };
    let host_len = host.as_ref().map_or(0, |h| h.len() + 1);
    let service_len = if service.is_null() {
        0
    } else {
        // SAFETY: uv.h: a non-null `service` is a NUL-terminated string.
        unsafe { libc::strlen(service) + 1 }
    };
    let hints_len = if hints.is_null() {
        0
    } else {
        size_of::<addrinfo>()
    };
    // One block holds copies of hints, service and host name, in that order.
    // SAFETY: a plain allocation, freed by getaddrinfo_done.
    let buf = unsafe { crate::alloc::malloc(hints_len + service_len + host_len) } as *mut u8;
    if buf.is_null() {
        return -libc::ENOMEM;
    }
    // SAFETY: uv.h: `loop_` is a live loop and `req` writable storage for a
    // uv_getaddrinfo_t that stays untouched until its callback; `hints` (if
    // set) is a readable addrinfo, `service` a string of `service_len` bytes
    // with its NUL; `buf` has room for all three, hints first, where
    // malloc's alignment suits an addrinfo.
    unsafe {
        crate::req::init(loop_, req as *mut uv_req_t, UV_GETADDRINFO);
        (*req).loop_ = loop_;
        (*req).cb = cb.map_or(null_mut(), |f| f as *mut c_void);
        (*req).addrinfo = null_mut();
        (*req).hints = null_mut();
        (*req).service = null_mut();
        (*req).hostname = null_mut();
        (*req).retcode = 0;
        let mut off = 0;
        if !hints.is_null() {
            std::ptr::copy_nonoverlapping(hints as *const u8, buf, hints_len);
            (*req).hints = buf as *mut addrinfo;
            off += hints_len;
        }
        if !service.is_null() {
            std::ptr::copy_nonoverlapping(service as *const u8, buf.add(off), service_len);
            (*req).service = buf.add(off) as *mut c_char;
            off += service_len;
        }
        if let Some(h) = host {
            std::ptr::copy_nonoverlapping(h.as_ptr(), buf.add(off), h.len());
            *buf.add(off + h.len()) = 0;
            (*req).hostname = buf.add(off) as *mut c_char;
        }
    }
    // SAFETY: the request is set up above; its `work_req` is handed to the
    // pool (which owns it until done runs on the loop thread) or run here.
    unsafe {
        if cb.is_some() {
            crate::work::submit(
                loop_,
                &mut (*req).work_req,
                WorkKind::SlowIo,
                getaddrinfo_work,
                getaddrinfo_done,
            );
            0
        } else {
            getaddrinfo_work(&mut (*req).work_req);
            getaddrinfo_done(&mut (*req).work_req, 0);
            (*req).retcode
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_freeaddrinfo(ai: *mut addrinfo) {
    if !ai.is_null() {
        // SAFETY: uv.h: a non-null `ai` is a list a getaddrinfo callback
        // received, freed once.
        unsafe { libc::freeaddrinfo(ai) };
    }
}

/// Runs the reverse lookup (on a pool worker, or inline).
///
/// # Safety
/// `w` is the `work_req` of a uv_getnameinfo_t set up by uv_getnameinfo and
/// not yet done; nothing else touches the request meanwhile.
unsafe extern "C" fn getnameinfo_work(w: *mut uv__work) {
    // SAFETY: `w` is the `work_req` field of a uv_getnameinfo_t, live and
    // ours until done (contract above); `storage` holds a sockaddr_in or
    // sockaddr_in6 (uv_getnameinfo copied only those), `host` and `service`
    // are the request's own arrays of the lengths passed.
    unsafe {
        let req = crate::container_of!(w, uv_getnameinfo_t, work_req);
        let salen = if (*req).storage.ss_family as c_int == libc::AF_INET {
            size_of::<libc::sockaddr_in>()
        } else {
            size_of::<libc::sockaddr_in6>()
        };
        let r = libc::getnameinfo(
            &(*req).storage as *const _ as *const sockaddr,
            salen as libc::socklen_t,
            (*req).host.as_mut_ptr(),
            (*req).host.len() as libc::socklen_t,
            (*req).service.as_mut_ptr(),
            (*req).service.len() as libc::socklen_t,
            (*req).flags,
        );
        (*req).retcode = translate_eai(r);
    }
}

/// Finishes a uv_getnameinfo request on the loop thread.
///
/// # Safety
/// `w` is the `work_req` of a uv_getnameinfo_t whose work ran (or was
/// cancelled); called once, on its loop's thread.
unsafe extern "C" fn getnameinfo_done(w: *mut uv__work, status: c_int) {
    // SAFETY: `w` is the `work_req` field of a live uv_getnameinfo_t
    // (contract above), not touched after the callback (which may free it).
    unsafe {
        let req = crate::container_of!(w, uv_getnameinfo_t, work_req);
        crate::req::unregister((*req).loop_);
        let (mut host, mut service) = (std::ptr::null(), std::ptr::null());
        if status == -libc::ECANCELED {
            (*req).retcode = UV_EAI_CANCELED;
        } else if (*req).retcode == 0 {
            host = (*req).host.as_ptr();
            service = (*req).service.as_ptr();
        }
        if let Some(cb) = nameinfo_cb_of(req) {
            cb(req, (*req).retcode, host, service);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_getnameinfo(
    loop_: *mut uv_loop_t,
    req: *mut uv_getnameinfo_t,
    cb: Option<uv_getnameinfo_cb>,
    addr: *const sockaddr,
    flags: c_int,
) -> c_int {
    if req.is_null() || addr.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `addr` is a readable sockaddr of the size its family says.
    let len = match unsafe { (*addr).sa_family } as c_int {
        libc::AF_INET => size_of::<libc::sockaddr_in>(),
        libc::AF_INET6 => size_of::<libc::sockaddr_in6>(),
        _ => return -libc::EINVAL,
    };
    // SAFETY: uv.h: `loop_` is a live loop, `req` writable storage for a
    // uv_getnameinfo_t untouched until its callback, `addr` has `len`
    // bytes (its family's size), which fit in `storage`. The request is
    // then handed to the pool (which owns it until done) or run here.
    unsafe {
        std::ptr::copy_nonoverlapping(
            addr as *const u8,
            &mut (*req).storage as *mut _ as *mut u8,
            len,
        );
        crate::req::init(loop_, req as *mut uv_req_t, UV_GETNAMEINFO);
        (*req).getnameinfo_cb = cb.map_or(null_mut(), |f| f as *mut c_void);
        (*req).flags = flags;
        (*req).loop_ = loop_;
        (*req).retcode = 0;
        if cb.is_some() {
            crate::work::submit(
                loop_,
                &mut (*req).work_req,
                WorkKind::SlowIo,
                getnameinfo_work,
                getnameinfo_done,
            );
            0
        } else {
            getnameinfo_work(&mut (*req).work_req);
            getnameinfo_done(&mut (*req).work_req, 0);
            (*req).retcode
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idna(s: &str) -> Result<String, c_int> {
        idna_to_ascii(s.as_bytes()).map(|v| String::from_utf8(v.into_owned()).unwrap())
    }

    #[test]
    fn idna_like_libuv() {
        assert_eq!(idna("example.com").unwrap(), "example.com");
        assert_eq!(idna("example.com.").unwrap(), "example.com.");
        assert_eq!(idna("bücher.de").unwrap(), "xn--bcher-kva.de");
        assert_eq!(idna("ünicode.com").unwrap(), "xn--nicode-2ya.com");
        assert_eq!(idna("ñ").unwrap(), "xn--ida");
        assert_eq!(idna("ñandú.com").unwrap(), "xn--and-6ma2c.com");
        assert_eq!(idna("例子。测试").unwrap(), "xn--fsqu00a.xn--0zwm56d");
        // Cases from libuv's test-idna.c.
        assert_eq!(idna(".").unwrap(), ".");
        assert_eq!(idna("straße.de").unwrap(), "xn--strae-oqa.de");
        assert_eq!(idna("☃-⌘.com").unwrap(), "xn----dqo34k.com");
        assert_eq!(idna("퐀☃-⌘.com").unwrap(), "xn----dqo34kn65z.com");
        assert_eq!(idna("💩.la").unwrap(), "xn--ls8h.la");
        assert_eq!(idna("mañana｡com").unwrap(), "xn--maana-pta.com");
        assert_eq!(idna("ü.ü.").unwrap(), "xn--tda.xn--tda.");
        assert_eq!(idna("üëäö♥").unwrap(), "xn--4can8av2009b");
        assert_eq!(
            idna("3年B組金八先生").unwrap(),
            "xn--3B-ww4c5e180e575a65lsy2b"
        );
        assert_eq!(
            idna("Pročprostěnemluvíčesky").unwrap(),
            "xn--Proprostnemluvesky-uyb24dma41a"
        );
        assert_eq!(idna("-> $1.00 <-").unwrap(), "-> $1.00 <-");
        assert_eq!(
            idna_to_ascii(b"\xC0\x80\xC1\x80.com").unwrap_err(),
            -libc::EINVAL
        );
        assert_eq!(idna("").unwrap_err(), -libc::EINVAL);
        assert_eq!(idna_to_ascii(b"\xff").unwrap_err(), -libc::EINVAL);
        assert_eq!(idna(&"a".repeat(256)).unwrap_err(), -libc::EINVAL);
        assert_eq!(idna(&"a".repeat(255)).unwrap().len(), 255);
    }

    #[test]
    fn eai_mapping() {
        assert_eq!(translate_eai(0), 0);
        assert_eq!(translate_eai(libc::EAI_NONAME), UV_EAI_NONAME);
        assert_eq!(translate_eai(libc::EAI_AGAIN), UV_EAI_AGAIN);
        assert_eq!(translate_eai(EAI_NODATA), UV_EAI_NODATA);
    }
}
