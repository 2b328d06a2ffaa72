//! uv_tcp_*: TCP streams over IPv4/IPv6, and uv_socketpair.

// "Live stream" in the SAFETY comments is defined at the top of stream.rs.

use crate::abi::*;
use crate::handle;
use crate::stream::{self, BOUND, IPV6, READABLE, TCP_KEEPALIVE, TCP_NODELAY, WRITABLE};
use crate::sys::{errno, retry_eintr};
use crate::watcher::{self, POLLIN};
use libc::{c_int, c_uint, c_void, sockaddr, socklen_t};

pub const UV_TCP_IPV6ONLY: c_uint = 1;
pub const UV_TCP_REUSEPORT: c_uint = 2;
pub const UV_NONBLOCK_PIPE: c_int = 0x40;

fn setsockopt_int(fd: c_int, level: c_int, name: c_int, v: c_int) -> c_int {
    // SAFETY: the kernel reads one int from `v`, a local of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &v as *const c_int as *const c_void,
            std::mem::size_of::<c_int>() as socklen_t,
        )
    };
    if r != 0 {
        return -errno();
    }
    0
}

pub fn set_nodelay(fd: c_int, on: bool) -> c_int {
    setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, on as c_int)
}

/// SO_KEEPALIVE, first probe after `delay` s, then every second, 10 probes.
pub fn set_keepalive(fd: c_int, on: bool, delay: c_uint) -> c_int {
    let e = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, on as c_int);
    if e != 0 || !on {
        return e;
    }
    if delay < 1 {
        return -libc::EINVAL;
    }
    let idle = c_int::try_from(delay).unwrap_or(c_int::MAX);
    for (name, v) in [
        (libc::TCP_KEEPIDLE, idle),
        (libc::TCP_KEEPINTVL, 1),
        (libc::TCP_KEEPCNT, 10),
    ] {
        let e = setsockopt_int(fd, libc::IPPROTO_TCP, name, v);
        if e != 0 {
            return e;
        }
    }
    0
}

