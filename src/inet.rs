//! Address text <-> binary: uv_inet_pton/ntop, uv_ip{4,6}_addr, uv_ip*_name,
//! uv_if_indexto{name,iid}.
//!
//! libuv ships its own strict parser and formatter instead of the C
//! library's, and programs depend on what it accepts: dotted quads with no
//! leading zeros, at most four hex digits a group, a `%zone` suffix on IPv6
//! that is ignored by pton, and UV_ENOSPC when the output does not fit.

use libc::{c_char, c_int, c_uint, c_void, size_t, sockaddr, sockaddr_in, sockaddr_in6};
use std::ffi::CStr;

const AF_INET: c_int = libc::AF_INET;
const AF_INET6: c_int = libc::AF_INET6;

/// INET6_ADDRSTRLEN: the longest IPv6 text plus its NUL.
const INET6_ADDRSTRLEN: usize = 46;
/// UV_IF_NAMESIZE (IFNAMSIZ + 1 on Linux).
const IF_NAMESIZE: usize = 16 + 1;

/// Small fixed-capacity text buffer for formatting without allocation.
struct Text {
    buf: [u8; INET6_ADDRSTRLEN],
    len: usize,
}

impl Text {
    fn new() -> Self {
        Text {
            buf: [0; INET6_ADDRSTRLEN],
            len: 0,
        }
    }

    /// Appends, dropping bytes that do not fit (cannot happen for
    /// well-formed addresses, whose text is at most 45 bytes).
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_dec(&mut self, v: u8) {
        if v >= 100 {
            self.push(b'0' + v / 100);
        }
        if v >= 10 {
            self.push(b'0' + (v / 10) % 10);
        }
        self.push(b'0' + v % 10);
    }

    fn push_hex(&mut self, v: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12u32, 8, 4, 0] {
            let nibble = ((v >> shift) & 0xf) as usize;
            if nibble != 0 || started || shift == 0 {
                self.push(HEX[nibble]);
                started = true;
            }
        }
    }

    fn push_v4(&mut self, a: &[u8; 4]) {
        for (i, &octet) in a.iter().enumerate() {
            if i != 0 {
                self.push(b'.');
            }
            self.push_dec(octet);
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn format_v4(a: &[u8; 4]) -> Text {
    let mut t = Text::new();
    t.push_v4(a);
    t
}

fn format_v6(a: &[u8; 16]) -> Text {
    let mut words = [0u16; 8];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }

    // The longest run of zero words (the first one on a tie) becomes "::",
    // but only when it is at least two words long.
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            let len = i - start;
            if best.map_or(true, |(_, l)| len > l) {
                best = Some((start, len));
            }
        } else {
            i += 1;
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);

    let mut t = Text::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    t.push(b':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            t.push(b':');
        }
        // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d)
        // addresses end in dotted-quad form.
        if i == 6 {
            if let Some((0, len)) = best {
                if len == 6 || (len == 5 && words[5] == 0xffff) {
                    t.push_v4(&[a[12], a[13], a[14], a[15]]);
                    return t;
                }
            }
        }
        t.push_hex(words[i]);
        i += 1;
    }
    if let Some((base, len)) = best {
        if base + len == 8 {
            t.push(b':');
        }
    }
    t
}

/// Copies `text` plus a NUL into `dst` of `size` bytes, or UV_ENOSPC.
///
/// # Safety
/// `dst` is valid for writes of `size` bytes and does not overlap `text`.
unsafe fn emit(text: &[u8], dst: *mut c_char, size: size_t) -> c_int {
    if text.len() >= size {
        return -libc::ENOSPC;
    }
    // SAFETY: text.len() + 1 <= size bytes, all within `dst` (contract above).
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), dst as *mut u8, text.len());
        *dst.add(text.len()) = 0;
    }
    0
}

/// Strict dotted quad: exactly four decimal octets, no leading zeros.
fn parse_v4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split(|&c| c == b'.');
    for slot in out.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if part.len() > 1 && part[0] == b'0' {
            return None;
        }
        let v = part
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
        *slot = u8::try_from(v).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// IPv6 text (without zone): groups of 1-4 hex digits, one optional "::",
