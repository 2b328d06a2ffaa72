//! WTF-8 <-> UTF-16 conversion (libuv 1.47+ API).
//!
//! WTF-8 is UTF-8 that may also carry unpaired surrogates (encoded like any
//! other code point in three bytes), so that every UTF-16 string, valid or
//! not, survives a round trip. The decoder follows libuv's: it accepts what
//! libuv accepts (including its leniency towards some overlong forms) so that
//! lengths agree with what callers computed against libuv.

use libc::{c_char, c_int, size_t, ssize_t};

/// Decodes one WTF-8 sequence starting at `s[*pos]`. Leaves `*pos` on the
/// last byte it examined (the caller steps past it), and returns None for
/// an invalid sequence. Never reads past a NUL: a NUL is never a valid
/// continuation byte, so decoding stops on it.
///
/// # Safety
/// `s` is a NUL-terminated string and `*pos` at most the index of its NUL.
unsafe fn decode1(s: *const u8, pos: &mut usize) -> Option<u32> {
    // SAFETY: the contract: `*pos` is inside the string.
    let b1 = unsafe { *s.add(*pos) };
    if b1 <= 0x7f {
        return Some(u32::from(b1));
    }
    if b1 < 0xc2 {
        return None; // a stray continuation byte, or an overlong 2-byte lead
    }
    // Number of continuation bytes the lead byte announces.
    let extra = match b1 {
        0xc2..=0xdf => 1,
        0xe0..=0xef => 2,
        _ => 3,
    };
    let mut cp = u32::from(b1);
    for _ in 0..extra {
        *pos += 1;
        // SAFETY: the previous byte was not NUL (a lead or continuation
        // byte), so the string goes on at least to this one.
        let b = unsafe { *s.add(*pos) };
        if b & 0xc0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | u32::from(b & 0x3f);
    }
    match extra {
        1 => Some(cp & 0x7ff),
        2 => Some(cp & 0xffff),
        _ if b1 <= 0xf4 && (cp & 0x1f_ffff) <= 0x10_ffff => Some(cp & 0x1f_ffff),
        _ => None,
    }
}

/// Visits every code point of a NUL-terminated WTF-8 string, the final NUL
/// included; `f` gets None for an invalid sequence and returns false to stop.
///
/// # Safety
/// `s` is a NUL-terminated string.
unsafe fn walk_wtf8(s: *const u8, mut f: impl FnMut(Option<u32>) -> bool) {
    let mut pos = 0usize;
    loop {
        // SAFETY: `pos` is 0 or one past a byte that was not NUL, so it is at
        // most the index of the NUL; decode1 leaves it on a byte it read.
        let cp = unsafe { decode1(s, &mut pos) };
        if !f(cp) {
            return;
        }
        // SAFETY: `pos` is on a byte decode1 examined, inside the string.
        if unsafe { *s.add(pos) } == 0 {
            return;
        }
        pos += 1;
    }
}

/// Number of UTF-16 units (NUL included) `wtf8` converts to, or -1 if it is
/// not valid WTF-8.
#[no_mangle]
pub unsafe extern "C" fn uv_wtf8_length_as_utf16(wtf8: *const c_char) -> ssize_t {
    if wtf8.is_null() {
        return -1;
    }
    let mut len: ssize_t = 0;
    let mut valid = true;
    // SAFETY: uv.h's contract: `wtf8` is a NUL-terminated string.
    unsafe {
        walk_wtf8(wtf8 as *const u8, |cp| match cp {
            Some(c) => {
                len += if c > 0xffff { 2 } else { 1 };
                true
            }
            None => {
                valid = false;
                false
            }
        })
    };
    if valid {
        len
    } else {
        -1
    }
}

