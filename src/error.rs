//! Error codes and their names and messages: uv_strerror, uv_strerror_r,
//! uv_err_name, uv_err_name_r, uv_translate_sys_error.
//!
//! On Linux libuv's `UV_E*` codes are negated errno values, except for the
//! codes libuv invents itself (EOF, the EAI_* family, ECHARSET, EFTYPE, ...).
//! The names and messages are observable behaviour (programs print and
//! compare them), so they are exactly libuv 1.50's.

use libc::{c_char, c_int, size_t};
use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Mutex;

pub const UV_E2BIG: c_int = -7;
pub const UV_EACCES: c_int = -13;
pub const UV_EADDRINUSE: c_int = -98;
pub const UV_EADDRNOTAVAIL: c_int = -99;
pub const UV_EAFNOSUPPORT: c_int = -97;
pub const UV_EAGAIN: c_int = -11;
pub const UV_EAI_ADDRFAMILY: c_int = -3000;
pub const UV_EAI_AGAIN: c_int = -3001;
pub const UV_EAI_BADFLAGS: c_int = -3002;
pub const UV_EAI_BADHINTS: c_int = -3013;
pub const UV_EAI_CANCELED: c_int = -3003;
pub const UV_EAI_FAIL: c_int = -3004;
pub const UV_EAI_FAMILY: c_int = -3005;
pub const UV_EAI_MEMORY: c_int = -3006;
pub const UV_EAI_NODATA: c_int = -3007;
pub const UV_EAI_NONAME: c_int = -3008;
pub const UV_EAI_OVERFLOW: c_int = -3009;
pub const UV_EAI_PROTOCOL: c_int = -3014;
pub const UV_EAI_SERVICE: c_int = -3010;
pub const UV_EAI_SOCKTYPE: c_int = -3011;
pub const UV_EALREADY: c_int = -114;
pub const UV_EBADF: c_int = -9;
pub const UV_EBUSY: c_int = -16;
pub const UV_ECANCELED: c_int = -125;
pub const UV_ECHARSET: c_int = -4080;
pub const UV_ECONNABORTED: c_int = -103;
pub const UV_ECONNREFUSED: c_int = -111;
pub const UV_ECONNRESET: c_int = -104;
pub const UV_EDESTADDRREQ: c_int = -89;
pub const UV_EEXIST: c_int = -17;
pub const UV_EFAULT: c_int = -14;
pub const UV_EFBIG: c_int = -27;
pub const UV_EHOSTUNREACH: c_int = -113;
pub const UV_EINTR: c_int = -4;
pub const UV_EINVAL: c_int = -22;
pub const UV_EIO: c_int = -5;
pub const UV_EISCONN: c_int = -106;
pub const UV_EISDIR: c_int = -21;
pub const UV_ELOOP: c_int = -40;
pub const UV_EMFILE: c_int = -24;
pub const UV_EMSGSIZE: c_int = -90;
pub const UV_ENAMETOOLONG: c_int = -36;
pub const UV_ENETDOWN: c_int = -100;
pub const UV_ENETUNREACH: c_int = -101;
pub const UV_ENFILE: c_int = -23;
pub const UV_ENOBUFS: c_int = -105;
pub const UV_ENODEV: c_int = -19;
pub const UV_ENOENT: c_int = -2;
pub const UV_ENOMEM: c_int = -12;
pub const UV_ENONET: c_int = -64;
pub const UV_ENOPROTOOPT: c_int = -92;
pub const UV_ENOSPC: c_int = -28;
pub const UV_ENOSYS: c_int = -38;
pub const UV_ENOTCONN: c_int = -107;
pub const UV_ENOTDIR: c_int = -20;
pub const UV_ENOTEMPTY: c_int = -39;
pub const UV_ENOTSOCK: c_int = -88;
pub const UV_ENOTSUP: c_int = -95;
pub const UV_EOVERFLOW: c_int = -75;
pub const UV_EPERM: c_int = -1;
pub const UV_EPIPE: c_int = -32;
pub const UV_EPROTO: c_int = -71;
pub const UV_EPROTONOSUPPORT: c_int = -93;
pub const UV_EPROTOTYPE: c_int = -91;
pub const UV_ERANGE: c_int = -34;
pub const UV_EROFS: c_int = -30;
pub const UV_ESHUTDOWN: c_int = -108;
pub const UV_ESPIPE: c_int = -29;
pub const UV_ESRCH: c_int = -3;
pub const UV_ETIMEDOUT: c_int = -110;
pub const UV_ETXTBSY: c_int = -26;
pub const UV_EXDEV: c_int = -18;
pub const UV_UNKNOWN: c_int = -4094;
pub const UV_EOF: c_int = -4095;
pub const UV_ENXIO: c_int = -6;
pub const UV_EMLINK: c_int = -31;
pub const UV_EHOSTDOWN: c_int = -112;
pub const UV_EREMOTEIO: c_int = -121;
pub const UV_ENOTTY: c_int = -25;
pub const UV_EFTYPE: c_int = -4028;
pub const UV_EILSEQ: c_int = -84;
pub const UV_ESOCKTNOSUPPORT: c_int = -94;
pub const UV_ENODATA: c_int = -61;
pub const UV_EUNATCH: c_int = -49;
pub const UV_ENOEXEC: c_int = -8;

