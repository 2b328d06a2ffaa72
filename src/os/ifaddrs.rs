//! uv_interface_addresses / uv_free_interface_addresses, from getifaddrs(3).
//!
//! One entry per address of every interface that is up and running; the
//! hardware address comes from the interface's AF_PACKET entry (shared by
//! aliases such as "eth0:1").

use super::*;
use crate::alloc;
use libc::{c_int, c_void};
use std::ptr;

/// Interfaces libuv reports at all: up, running, with an address.
fn usable(ent: &libc::ifaddrs) -> bool {
    let flags = ent.ifa_flags as c_int;
    flags & libc::IFF_UP != 0 && flags & libc::IFF_RUNNING != 0 && !ent.ifa_addr.is_null()
}

/// # Safety
/// `ent` is an entry of a live getifaddrs list with a non-NULL `ifa_addr`
/// (`usable(ent)` holds).
unsafe fn is_packet(ent: &libc::ifaddrs) -> bool {
    // SAFETY: getifaddrs points a non-NULL ifa_addr at a sockaddr it owns.
    c_int::from(unsafe { (*ent.ifa_addr).sa_family }) == libc::AF_PACKET
}

/// The usable entries of the list, with or without the AF_PACKET ones.
///
/// # Safety
/// As for `entries`.
unsafe fn usable_entries<'a>(
    head: *mut libc::ifaddrs,
    packet: bool,
) -> impl Iterator<Item = &'a libc::ifaddrs> {
    // SAFETY: `head` is a live getifaddrs list (caller's contract), and
    // is_packet only sees entries `usable` passed (non-NULL ifa_addr).
    unsafe { entries(head) }.filter(move |e| usable(e) && unsafe { is_packet(e) } == packet)
}

/// Iterates the getifaddrs list.
///
/// # Safety
/// `head` is NULL or the head of a list from getifaddrs that is not freed
/// for `'a`.
unsafe fn entries<'a>(head: *mut libc::ifaddrs) -> impl Iterator<Item = &'a libc::ifaddrs> {
    let mut cur = head;
    std::iter::from_fn(move || {
        if cur.is_null() {
            return None;
        }
        // SAFETY: `cur` is a non-NULL node of the list, alive for 'a
        // (caller's contract); getifaddrs never changes it.
        let e = unsafe { &*cur };
        cur = e.ifa_next;
        Some(e)
    })
}

/// Copies an IPv4 or IPv6 socket address into a 28-byte union slot.
///
/// # Safety
/// `sa` is NULL or a sockaddr from getifaddrs (sized for its family, and at
/// least a sockaddr_in); `dst` is valid for writes of 28 bytes
/// (sockaddr_in6).
unsafe fn copy_sockaddr(sa: *const libc::sockaddr, dst: *mut u8) {
    if sa.is_null() {
        return;
    }
    // SAFETY: `sa` is a non-NULL sockaddr of getifaddrs (caller's contract).
    let len = if c_int::from(unsafe { (*sa).sa_family }) == libc::AF_INET6 {
        std::mem::size_of::<libc::sockaddr_in6>()
    } else {
        std::mem::size_of::<libc::sockaddr_in>()
    };
    // SAFETY: `sa` holds `len` bytes for its family, `dst` holds 28 >= len,
    // and the two are distinct allocations.
    unsafe { ptr::copy_nonoverlapping(sa as *const u8, dst, len) };
}

