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
unsafe fn usable(ent: &libc::ifaddrs) -> bool {
    let flags = ent.ifa_flags as c_int;
    flags & libc::IFF_UP != 0 && flags & libc::IFF_RUNNING != 0 && !ent.ifa_addr.is_null()
}

unsafe fn is_packet(ent: &libc::ifaddrs) -> bool {
    c_int::from((*ent.ifa_addr).sa_family) == libc::AF_PACKET
}

/// Iterates the getifaddrs list.
unsafe fn entries<'a>(head: *mut libc::ifaddrs) -> impl Iterator<Item = &'a libc::ifaddrs> {
    let mut cur = head;
    std::iter::from_fn(move || {
        if cur.is_null() {
            return None;
        }
        let e = &*cur;
        cur = e.ifa_next;
        Some(e)
    })
}

/// Copies an IPv4 or IPv6 socket address into a 28-byte union slot.
unsafe fn copy_sockaddr(sa: *const libc::sockaddr, dst: *mut u8) {
    if sa.is_null() {
        return;
    }
    let len = if c_int::from((*sa).sa_family) == libc::AF_INET6 {
        std::mem::size_of::<libc::sockaddr_in6>()
    } else {
        std::mem::size_of::<libc::sockaddr_in>()
    };
    ptr::copy_nonoverlapping(sa as *const u8, dst, len);
}

#[no_mangle]
pub unsafe extern "C" fn uv_interface_addresses(
    addresses: *mut *mut uv_interface_address_t,
    count: *mut c_int,
) -> c_int {
    if addresses.is_null() || count.is_null() {
        return UV_EINVAL;
    }
    *addresses = ptr::null_mut();
    *count = 0;

    let mut head: *mut libc::ifaddrs = ptr::null_mut();
    if libc::getifaddrs(&mut head) != 0 {
        return neg_errno();
    }
    let n = entries(head).filter(|e| usable(e) && !is_packet(e)).count();
    if n == 0 {
        libc::freeifaddrs(head);
        return 0;
    }
    // Zeroed, so a missing netmask or hardware address reads as zeros.
    let out = alloc::calloc(n, std::mem::size_of::<uv_interface_address_t>())
        as *mut uv_interface_address_t;
    if out.is_null() {
        libc::freeifaddrs(head);
        return UV_ENOMEM;
    }
    let mut filled = 0usize;
    for ent in entries(head).filter(|e| usable(e) && !is_packet(e)) {
        if filled == n {
            break;
        }
        let a = &mut *out.add(filled);
        a.name = alloc::strdup(ent.ifa_name);
        if a.name.is_null() {
            uv_free_interface_addresses(out, filled as c_int);
            libc::freeifaddrs(head);
            return UV_ENOMEM;
        }
        filled += 1;
        copy_sockaddr(ent.ifa_addr, ptr::addr_of_mut!(a.address) as *mut u8);
        copy_sockaddr(ent.ifa_netmask, ptr::addr_of_mut!(a.netmask) as *mut u8);
        a.is_internal = c_int::from(ent.ifa_flags as c_int & libc::IFF_LOOPBACK != 0);
    }

    for ent in entries(head).filter(|e| usable(e) && is_packet(e)) {
        let name = cstr_bytes(ent.ifa_name);
        let sll = &*(ent.ifa_addr as *const libc::sockaddr_ll);
        for i in 0..filled {
            let a = &mut *out.add(i);
            let an = cstr_bytes(a.name);
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

    libc::freeifaddrs(head);
    *addresses = out;
    *count = filled as c_int;
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
    for i in 0..count.max(0) as usize {
        alloc::free((*addresses.add(i)).name as *mut c_void);
    }
    alloc::free(addresses as *mut c_void);
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
