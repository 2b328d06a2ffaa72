//! uv_udp_*: datagram sockets. Sends are queued on the handle and completed
//! in the loop's pending phase; receives are level-triggered reads, batched
//! with recvmmsg when the handle was created with UV_UDP_RECVMMSG.

use crate::abi::*;
use crate::misc::count_bufs;
use crate::sys::{errno, retry_eintr};
use crate::watcher::{self, POLLIN, POLLOUT};
use crate::{handle, queue};
use libc::{c_char, c_int, c_uint, c_void, size_t, sockaddr, socklen_t, ssize_t};
use std::mem::{size_of, zeroed, MaybeUninit};
use std::ptr::{null, null_mut};

pub const UV_UDP_IPV6ONLY: c_uint = 1;
pub const UV_UDP_PARTIAL: c_uint = 2;
pub const UV_UDP_REUSEADDR: c_uint = 4;
pub const UV_UDP_MMSG_CHUNK: c_uint = 8;
pub const UV_UDP_MMSG_FREE: c_uint = 16;
pub const UV_UDP_LINUX_RECVERR: c_uint = 32;
pub const UV_UDP_REUSEPORT: c_uint = 64;
pub const UV_UDP_RECVMMSG: c_uint = 256;

pub const UV_LEAVE_GROUP: c_int = 0;
pub const UV_JOIN_GROUP: c_int = 1;

// The UDP bits of uv_handle_t::flags (defined with the others in handle.rs).
use crate::handle::{BOUND, IPV6, UDP_CONNECTED, UDP_PROCESSING, UDP_RECVMMSG};

/// The buffer size suggested to alloc_cb, and one recvmmsg slot.
const DGRAM_MAXSIZE: usize = 64 * 1024;
/// Datagrams per recvmmsg/sendmmsg call.
const BATCH: usize = 20;

pub type uv_udp_send_cb = unsafe extern "C" fn(*mut uv_udp_send_t, c_int);
pub type uv_udp_recv_cb =
    unsafe extern "C" fn(*mut uv_udp_t, ssize_t, *const uv_buf_t, *const sockaddr, c_uint);

// The ABI declares the callback fields as plain pointers; these give them
// back their C function types.

/// # Safety
/// `h` is a live uv_udp_t initialised with uv_udp_init(_ex).
unsafe fn recv_cb_of(h: *const uv_udp_t) -> Option<uv_udp_recv_cb> {
    // SAFETY: `recv_cb` holds null or a uv_udp_recv_cb stored by
    // uv_udp_recv_start; Option<fn> has the null pointer as None.
    unsafe { std::mem::transmute::<*mut c_void, Option<uv_udp_recv_cb>>((*h).recv_cb) }
}

/// # Safety
/// `req` is a live request set up by uv_udp_send.
unsafe fn send_cb_of(req: *const uv_udp_send_t) -> Option<uv_udp_send_cb> {
    // SAFETY: `send_cb` holds null or a uv_udp_send_cb stored by
    // uv_udp_send; Option<fn> has the null pointer as None.
    unsafe { std::mem::transmute::<*mut c_void, Option<uv_udp_send_cb>>((*req).send_cb) }
}

/// # Safety
/// `h` points to a live uv_udp_t.
unsafe fn flags(h: *const uv_udp_t) -> c_uint {
    // SAFETY: `h` is live (contract above).
    unsafe { (*h).h.flags }
}

/// # Safety
/// `h` points to a live uv_udp_t.
unsafe fn fd_of(h: *const uv_udp_t) -> c_int {
    // SAFETY: `h` is live (contract above).
    unsafe { (*h).io_watcher.fd }
}

/// A socket(2) that is non-blocking and close-on-exec from birth.
fn new_socket(domain: c_int) -> Result<c_int, c_int> {
    // SAFETY: socket(2) takes no pointers; any domain is merely refused.
    let fd = unsafe {
        libc::socket(
            domain,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(-errno());
    }
    Ok(fd)
}

fn setsockopt_int(fd: c_int, level: c_int, name: c_int, val: c_int) -> c_int {
    setsockopt_val(fd, level, name, &val)
}

/// setsockopt(2) with the option value `*val`, of `T`'s size (plain data:
/// an int or one of the kernel's option structs).
fn setsockopt_val<T>(fd: c_int, level: c_int, name: c_int, val: &T) -> c_int {
    // SAFETY: setsockopt only reads size_of::<T>() bytes at `val`, a live
    // reference.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            val as *const T as *const c_void,
            size_of::<T>() as socklen_t,
        )
    };
    if r != 0 {
        return -errno();
    }
    0
}

/// # Safety
/// `h` is a live uv_udp_t initialised with uv_udp_init(_ex); `addr` is
/// readable for `addrlen` bytes, at least a sockaddr's family.
unsafe fn bind_impl(
    h: *mut uv_udp_t,
    addr: *const sockaddr,
    addrlen: socklen_t,
    bflags: c_uint,
) -> c_int {
    let allowed = UV_UDP_IPV6ONLY | UV_UDP_REUSEADDR | UV_UDP_REUSEPORT | UV_UDP_LINUX_RECVERR;
    if bflags & !allowed != 0 {
        return -libc::EINVAL;
    }
    // SAFETY: `addr` is readable (contract above).
    let family = unsafe { (*addr).sa_family } as c_int;
    if bflags & UV_UDP_IPV6ONLY != 0 && family != libc::AF_INET6 {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is live (contract above).
    let mut fd = unsafe { fd_of(h) };
    if fd == -1 {
        fd = match new_socket(family) {
            Ok(fd) => fd,
            Err(e) => return e,
        };
        // SAFETY: `h` is live (contract above).
        unsafe { (*h).io_watcher.fd = fd };
    }
    if bflags & UV_UDP_LINUX_RECVERR != 0 {
        let err = match family {
            libc::AF_INET => setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_RECVERR, 1),
            libc::AF_INET6 => setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1),
            _ => 0,
        };
        if err != 0 {
            return err;
        }
    }
    // On Linux SO_REUSEPORT load-balances instead of sharing, so libuv maps
    // UV_UDP_REUSEADDR to SO_REUSEADDR only.
    if bflags & UV_UDP_REUSEADDR != 0 {
        let err = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
        if err != 0 {
            return err;
        }
    }
    if bflags & UV_UDP_REUSEPORT != 0 {
        let err = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1);
        if err != 0 {
            return err;
        }
    }
    if bflags & UV_UDP_IPV6ONLY != 0 {
        let err = setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1);
        if err != 0 {
            return err;
        }
    }
    // SAFETY: bind reads `addrlen` bytes of `addr` (contract above).
    if unsafe { libc::bind(fd, addr, addrlen) } != 0 {
        let e = errno();
        // Binding an AF_INET socket to a v6 address (or the reverse).
        if e == libc::EAFNOSUPPORT {
            return -libc::EINVAL;
        }
        return -e;
    }
    // SAFETY: `h` is live (contract above).
    unsafe {
        if family == libc::AF_INET6 {
            (*h).h.flags |= IPV6;
        }
        (*h).h.flags |= BOUND;
    }
    0
}