/// optionally ending in a dotted quad.
fn parse_v6(s: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut n = 0usize; // bytes written
    let mut gap: Option<usize> = None; // byte offset where "::" stands
    let mut i = 0usize;

    if s.first() == Some(&b':') {
        if s.get(1) != Some(&b':') {
            return None;
        }
        gap = Some(0);
        i = 2;
    }

    while i < s.len() {
        let start = i;
        while i < s.len() && s[i].is_ascii_hexdigit() {
            i += 1;
        }
        if s.get(i) == Some(&b'.') {
            // The rest of the string is an embedded IPv4 address.
            if n + 4 > 16 {
                return None;
            }
            let v4 = parse_v4(s.get(start..)?)?;
            out[n..n + 4].copy_from_slice(&v4);
            n += 4;
            i = s.len();
            break;
        }
        let digits = i - start;
        if digits == 0 || digits > 4 || n + 2 > 16 {
            return None;
        }
        let v = s[start..i].iter().fold(0u16, |acc, &c| {
            let d = (c as char).to_digit(16).unwrap_or(0) as u16;
            (acc << 4) | d
        });
        out[n..n + 2].copy_from_slice(&v.to_be_bytes());
        n += 2;
        if i == s.len() {
            break;
        }
        if s[i] != b':' {
            return None;
        }
        i += 1;
        match s.get(i) {
            None => return None, // a lone trailing ':'
            Some(b':') => {
                if gap.is_some() {
                    return None;
                }
                gap = Some(n);
                i += 1;
            }
            Some(_) => {}
        }
    }
    let _ = i;

    match gap {
        Some(at) => {
            // "::" must stand for at least one zero group.
            if n == 16 {
                return None;
            }
            let tail = n - at;
            out.copy_within(at..n, 16 - tail);
            out[at..16 - tail].fill(0);
        }
        None if n != 16 => return None,
        None => {}
    }
    Some(out)
}