/// Every code libuv knows: (code, name, message), NUL-terminated so that the
/// exported functions can hand out pointers to them directly.
static ERRORS: &[(c_int, &[u8], &[u8])] = &[
    (UV_E2BIG, b"E2BIG\0", b"argument list too long\0"),
    (UV_EACCES, b"EACCES\0", b"permission denied\0"),
    (UV_EADDRINUSE, b"EADDRINUSE\0", b"address already in use\0"),
    (
        UV_EADDRNOTAVAIL,
        b"EADDRNOTAVAIL\0",
        b"address not available\0",
    ),
    (
        UV_EAFNOSUPPORT,
        b"EAFNOSUPPORT\0",
        b"address family not supported\0",
    ),
    (
        UV_EAGAIN,
        b"EAGAIN\0",
        b"resource temporarily unavailable\0",
    ),
    (
        UV_EAI_ADDRFAMILY,
        b"EAI_ADDRFAMILY\0",
        b"address family not supported\0",
    ),
    (UV_EAI_AGAIN, b"EAI_AGAIN\0", b"temporary failure\0"),
    (UV_EAI_BADFLAGS, b"EAI_BADFLAGS\0", b"bad ai_flags value\0"),
    (
        UV_EAI_BADHINTS,
        b"EAI_BADHINTS\0",
        b"invalid value for hints\0",
    ),
    (UV_EAI_CANCELED, b"EAI_CANCELED\0", b"request canceled\0"),
    (UV_EAI_FAIL, b"EAI_FAIL\0", b"permanent failure\0"),
    (UV_EAI_FAMILY, b"EAI_FAMILY\0", b"ai_family not supported\0"),
    (UV_EAI_MEMORY, b"EAI_MEMORY\0", b"out of memory\0"),
    (UV_EAI_NODATA, b"EAI_NODATA\0", b"no address\0"),
    (UV_EAI_NONAME, b"EAI_NONAME\0", b"unknown node or service\0"),
    (
        UV_EAI_OVERFLOW,
        b"EAI_OVERFLOW\0",
        b"argument buffer overflow\0",
    ),
    (
        UV_EAI_PROTOCOL,
        b"EAI_PROTOCOL\0",
        b"resolved protocol is unknown\0",
    ),
    (
        UV_EAI_SERVICE,
        b"EAI_SERVICE\0",
        b"service not available for socket type\0",
    ),
    (
        UV_EAI_SOCKTYPE,
        b"EAI_SOCKTYPE\0",
        b"socket type not supported\0",
    ),
    (
        UV_EALREADY,
        b"EALREADY\0",
        b"connection already in progress\0",
    ),
    (UV_EBADF, b"EBADF\0", b"bad file descriptor\0"),
    (UV_EBUSY, b"EBUSY\0", b"resource busy or locked\0"),
    (UV_ECANCELED, b"ECANCELED\0", b"operation canceled\0"),
    (UV_ECHARSET, b"ECHARSET\0", b"invalid Unicode character\0"),
    (
        UV_ECONNABORTED,
        b"ECONNABORTED\0",
        b"software caused connection abort\0",
    ),
    (UV_ECONNREFUSED, b"ECONNREFUSED\0", b"connection refused\0"),
    (
        UV_ECONNRESET,
        b"ECONNRESET\0",
        b"connection reset by peer\0",
    ),
    (
        UV_EDESTADDRREQ,
        b"EDESTADDRREQ\0",
        b"destination address required\0",
    ),
    (UV_EEXIST, b"EEXIST\0", b"file already exists\0"),
    (
        UV_EFAULT,
        b"EFAULT\0",
        b"bad address in system call argument\0",
    ),
    (UV_EFBIG, b"EFBIG\0", b"file too large\0"),
    (UV_EHOSTUNREACH, b"EHOSTUNREACH\0", b"host is unreachable\0"),
    (UV_EINTR, b"EINTR\0", b"interrupted system call\0"),
    (UV_EINVAL, b"EINVAL\0", b"invalid argument\0"),
    (UV_EIO, b"EIO\0", b"i/o error\0"),
    (UV_EISCONN, b"EISCONN\0", b"socket is already connected\0"),
    (
        UV_EISDIR,
        b"EISDIR\0",
        b"illegal operation on a directory\0",
    ),
    (
        UV_ELOOP,
        b"ELOOP\0",
        b"too many symbolic links encountered\0",
    ),
    (UV_EMFILE, b"EMFILE\0", b"too many open files\0"),
    (UV_EMSGSIZE, b"EMSGSIZE\0", b"message too long\0"),
    (UV_ENAMETOOLONG, b"ENAMETOOLONG\0", b"name too long\0"),
    (UV_ENETDOWN, b"ENETDOWN\0", b"network is down\0"),
    (
        UV_ENETUNREACH,
        b"ENETUNREACH\0",
        b"network is unreachable\0",
    ),
    (UV_ENFILE, b"ENFILE\0", b"file table overflow\0"),
    (UV_ENOBUFS, b"ENOBUFS\0", b"no buffer space available\0"),
    (UV_ENODEV, b"ENODEV\0", b"no such device\0"),
    (UV_ENOENT, b"ENOENT\0", b"no such file or directory\0"),
    (UV_ENOMEM, b"ENOMEM\0", b"not enough memory\0"),
    (UV_ENONET, b"ENONET\0", b"machine is not on the network\0"),
    (
        UV_ENOPROTOOPT,
        b"ENOPROTOOPT\0",
        b"protocol not available\0",
    ),
    (UV_ENOSPC, b"ENOSPC\0", b"no space left on device\0"),
    (UV_ENOSYS, b"ENOSYS\0", b"function not implemented\0"),
    (UV_ENOTCONN, b"ENOTCONN\0", b"socket is not connected\0"),
    (UV_ENOTDIR, b"ENOTDIR\0", b"not a directory\0"),
    (UV_ENOTEMPTY, b"ENOTEMPTY\0", b"directory not empty\0"),
    (
        UV_ENOTSOCK,
        b"ENOTSOCK\0",
        b"socket operation on non-socket\0",
    ),
    (
        UV_ENOTSUP,
        b"ENOTSUP\0",
        b"operation not supported on socket\0",
    ),
    (
        UV_EOVERFLOW,
        b"EOVERFLOW\0",
        b"value too large for defined data type\0",
    ),
    (UV_EPERM, b"EPERM\0", b"operation not permitted\0"),
    (UV_EPIPE, b"EPIPE\0", b"broken pipe\0"),
    (UV_EPROTO, b"EPROTO\0", b"protocol error\0"),
    (
        UV_EPROTONOSUPPORT,
        b"EPROTONOSUPPORT\0",
        b"protocol not supported\0",
    ),
    (
        UV_EPROTOTYPE,
        b"EPROTOTYPE\0",
        b"protocol wrong type for socket\0",
    ),
    (UV_ERANGE, b"ERANGE\0", b"result too large\0"),
    (UV_EROFS, b"EROFS\0", b"read-only file system\0"),
    (
        UV_ESHUTDOWN,
        b"ESHUTDOWN\0",
        b"cannot send after transport endpoint shutdown\0",
    ),
    (UV_ESPIPE, b"ESPIPE\0", b"invalid seek\0"),
    (UV_ESRCH, b"ESRCH\0", b"no such process\0"),
    (UV_ETIMEDOUT, b"ETIMEDOUT\0", b"connection timed out\0"),
    (UV_ETXTBSY, b"ETXTBSY\0", b"text file is busy\0"),
    (UV_EXDEV, b"EXDEV\0", b"cross-device link not permitted\0"),
    (UV_UNKNOWN, b"UNKNOWN\0", b"unknown error\0"),
    (UV_EOF, b"EOF\0", b"end of file\0"),
    (UV_ENXIO, b"ENXIO\0", b"no such device or address\0"),
    (UV_EMLINK, b"EMLINK\0", b"too many links\0"),
    (UV_EHOSTDOWN, b"EHOSTDOWN\0", b"host is down\0"),
    (UV_EREMOTEIO, b"EREMOTEIO\0", b"remote I/O error\0"),
    (UV_ENOTTY, b"ENOTTY\0", b"inappropriate ioctl for device\0"),
    (
        UV_EFTYPE,
        b"EFTYPE\0",
        b"inappropriate file type or format\0",
    ),
    (UV_EILSEQ, b"EILSEQ\0", b"illegal byte sequence\0"),
    (
        UV_ESOCKTNOSUPPORT,
        b"ESOCKTNOSUPPORT\0",
        b"socket type not supported\0",
    ),
    (UV_ENODATA, b"ENODATA\0", b"no data available\0"),
    (UV_EUNATCH, b"EUNATCH\0", b"protocol driver not attached\0"),
    (UV_ENOEXEC, b"ENOEXEC\0", b"exec format error\0"),
];