/// Gives the handle a socket bound to the wildcard address of `domain` if
/// it has none yet (libuv binds implicitly on first send/receive).
///
/// # Safety
/// `h` is a live uv_udp_t initialised with uv_udp_init(_ex).
unsafe fn maybe_bind(h: *mut uv_udp_t, domain: c_int, bflags: c_uint) -> c_int {
    // SAFETY: `h` is live (contract above).
    if unsafe { fd_of(h) } != -1 {
        return 0;
    }
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match domain {
        libc::AF_INET => {
            let a = &mut ss as *mut _ as *mut libc::sockaddr_in;
            // SAFETY: sockaddr_storage is larger and more aligned than a
            // sockaddr_in, and `a` is the only pointer used to write `ss`.
            unsafe { (*a).sin_family = libc::AF_INET as libc::sa_family_t };
            size_of::<libc::sockaddr_in>()
        }
        libc::AF_INET6 => {
            let a = &mut ss as *mut _ as *mut libc::sockaddr_in6;
            // SAFETY: as above, for a sockaddr_in6.
            unsafe { (*a).sin6_family = libc::AF_INET6 as libc::sa_family_t };
            size_of::<libc::sockaddr_in6>()
        }
        _ => return -libc::EINVAL,
    };
    // SAFETY: `h` is live (contract above); `ss` holds `len` bytes.
    unsafe {
        bind_impl(
            h,
            &ss as *const _ as *const sockaddr,
            len as socklen_t,
            bflags,
        )
    }
}

/// # Safety
/// `addr` points to a readable sockaddr (its family at least).
unsafe fn inet_len(addr: *const sockaddr) -> Option<socklen_t> {
    // SAFETY: `addr` is readable (contract above).
    match unsafe { (*addr).sa_family } as c_int {
        libc::AF_INET => Some(size_of::<libc::sockaddr_in>() as socklen_t),
        libc::AF_INET6 => Some(size_of::<libc::sockaddr_in6>() as socklen_t),
        _ => None,
    }
}

/// Length of a destination address for sendmsg; None for a family UDP
/// cannot send to. AF_UNSPEC means "the connected peer".
///
/// # Safety
/// `addr` points to a readable sockaddr (its family at least).
unsafe fn dest_len(addr: *const sockaddr) -> Option<socklen_t> {
    // SAFETY: `addr` is readable (contract above).
    match unsafe { (*addr).sa_family } as c_int {
        libc::AF_UNIX => Some(size_of::<libc::sockaddr_un>() as socklen_t),
        libc::AF_UNSPEC => Some(0),
        // SAFETY: as above.
        _ => unsafe { inet_len(addr) },
    }
}

/// uv_udp_send/try_send's common checks: Ok(()) when the destination fits
/// the handle's connected state and is of a family we can send to.
///
/// # Safety
/// `h` is null or a live handle; `addr` is null or a readable sockaddr.
unsafe fn check_before_send(h: *mut uv_udp_t, addr: *const sockaddr) -> c_int {
    // SAFETY: `h` is live once non-null (contract above).
    if h.is_null() || unsafe { (*h).h.type_ } != UV_UDP {
        return -libc::EINVAL;
    }
    // SAFETY: as above; `h` is a live UDP handle.
    let connected = unsafe { flags(h) } & UDP_CONNECTED != 0;
    if !addr.is_null() && connected {
        return -libc::EISCONN;
    }
    if addr.is_null() && !connected {
        return -libc::EDESTADDRREQ;
    }
    if !addr.is_null() {
        // SAFETY: `addr` is readable once non-null (contract above).
        match unsafe { (*addr).sa_family } as c_int {
            libc::AF_INET | libc::AF_INET6 | libc::AF_UNIX => {}
            _ => return -libc::EINVAL,
        }
    }
    0
}

/// A msghdr for sendmsg: the iovecs are `bufs` themselves (uv_buf_t has
/// iovec's layout on Linux), the name is `addr` unless it is AF_UNSPEC.
///
/// # Safety
/// `addr` is null or a readable sockaddr; the result points into `bufs` and
/// `addr`, so it is valid only as long as they are.
unsafe fn msghdr_for(
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
) -> Result<libc::msghdr, c_int> {
    // SAFETY: msghdr is plain data; all-zero is a valid (empty) header.
    let mut m: libc::msghdr = unsafe { zeroed() };
    m.msg_iov = bufs as *mut libc::iovec;
    m.msg_iovlen = nbufs as _;
    if !addr.is_null() {
        // SAFETY: `addr` is readable once non-null (contract above).
        let Some(len) = (unsafe { dest_len(addr) }) else {
            return Err(-libc::EINVAL);
        };
        if len > 0 {
            m.msg_name = addr as *mut c_void;
            m.msg_namelen = len;
        }
    }
    Ok(m)
}

/// EAGAIN and friends all mean "try later" to the caller.
fn send_errno(e: c_int) -> c_int {
    if e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::ENOBUFS {
        -libc::EAGAIN
    } else {
        -e
    }
}