/// Converts NUL-terminated WTF-8 into `utf16`, which holds `utf16_len` units
/// (as counted by uv_wtf8_length_as_utf16). Never writes past `utf16_len`;
/// invalid input (which the caller should have rejected by its length of
/// -1) becomes U+FFFD instead of aborting.
#[no_mangle]
pub unsafe extern "C" fn uv_wtf8_to_utf16(wtf8: *const c_char, utf16: *mut u16, utf16_len: size_t) {
    if wtf8.is_null() || utf16.is_null() || utf16_len == 0 {
        return;
    }
    let mut out = 0usize;
    let mut complete = true;
    let mut put = |c: u32| {
        if c > 0xffff {
            if out + 2 > utf16_len {
                return false;
            }
            let v = c - 0x1_0000;
            // SAFETY: out + 2 <= utf16_len, the caller's buffer size (uv.h).
            unsafe {
                *utf16.add(out) = 0xd800 + (v >> 10) as u16;
                *utf16.add(out + 1) = 0xdc00 + (v & 0x3ff) as u16;
            }
            out += 2;
        } else {
            if out >= utf16_len {
                return false;
            }
            // SAFETY: out < utf16_len, the caller's buffer size (uv.h).
            unsafe { *utf16.add(out) = c as u16 };
            out += 1;
        }
        true
    };
    // SAFETY: uv.h's contract: `wtf8` is a NUL-terminated string.
    unsafe {
        walk_wtf8(wtf8 as *const u8, |cp| {
            complete = put(cp.unwrap_or(0xfffd));
            complete
        })
    };
    if !complete {
        // Too small a buffer: keep the result terminated.
        // SAFETY: utf16_len >= 1 (checked above): the last unit of the buffer.
        unsafe { *utf16.add(utf16_len - 1) = 0 };
    }
}

/// Reads code points from UTF-16 that is either `len` units long or, when
/// `len` is negative, NUL-terminated. A high surrogate followed by a low one
/// makes one code point; any other surrogate stands for itself.
#[derive(Clone, Copy)]
struct Utf16Reader {
    p: *const u16,
    len: isize,
}

impl Utf16Reader {
    /// The next code point, None at the end.
    ///
    /// # Safety
    /// `p` is null, or points to `len` readable units (`len` >= 0), or to
    /// readable units up to a NUL (`len` < 0): true of what uv.h's callers
    /// pass, and kept by `next` as it advances.
    unsafe fn next(&mut self) -> Option<u32> {
        if self.len == 0 || self.p.is_null() {
            return None;
        }
        // SAFETY: the contract: at least one unit is left (len != 0).
        let u = unsafe { *self.p };
        if self.len < 0 && u == 0 {
            return None;
        }
        let mut units = 1;
        let mut cp = u32::from(u);
        // With a negative length the next unit exists: u is not NUL.
        if (0xd800..=0xdbff).contains(&u) && self.len != 1 {
            // SAFETY: len >= 2, or len < 0 and `u` is not the NUL.
            let next = unsafe { *self.p.add(1) };
            if (0xdc00..=0xdfff).contains(&next) {
                cp = 0x1_0000 + ((cp - 0xd800) << 10) + (u32::from(next) - 0xdc00);
                units = 2;
            }
        }
        // SAFETY: the `units` units just read are inside the string, so the
        // result is at most one past its end.
        self.p = unsafe { self.p.add(units) };
        if self.len > 0 {
            self.len -= units as isize;
        }
        Some(cp)
    }

    /// Bytes of WTF-8 the rest converts to; `self` is a copy, left unmoved.
    ///
    /// # Safety
    /// As `next`.
    unsafe fn wtf8_len(mut self) -> usize {
        let mut n = 0usize;
        // SAFETY: the contract, passed on.
        while let Some(cp) = unsafe { self.next() } {
            n += encoded_len(cp);
        }
        n
    }
}

fn encoded_len(cp: u32) -> usize {
    match cp {
        0..=0x7f => 1,
        0x80..=0x7ff => 2,
        0x800..=0xffff => 3,
        _ => 4,
    }
}

/// Generalised UTF-8 encoding (surrogates allowed): returns the byte count.
fn encode(cp: u32, out: &mut [u8; 4]) -> usize {
    let n = encoded_len(cp);
    match n {
        1 => out[0] = cp as u8,
        2 => {
            out[0] = 0xc0 | (cp >> 6) as u8;
            out[1] = 0x80 | (cp & 0x3f) as u8;
        }
        3 => {
            out[0] = 0xe0 | (cp >> 12) as u8;
            out[1] = 0x80 | ((cp >> 6) & 0x3f) as u8;
            out[2] = 0x80 | (cp & 0x3f) as u8;
        }
        _ => {
            out[0] = 0xf0 | (cp >> 18) as u8;
            out[1] = 0x80 | ((cp >> 12) & 0x3f) as u8;
            out[2] = 0x80 | ((cp >> 6) & 0x3f) as u8;
            out[3] = 0x80 | (cp & 0x3f) as u8;
        }
    }
    n
}

/// Bytes of WTF-8 (NUL not included) that `utf16` converts to.
#[no_mangle]
pub unsafe extern "C" fn uv_utf16_length_as_wtf8(utf16: *const u16, utf16_len: ssize_t) -> size_t {
    let reader = Utf16Reader {
        p: utf16,
        len: utf16_len,
    };
    // SAFETY: uv.h's contract: `utf16` holds `utf16_len` units, or is
    // NUL-terminated when `utf16_len` is negative.
    unsafe { reader.wtf8_len() }
}