fn lookup(err: c_int) -> Option<(&'static [u8], &'static [u8])> {
    ERRORS
        .iter()
        .find(|&&(code, _, _)| code == err)
        .map(|&(_, name, msg)| (name, msg))
}

/// libuv's name for `err` without the trailing NUL, or None if it is unknown.
pub fn err_name(err: c_int) -> Option<&'static str> {
    lookup(err).and_then(|(name, _)| std::str::from_utf8(name.strip_suffix(b"\0")?).ok())
}

/// libuv's message for `err` without the trailing NUL, or None if it is unknown.
#[cfg(test)]
fn strerror(err: c_int) -> Option<&'static str> {
    lookup(err).and_then(|(_, msg)| std::str::from_utf8(msg.strip_suffix(b"\0")?).ok())
}

const UNKNOWN_FALLBACK: &[u8] = b"Unknown system error\0";

/// libuv formats unknown codes into a 32-byte buffer before copying them, so
/// uv_strerror/uv_err_name cut "Unknown system error -2147483648" to 31 bytes
/// (codes of eleven characters: -1000000000 and below). The _r variants
/// format straight into the caller's buffer and are not cut.
const UNKNOWN_MAX_LEN: usize = 31;

static UNKNOWN_STRINGS: Mutex<Option<HashMap<c_int, CString>>> = Mutex::new(None);