/// Sends one datagram; 1 when it went out, else the error.
///
/// # Safety
/// `bufs` points to `nbufs` readable uv_buf_t, each describing readable
/// memory; `addr` is null or a readable sockaddr of the size its family has.
unsafe fn sendmsg1(
    fd: c_int,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
) -> c_int {
    // SAFETY: `addr` is null or readable (contract above).
    let m = match unsafe { msghdr_for(bufs, nbufs, addr) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    // SAFETY: `m` points to the caller's buffers and address, valid for
    // reads for the duration of the call (contract above).
    let r = retry_eintr(|| unsafe { libc::sendmsg(fd, &m, 0) });
    if r >= 0 {
        return 1;
    }
    send_errno(errno())
}

/// Sends up to `count` datagrams; returns how many went out (> 0) or an
/// error for the first one (-EAGAIN when the socket buffer is full).
///
/// # Safety
/// `count` >= 1; `bufs`, `nbufs` and `addrs` each point to `count` readable
/// entries, where `bufs[i]` has `nbufs[i]` buffers as in `sendmsg1` and
/// `addrs[i]` is null or a readable sockaddr of its family's size.
unsafe fn sendmsgv(
    fd: c_int,
    count: usize,
    bufs: *const *mut uv_buf_t,
    nbufs: *const c_uint,
    addrs: *const *mut sockaddr,
) -> c_int {
    if count == 1 {
        // SAFETY: each array has at least one entry (contract above).
        return unsafe { sendmsg1(fd, *bufs, *nbufs, *addrs) };
    }
    let mut nsent = 0usize;
    let mut i = 0usize;
    while i < count {
        // SAFETY: mmsghdr is plain data; all-zero is a valid (empty) header.
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let mut n = 0;
        while i + n < count && n < BATCH {
            // SAFETY: `i + n` < `count`, within the arrays; their entries
            // meet msghdr_for's contract (contract above).
            let m = unsafe { msghdr_for(*bufs.add(i + n), *nbufs.add(i + n), *addrs.add(i + n)) };
            match m {
                Ok(m) => msgs[n].msg_hdr = m,
                Err(e) => {
                    return if nsent > 0 { nsent as c_int } else { e };
                }
            }
            n += 1;
        }
        // SAFETY: the first `n` headers of `msgs` point to the caller's
        // buffers and addresses, readable during the call.
        let r = retry_eintr(|| unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), n as c_uint, 0) });
        if r < 1 {
            if nsent > 0 {
                return nsent as c_int;
            }
            return if r < 0 { send_errno(errno()) } else { 0 };
        }
        nsent += r as usize;
        i += r as usize;
    }
    nsent as c_int
}

/// # Safety
/// `q` is the `queue` link of a uv_udp_send_t.
unsafe fn req_of(q: *mut uv__queue) -> *mut uv_udp_send_t {
    // SAFETY: `q` is the `queue` field of a uv_udp_send_t (contract above).
    unsafe { crate::container_of!(q, uv_udp_send_t, queue) }
}

/// Moves `req` from the write queue to the completed queue with `status`.
///
/// # Safety
/// `h` is a live UDP handle and `req` a live request queued on it.
unsafe fn complete(h: *mut uv_udp_t, req: *mut uv_udp_send_t, status: ssize_t) {
    // SAFETY: both are live, and both queues are `h`'s own (contract above).
    unsafe {
        (*req).status = status;
        queue::remove(&mut (*req).queue);
        queue::insert_tail(&mut (*h).write_completed_queue, &mut (*req).queue);
    }
}

/// Sends what the write queue holds until the kernel pushes back; finished
/// (or failed) requests move to the completed queue, whose callbacks run
/// from the pending phase.
///
/// # Safety
/// `h` is a live UDP handle, not closed, on its loop's thread. Runs no user
/// callback.
unsafe fn flush_sends(h: *mut uv_udp_t) {
    // SAFETY: `h` is live (contract above); every node of its write queue is
    // the `queue` link of a live request, whose `bufs` and `addr` uv_udp_send
    // filled in and which stays queued (so alive) until it completes.
    unsafe {
        let head: *mut uv__queue = &mut (*h).write_queue;
        if queue::is_empty(head) {
            return;
        }
        loop {
            // Only the first `n` entries are written and read: no need to
            // clear 20 of each per flush (a flush is usually one datagram).
            let mut addrs = [MaybeUninit::<*mut sockaddr>::uninit(); BATCH];
            let mut nbufs = [MaybeUninit::<c_uint>::uninit(); BATCH];
            let mut bufs = [MaybeUninit::<*mut uv_buf_t>::uninit(); BATCH];
            let mut n = 0;
            let mut q = queue::head(head);
            while n < BATCH && q != head {
                let req = req_of(q);
                addrs[n].write(&mut (*req).addr as *mut _ as *mut sockaddr);
                nbufs[n].write((*req).nbufs);
                bufs[n].write((*req).bufs);
                q = (*q).next;
                n += 1;
            }
            // MaybeUninit<T> has T's layout; the first `n` entries are set.
            let r = sendmsgv(
                fd_of(h),
                n,
                bufs.as_ptr() as *const *mut uv_buf_t,
                nbufs.as_ptr() as *const c_uint,
                addrs.as_ptr() as *const *mut sockaddr,
            );
            if r > 0 {
                for _ in 0..r {
                    let req = req_of(queue::head(head));
                    complete(
                        h,
                        req,
                        count_bufs((*req).bufs, (*req).nbufs as usize) as ssize_t,
                    );
                }
                if queue::is_empty(head) {
                    break;
                }
                continue;
            }
            if r == -libc::EAGAIN {
                return;
            }
            // The first request is the one the kernel refused.
            let req = req_of(queue::head(head));
            complete(h, req, r as ssize_t);
            break;
        }
        watcher::feed((*h).h.loop_, &mut (*h).io_watcher);
    }
}

/// Runs the send callbacks of completed requests. Callbacks may send more,
/// close the handle or free their request: each request leaves the queue
/// before its callback runs.
///
/// # Safety
/// `h` is a live UDP handle on its loop's thread.
unsafe fn run_completed(h: *mut uv_udp_t) {
    // SAFETY: `h` is live (contract above) and stays allocated through the
    // callbacks: a close they start ends in a later closing phase, after
    // this returns (unless a callback closes `h` and then runs a nested
    // uv_run: not supported here, as in libuv). Each request is live until
    // its own callback, and not touched after.
    unsafe {
        (*h).h.flags |= UDP_PROCESSING;
        let done: *mut uv__queue = &mut (*h).write_completed_queue;
        while !queue::is_empty(done) {
            let req = req_of(queue::head(done));
            queue::remove(&mut (*req).queue);
            crate::req::unregister((*h).h.loop_);
            (*h).send_queue_size = (*h)
                .send_queue_size
                .saturating_sub(count_bufs((*req).bufs, (*req).nbufs as usize));
            (*h).send_queue_count = (*h).send_queue_count.saturating_sub(1);
            if (*req).bufs != (*req).bufsml.as_mut_ptr() {
                crate::alloc::free((*req).bufs as *mut c_void);
            }
            (*req).bufs = null_mut();
            let status = (*req).status;
            if let Some(cb) = send_cb_of(req) {
                cb(req, if status >= 0 { 0 } else { status as c_int });
            }
        }
        if queue::is_empty(&(*h).write_queue) {
            let loop_ = (*h).h.loop_;
            watcher::stop(loop_, &mut (*h).io_watcher, POLLOUT);
            if !watcher::is_active(&(*h).io_watcher, POLLIN) {
                handle::stop(h as *mut uv_handle_t);
            }
        }
        (*h).h.flags &= !UDP_PROCESSING;
    }
}