/// Converts UTF-16 to WTF-8.
/// - `wtf8_ptr` NULL: only the length is computed, into `*wtf8_len_ptr`.
/// - `*wtf8_ptr` NULL: a buffer of the right size (plus NUL) is allocated
///   with the user's allocator and returned, its length in `*wtf8_len_ptr`.
/// - otherwise `*wtf8_ptr` has room for `*wtf8_len_ptr` bytes plus a NUL;
///   on success `*wtf8_len_ptr` becomes the length written; when the result
///   does not fit, as many whole code points as fit are written (and
///   terminated), UV_ENOBUFS is returned and `*wtf8_len_ptr` is the length
///   needed.
#[no_mangle]
pub unsafe extern "C" fn uv_utf16_to_wtf8(
    utf16: *const u16,
    utf16_len: ssize_t,
    wtf8_ptr: *mut *mut c_char,
    wtf8_len_ptr: *mut size_t,
) -> c_int {
    let mut reader = Utf16Reader {
        p: utf16,
        len: utf16_len,
    };
    // SAFETY: uv.h's contract: `utf16` is as uv_utf16_length_as_wtf8
    // takes it; `wtf8_ptr` and `wtf8_len_ptr`, where non-null, are writable,
    // and a non-null `*wtf8_ptr` has room for `*wtf8_len_ptr` bytes plus a NUL.
    let (target, cap) = unsafe {
        if wtf8_ptr.is_null() || (*wtf8_ptr).is_null() {
            let need = reader.wtf8_len();
            if !wtf8_len_ptr.is_null() {
                *wtf8_len_ptr = need;
            }
            if wtf8_ptr.is_null() {
                return 0;
            }
            let size = match need.checked_add(1) {
                Some(s) => s,
                None => return -libc::ENOMEM,
            };
            let p = crate::alloc::malloc(size) as *mut u8;
            if p.is_null() {
                return -libc::ENOMEM;
            }
            *wtf8_ptr = p as *mut c_char;
            (p, need)
        } else {
            if wtf8_len_ptr.is_null() {
                return -libc::EINVAL;
            }
            (*wtf8_ptr as *mut u8, *wtf8_len_ptr)
        }
    };

    // From here `target` has cap + 1 writable bytes, and used <= cap.
    let mut used = 0usize;
    let mut truncated = false;
    let mut bytes = [0u8; 4];
    loop {
        let before = reader;
        // SAFETY: uv.h's contract on `utf16`, as above.
        let Some(cp) = (unsafe { reader.next() }) else {
            break;
        };
        let n = encode(cp, &mut bytes);
        if n > cap - used {
            // As libuv: the code point that does not fit is written as far as it
            // fits (its leading bytes), so the buffer is full up to `cap`.
            let part = cap - used;
            // SAFETY: used + part == cap, and byte `cap` is the NUL's room.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), target.add(used), part);
                *target.add(cap) = 0;
            }
            reader = before;
            truncated = true;
            break;
        }
        // SAFETY: used + n <= cap: inside the buffer.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), target.add(used), n) };
        used += n;
    }
    if !truncated {
        // SAFETY: used <= cap, and the buffer has cap + 1 bytes.
        unsafe { *target.add(used) = 0 };
    }

    if truncated {
        // The length needed: what the whole code points written take plus the
        // rest. libuv 1.50 returns the caller's size plus the whole length when
        // not even the first code point fit, against its docs ("the length of
        // the required wtf8_ptr to contain the whole result"): compat/diff/README.md.
        if !wtf8_len_ptr.is_null() {
            // SAFETY: uv.h's contract on `utf16` and `wtf8_len_ptr`, as above.
            unsafe { *wtf8_len_ptr = used + reader.wtf8_len() };
        }
        return -libc::ENOBUFS;
    }
    if !wtf8_len_ptr.is_null() {
        // SAFETY: uv.h's contract: a non-null `wtf8_len_ptr` is writable.
        unsafe { *wtf8_len_ptr = used };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::c_void;
    use std::ffi::CString;

    fn to_utf16(s: &[u8]) -> Option<Vec<u16>> {
        let c = CString::new(s).unwrap();
        // SAFETY: `c` is NUL-terminated.
        let n = unsafe { uv_wtf8_length_as_utf16(c.as_ptr()) };
        if n < 0 {
            return None;
        }
        let mut v = vec![0xaaaau16; n as usize];
        // SAFETY: `c` is NUL-terminated; `v` has the length passed.
        unsafe { uv_wtf8_to_utf16(c.as_ptr(), v.as_mut_ptr(), v.len()) };
        Some(v)
    }

    fn to_wtf8(units: &[u16]) -> Vec<u8> {
        let mut p: *mut c_char = std::ptr::null_mut();
        let mut len: size_t = 0;
        // SAFETY: `units` has the length passed; `p` is null, so the result
        // is allocated and `p`, `len` set.
        let r =
            unsafe { uv_utf16_to_wtf8(units.as_ptr(), units.len() as ssize_t, &mut p, &mut len) };
        assert_eq!(r, 0);
        // SAFETY: on success `p` holds `len` bytes and a NUL.
        let v = unsafe { std::slice::from_raw_parts(p as *const u8, len + 1) }.to_vec();
        // SAFETY: `p` came from crate::alloc and is freed once.
        unsafe { crate::alloc::free(p as *mut c_void) };
        assert_eq!(v[len], 0);
        v[..len].to_vec()
    }

    #[test]
    fn libuv_wtf8_test_input() {
        let input = "ᜄȺy𐞲:𞢢𘴇𐀀'¥3̞[<i$";
        let got = to_utf16(input.as_bytes()).unwrap();
        let mut want: Vec<u16> = input.encode_utf16().collect();
        want.push(0);
        assert_eq!(got, want);
    }

    #[test]
    fn invalid_wtf8_is_rejected() {
        for bad in [
            &b"\x80"[..],
            b"a\xc0\x80",
            b"\xc1\xbf",
            b"\xc3",
            b"\xe2\x82",
            b"\xf0\x9f\x98",
            b"\xf4\x90\x80\x80",
            b"\xf5\x80\x80\x80",
            b"\xff",
            b"\xc3A",
        ] {
            let c = CString::new(bad).unwrap();
            assert_eq!(
                // SAFETY: `c` is NUL-terminated.
                unsafe { uv_wtf8_length_as_utf16(c.as_ptr()) },
                -1,
                "{bad:?}"
            );
        }
        assert_eq!(to_utf16(b"").unwrap(), vec![0]);
    }

    #[test]
    fn surrogates_survive_wtf8() {
        // Lone high, lone low, reversed pair, and a pair at the end.
        let units = [0x61, 0xd800, 0x62, 0xdc00, 0xdc00, 0xd800, 0xd83d, 0xde00];
        let w = to_wtf8(&units);
        assert_eq!(
            w,
            b"a\xed\xa0\x80b\xed\xb0\x80\xed\xb0\x80\xed\xa0\x80\xf0\x9f\x98\x80".to_vec()
        );
        let back = to_utf16(&w).unwrap();
        assert_eq!(&back[..back.len() - 1], &units[..]);
        // A high surrogate that is the last of `len` units stays alone even
        // if a low one follows in memory.
        let mut p: *mut c_char = std::ptr::null_mut();
        let mut len = 0;
        let pair = [0xd83du16, 0xde00];
        // SAFETY: `pair` holds the 1 unit read; `p`, `len` are locals and the
        // allocated result is freed once.
        unsafe {
            assert_eq!(uv_utf16_length_as_wtf8(pair.as_ptr(), 1), 3);
            assert_eq!(uv_utf16_to_wtf8(pair.as_ptr(), 1, &mut p, &mut len), 0);
            assert_eq!(len, 3);
            crate::alloc::free(p as *mut c_void);
        }
    }

    #[test]
    fn nul_terminated_and_explicit_lengths() {
        let s: Vec<u16> = "héllo €𝄞\0tail".encode_utf16().collect();
        // SAFETY: `s` is NUL-terminated and of the lengths passed.
        unsafe {
            let nul_len = uv_utf16_length_as_wtf8(s.as_ptr(), -1);
            assert_eq!(nul_len, "héllo €𝄞".len());
            // An explicit length counts embedded NULs as one byte each.
            let full = uv_utf16_length_as_wtf8(s.as_ptr(), s.len() as ssize_t);
            assert_eq!(full, "héllo €𝄞\0tail".len());
            assert_eq!(uv_utf16_length_as_wtf8(s.as_ptr(), 0), 0);
            // Length only: wtf8_ptr NULL.
            let mut len = 0;
            assert_eq!(
                uv_utf16_to_wtf8(s.as_ptr(), -1, std::ptr::null_mut(), &mut len),
                0
            );
            assert_eq!(len, nul_len);
        }
        assert_eq!(to_wtf8(&s), "héllo €𝄞\0tail".as_bytes());
    }

    #[test]
    fn caller_buffer_and_enobufs() {
        let s: Vec<u16> = "aé€𝄞z\0".encode_utf16().collect(); // 1+2+3+4+1 = 11 bytes
                                                              // SAFETY: `s` is NUL-terminated; each `buf` has 16 bytes, more than
                                                              // every `len` passed plus its NUL.
        unsafe {
            let mut buf = [0x55u8; 16];
            let mut p = buf.as_mut_ptr() as *mut c_char;
            // Exact fit.
            let mut len: size_t = 11;
            assert_eq!(uv_utf16_to_wtf8(s.as_ptr(), -1, &mut p, &mut len), 0);
            assert_eq!(len, 11);
            assert_eq!(&buf[..12], "aé€𝄞z\0".as_bytes());
            // Roomier buffer: length reports what was used.
            let mut len: size_t = 15;
            assert_eq!(uv_utf16_to_wtf8(s.as_ptr(), -1, &mut p, &mut len), 0);
            assert_eq!(len, 11);
            // Too small, cut inside the 4-byte character.
            for cap in 0..11 {
                let mut buf = [0x55u8; 16];
                let mut p = buf.as_mut_ptr() as *mut c_char;
                let mut len: size_t = cap;
                assert_eq!(
                    uv_utf16_to_wtf8(s.as_ptr(), -1, &mut p, &mut len),
                    -libc::ENOBUFS
                );
                assert_eq!(len, 11, "cap {cap}");
                let nul = buf.iter().position(|&b| b == 0).unwrap();
                assert!(nul <= cap);
                assert!("aé€𝄞z".as_bytes().starts_with(&buf[..nul]));
                assert!(
                    buf[cap + 1..].iter().all(|&b| b == 0x55),
                    "wrote past the end"
                );
                // As libuv 1.50 (found by compat/diff): the buffer is filled to `cap`, the
                // code point that does not fit cut after its leading bytes, then the NUL.
                assert_eq!(&buf[..cap], &"aé€𝄞z".as_bytes()[..cap], "cap {cap}");
                assert_eq!(buf[cap], 0, "cap {cap}");
            }
            // Explicit length, exact fit.
            let mut buf = [0x55u8; 16];
            let mut p = buf.as_mut_ptr() as *mut c_char;
            let mut len: size_t = 3;
            assert_eq!(uv_utf16_to_wtf8(s.as_ptr(), 2, &mut p, &mut len), 0);
            assert_eq!(len, 3);
            assert_eq!(&buf[..4], "aé\0".as_bytes());
            // A caller buffer without a length is refused, not dereferenced.
            assert_eq!(
                uv_utf16_to_wtf8(s.as_ptr(), -1, &mut p, std::ptr::null_mut()),
                -libc::EINVAL
            );
        }
    }

    #[test]
    fn wtf8_to_utf16_never_overflows() {
        let c = CString::new("a𝄞b").unwrap();
        let mut v = [0x7777u16; 6];
        // SAFETY: `c` is NUL-terminated; `v` has 6 units, more than passed.
        unsafe { uv_wtf8_to_utf16(c.as_ptr(), v.as_mut_ptr(), 2) };
        assert_eq!(&v[..3], &[0x61, 0, 0x7777]);
        // SAFETY: as above.
        unsafe { uv_wtf8_to_utf16(c.as_ptr(), v.as_mut_ptr(), 5) };
        assert_eq!(&v[..6], &[0x61, 0xd834, 0xdd1e, 0x62, 0, 0x7777]);
    }

    #[test]
    fn random_utf16_round_trips() {
        let mut seed = 7u32;
        for _ in 0..500 {
            let mut units = Vec::new();
            for _ in 0..(seed % 17) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let u = match (seed >> 16) % 4 {
                    0 => ((seed >> 8) % 0x7f + 1) as u16,
                    1 => 0xd800 + ((seed >> 4) % 0x800) as u16,
                    _ => ((seed >> 8) as u16).max(1),
                };
                units.push(u);
            }
            seed = seed.wrapping_add(1);
            let w = to_wtf8(&units);
            // SAFETY: `units` has the length passed.
            let n = unsafe { uv_utf16_length_as_wtf8(units.as_ptr(), units.len() as ssize_t) };
            assert_eq!(n, w.len());
            let back = to_utf16(&w).unwrap();
            assert_eq!(&back[..back.len() - 1], &units[..], "{units:x?}");
            if let Ok(s) = String::from_utf16(&units) {
                assert_eq!(w, s.as_bytes());
            }
        }
    }
}