/// "Unknown system error N" as a string that lives for the rest of the
/// process. libuv allocates a fresh copy on every call and never frees it;
/// here each code's string is made once and reused, which callers cannot tell
/// apart except that it does not leak.
fn unknown_err_string(err: c_int) -> *const c_char {
    let mut guard = UNKNOWN_STRINGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(s) = map.get(&err) {
        // The CString's heap buffer never moves or drops: entries are never
        // removed and the map is never dropped.
        return s.as_ptr();
    }
    // Every distinct code is interned, without a cap: a cap would make the text
    // differ from libuv's (found by compat/diff), and libuv leaks a fresh copy on
    // every call, so this never holds more than libuv would have leaked.
    let mut text = format!("Unknown system error {err}");
    text.truncate(UNKNOWN_MAX_LEN);
    match CString::new(text) {
        Ok(s) => {
            let p = s.as_ptr();
            map.insert(err, s);
            p
        }
        Err(_) => UNKNOWN_FALLBACK.as_ptr() as *const c_char,
    }
}

/// Copies `src` into `buf` like `snprintf(buf, buflen, "%s", src)`: at most
/// `buflen - 1` bytes and a NUL; nothing at all when `buflen` is 0.
///
/// # Safety
/// `buf` is null or points to `buflen` writable bytes that do not overlap `src`.
unsafe fn copy_truncated(buf: *mut c_char, buflen: size_t, src: &[u8]) -> *mut c_char {
    if buf.is_null() || buflen == 0 {
        return buf;
    }
    let src = src.strip_suffix(b"\0").unwrap_or(src);
    let n = src.len().min(buflen - 1);
    // SAFETY: n + 1 <= buflen, and the caller guarantees `buflen` writable
    // bytes at `buf`, apart from `src`.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), buf as *mut u8, n);
        *buf.add(n) = 0;
    }
    buf
}