/// The watcher callback of every UDP handle.
///
/// # Safety
/// `w` is the `io_watcher` of a live uv_udp_t (the loop's dispatch passes
/// only registered watchers).
unsafe extern "C" fn on_io(_loop: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
    // SAFETY: `w` is the `io_watcher` field of a live uv_udp_t (contract
    // above); receive's callbacks may close it, but it stays allocated until
    // a later closing phase (see run_completed), and a closing handle sends
    // nothing more.
    unsafe {
        let h = crate::container_of!(w, uv_udp_t, io_watcher);
        if events & POLLIN != 0 {
            receive(h);
        }
        if events & POLLOUT != 0 && !handle::is_closing(h as *const uv_handle_t) {
            flush_sends(h);
            run_completed(h);
        }
    }
}

/// One recvmmsg into the slots of `buf`; every datagram is handed over as
/// a chunk, then the whole buffer once more with UV_UDP_MMSG_FREE.
/// Returns the number of datagrams, or -1 when there was nothing (or an
/// error, already reported).
///
/// # Safety
/// `h` is a live UDP handle on its loop's thread; `buf` is the buffer its
/// alloc_cb gave, writable for `(*buf).len` bytes, and stays valid across
/// the callbacks (it is the caller's local).
unsafe fn receive_mmsg(h: *mut uv_udp_t, buf: *mut uv_buf_t, cb: uv_udp_recv_cb) -> isize {
    // SAFETY: `buf` is readable (contract above).
    let (base, len) = unsafe { ((*buf).base, (*buf).len) };
    let chunks = (len / DGRAM_MAXSIZE).min(BATCH);
    // SAFETY: sockaddr_in6, iovec and mmsghdr are plain data; all-zero is a
    // valid value of each.
    let (mut peers, mut iov, mut msgs): (
        [libc::sockaddr_in6; BATCH],
        [libc::iovec; BATCH],
        [libc::mmsghdr; BATCH],
    ) = unsafe { (zeroed(), zeroed(), zeroed()) };
    for k in 0..chunks {
        // SAFETY: `k * DGRAM_MAXSIZE` + DGRAM_MAXSIZE <= `len`: each slot
        // lies inside the user's buffer.
        iov[k].iov_base = unsafe { base.add(k * DGRAM_MAXSIZE) } as *mut c_void;
        iov[k].iov_len = DGRAM_MAXSIZE;
        msgs[k].msg_hdr.msg_iov = &mut iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        msgs[k].msg_hdr.msg_name = &mut peers[k] as *mut _ as *mut c_void;
        msgs[k].msg_hdr.msg_namelen = size_of::<libc::sockaddr_in6>() as socklen_t;
    }
    // SAFETY: `h` is live; the first `chunks` headers point to local iovecs
    // and peers and to slots of the user's buffer, all writable.
    let n = retry_eintr(|| unsafe {
        libc::recvmmsg(fd_of(h), msgs.as_mut_ptr(), chunks as c_uint, 0, null_mut())
    });
    if n < 1 {
        let e = errno();
        let status = if n == 0 || e == libc::EAGAIN || e == libc::EWOULDBLOCK {
            0
        } else {
            -e as ssize_t
        };
        // SAFETY: `h` is live and `buf` valid (contract above).
        unsafe { cb(h, status, buf, null(), 0) };
        return -1;
    }
    for k in 0..n as usize {
        // SAFETY: `h` stays allocated through the callbacks (a close ends in
        // a later closing phase, see run_completed); the callback may stop
        // receiving (or close) midway, so its callback is read afresh.
        let Some(cb) = (unsafe { recv_cb_of(h) }) else {
            break;
        };
        let mut fl = UV_UDP_MMSG_CHUNK;
        if msgs[k].msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            fl |= UV_UDP_PARTIAL;
        }
        let chunk = uv_buf_t {
            base: iov[k].iov_base as *mut c_char,
            len: iov[k].iov_len,
        };
        // SAFETY: as above; `chunk` and `peers[k]` are locals that outlive
        // the call.
        unsafe {
            cb(
                h,
                msgs[k].msg_len as ssize_t,
                &chunk,
                &peers[k] as *const _ as *const sockaddr,
                fl,
            )
        };
    }
    // SAFETY: `h` is still allocated (as above), `buf` valid (contract).
    unsafe {
        if let Some(cb) = recv_cb_of(h) {
            cb(h, 0, buf, null(), UV_UDP_MMSG_FREE);
        }
    }
    n as isize
}