#[no_mangle]
pub unsafe extern "C" fn uv_interface_addresses(
    addresses: *mut *mut uv_interface_address_t,
    count: *mut c_int,
) -> c_int {
    if addresses.is_null() || count.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: the caller's out-parameters (non-NULL checked).
    unsafe {
        *addresses = ptr::null_mut();
        *count = 0;
    }

    let mut head: *mut libc::ifaddrs = ptr::null_mut();
    // SAFETY: getifaddrs fills the local `head`.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return neg_errno();
    }
    // SAFETY: the list from getifaddrs stays alive and unchanged until the
    // freeifaddrs on each way out of this function.
    let n = unsafe { usable_entries(head, false) }.count();
    if n == 0 {
        // SAFETY: `head` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(head) };
        return 0;
    }
    // Zeroed, so a missing netmask or hardware address reads as zeros.
    // SAFETY: plain allocation; the result is checked for NULL.
    let out = unsafe { alloc::calloc(n, std::mem::size_of::<uv_interface_address_t>()) }
        as *mut uv_interface_address_t;
    if out.is_null() {
        // SAFETY: `head` came from getifaddrs and is freed once.
        unsafe { libc::freeifaddrs(head) };
        return UV_ENOMEM;
    }
    let mut filled = 0usize;
    // SAFETY: `head` is alive until the freeifaddrs below.
    for ent in unsafe { usable_entries(head, false) } {
        if filled == n {
            break;
        }
        // SAFETY: filled < n, the slots of `out`; all-zero is a valid
        // uv_interface_address_t and no other reference to the slot exists.
        let a = unsafe { &mut *out.add(filled) };
        // SAFETY: getifaddrs gives every entry a C string name.
        a.name = unsafe { alloc::strdup(ent.ifa_name) };
        if a.name.is_null() {
            // SAFETY: `out` holds `filled` named items; `head` is freed once.
            unsafe {
                uv_free_interface_addresses(out, filled as c_int);
                libc::freeifaddrs(head);
            }
            return UV_ENOMEM;
        }
        filled += 1;
        // SAFETY: ifa_addr / ifa_netmask are getifaddrs sockaddrs (or NULL);
        // address and netmask are 28-byte unions of the slot.
        unsafe {
            copy_sockaddr(ent.ifa_addr, ptr::addr_of_mut!(a.address) as *mut u8);
            copy_sockaddr(ent.ifa_netmask, ptr::addr_of_mut!(a.netmask) as *mut u8);
        }
        a.is_internal = c_int::from(ent.ifa_flags as c_int & libc::IFF_LOOPBACK != 0);
    }

    // SAFETY: `head` is alive until the freeifaddrs below.
    for ent in unsafe { usable_entries(head, true) } {
        // SAFETY: an AF_PACKET entry's ifa_addr points to a sockaddr_ll
        // (packet(7)); its name is a C string; both live in the list.
        let (name, sll) = unsafe {
            (
                cstr_bytes(ent.ifa_name),
                &*(ent.ifa_addr as *const libc::sockaddr_ll),
            )
        };
        for i in 0..filled {
            // SAFETY: i < filled: a slot filled above, with a strdup'd name;
            // no other reference to it is live.
            let a = unsafe { &mut *out.add(i) };
            // SAFETY: `a.name` is our own C string copy.
            let an = unsafe { cstr_bytes(a.name) };
            // Same interface, or one of its aliases ("name:N").
            let matches = an
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.first() == Some(&b':'));
            if matches {
                for (d, s) in a.phys_addr.iter_mut().zip(sll.sll_addr) {
                    *d = s as libc::c_char;
                }
            }
        }
    }

    // SAFETY: `head` came from getifaddrs and is freed once; nothing read
    // from it is used after this. `addresses` / `count` are the caller's
    // out-parameters (checked non-NULL).
    unsafe {
        libc::freeifaddrs(head);
        *addresses = out;
        *count = filled as c_int;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_free_interface_addresses(
    addresses: *mut uv_interface_address_t,
    count: c_int,
) {
    if addresses.is_null() {
        return;
    }
    // SAFETY: uv.h: `addresses` and `count` are what uv_interface_addresses
    // returned: `count` items whose names are crate::alloc allocations, in
    // one crate::alloc array.
    unsafe {
        for i in 0..count.max(0) as usize {
            alloc::free((*addresses.add(i)).name as *mut c_void);
        }
        alloc::free(addresses as *mut c_void);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether lo is up with an IPv4 address, asked of getifaddrs directly (a
    /// private network namespace may have lo down, and then no entry).
    fn lo_has_ipv4() -> bool {
        let mut head: *mut libc::ifaddrs = ptr::null_mut();
        // SAFETY: getifaddrs fills `head`, freed below; the list is read only.
        unsafe {
            assert_eq!(libc::getifaddrs(&mut head), 0);
            let mut found = false;
            let mut p = head;
            while !p.is_null() {
                let a = &*p;
                if !a.ifa_addr.is_null()
                    && c_int::from((*a.ifa_addr).sa_family) == libc::AF_INET
                    && a.ifa_flags & libc::IFF_UP as u32 != 0
                    && std::ffi::CStr::from_ptr(a.ifa_name).to_bytes() == b"lo"
                {
                    found = true;
                }
                p = a.ifa_next;
            }
            libc::freeifaddrs(head);
            found
        }
    }

    #[test]
    fn loopback_is_internal() {
        // SAFETY: out-parameters are locals; the n entries read are those
        // uv_interface_addresses returned, freed once at the end.
        unsafe {
            let mut addrs: *mut uv_interface_address_t = ptr::null_mut();
            let mut n: c_int = 0;
            assert_eq!(uv_interface_addresses(&mut addrs, &mut n), 0);
            let mut saw_lo = false;
            for i in 0..n as usize {
                let a = &*addrs.add(i);
                let name = std::ffi::CStr::from_ptr(a.name).to_bytes();
                let fam = c_int::from(a.address.address4.sin_family);
                assert!(fam == libc::AF_INET || fam == libc::AF_INET6);
                if name == b"lo" && fam == libc::AF_INET {
                    saw_lo = true;
                    assert_eq!(a.is_internal, 1);
                    assert_eq!(
                        u32::from_be(a.address.address4.sin_addr.s_addr),
                        0x7f00_0001
                    );
                    assert_eq!(
                        u32::from_be(a.netmask.netmask4.sin_addr.s_addr),
                        0xff00_0000
                    );
                }
            }
            assert_eq!(
                saw_lo,
                lo_has_ipv4(),
                "uv_interface_addresses and getifaddrs disagree on lo"
            );
            uv_free_interface_addresses(addrs, n);
        }
    }
}