/// What the _r forms copy: `known` (a name or message), else "Unknown
/// system error N", uncut.
///
/// # Safety
/// As `copy_truncated`.
unsafe fn copy_known_or_unknown(
    err: c_int,
    known: Option<&[u8]>,
    buf: *mut c_char,
    buflen: size_t,
) -> *mut c_char {
    let unknown;
    let text = match known {
        Some(text) => text,
        None => {
            unknown = format!("Unknown system error {err}");
            unknown.as_bytes()
        }
    };
    // SAFETY: the caller's contract, passed on.
    unsafe { copy_truncated(buf, buflen, text) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_strerror(err: c_int) -> *const c_char {
    match lookup(err) {
        Some((_, msg)) => msg.as_ptr() as *const c_char,
        None => unknown_err_string(err),
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_strerror_r(
    err: c_int,
    buf: *mut c_char,
    buflen: size_t,
) -> *mut c_char {
    // SAFETY: uv.h's contract: `buf` is null or holds `buflen` writable bytes.
    unsafe { copy_known_or_unknown(err, lookup(err).map(|(_, msg)| msg), buf, buflen) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_err_name(err: c_int) -> *const c_char {
    match lookup(err) {
        Some((name, _)) => name.as_ptr() as *const c_char,
        None => unknown_err_string(err),
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_err_name_r(
    err: c_int,
    buf: *mut c_char,
    buflen: size_t,
) -> *mut c_char {
    // SAFETY: uv.h's contract: `buf` is null or holds `buflen` writable bytes.
    unsafe { copy_known_or_unknown(err, lookup(err).map(|(name, _)| name), buf, buflen) }
}

#[no_mangle]
pub extern "C" fn uv_translate_sys_error(sys_errno: c_int) -> c_int {
    // A positive errno becomes its negation; what is already a libuv code
    // (zero or negative) stays as it is.
    if sys_errno <= 0 {
        sys_errno
    } else {
        -sys_errno
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// # Safety
    /// `p` points to a NUL-terminated string.
    unsafe fn s(p: *const c_char) -> String {
        // SAFETY: the caller's contract.
        unsafe { CStr::from_ptr(p).to_string_lossy().into_owned() }
    }

    #[test]
    fn every_code_round_trips() {
        let mut buf = [0 as c_char; 64];
        for &(code, name, msg) in ERRORS {
            let name = std::str::from_utf8(&name[..name.len() - 1]).unwrap();
            let msg = std::str::from_utf8(&msg[..msg.len() - 1]).unwrap();
            // SAFETY: the functions return static or interned NUL-terminated
            // strings, or `buf`, 64 bytes, NUL-terminated by them.
            unsafe {
                assert_eq!(s(uv_err_name(code)), name);
                assert_eq!(s(uv_strerror(code)), msg);
                assert_eq!(s(uv_err_name_r(code, buf.as_mut_ptr(), buf.len())), name);
                assert_eq!(s(uv_strerror_r(code, buf.as_mut_ptr(), buf.len())), msg);
            }
            assert_eq!(err_name(code), Some(name));
            assert_eq!(strerror(code), Some(msg));
            // Codes are unique, and the errno ones are -errno.
            assert_eq!(ERRORS.iter().filter(|e| e.0 == code).count(), 1);
        }
        assert_eq!(ERRORS.len(), 85);
    }

    #[test]
    fn codes_match_errno() {
        assert_eq!(UV_EINVAL, -libc::EINVAL);
        assert_eq!(UV_ENOTSUP, -libc::ENOTSUP);
        assert_eq!(UV_EAGAIN, -libc::EAGAIN);
        assert_eq!(UV_ETIMEDOUT, -libc::ETIMEDOUT);
        assert_eq!(UV_EOF, -4095);
        assert_eq!(UV_UNKNOWN, -4094);
        assert_eq!(UV_ECHARSET, -4080);
        assert_eq!(UV_EFTYPE, -4028);
        assert_eq!(UV_EAI_ADDRFAMILY, -3000);
        assert_eq!(UV_EAI_SOCKTYPE, -3011);
        assert_eq!(UV_EAI_BADHINTS, -3013);
        assert_eq!(UV_EAI_PROTOCOL, -3014);
        assert_eq!(err_name(UV_EOF), Some("EOF"));
        assert_eq!(strerror(UV_ENOENT), Some("no such file or directory"));
    }

    #[test]
    fn unknown_codes() {
        // SAFETY: every string read is static, interned, or written
        // NUL-terminated into a local buffer of the length passed.
        unsafe {
            assert_eq!(s(uv_strerror(1337)), "Unknown system error 1337");
            assert_eq!(s(uv_err_name(-1337)), "Unknown system error -1337");
            assert_eq!(s(uv_strerror(0)), "Unknown system error 0");
            // The same code gives the same, stable string: nothing leaks per call.
            assert_eq!(uv_strerror(1337), uv_err_name(1337));
            // As libuv 1.50 (found by compat/diff): the non-_r forms cut the text to 31
            // bytes (libuv's 32-byte buffer); the _r forms do not; no cap on distinct codes.
            assert_eq!(s(uv_strerror(i32::MIN)), "Unknown system error -214748364");
            assert_eq!(
                s(uv_err_name(-1_000_000_000)),
                "Unknown system error -100000000"
            );
            assert_eq!(s(uv_err_name(i32::MAX)), "Unknown system error 2147483647");
            let mut big = [0 as c_char; 40];
            assert_eq!(
                s(uv_strerror_r(i32::MIN, big.as_mut_ptr(), big.len())),
                "Unknown system error -2147483648"
            );
            for code in 5000..10_000 {
                assert_eq!(s(uv_strerror(code)), format!("Unknown system error {code}"));
            }
            let mut buf = [0 as c_char; 32];
            assert_eq!(
                s(uv_strerror_r(-1337, buf.as_mut_ptr(), buf.len())),
                "Unknown system error -1337"
            );
            assert_eq!(
                s(uv_err_name_r(1337, buf.as_mut_ptr(), buf.len())),
                "Unknown system error 1337"
            );
        }
    }

    #[test]
    fn truncation() {
        let mut buf = [0x55 as c_char; 8];
        // SAFETY: each buflen passed is <= 8, the buffer's size; the results
        // read are NUL-terminated by the _r functions.
        unsafe {
            assert_eq!(s(uv_strerror_r(UV_EINVAL, buf.as_mut_ptr(), 4)), "inv");
            assert_eq!(s(uv_err_name_r(UV_EADDRINUSE, buf.as_mut_ptr(), 5)), "EADD");
            assert_eq!(s(uv_err_name_r(1337, buf.as_mut_ptr(), 8)), "Unknown");
            // buflen 0 writes nothing.
            buf[0] = 0x55;
            uv_strerror_r(UV_EINVAL, buf.as_mut_ptr(), 0);
            assert_eq!(buf[0], 0x55);
        }
    }

    #[test]
    fn translate() {
        assert_eq!(uv_translate_sys_error(libc::EPERM), UV_EPERM);
        assert_eq!(uv_translate_sys_error(libc::EPIPE), UV_EPIPE);
        assert_eq!(uv_translate_sys_error(UV_EACCES), UV_EACCES);
        assert_eq!(uv_translate_sys_error(0), 0);
        assert_eq!(uv_translate_sys_error(libc::ENOENT), UV_ENOENT);
    }
}