/// Reads datagrams until the socket is drained, 32 at most per turn so a
/// flood cannot starve the loop; the callback may stop or close the handle.
///
/// # Safety
/// `h` is a live UDP handle on its loop's thread.
unsafe fn receive(h: *mut uv_udp_t) {
    let mut budget: isize = 32;
    loop {
        // SAFETY: `h` is live (contract above) and stays allocated through
        // every callback below: a close started there ends in a later
        // closing phase, after this returns (see run_completed).
        let (Some(alloc), Some(cb)) = (unsafe { ((*h).alloc_cb, recv_cb_of(h)) }) else {
            return;
        };
        let mut buf = uv_buf_t {
            base: null_mut(),
            len: 0,
        };
        // SAFETY: as above; `buf` is a local the callback fills in.
        unsafe { alloc(h as *mut uv_handle_t, DGRAM_MAXSIZE, &mut buf) };
        if buf.base.is_null() || buf.len == 0 {
            // SAFETY: as above.
            unsafe { cb(h, -libc::ENOBUFS as ssize_t, &buf, null(), 0) };
            return;
        }
        // A buffer too small for one slot cannot use recvmmsg.
        // SAFETY: as above.
        if unsafe { flags(h) } & UDP_RECVMMSG != 0 && buf.len >= DGRAM_MAXSIZE {
            // SAFETY: as above; alloc_cb gave `buf` (uv.h: writable for
            // `len` bytes, until the MMSG_FREE callback).
            let n = unsafe { receive_mmsg(h, &mut buf, cb) };
            if n < 0 {
                return;
            }
            budget -= n;
        } else {
            // SAFETY: sockaddr_storage and msghdr are plain data; all-zero
            // is a valid value of each.
            let (mut peer, mut m): (libc::sockaddr_storage, libc::msghdr) =
                unsafe { (zeroed(), zeroed()) };
            let mut iov = libc::iovec {
                iov_base: buf.base as *mut c_void,
                iov_len: buf.len,
            };
            m.msg_name = &mut peer as *mut _ as *mut c_void;
            m.msg_namelen = size_of::<libc::sockaddr_storage>() as socklen_t;
            m.msg_iov = &mut iov;
            m.msg_iovlen = 1;
            // SAFETY: `h` is live; `m` points to the local `peer` and `iov`,
            // and through `iov` to the `len` writable bytes alloc_cb gave.
            let n = retry_eintr(|| unsafe { libc::recvmsg(fd_of(h), &mut m, 0) });
            if n == -1 {
                let e = errno();
                let status = if e == libc::EAGAIN || e == libc::EWOULDBLOCK {
                    0
                } else {
                    -e as ssize_t
                };
                // SAFETY: `h` is live (as above).
                unsafe { cb(h, status, &buf, null(), 0) };
                return;
            }
            let fl = if m.msg_flags & libc::MSG_TRUNC != 0 {
                UV_UDP_PARTIAL
            } else {
                0
            };
            // SAFETY: `h` is live (as above); `buf` and `peer` are locals.
            unsafe { cb(h, n, &buf, &peer as *const _ as *const sockaddr, fl) };
            budget -= 1;
        }
        // SAFETY: `h` is still allocated (as above).
        if budget <= 0 || unsafe { fd_of(h) } == -1 {
            return;
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_init_ex(
    loop_: *mut uv_loop_t,
    h: *mut uv_udp_t,
    init_flags: c_uint,
) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    // The low byte is the address family, the rest are flags.
    let domain = (init_flags & 0xff) as c_int;
    if domain != libc::AF_INET && domain != libc::AF_INET6 && domain != libc::AF_UNSPEC {
        return -libc::EINVAL;
    }
    let extra = init_flags & !0xff;
    if extra & !UV_UDP_RECVMMSG != 0 {
        return -libc::EINVAL;
    }
    let mut fd = -1;
    if domain != libc::AF_UNSPEC {
        fd = match new_socket(domain) {
            Ok(fd) => fd,
            Err(e) => return e,
        };
    }
    // SAFETY: `loop_` is a live, initialised loop and `h` points to
    // writable storage for a uv_udp_t that outlives the handle (uv.h).
    unsafe {
        handle::init(loop_, h as *mut uv_handle_t, UV_UDP);
        (*h).alloc_cb = None;
        (*h).recv_cb = null_mut();
        (*h).send_queue_size = 0;
        (*h).send_queue_count = 0;
        watcher::init(&mut (*h).io_watcher, Some(on_io), fd);
        queue::init(&mut (*h).write_queue);
        queue::init(&mut (*h).write_completed_queue);
        if extra & UV_UDP_RECVMMSG != 0 {
            (*h).h.flags |= UDP_RECVMMSG;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_init(loop_: *mut uv_loop_t, h: *mut uv_udp_t) -> c_int {
    // SAFETY: the same contract as uv_udp_init_ex, passed on unchanged.
    unsafe { uv_udp_init_ex(loop_, h, libc::AF_UNSPEC as c_uint) }
}

/// uv_close's part: no more I/O, the descriptor is closed now; pending
/// sends are cancelled in `finish_close`.
///
/// # Safety
/// `h` is a live UDP handle being closed, on its loop's thread.
pub unsafe fn close(h: *mut uv_udp_t) {
    // SAFETY: `h` and its loop are live (contract above); the descriptor is
    // the handle's own, closed once (then marked -1).
    unsafe {
        let loop_ = (*h).h.loop_;
        watcher::close(loop_, &mut (*h).io_watcher);
        handle::stop(h as *mut uv_handle_t);
        if fd_of(h) != -1 {
            libc::close(fd_of(h));
            (*h).io_watcher.fd = -1;
        }
    }
}

/// Closing phase, before close_cb: unsent requests complete with ECANCELED.
///
/// # Safety
/// `h` is a live UDP handle that `close` has closed, on its loop's thread.
pub unsafe fn finish_close(h: *mut uv_udp_t) {
    // SAFETY: `h` is live (contract above) and stays allocated until its
    // close_cb, which runs after this; its write queue holds live requests.
    unsafe {
        let head: *mut uv__queue = &mut (*h).write_queue;
        while !queue::is_empty(head) {
            let req = req_of(queue::head(head));
            complete(h, req, -libc::ECANCELED as ssize_t);
        }
        run_completed(h);
        (*h).recv_cb = null_mut();
        (*h).alloc_cb = None;
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_using_recvmmsg(h: *const uv_udp_t) -> c_int {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    (unsafe { flags(h) } & UDP_RECVMMSG != 0) as c_int
}

/// The length of `fd`'s peer address; None when it has no peer.
fn peer_len(fd: c_int) -> Option<socklen_t> {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as socklen_t;
    // SAFETY: getpeername writes at most `len` bytes into the local `ss`.
    if unsafe { libc::getpeername(fd, &mut ss as *mut _ as *mut sockaddr, &mut len) } != 0 {
        return None;
    }
    Some(len)
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_open(h: *mut uv_udp_t, sock: c_int) -> c_int {
    // SAFETY: `h` is a live uv_udp_t the caller initialised with
    // uv_udp_init(_ex), on a live loop (uv.h).
    unsafe {
        if fd_of(h) != -1 {
            return -libc::EBUSY;
        }
        let loop_ = (*h).h.loop_;
        if watcher::fd_exists(loop_, sock) {
            return -libc::EEXIST;
        }
    }
    let err = watcher::set_nonblock(sock, true);
    if err != 0 {
        return err;
    }
    let err = setsockopt_int(sock, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    if err != 0 {
        return err;
    }
    // SAFETY: as above.
    unsafe {
        (*h).io_watcher.fd = sock;
        if matches!(peer_len(sock), Some(l) if l > 0) {
            (*h).h.flags |= UDP_CONNECTED;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_bind(
    h: *mut uv_udp_t,
    addr: *const sockaddr,
    bflags: c_uint,
) -> c_int {
    // SAFETY: uv.h: `h` is a live, initialised uv_udp_t (or of another type,
    // refused) and `addr` a readable sockaddr of its family's size, which
    // inet_len gives bind_impl.
    unsafe {
        if h.is_null() || addr.is_null() || (*h).h.type_ != UV_UDP {
            return -libc::EINVAL;
        }
        let Some(len) = inet_len(addr) else {
            return -libc::EINVAL;
        };
        bind_impl(h, addr, len, bflags)
    }
}

/// Dissolves the handle's association with its peer.
///
/// # Safety
/// `h` is a live UDP handle.
unsafe fn disconnect(h: *mut uv_udp_t) -> c_int {
    // SAFETY: sockaddr is plain data; all-zero is a valid value.
    let mut unspec: sockaddr = unsafe { zeroed() };
    unspec.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: `h` is live (contract above); connect reads the local `unspec`.
    let r = retry_eintr(|| unsafe {
        libc::connect(fd_of(h), &unspec, size_of::<sockaddr>() as socklen_t)
    });
    if r != 0 {
        return -errno();
    }
    // SAFETY: `h` is live (contract above).
    unsafe { (*h).h.flags &= !UDP_CONNECTED };
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_connect(h: *mut uv_udp_t, addr: *const sockaddr) -> c_int {
    // SAFETY: uv.h: `h` is a live, initialised uv_udp_t (or of another type,
    // refused) and `addr` null or a readable sockaddr of its family's size,
    // which inet_len gives connect.
    unsafe {
        if h.is_null() || (*h).h.type_ != UV_UDP {
            return -libc::EINVAL;
        }
        if addr.is_null() {
            if flags(h) & UDP_CONNECTED == 0 {
                return -libc::ENOTCONN;
            }
            return disconnect(h);
        }
        let Some(len) = inet_len(addr) else {
            return -libc::EINVAL;
        };
        if flags(h) & UDP_CONNECTED != 0 {
            return -libc::EISCONN;
        }
        let err = maybe_bind(h, (*addr).sa_family as c_int, 0);
        if err != 0 {
            return err;
        }
        if retry_eintr(|| libc::connect(fd_of(h), addr, len)) != 0 {
            return -errno();
        }
        (*h).h.flags |= UDP_CONNECTED;
    }
    0
}

type NameFn = unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t) -> c_int;

/// uv_udp_getsockname and uv_udp_getpeername.
///
/// # Safety
/// `h` is null or a live UDP handle; `name` is null or writable for
/// `*namelen` bytes, `namelen` null or a readable and writable int; `f` is
/// getsockname or getpeername.
unsafe fn sock_or_peer_name(
    h: *const uv_udp_t,
    f: NameFn,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    if h.is_null() || name.is_null() || namelen.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: all three are non-null, hence valid as the contract says; `f`
    // writes at most `len` (= `*namelen`) bytes into `name`.
    unsafe {
        if handle::is_closing(h as *const uv_handle_t) || fd_of(h) == -1 {
            return -libc::EBADF;
        }
        let mut len = *namelen as socklen_t;
        if f(fd_of(h), name, &mut len) != 0 {
            return -errno();
        }
        *namelen = len as c_int;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_getsockname(
    h: *const uv_udp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: uv.h: `h` is a live uv_udp_t, `name` has `*namelen` bytes.
    unsafe { sock_or_peer_name(h, libc::getsockname, name, namelen) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_getpeername(
    h: *const uv_udp_t,
    name: *mut sockaddr,
    namelen: *mut c_int,
) -> c_int {
    // SAFETY: uv.h: `h` is a live uv_udp_t, `name` has `*namelen` bytes.
    unsafe { sock_or_peer_name(h, libc::getpeername, name, namelen) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_send(
    req: *mut uv_udp_send_t,
    h: *mut uv_udp_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
    send_cb: Option<uv_udp_send_cb>,
) -> c_int {
    // SAFETY: uv.h: `h` is null or a live uv_udp_t; `addr` null or a
    // readable sockaddr of its family's size.
    let err = unsafe { check_before_send(h, addr) };
    if err != 0 {
        return err;
    }
    if req.is_null() || (bufs.is_null() && nbufs > 0) || nbufs == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `h` is a live UDP handle (checked above) on a live loop;
    // `req` is writable storage for a uv_udp_send_t left alone until its
    // callback; `bufs` holds `nbufs` uv_buf_t (copied here) whose memory
    // stays valid until the callback; `addr` as above, its family one of
    // INET, INET6 or UNIX, so dest_len gives its size (at most a
    // sockaddr_storage, which bounds the copy anyway).
    unsafe {
        if !addr.is_null() {
            let err = maybe_bind(h, (*addr).sa_family as c_int, 0);
            if err != 0 {
                return err;
            }
        }
        // Completed-but-unreported requests still count: a send made now must
        // not overtake their callbacks, nor start writing from their callbacks.
        let queue_was_empty = (*h).send_queue_count == 0;
        let loop_ = (*h).h.loop_;
        crate::req::init(loop_, req as *mut uv_req_t, UV_UDP_SEND);
        // Only the family's length of `addr` is ever read (msghdr_for).
        if addr.is_null() {
            std::ptr::write_bytes(&mut (*req).addr, 0, 1);
            (*req).addr.ss_family = libc::AF_UNSPEC as libc::sa_family_t;
        } else {
            let len = dest_len(addr).unwrap_or(0) as usize;
            std::ptr::copy_nonoverlapping(
                addr as *const u8,
                &mut (*req).addr as *mut _ as *mut u8,
                len.min(size_of::<libc::sockaddr_storage>()),
            );
        }
        (*req).send_cb = send_cb.map_or(null_mut(), |f| f as *mut c_void);
        (*req).cb = (*req).send_cb;
        (*req).handle = h;
        (*req).nbufs = nbufs;
        (*req).status = 0;
        (*req).bufs = (*req).bufsml.as_mut_ptr();
        if nbufs as usize > (*req).bufsml.len() {
            (*req).bufs =
                crate::alloc::malloc(nbufs as usize * size_of::<uv_buf_t>()) as *mut uv_buf_t;
            if (*req).bufs.is_null() {
                crate::req::unregister(loop_);
                return -libc::ENOMEM;
            }
        }
        std::ptr::copy_nonoverlapping(bufs, (*req).bufs, nbufs as usize);
        (*h).send_queue_size += count_bufs(bufs, nbufs as usize);
        (*h).send_queue_count += 1;
        queue::insert_tail(&mut (*h).write_queue, &mut (*req).queue);
        handle::start(h as *mut uv_handle_t);
        if queue_was_empty && flags(h) & UDP_PROCESSING == 0 {
            flush_sends(h);
            // What the kernel would not take yet waits for writability.
            if !queue::is_empty(&(*h).write_queue) {
                watcher::start(loop_, &mut (*h).io_watcher, POLLOUT);
            }
        } else {
            watcher::start(loop_, &mut (*h).io_watcher, POLLOUT);
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_try_send(
    h: *mut uv_udp_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    addr: *const sockaddr,
) -> c_int {
    // SAFETY: uv.h: `h` is null or a live uv_udp_t; `addr` null or a
    // readable sockaddr of its family's size.
    let err = unsafe { check_before_send(h, addr) };
    if err != 0 {
        return err;
    }
    if nbufs < 1 || bufs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `h` is a live UDP handle (checked above); `bufs` holds
    // `nbufs` uv_buf_t describing readable memory; `addr` as above.
    unsafe {
        // Queued sends go first.
        if (*h).send_queue_count != 0 {
            return -libc::EAGAIN;
        }
        if !addr.is_null() {
            let err = maybe_bind(h, (*addr).sa_family as c_int, 0);
            if err != 0 {
                return err;
            }
        }
        let r = sendmsg1(fd_of(h), bufs, nbufs, addr);
        if r > 0 {
            return count_bufs(bufs, nbufs as usize) as c_int;
        }
        r
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_try_send2(
    h: *mut uv_udp_t,
    count: c_uint,
    bufs: *const *mut uv_buf_t,
    nbufs: *const c_uint,
    addrs: *const *mut sockaddr,
    send_flags: c_uint,
) -> c_int {
    if h.is_null() || count < 1 || send_flags != 0 {
        return -libc::EINVAL;
    }
    if bufs.is_null() || nbufs.is_null() || addrs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `h` is a live uv_udp_t; `bufs`, `nbufs` and `addrs` hold
    // `count` (>= 1) entries each, `bufs[i]` with `nbufs[i]` buffers and
    // `addrs[i]` a readable sockaddr.
    unsafe {
        if (*h).send_queue_count > 0 {
            return -libc::EAGAIN;
        }
        if fd_of(h) == -1 {
            return -libc::EINVAL;
        }
        sendmsgv(fd_of(h), count as usize, bufs, nbufs, addrs)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_recv_start(
    h: *mut uv_udp_t,
    alloc_cb: uv_alloc_cb,
    recv_cb: Option<uv_udp_recv_cb>,
) -> c_int {
    // SAFETY: uv.h: `h` is null or a live, initialised handle (a non-UDP one
    // is refused), on a live loop.
    unsafe {
        if h.is_null() || (*h).h.type_ != UV_UDP || alloc_cb.is_none() || recv_cb.is_none() {
            return -libc::EINVAL;
        }
        // libuv answers EALREADY here (its own FIXME says it should be EBUSY).
        if watcher::is_active(&(*h).io_watcher, POLLIN) {
            return -libc::EALREADY;
        }
        let err = maybe_bind(h, libc::AF_INET, 0);
        if err != 0 {
            return err;
        }
        (*h).alloc_cb = alloc_cb;
        (*h).recv_cb = recv_cb.map_or(null_mut(), |f| f as *mut c_void);
        watcher::start((*h).h.loop_, &mut (*h).io_watcher, POLLIN);
        handle::start(h as *mut uv_handle_t);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_recv_stop(h: *mut uv_udp_t) -> c_int {
    // SAFETY: uv.h: `h` is null or a live, initialised handle (a non-UDP one
    // is refused), on a live loop.
    unsafe {
        if h.is_null() || (*h).h.type_ != UV_UDP {
            return -libc::EINVAL;
        }
        watcher::stop((*h).h.loop_, &mut (*h).io_watcher, POLLIN);
        if !watcher::is_active(&(*h).io_watcher, POLLOUT) {
            handle::stop(h as *mut uv_handle_t);
        }
        (*h).alloc_cb = None;
        (*h).recv_cb = null_mut();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_get_send_queue_size(h: *const uv_udp_t) -> size_t {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    unsafe { (*h).send_queue_size }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_get_send_queue_count(h: *const uv_udp_t) -> size_t {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    unsafe { (*h).send_queue_count }
}

/// Parses an IPv4 address as uv_ip4_addr does.
///
/// # Safety
/// `s` is null or a NUL-terminated string.
unsafe fn parse_ip4(s: *const c_char) -> Option<libc::in_addr> {
    if s.is_null() {
        return None;
    }
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut a: libc::sockaddr_in = unsafe { zeroed() };
    // SAFETY: `s` is a string (contract above), `a` a local sockaddr_in.
    if unsafe { crate::inet::uv_ip4_addr(s, 0, &mut a) } == 0 {
        Some(a.sin_addr)
    } else {
        None
    }
}

/// Parses an IPv6 address with an optional `%zone` as uv_ip6_addr does; the
/// zone becomes the scope id.
///
/// # Safety
/// `s` is null or a NUL-terminated string.
unsafe fn parse_ip6(s: *const c_char) -> Option<libc::sockaddr_in6> {
    if s.is_null() {
        return None;
    }
    // SAFETY: sockaddr_in6 is plain data; all-zero is a valid value.
    let mut a: libc::sockaddr_in6 = unsafe { zeroed() };
    // SAFETY: `s` is a string (contract above), `a` a local sockaddr_in6.
    if unsafe { crate::inet::uv_ip6_addr(s, 0, &mut a) } == 0 {
        Some(a)
    } else {
        None
    }
}

/// # Safety
/// `h` is a live UDP handle; `iface` is null or a NUL-terminated string.
unsafe fn membership4(
    h: *mut uv_udp_t,
    group: libc::in_addr,
    iface: *const c_char,
    membership: c_int,
) -> c_int {
    // SAFETY: ip_mreq is plain data; all-zero is a valid value.
    let mut mreq: libc::ip_mreq = unsafe { zeroed() };
    if !iface.is_null() {
        // SAFETY: `iface` is a string (contract above).
        match unsafe { parse_ip4(iface) } {
            Some(a) => mreq.imr_interface = a,
            None => return -libc::EINVAL,
        }
    }
    mreq.imr_multiaddr = group;
    let opt = match membership {
        UV_JOIN_GROUP => libc::IP_ADD_MEMBERSHIP,
        UV_LEAVE_GROUP => libc::IP_DROP_MEMBERSHIP,
        _ => return -libc::EINVAL,
    };
    // SAFETY: `h` is live (contract above).
    setsockopt_val(unsafe { fd_of(h) }, libc::IPPROTO_IP, opt, &mreq)
}

/// # Safety
/// `h` is a live UDP handle; `iface` is null or a NUL-terminated string.
unsafe fn membership6(
    h: *mut uv_udp_t,
    group: &libc::sockaddr_in6,
    iface: *const c_char,
    membership: c_int,
) -> c_int {
    // SAFETY: ipv6_mreq is plain data; all-zero is a valid value.
    let mut mreq: libc::ipv6_mreq = unsafe { zeroed() };
    if !iface.is_null() {
        // SAFETY: `iface` is a string (contract above).
        match unsafe { parse_ip6(iface) } {
            Some(a) => mreq.ipv6mr_interface = a.sin6_scope_id,
            None => return -libc::EINVAL,
        }
    }
    mreq.ipv6mr_multiaddr = group.sin6_addr;
    let opt = match membership {
        UV_JOIN_GROUP => libc::IPV6_ADD_MEMBERSHIP,
        UV_LEAVE_GROUP => libc::IPV6_DROP_MEMBERSHIP,
        _ => return -libc::EINVAL,
    };
    // SAFETY: `h` is live (contract above).
    setsockopt_val(unsafe { fd_of(h) }, libc::IPPROTO_IPV6, opt, &mreq)
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_membership(
    h: *mut uv_udp_t,
    multicast_addr: *const c_char,
    interface_addr: *const c_char,
    membership: c_int,
) -> c_int {
    // SAFETY: uv.h: `h` is a live, initialised uv_udp_t; the addresses are
    // null or NUL-terminated strings.
    unsafe {
        if let Some(group) = parse_ip4(multicast_addr) {
            let err = maybe_bind(h, libc::AF_INET, UV_UDP_REUSEADDR);
            if err != 0 {
                return err;
            }
            membership4(h, group, interface_addr, membership)
        } else if let Some(group) = parse_ip6(multicast_addr) {
            let err = maybe_bind(h, libc::AF_INET6, UV_UDP_REUSEADDR);
            if err != 0 {
                return err;
            }
            membership6(h, &group, interface_addr, membership)
        } else {
            -libc::EINVAL
        }
    }
}

/// glibc's `struct group_source_req` (not in the libc crate).
#[repr(C)]
struct GroupSourceReq {
    interface: u32,
    group: libc::sockaddr_storage,
    source: libc::sockaddr_storage,
}

const MCAST_JOIN_SOURCE_GROUP: c_int = 46;
const MCAST_LEAVE_SOURCE_GROUP: c_int = 47;

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_source_membership(
    h: *mut uv_udp_t,
    multicast_addr: *const c_char,
    interface_addr: *const c_char,
    source_addr: *const c_char,
    membership: c_int,
) -> c_int {
    // SAFETY: uv.h: `h` is a live, initialised uv_udp_t; the addresses are
    // null or NUL-terminated strings. The option structs are plain data, for
    // which all-zero is valid; a sockaddr_in6 fits in the sockaddr_storage
    // it is copied into.
    unsafe {
        if let Some(group) = parse_ip4(multicast_addr) {
            let Some(source) = parse_ip4(source_addr) else {
                return -libc::EINVAL;
            };
            let err = maybe_bind(h, libc::AF_INET, UV_UDP_REUSEADDR);
            if err != 0 {
                return err;
            }
            let mut mreq: libc::ip_mreq_source = zeroed();
            if !interface_addr.is_null() {
                match parse_ip4(interface_addr) {
                    Some(a) => mreq.imr_interface = a,
                    None => return -libc::EINVAL,
                }
            }
            mreq.imr_multiaddr = group;
            mreq.imr_sourceaddr = source;
            let opt = match membership {
                UV_JOIN_GROUP => libc::IP_ADD_SOURCE_MEMBERSHIP,
                UV_LEAVE_GROUP => libc::IP_DROP_SOURCE_MEMBERSHIP,
                _ => return -libc::EINVAL,
            };
            return setsockopt_val(fd_of(h), libc::IPPROTO_IP, opt, &mreq);
        }
        let (Some(group), Some(source)) = (parse_ip6(multicast_addr), parse_ip6(source_addr))
        else {
            return -libc::EINVAL;
        };
        let err = maybe_bind(h, libc::AF_INET6, UV_UDP_REUSEADDR);
        if err != 0 {
            return err;
        }
        let mut mreq: GroupSourceReq = zeroed();
        if !interface_addr.is_null() {
            match parse_ip6(interface_addr) {
                Some(a) => mreq.interface = a.sin6_scope_id,
                None => return -libc::EINVAL,
            }
        }
        std::ptr::copy_nonoverlapping(
            &group as *const _ as *const u8,
            &mut mreq.group as *mut _ as *mut u8,
            size_of::<libc::sockaddr_in6>(),
        );
        std::ptr::copy_nonoverlapping(
            &source as *const _ as *const u8,
            &mut mreq.source as *mut _ as *mut u8,
            size_of::<libc::sockaddr_in6>(),
        );
        let opt = match membership {
            UV_JOIN_GROUP => MCAST_JOIN_SOURCE_GROUP,
            UV_LEAVE_GROUP => MCAST_LEAVE_SOURCE_GROUP,
            _ => return -libc::EINVAL,
        };
        setsockopt_val(fd_of(h), libc::IPPROTO_IPV6, opt, &mreq)
    }
}

/// Sets the v4 or v6 flavour of an option, by the family the handle was
/// bound to; values are a byte's worth, as libuv checks.
///
/// # Safety
/// `h` is a live UDP handle.
unsafe fn set_byte_opt(h: *mut uv_udp_t, opt4: c_int, opt6: c_int, val: c_int) -> c_int {
    if !(0..=255).contains(&val) {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is live (contract above).
    let (flags, fd) = unsafe { (flags(h), fd_of(h)) };
    if flags & IPV6 != 0 {
        setsockopt_int(fd, libc::IPPROTO_IPV6, opt6, val)
    } else {
        setsockopt_int(fd, libc::IPPROTO_IP, opt4, val)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_broadcast(h: *mut uv_udp_t, on: c_int) -> c_int {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    setsockopt_int(
        unsafe { fd_of(h) },
        libc::SOL_SOCKET,
        libc::SO_BROADCAST,
        on,
    )
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_ttl(h: *mut uv_udp_t, ttl: c_int) -> c_int {
    if !(1..=255).contains(&ttl) {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    unsafe { set_byte_opt(h, libc::IP_TTL, libc::IPV6_UNICAST_HOPS, ttl) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_multicast_ttl(h: *mut uv_udp_t, ttl: c_int) -> c_int {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    unsafe { set_byte_opt(h, libc::IP_MULTICAST_TTL, libc::IPV6_MULTICAST_HOPS, ttl) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_multicast_loop(h: *mut uv_udp_t, on: c_int) -> c_int {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    unsafe { set_byte_opt(h, libc::IP_MULTICAST_LOOP, libc::IPV6_MULTICAST_LOOP, on) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_udp_set_multicast_interface(
    h: *mut uv_udp_t,
    interface_addr: *const c_char,
) -> c_int {
    // SAFETY: `h` is a live uv_udp_t the caller initialised (uv.h).
    let (fd, is_v6) = unsafe { (fd_of(h), flags(h) & IPV6 != 0) };
    let v4 = |a: libc::in_addr| setsockopt_val(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &a);
    let v6 = |scope: u32| setsockopt_val(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF, &scope);
    if interface_addr.is_null() {
        // Back to the default interface of the handle's family.
        return if is_v6 {
            v6(0)
        } else {
            v4(libc::in_addr { s_addr: 0 })
        };
    }
    // SAFETY: uv.h: a non-null `interface_addr` is a NUL-terminated string.
    unsafe {
        if let Some(a) = parse_ip4(interface_addr) {
            v4(a)
        } else if let Some(a) = parse_ip6(interface_addr) {
            v6(a.sin6_scope_id)
        } else {
            -libc::EINVAL
        }
    }
}