#[no_mangle]
pub unsafe extern "C" fn uv_inet_ntop(
    af: c_int,
    src: *const c_void,
    dst: *mut c_char,
    size: size_t,
) -> c_int {
    if af != AF_INET && af != AF_INET6 {
        return -libc::EAFNOSUPPORT;
    }
    if src.is_null() || dst.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `src` holds an in_addr (4 bytes) or in6_addr (16 bytes)
    // as `af` says, and `dst` has room for `size` bytes; byte arrays need no
    // alignment.
    unsafe {
        if af == AF_INET {
            let a = *(src as *const [u8; 4]);
            emit(format_v4(&a).as_bytes(), dst, size)
        } else {
            let a = *(src as *const [u8; 16]);
            emit(format_v6(&a).as_bytes(), dst, size)
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int {
    if src.is_null() || dst.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `src` is a NUL-terminated string, unchanged while we
    // read it.
    let text = unsafe { CStr::from_ptr(src).to_bytes() };
    match af {
        AF_INET => match parse_v4(text) {
            Some(a) => {
                // SAFETY: uv.h: for AF_INET `dst` is an in_addr, 4 bytes.
                unsafe { std::ptr::copy_nonoverlapping(a.as_ptr(), dst as *mut u8, 4) };
                0
            }
            None => -libc::EINVAL,
        },
        AF_INET6 => {
            // Everything from '%' on is a zone id, which pton ignores.
            let addr = match text.iter().position(|&c| c == b'%') {
                Some(p) if p > INET6_ADDRSTRLEN - 1 => return -libc::EINVAL,
                Some(p) => &text[..p],
                None => text,
            };
            match parse_v6(addr) {
                Some(a) => {
                    // SAFETY: uv.h: for AF_INET6 `dst` is an in6_addr, 16 bytes.
                    unsafe { std::ptr::copy_nonoverlapping(a.as_ptr(), dst as *mut u8, 16) };
                    0
                }
                None => -libc::EINVAL,
            }
        }
        _ => -libc::EAFNOSUPPORT,
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_ip4_addr(
    ip: *const c_char,
    port: c_int,
    addr: *mut sockaddr_in,
) -> c_int {
    if addr.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `addr` points to a writable sockaddr_in and `ip`, when
    // not null, to a NUL-terminated string (uv_inet_pton checks null).
    unsafe {
        std::ptr::write_bytes(addr, 0, 1);
        (*addr).sin_family = AF_INET as libc::sa_family_t;
        (*addr).sin_port = (port as u16).to_be();
        uv_inet_pton(
            AF_INET,
            ip,
            std::ptr::addr_of_mut!((*addr).sin_addr) as *mut c_void,
        )
    }
}

/// Scope id for a zone: the index of the interface of that name, as libuv
/// has it on Unix (`if_nametoindex` only). A decimal zone ("%2") is not an
/// index to libuv either: unless an interface has that name it gives 0, and
/// unknown zones give 0, which libuv silently accepts.
///
/// # Safety
/// `zone` points to a NUL-terminated string.
unsafe fn zone_to_scope_id(zone: *const c_char) -> u32 {
    // SAFETY: if_nametoindex only reads the string (contract above).
    unsafe { libc::if_nametoindex(zone) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_ip6_addr(
    ip: *const c_char,
    port: c_int,
    addr: *mut sockaddr_in6,
) -> c_int {
    if addr.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `addr` points to a writable sockaddr_in6 and `ip`, once
    // checked non-null, to a NUL-terminated string; `zone + 1` is within it
    // (at worst its NUL), so it is a NUL-terminated string too.
    unsafe {
        std::ptr::write_bytes(addr, 0, 1);
        (*addr).sin6_family = AF_INET6 as libc::sa_family_t;
        (*addr).sin6_port = (port as u16).to_be();
        if ip.is_null() {
            return -libc::EINVAL;
        }
        let zone = libc::strchr(ip, b'%' as c_int);
        if !zone.is_null() {
            (*addr).sin6_scope_id = zone_to_scope_id(zone.add(1));
        }
        uv_inet_pton(
            AF_INET6,
            ip,
            std::ptr::addr_of_mut!((*addr).sin6_addr) as *mut c_void,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_ip4_name(
    src: *const sockaddr_in,
    dst: *mut c_char,
    size: size_t,
) -> c_int {
    if src.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `src` is a readable sockaddr_in, `dst` has `size` bytes.
    unsafe {
        uv_inet_ntop(
            AF_INET,
            std::ptr::addr_of!((*src).sin_addr) as *const c_void,
            dst,
            size,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_ip6_name(
    src: *const sockaddr_in6,
    dst: *mut c_char,
    size: size_t,
) -> c_int {
    if src.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `src` is a readable sockaddr_in6, `dst` has `size` bytes.
    unsafe {
        uv_inet_ntop(
            AF_INET6,
            std::ptr::addr_of!((*src).sin6_addr) as *const c_void,
            dst,
            size,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_ip_name(src: *const sockaddr, dst: *mut c_char, size: size_t) -> c_int {
    if src.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `src` is a readable sockaddr of the size its family
    // says, `dst` has `size` bytes.
    unsafe {
        match c_int::from((*src).sa_family) {
            AF_INET => uv_ip4_name(src as *const sockaddr_in, dst, size),
            AF_INET6 => uv_ip6_name(src as *const sockaddr_in6, dst, size),
            _ => -libc::EAFNOSUPPORT,
        }
    }
}

/// Size protocol shared with libuv: on entry `*size` is the buffer's size;
/// on success it is the name's length (without NUL); when the buffer is too
/// small, UV_ENOBUFS and `*size` is the size needed (with NUL).
#[no_mangle]
pub unsafe extern "C" fn uv_if_indextoname(
    ifindex: c_uint,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    if buffer.is_null() || size.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `size` points to a readable and writable size_t.
    let avail = unsafe { *size };
    if avail == 0 {
        return -libc::EINVAL;
    }
    let mut name = [0 as c_char; IF_NAMESIZE];
    // SAFETY: `name` has IF_NAMESIZE bytes, the most if_indextoname writes.
    if unsafe { libc::if_indextoname(ifindex, name.as_mut_ptr()) }.is_null() {
        return -crate::sys::errno();
    }
    let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
    // SAFETY: uv.h: `size` is a writable size_t and `buffer` has `*size`
    // (= `avail` > `len`) bytes, so `len` bytes plus the NUL fit.
    unsafe {
        if avail <= len {
            *size = len + 1;
            return -libc::ENOBUFS;
        }
        std::ptr::copy_nonoverlapping(name.as_ptr(), buffer, len);
        *buffer.add(len) = 0;
        *size = len;
    }
    0
}

/// On Unix the interface identifier of a scoped address is its name.
#[no_mangle]
pub unsafe extern "C" fn uv_if_indextoiid(
    ifindex: c_uint,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: the same contract as uv_if_indextoname, passed on unchanged.
    unsafe { uv_if_indextoname(ifindex, buffer, size) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn pton6(s: &str) -> Result<[u8; 16], c_int> {
        let c = CString::new(s).unwrap();
        let mut out = [0u8; 16];
        // SAFETY: `c` is NUL-terminated, `out` has the 16 bytes AF_INET6 writes.
        match unsafe { uv_inet_pton(AF_INET6, c.as_ptr(), out.as_mut_ptr() as *mut c_void) } {
            0 => Ok(out),
            e => Err(e),
        }
    }

    fn pton4(s: &str) -> Result<[u8; 4], c_int> {
        let c = CString::new(s).unwrap();
        let mut out = [0u8; 4];
        // SAFETY: `c` is NUL-terminated, `out` has the 4 bytes AF_INET writes.
        match unsafe { uv_inet_pton(AF_INET, c.as_ptr(), out.as_mut_ptr() as *mut c_void) } {
            0 => Ok(out),
            e => Err(e),
        }
    }

    fn ntop6(a: &[u8; 16], size: usize) -> Result<String, c_int> {
        let mut buf = vec![0 as c_char; size.max(1)];
        // SAFETY: `a` has 16 bytes; `buf` has at least `size` bytes.
        match unsafe {
            uv_inet_ntop(
                AF_INET6,
                a.as_ptr() as *const c_void,
                buf.as_mut_ptr(),
                size,
            )
        } {
            // SAFETY: on success uv_inet_ntop NUL-terminated `buf`.
            0 => Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
                .to_string_lossy()
                .into_owned()),
            e => Err(e),
        }
    }

    extern "C" {
        // glibc's formatter, the reference for the ntop comparison.
        fn inet_ntop(af: c_int, src: *const c_void, dst: *mut c_char, size: u32) -> *const c_char;
    }

    fn glibc_ntop6(a: &[u8; 16]) -> String {
        let mut buf = [0 as c_char; 64];
        // SAFETY: `a` has 16 bytes, `buf` 64 (more than INET6_ADDRSTRLEN);
        // inet_ntop NUL-terminates it on success, which it always is here.
        unsafe {
            inet_ntop(AF_INET6, a.as_ptr() as *const c_void, buf.as_mut_ptr(), 64);
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        }
    }

    #[test]
    fn ip4_like_libuv() {
        assert_eq!(pton4("127.0.0.1"), Ok([127, 0, 0, 1]));
        assert_eq!(pton4("255.255.255.255"), Ok([255; 4]));
        assert_eq!(pton4("0.0.0.0"), Ok([0; 4]));
        for bad in [
            "255.255.255*000",
            "255.255.255.256",
            "2555.0.0.0",
            "255",
            "",
            "1.2.3.4.",
            "1..2.3",
            "01.2.3.4",
            "1.2.3.00",
            " 1.2.3.4",
            "1.2.3.4 ",
        ] {
            assert_eq!(pton4(bad), Err(-libc::EINVAL), "{bad:?}");
        }
        let c = CString::new("127.0.0.1").unwrap();
        let mut out = [0u8; 4];
        // SAFETY: `c` is NUL-terminated and `out` writable (unused for af 42).
        let r = unsafe { uv_inet_pton(42, c.as_ptr(), out.as_mut_ptr() as *mut c_void) };
        assert_eq!(r, -libc::EAFNOSUPPORT);
    }

    #[test]
    fn ntop4_enospc() {
        let a = [255u8; 4];
        let mut dst = [0 as c_char; 16];
        // SAFETY: `a` has 4 readable bytes and `dst` the 16 bytes passed.
        unsafe {
            assert_eq!(
                uv_inet_ntop(AF_INET, a.as_ptr() as _, dst.as_mut_ptr(), 16),
                0
            );
            assert_eq!(
                CStr::from_ptr(dst.as_ptr()).to_str().unwrap(),
                "255.255.255.255"
            );
            assert_eq!(
                uv_inet_ntop(AF_INET, a.as_ptr() as _, dst.as_mut_ptr(), 15),
                -libc::ENOSPC
            );
            assert_eq!(
                uv_inet_ntop(99, a.as_ptr() as _, dst.as_mut_ptr(), 16),
                -libc::EAFNOSUPPORT
            );
        }
    }

    #[test]
    fn ip6_pton_like_libuv() {
        let good = [
            "::",
            "::1",
            "fe80::1",
            "fe80::",
            "fe80::2acf:daff:fedd:342a",
            "fe80:0:0:0:2acf:daff:fedd:342a",
            "fe80:0:0:0:2acf:daff:1.2.3.4",
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        ];
        let bad = [
            ":::1",
            "abcde::1",
            "fe80:0:0:0:2acf:daff:fedd:342a:5678",
            "fe80:0:0:0:2acf:daff:abcd:1.2.3.4",
            "fe80:0:0:2acf:daff:1.2.3.4.5",
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.255",
        ];
        for suffix in ["", "%en1", "%%%%", "%en1:1.2.3.4"] {
            for g in good {
                assert!(pton6(&format!("{g}{suffix}")).is_ok(), "{g}{suffix}");
            }
            for b in bad {
                assert_eq!(
                    pton6(&format!("{b}{suffix}")),
                    Err(-libc::EINVAL),
                    "{b}{suffix}"
                );
            }
        }
        for b in [
            "",
            ":",
            "1:",
            ":1",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "1:2:3:4:5:6:7:8::",
            "g::1",
            "::1 ",
        ] {
            assert_eq!(pton6(b), Err(-libc::EINVAL), "{b:?}");
        }
        assert_eq!(
            pton6("fe80::2acf:daff:fedd:342a").unwrap(),
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x2a, 0xcf, 0xda, 0xff, 0xfe, 0xdd, 0x34, 0x2a]
        );
        let mut v4m = [0u8; 16];
        v4m[10] = 0xff;
        v4m[11] = 0xff;
        v4m[12..].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(pton6("::FFFF:1.2.3.4").unwrap(), v4m);
        assert!(pton6("1:2:3:4:5:6:7::").is_ok());
        // Zone text longer than the address limit is rejected, as in libuv.
        let long = format!("{}%x", "0".repeat(46));
        assert_eq!(pton6(&long), Err(-libc::EINVAL));
    }

    #[test]
    fn ntop6_matches_glibc_and_roundtrips() {
        let mut samples: Vec<[u8; 16]> = vec![[0; 16]];
        let mut one = [0u8; 16];
        one[15] = 1;
        samples.push(one);
        // A deterministic spread of word patterns with zero runs.
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut a = [0u8; 16];
            for w in 0..8 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let v = if (seed >> 16) % 3 == 0 {
                    (seed >> 8) as u16
                } else {
                    0
                };
                a[2 * w..2 * w + 2].copy_from_slice(&v.to_be_bytes());
            }
            samples.push(a);
        }
        for a in samples {
            let s = ntop6(&a, INET6_ADDRSTRLEN).unwrap();
            assert_eq!(s, glibc_ntop6(&a), "{a:?}");
            assert_eq!(pton6(&s).unwrap(), a, "{s}");
        }
    }

    #[test]
    fn ntop6_enospc_boundary() {
        let a = pton6("fe80::2acf:daff:fedd:342a").unwrap();
        let text = "fe80::2acf:daff:fedd:342a";
        assert_eq!(ntop6(&a, text.len() + 1).unwrap(), text);
        assert_eq!(ntop6(&a, text.len()), Err(-libc::ENOSPC));
        assert_eq!(ntop6(&a, 0), Err(-libc::ENOSPC));
    }

    #[test]
    fn ip_name_and_addr() {
        // SAFETY: `storage` is a sockaddr_in6, large enough for a sockaddr_in
        // too; `dst` has 46 bytes; every string is a live CString.
        unsafe {
            let mut storage: libc::sockaddr_in6 = std::mem::zeroed();
            let a4 = &mut storage as *mut _ as *mut sockaddr_in;
            let ip = CString::new("192.168.0.1").unwrap();
            assert_eq!(uv_ip4_addr(ip.as_ptr(), 9123, a4), 0);
            assert_eq!((*a4).sin_port, 9123u16.to_be());
            assert_eq!(c_int::from((*a4).sin_family), AF_INET);
            let mut dst = [0 as c_char; INET6_ADDRSTRLEN];
            assert_eq!(uv_ip4_name(a4, dst.as_mut_ptr(), 16), 0);
            assert_eq!(
                CStr::from_ptr(dst.as_ptr()).to_str().unwrap(),
                "192.168.0.1"
            );
            assert_eq!(uv_ip_name(a4 as *const sockaddr, dst.as_mut_ptr(), 16), 0);
            assert_eq!(
                CStr::from_ptr(dst.as_ptr()).to_str().unwrap(),
                "192.168.0.1"
            );

            let ip6 = CString::new("fe80::2acf:daff:fedd:342a").unwrap();
            assert_eq!(uv_ip6_addr(ip6.as_ptr(), 9123, &mut storage), 0);
            assert_eq!(storage.sin6_scope_id, 0);
            assert_eq!(
                uv_ip_name(&storage as *const _ as _, dst.as_mut_ptr(), 46),
                0
            );
            assert_eq!(
                CStr::from_ptr(dst.as_ptr()).to_str().unwrap(),
                "fe80::2acf:daff:fedd:342a"
            );
            storage.sin6_family = libc::AF_UNIX as libc::sa_family_t;
            assert_eq!(
                uv_ip_name(&storage as *const _ as _, dst.as_mut_ptr(), 46),
                -libc::EAFNOSUPPORT
            );

            let bad = CString::new("255").unwrap();
            assert_eq!(uv_ip4_addr(bad.as_ptr(), 1, a4), -libc::EINVAL);
        }
    }

    #[test]
    fn ip6_zone_sets_scope_id() {
        // SAFETY: every string is a live CString and `a` a local sockaddr_in6.
        unsafe {
            let lo = CString::new("lo").unwrap();
            let lo_idx = libc::if_nametoindex(lo.as_ptr());
            let mut a: sockaddr_in6 = std::mem::zeroed();
            let s = CString::new("fe80::1%lo").unwrap();
            assert_eq!(uv_ip6_addr(s.as_ptr(), 0, &mut a), 0);
            assert_eq!(a.sin6_scope_id, lo_idx);
            // A number is a name like any other (libuv: if_nametoindex only), found by
            // compat/diff against libuv 1.50: "%7" is scope 0 unless an interface is called "7".
            let s = CString::new("fe80::1%7").unwrap();
            assert_eq!(uv_ip6_addr(s.as_ptr(), 0, &mut a), 0);
            let seven = CString::new("7").unwrap();
            assert_eq!(a.sin6_scope_id, libc::if_nametoindex(seven.as_ptr()));
            let s = CString::new("fe80::1%nosuchif0").unwrap();
            assert_eq!(uv_ip6_addr(s.as_ptr(), 0, &mut a), 0);
            assert_eq!(a.sin6_scope_id, 0);
        }
    }

    #[test]
    fn if_indextoname_size_protocol() {
        // SAFETY: `buf` has IF_NAMESIZE bytes and each `size` says no more
        // than that; `lo` is a live CString.
        unsafe {
            let lo = CString::new("lo").unwrap();
            let idx = libc::if_nametoindex(lo.as_ptr());
            assert!(idx > 0);
            let mut buf = [0 as c_char; IF_NAMESIZE];
            let mut size = buf.len();
            assert_eq!(uv_if_indextoname(idx, buf.as_mut_ptr(), &mut size), 0);
            assert_eq!(size, 2);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "lo");

            let mut size = 2;
            assert_eq!(
                uv_if_indextoiid(idx, buf.as_mut_ptr(), &mut size),
                -libc::ENOBUFS
            );
            assert_eq!(size, 3);
            let mut size = 0;
            assert_eq!(
                uv_if_indextoname(idx, buf.as_mut_ptr(), &mut size),
                -libc::EINVAL
            );
            let mut size = buf.len();
            assert_ne!(uv_if_indextoname(u32::MAX, buf.as_mut_ptr(), &mut size), 0);
        }
    }
}