/// A non-blocking, close-on-exec socket.
pub fn new_socket_fd(domain: c_int, type_: c_int) -> c_int {
    // SAFETY: no pointers; failure is reported through the result.
    let fd = unsafe { libc::socket(domain, type_ | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return -errno();
    }
    fd
}

/// Binds `fd` to an arbitrary port unless it has one already.
fn maybe_bind_socket(fd: c_int) -> c_int {
    // SAFETY: sockaddr_storage is plain C data; all zeroes is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as socklen_t;
    let sa = &mut ss as *mut _ as *mut sockaddr;
    // SAFETY: `sa` and `len` describe the local `ss`, room for any address.
    if unsafe { libc::getsockname(fd, sa, &mut len) } != 0 {
        return -errno();
    }
    let port = match ss.ss_family as c_int {
        // SAFETY: the family says the kernel wrote that struct into `ss`,
        // which is large and aligned enough for every sockaddr.
        libc::AF_INET => unsafe { (*(sa as *const libc::sockaddr_in)).sin_port },
        // SAFETY: as above.
        libc::AF_INET6 => unsafe { (*(sa as *const libc::sockaddr_in6)).sin6_port },
        _ => 0,
    };
    if port != 0 {
        return 0;
    }
    // SAFETY: `sa` holds the `len` bytes getsockname wrote.
    if unsafe { libc::bind(fd, sa, len) } != 0 {
        return -errno();
    }
    0
}

/// # Safety
/// `t` points to a live TCP stream.
unsafe fn new_socket(t: *mut uv_tcp_t, domain: c_int, flags: u32) -> c_int {
    let fd = new_socket_fd(domain, libc::SOCK_STREAM);
    if fd < 0 {
        return fd;
    }
    // SAFETY: `t` is live (contract).
    let err = unsafe { stream::open(t, fd, flags) };
    if err != 0 {
        // SAFETY: `fd` was made above and the stream did not take it.
        unsafe { libc::close(fd) };
        return err;
    }
    if flags & BOUND != 0 {
        return maybe_bind_socket(fd);
    }
    0
}

/// Creates the socket on first use (handles made with AF_UNSPEC have none).
///
/// # Safety
/// `t` points to a live TCP stream.
unsafe fn maybe_new_socket(t: *mut uv_tcp_t, domain: c_int, flags: u32) -> c_int {
    // SAFETY: `t` is live (contract).
    unsafe {
        if domain != libc::AF_UNSPEC {
            let fd = stream::fd(t);
            if fd == -1 {
                return new_socket(t, domain, flags);
            }
            if flags & BOUND != 0 && (*t).h.flags & BOUND == 0 {
                let err = maybe_bind_socket(fd);
                if err != 0 {
                    return err;
                }
            }
        }
        (*t).h.flags |= flags;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_init_ex(
    loop_: *mut uv_loop_t,
    t: *mut uv_tcp_t,
    flags: c_uint,
) -> c_int {
    if loop_.is_null() || t.is_null() {
        return -libc::EINVAL;
    }
    // The low 8 bits are the address family; nothing else is defined.
    let domain = (flags & 0xff) as c_int;
    if domain != libc::AF_INET && domain != libc::AF_INET6 && domain != libc::AF_UNSPEC {
        return -libc::EINVAL;
    }
    if flags & !0xff != 0 {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `loop_` is a live loop and `t` points to a uv_tcp_t the
    // caller keeps until its close callback. On failure the handle is taken
    // off the loop's list again, as if never initialised.
    unsafe {
        stream::init(loop_, t, UV_TCP);
        if domain != libc::AF_UNSPEC {
            let err = new_socket(t, domain, 0);
            if err != 0 {
                crate::queue::remove(&mut (*t).h.handle_queue);
                if (*t).io_watcher.fd != -1 {
                    libc::close((*t).io_watcher.fd);
                }
                (*t).io_watcher.fd = -1;
                return err;
            }
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_init(loop_: *mut uv_loop_t, t: *mut uv_tcp_t) -> c_int {
    // SAFETY: uv_tcp_init's uv.h contract is uv_tcp_init_ex's.
    unsafe { uv_tcp_init_ex(loop_, t, libc::AF_UNSPEC as c_uint) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_open(t: *mut uv_tcp_t, sock: c_int) -> c_int {
    if t.is_null() || sock < 0 {
        return -libc::EBADF;
    }
    // SAFETY: uv.h: `t` is a live uv_tcp_t (so its loop is live too).
    if unsafe { watcher::fd_exists((*t).h.loop_, sock) } {
        return -libc::EEXIST;
    }
    let err = watcher::set_nonblock(sock, true);
    if err != 0 {
        return err;
    }
    // SAFETY: as above.
    unsafe { stream::open(t, sock, READABLE | WRITABLE) }
}

/// The length of a sockaddr of a family TCP supports, or None.
///
/// # Safety
/// `addr` is null or points to a readable sockaddr (at least its family).
unsafe fn addr_len(addr: *const sockaddr) -> Option<socklen_t> {
    if addr.is_null() {
        return None;
    }
    // SAFETY: non-null `addr` is readable (contract).
    match unsafe { (*addr).sa_family } as c_int {
        libc::AF_INET => Some(std::mem::size_of::<libc::sockaddr_in>() as socklen_t),
        libc::AF_INET6 => Some(std::mem::size_of::<libc::sockaddr_in6>() as socklen_t),
        _ => None,
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_bind(
    t: *mut uv_tcp_t,
    addr: *const sockaddr,
    flags: c_uint,
) -> c_int {
    // SAFETY: uv.h: `t` is a live handle (a uv_tcp_t once its type_ is
    // checked) and `addr` a sockaddr_in or sockaddr_in6 as its family says, so
    // the `len` bytes bind reads are there.
    unsafe {
        if t.is_null() || (*t).h.type_ != UV_TCP || handle::is_closing(t as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        let Some(len) = addr_len(addr) else {
            return -libc::EINVAL;
        };
        let family = (*addr).sa_family as c_int;
        if flags & UV_TCP_IPV6ONLY != 0 && family != libc::AF_INET6 {
            return -libc::EINVAL;
        }
        let err = maybe_new_socket(t, family, 0);
        if err != 0 {
            return err;
        }
        let fd = stream::fd(t);
        let err = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
        if err != 0 {
            return err;
        }
        if flags & UV_TCP_REUSEPORT != 0 {
            let err = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1);
            if err != 0 {
                return err;
            }
        }
        if family == libc::AF_INET6 {
            let on = (flags & UV_TCP_IPV6ONLY != 0) as c_int;
            let err = setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, on);
            if err != 0 {
                return err;
            }
        }
        // EADDRINUSE is reported by the next listen or connect, as libuv does.
        (*t).delayed_error = 0;
        if libc::bind(fd, addr, len) != 0 {
            let e = errno();
            if e != libc::EADDRINUSE {
                if e == libc::EAFNOSUPPORT {
                    return -libc::EINVAL;
                }
                return -e;
            }
            (*t).delayed_error = -e;
        }
        (*t).h.flags |= BOUND;
        if family == libc::AF_INET6 {
            (*t).h.flags |= IPV6;
        }
        0
    }
}

/// The scope of the first link-local IPv6 interface address, 0 if none.
fn link_local_scope_id() -> u32 {
    let mut ifa: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes the head of a list it allocates into `ifa`.
    if unsafe { libc::getifaddrs(&mut ifa) } != 0 {
        return 0;
    }
    let mut id = 0;
    let mut p = ifa;
    // SAFETY: the list from getifaddrs stays valid until freeifaddrs, called
    // once after the walk; a non-null ifa_addr is a sockaddr of its family
    // (a sockaddr_in6 for AF_INET6).
    unsafe {
        while !p.is_null() {
            let a = (*p).ifa_addr;
            if !a.is_null() && is_link_local(a) {
                id = (*(a as *const libc::sockaddr_in6)).sin6_scope_id;
                break;
            }
            p = (*p).ifa_next;
        }
        libc::freeifaddrs(ifa);
    }
    id
}

/// # Safety
/// `a` points to a readable sockaddr whose family tells its real type (a
/// sockaddr_in6 when AF_INET6).
unsafe fn is_link_local(a: *const sockaddr) -> bool {
    // SAFETY: `a` is readable (contract).
    if unsafe { (*a).sa_family } as c_int != libc::AF_INET6 {
        return false;
    }
    // SAFETY: an AF_INET6 address is a sockaddr_in6 (contract).
    let b = unsafe { (*(a as *const libc::sockaddr_in6)).sin6_addr.s6_addr };
    b[0] == 0xfe && b[1] == 0x80
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_connect(
    r: *mut uv_connect_t,
    t: *mut uv_tcp_t,
    addr: *const sockaddr,
    cb: Option<unsafe extern "C" fn(*mut uv_connect_t, c_int)>,
) -> c_int {
    // SAFETY: uv.h: `t` is a live handle (a uv_tcp_t once its type_ is
    // checked), `r` a uv_connect_t the user keeps until its callback, and
    // `addr` a sockaddr_in or sockaddr_in6 as its family says (`len` bytes);
    // `scoped` outlives the connect call that may read it.
    unsafe {
        if r.is_null() || t.is_null() || (*t).h.type_ != UV_TCP {
            return -libc::EINVAL;
        }
        let Some(len) = addr_len(addr) else {
            return -libc::EINVAL;
        };
        if handle::is_closing(t as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        if !(*t).connect_req.is_null() {
            return -libc::EALREADY;
        }
        if (*t).delayed_error == 0 {
            let err = maybe_new_socket(t, (*addr).sa_family as c_int, READABLE | WRITABLE);
            if err != 0 {
                return err;
            }
            // A link-local address without a scope gets the first link-local
            // interface's; `scoped` outlives the connect call below.
            let scoped: libc::sockaddr_in6;
            let mut addr = addr;
            if is_link_local(addr) {
                let mut a6 = std::ptr::read_unaligned(addr as *const libc::sockaddr_in6);
                if a6.sin6_scope_id == 0 {
                    a6.sin6_scope_id = link_local_scope_id();
                    scoped = a6;
                    addr = &scoped as *const libc::sockaddr_in6 as *const sockaddr;
                }
            }
            // errno is cleared first: a -1 with errno 0 has been seen to mean
            // the handshake completed (libuv works around the same).
            let r = retry_eintr(|| {
                *libc::__errno_location() = 0;
                libc::connect(stream::fd(t), addr, len)
            });
            if r == -1 && errno() != 0 {
                match errno() {
                    libc::EINPROGRESS => {}
                    // Reported from the next loop turn, like every other platform.
                    libc::ECONNREFUSED => (*t).delayed_error = -libc::ECONNREFUSED,
                    e => return -e,
                }
            }
        }
        stream::start_connect(t, r, cb, true);
        0
    }
}

/// uv_listen of a TCP handle.
///
/// # Safety
/// `t` points to a live TCP stream.
pub unsafe fn listen(t: *mut uv_tcp_t, backlog: c_int, cb: uv_connection_cb) -> c_int {
    // SAFETY: `t` and its loop are live (contract).
    unsafe {
        if (*t).delayed_error != 0 {
            return (*t).delayed_error;
        }
        let err = maybe_new_socket(t, libc::AF_INET, 0);
        if err != 0 {
            return err;
        }
        if libc::listen(stream::fd(t), backlog) != 0 {
            return -errno();
        }
        (*t).connection_cb = cb;
        (*t).h.flags |= BOUND;
        (*t).io_watcher.cb = Some(stream::server_io);
        watcher::start((*t).h.loop_, &mut (*t).io_watcher, POLLIN);
        0
    }
}

type SockNameFn = unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t) -> c_int;

/// getsockname/getpeername on a handle's descriptor (libuv's
/// uv__getsockpeername); `namelen` is in/out.
///
/// # Safety
/// `h` points to a live handle; `namelen` is null or points to an int, and
/// `name` is null or points to `*namelen` writable bytes.
pub unsafe fn sock_peer_name(
    h: *const uv_handle_t,
    f: SockNameFn,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    if name.is_null() || namelen.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is live and `name` has room for `*namelen` bytes, the
    // length given to `f` (contract).
    unsafe {
        let mut fd: c_int = -1;
        let r = handle::uv_fileno(h, &mut fd);
        if r < 0 {
            return r;
        }
        let mut len = socklen_t::try_from(*namelen).unwrap_or(0);
        if f(fd, name, &mut len) != 0 {
            return -errno();
        }
        *namelen = len as c_int;
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_getsockname(
    t: *const uv_tcp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: uv.h: `t` is a live uv_tcp_t, `name` has room for `*namelen`
    // bytes.
    unsafe {
        if (*t).delayed_error != 0 {
            return (*t).delayed_error;
        }
        sock_peer_name(t as *const uv_handle_t, libc::getsockname, name, namelen)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_getpeername(
    t: *const uv_tcp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: uv.h: `t` is a live uv_tcp_t, `name` has room for `*namelen`
    // bytes.
    unsafe {
        if (*t).delayed_error != 0 {
            return (*t).delayed_error;
        }
        sock_peer_name(t as *const uv_handle_t, libc::getpeername, name, namelen)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_nodelay(t: *mut uv_tcp_t, enable: c_int) -> c_int {
    // SAFETY: uv.h: `t` is a live uv_tcp_t.
    unsafe {
        let fd = stream::fd(t);
        if fd != -1 {
            let err = set_nodelay(fd, enable != 0);
            if err != 0 {
                return err;
            }
        }
        // Remembered for a socket created later.
        if enable != 0 {
            (*t).h.flags |= TCP_NODELAY;
        } else {
            (*t).h.flags &= !TCP_NODELAY;
        }
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_keepalive(t: *mut uv_tcp_t, enable: c_int, delay: c_uint) -> c_int {
    // SAFETY: uv.h: `t` is a live uv_tcp_t.
    unsafe {
        let fd = stream::fd(t);
        if fd != -1 {
            let err = set_keepalive(fd, enable != 0, delay);
            if err != 0 {
                return err;
            }
        }
        if enable != 0 {
            (*t).h.flags |= TCP_KEEPALIVE;
        } else {
            (*t).h.flags &= !TCP_KEEPALIVE;
        }
        0
    }
}

/// A Windows tuning knob; nothing to do on Linux.
#[no_mangle]
pub unsafe extern "C" fn uv_tcp_simultaneous_accepts(_t: *mut uv_tcp_t, _enable: c_int) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_tcp_close_reset(t: *mut uv_tcp_t, close_cb: uv_close_cb) -> c_int {
    // SAFETY: uv.h: `t` is a live handle (a uv_tcp_t once its type_ is
    // checked); setsockopt reads the local `l`, of the size passed.
    unsafe {
        if t.is_null() || (*t).h.type_ != UV_TCP {
            return -libc::EINVAL;
        }
        // A pending shutdown and a reset do not mix.
        if !(*t).shutdown_req.is_null() {
            return -libc::EINVAL;
        }
        let l = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        let r = libc::setsockopt(
            stream::fd(t),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const c_void,
            std::mem::size_of::<libc::linger>() as socklen_t,
        );
        // EINVAL may mean the socket was shut down already: close anyway.
        if r != 0 && errno() != libc::EINVAL {
            return -errno();
        }
        handle::uv_close(t as *mut uv_handle_t, close_cb);
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_socketpair(
    type_: c_int,
    protocol: c_int,
    fds: *mut c_int,
    flags0: c_int,
    flags1: c_int,
) -> c_int {
    if fds.is_null() {
        return -libc::EINVAL;
    }
    let mut temp = [-1 as c_int; 2];
    let mut t = type_ | libc::SOCK_CLOEXEC;
    let both = flags0 & UV_NONBLOCK_PIPE != 0 && flags1 & UV_NONBLOCK_PIPE != 0;
    if both {
        t |= libc::SOCK_NONBLOCK;
    }
    // SAFETY: `temp` has room for the two descriptors socketpair writes.
    if unsafe { libc::socketpair(libc::AF_UNIX, t, protocol, temp.as_mut_ptr()) } != 0 {
        return -errno();
    }
    if !both {
        for (fd, f) in [(temp[0], flags0), (temp[1], flags1)] {
            if f & UV_NONBLOCK_PIPE != 0 {
                let err = watcher::set_nonblock(fd, true);
                if err != 0 {
                    // SAFETY: both descriptors were made above and are ours.
                    unsafe {
                        libc::close(temp[0]);
                        libc::close(temp[1]);
                    }
                    return err;
                }
            }
        }
    }
    // SAFETY: uv.h: `fds` points to an array of two ints.
    unsafe {
        *fds = temp[0];
        *fds.add(1) = temp[1];
    }
    0
}
