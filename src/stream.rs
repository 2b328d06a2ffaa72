//! Streams: what TCP sockets, pipes and ttys share. Listening and accepting,
//! reading (alloc_cb/read_cb), the ordered write queue, shutdown, connect
//! completion, and closing.
//!
//! Write, connect and shutdown callbacks never run inside the call that
//! started them: a finished request is put on `write_completed_queue` and the
//! stream's watcher is fed to the loop's pending phase, as libuv does.

// Safety terms used in this file (and by tcp.rs and pipe.rs):
// - A *live stream* is a uv_tcp_t, uv_pipe_t or uv_tty_t set up by `init`
//   whose close callback has not run yet. Its memory and its loop stay valid
//   until then: uv.h lets the user free a handle only from or after its
//   close_cb, and close callbacks run only in uv_run's closing phase, which a
//   user callback cannot reach (uv_run must not be called from a callback).
//   So a stream stays live across every user callback made here, even one
//   that closes it; code that must not go on after a close re-checks the
//   descriptor, the callbacks or the CLOSING flag.
// - A *pending request* is a uv_write_t, uv_connect_t or uv_shutdown_t
//   accepted by this file whose callback has not been called: the user keeps
//   it (and a write's buffers) alive until then (uv.h). `connect_req`,
//   `shutdown_req` and the nodes of `write_queue` and `write_completed_queue`
//   only ever point at pending requests of the stream.

use crate::abi::*;
use crate::error::UV_EOF;
use crate::misc::count_bufs;
use crate::sys::IOV_MAX;
use crate::sys::{errno, retry_eintr, sockopt_int};
use crate::watcher::{self, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::{alloc, handle, queue, req};
use libc::{c_int, c_uint, c_void, size_t, ssize_t};
use std::collections::VecDeque;

// The stream bits of uv_handle_t::flags (defined with the others in handle.rs).
pub use crate::handle::{
    BLOCKING_WRITES, BOUND, IPV6, READABLE, READING, READ_EOF, READ_PARTIAL, SHUT, TCP_KEEPALIVE,
    TCP_NODELAY, WRITABLE,
};

/// Room for the SCM_RIGHTS control messages of one recvmsg/sendmsg.
#[repr(C, align(8))]
struct CmsgBuf([u8; 256]);

/// # Safety
/// `s` points to a live stream.
unsafe fn flags(s: *const uv_stream_t) -> u32 {
    // SAFETY: `s` is live (contract).
    unsafe { (*s).h.flags }
}

/// The stream flag bits only mean something on these handle types.
///
/// # Safety
/// `s` points to a live handle of any type: only its uv_handle_t head is read.
unsafe fn is_stream_type(s: *const uv_stream_t) -> bool {
    // SAFETY: `type_` is in the head every handle starts with; `s` is live.
    matches!(unsafe { (*s).h.type_ }, UV_TCP | UV_NAMED_PIPE | UV_TTY)
}

/// # Safety
/// `s` points to a live stream.
pub unsafe fn fd(s: *const uv_stream_t) -> c_int {
    // SAFETY: `s` is live (contract).
    unsafe { (*s).io_watcher.fd }
}

/// libuv's `uv__stream_init`: a stream with no descriptor yet.
///
/// # Safety
/// `loop_` is a live, initialised loop; `s` points to writable memory the
/// size of the handle type `type_` (TCP, named pipe or tty), which the
/// caller keeps until the handle's close callback.
pub unsafe fn init(loop_: *mut uv_loop_t, s: *mut uv_stream_t, type_: uv_handle_type) {
    // SAFETY: `s` is writable and `loop_` live (contract); handle::init links
    // the handle into the loop, which may keep it until close_cb.
    unsafe {
        handle::init(loop_, s as *mut uv_handle_t, type_);
        (*s).read_cb = None;
        (*s).alloc_cb = None;
        (*s).connection_cb = None;
        (*s).connect_req = std::ptr::null_mut();
        (*s).shutdown_req = std::ptr::null_mut();
        (*s).accepted_fd = -1;
        (*s).queued_fds = std::ptr::null_mut();
        (*s).delayed_error = 0;
        queue::init(&mut (*s).write_queue);
        queue::init(&mut (*s).write_completed_queue);
        (*s).write_queue_size = 0;
    }
    // SAFETY: `loop_` is live (contract).
    if unsafe { (*loop_).emfile_fd } == -1 {
        // The descriptor held in reserve for the EMFILE trick (see server_io).
        // SAFETY: both paths are NUL-terminated literals.
        let mut fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            // SAFETY: as above.
            fd = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        }
        if fd >= 0 {
            // SAFETY: `loop_` is live (contract).
            unsafe { (*loop_).emfile_fd = fd };
        }
    }
    // SAFETY: the watcher is a field of `s`, writable (contract).
    unsafe { watcher::init(&mut (*s).io_watcher, Some(stream_io), -1) };
}

/// libuv's `uv__stream_open`: gives the stream its descriptor. Used by tcp,
/// pipe, tty and by uv_spawn for its stdio pipes.
///
/// # Safety
/// `s` points to a live stream.
pub unsafe fn open(s: *mut uv_stream_t, fd: c_int, add_flags: u32) -> c_int {
    // SAFETY: `s` is live (contract); a UV_TCP handle is a uv_tcp_t, but only
    // the stream part is touched here.
    unsafe {
        if !((*s).io_watcher.fd == -1 || (*s).io_watcher.fd == fd) {
            return -libc::EBUSY;
        }
        (*s).h.flags |= add_flags;
        if (*s).h.type_ == UV_TCP {
            if flags(s) & TCP_NODELAY != 0 {
                let e = crate::tcp::set_nodelay(fd, true);
                if e != 0 {
                    return e;
                }
            }
            if flags(s) & TCP_KEEPALIVE != 0 {
                let e = crate::tcp::set_keepalive(fd, true, 60);
                if e != 0 {
                    return e;
                }
            }
        }
        (*s).io_watcher.fd = fd;
    }
    0
}

/// The descriptors received over IPC beyond `accepted_fd`; null when none.
///
/// # Safety
/// `s` points to a live stream. A non-null result is the Box made by
/// `queue_fd`, owned by the stream.
unsafe fn queued(s: *mut uv_stream_t) -> *mut VecDeque<c_int> {
    // SAFETY: `s` is live (contract).
    unsafe { (*s).queued_fds as *mut VecDeque<c_int> }
}

/// libuv's `uv__stream_close`: stops everything and releases descriptors.
/// Pending requests are cancelled later, in `destroy`.
///
/// # Safety
/// `s` points to a live stream, being closed by uv_close.
pub unsafe fn close(s: *mut uv_stream_t) {
    // SAFETY: `s` and its loop are live (contract); nothing here calls back
    // into user code.
    unsafe {
        let loop_ = (*s).h.loop_;
        watcher::close(loop_, &mut (*s).io_watcher);
        uv_read_stop(s);
        handle::stop(s as *mut uv_handle_t);
        (*s).h.flags &= !(READABLE | WRITABLE);
        let fd = (*s).io_watcher.fd;
        if fd != -1 {
            // Never close stdio: nothing good comes from it.
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
            (*s).io_watcher.fd = -1;
        }
        if (*s).accepted_fd != -1 {
            libc::close((*s).accepted_fd);
            (*s).accepted_fd = -1;
        }
    }
    // SAFETY: `s` is live (contract).
    let q = unsafe { queued(s) };
    if !q.is_null() {
        // SAFETY: a non-null `queued_fds` is the stream's own Box from
        // queue_fd; the field is cleared first so it is freed only once.
        unsafe {
            (*s).queued_fds = std::ptr::null_mut();
            for fd in Box::from_raw(q).into_iter() {
                libc::close(fd);
            }
        }
    }
}

/// libuv's `uv__stream_destroy`, run when the close callback is due:
/// requests still pending complete with UV_ECANCELED.
///
/// # Safety
/// `s` points to a live, closed stream (CLOSED set, close_cb not yet run).
pub unsafe fn destroy(s: *mut uv_stream_t) {
    // SAFETY: `s` is live (contract); a non-null `connect_req` is a pending
    // request, valid until the callback below has been called.
    unsafe {
        let cr = (*s).connect_req as *mut uv_connect_t;
        if !cr.is_null() {
            (*s).connect_req = std::ptr::null_mut();
            req::unregister((*s).h.loop_);
            if let Some(cb) = (*cr).cb {
                cb(cr, -libc::ECANCELED);
            }
        }
    }
    // SAFETY: `s` stays live across the connect callback (see the top).
    unsafe {
        flush_write_queue(s, -libc::ECANCELED);
        write_callbacks(s);
        drain(s);
    }
}

/// Fails every queued write with `error`; callbacks run from write_callbacks.
///
/// # Safety
/// `s` points to a live stream.
pub unsafe fn flush_write_queue(s: *mut uv_stream_t, error: c_int) {
    // SAFETY: `s` is live (contract).
    let head: *mut uv__queue = unsafe { &mut (*s).write_queue };
    // SAFETY: every node of `write_queue` is the `queue` field of a pending
    // uv_write_t (see the top), so container_of gives that request.
    unsafe {
        while !queue::is_empty(head) {
            let q = queue::head(head);
            queue::remove(q);
            let r = crate::container_of!(q, uv_write_t, queue);
            (*r).error = error;
            queue::insert_tail(&mut (*s).write_completed_queue, q);
        }
    }
}

/// The descriptor of a handle that can be sent over an IPC pipe.
///
/// # Safety
/// `h` points to a live handle of any type.
unsafe fn handle_fd(h: *const uv_handle_t) -> c_int {
    // SAFETY: `h` is live (contract) and its type_ says which struct it is.
    unsafe {
        match (*h).type_ {
            UV_NAMED_PIPE | UV_TCP => (*(h as *const uv_stream_t)).io_watcher.fd,
            UV_UDP => (*(h as *const uv_udp_t)).io_watcher.fd,
            _ => -1,
        }
    }
}

fn accept_fd(fd: c_int) -> c_int {
    let r = retry_eintr(|| {
        // SAFETY: null address and length pointers are allowed (no peer
        // address wanted); a bad `fd` is an error, not undefined behaviour.
        unsafe {
            libc::accept4(
                fd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        }
    });
    if r >= 0 {
        r
    } else {
        -errno()
    }
}

/// Out of descriptors: give up the reserved one, accept and drop every
/// waiting connection (so clients see a close instead of hanging), then
/// reserve a descriptor again.
///
/// # Safety
/// `loop_` is a live loop.
unsafe fn emfile_trick(loop_: *mut uv_loop_t, fd: c_int) -> c_int {
    // SAFETY: `loop_` is live (contract); `emfile_fd` is the loop's own
    // reserve descriptor, closed once and forgotten.
    unsafe {
        if (*loop_).emfile_fd == -1 {
            return -libc::EMFILE;
        }
        libc::close((*loop_).emfile_fd);
        (*loop_).emfile_fd = -1;
    }
    let err = loop {
        let r = accept_fd(fd);
        if r >= 0 {
            // SAFETY: `r` was just accepted and is ours alone.
            unsafe { libc::close(r) };
        } else if r != -libc::EINTR {
            break r;
        }
    };
    // SAFETY: a NUL-terminated literal.
    let reserve = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if reserve >= 0 {
        // SAFETY: `loop_` is live (contract).
        unsafe { (*loop_).emfile_fd = reserve };
    }
    err
}

/// Readiness of a listening socket: one connection per event.
///
/// # Safety
/// Called by the loop only: `loop_` is live and `w` is the `io_watcher` of a
/// live stream that `uv_listen` made a server.
pub unsafe extern "C" fn server_io(loop_: *mut uv_loop_t, w: *mut uv__io_t, _events: c_uint) {
    // SAFETY: `w` is the io_watcher field of a live stream (contract).
    let s = unsafe { crate::container_of!(w, uv_stream_t, io_watcher) };
    // SAFETY: `s` is live.
    if unsafe { handle::is_closing(s as *const uv_handle_t) || (*s).accepted_fd != -1 } {
        return;
    }
    // SAFETY: `w` is live (contract).
    let lfd = unsafe { (*w).fd };
    let mut err = accept_fd(lfd);
    if err == -libc::EMFILE || err == -libc::ENFILE {
        // SAFETY: `loop_` is live (contract).
        err = unsafe { emfile_trick(loop_, lfd) };
    }
    if err < 0 {
        return;
    }
    // SAFETY: `s` is live, and stays so across connection_cb (see the top);
    // a close in the callback resets accepted_fd, so the watcher is left alone.
    unsafe {
        (*s).accepted_fd = err;
        if let Some(cb) = (*s).connection_cb {
            cb(s, 0);
        }
        if (*s).accepted_fd != -1 {
            // Not accepted yet: stop accepting until uv_accept is called.
            watcher::stop(loop_, w, POLLIN);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_accept(server: *mut uv_stream_t, client: *mut uv_stream_t) -> c_int {
    if server.is_null() || client.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `server` is a live listening stream and `client` a live
    // handle initialised with the init function of its type (a UV_UDP client
    // is a uv_udp_t); a non-null `queued_fds` is the server's own Box.
    unsafe {
        if (*server).accepted_fd == -1 {
            return -libc::EAGAIN;
        }
        let err = match (*client).h.type_ {
            UV_NAMED_PIPE | UV_TCP => {
                let e = open(client, (*server).accepted_fd, READABLE | WRITABLE);
                if e != 0 {
                    libc::close((*server).accepted_fd);
                }
                e
            }
            // A UDP socket passed over an IPC pipe.
            UV_UDP => {
                let e = crate::udp::uv_udp_open(client as *mut uv_udp_t, (*server).accepted_fd);
                if e != 0 {
                    libc::close((*server).accepted_fd);
                }
                e
            }
            _ => return -libc::EINVAL,
        };
        if err == 0 {
            (*client).h.flags |= BOUND;
        }
        let q = queued(server);
        if !q.is_null() {
            (*server).accepted_fd = (*q).pop_front().unwrap_or(-1);
            if (*q).is_empty() {
                (*server).queued_fds = std::ptr::null_mut();
                drop(Box::from_raw(q));
            }
        } else {
            (*server).accepted_fd = -1;
            if err == 0 {
                watcher::start((*server).h.loop_, &mut (*server).io_watcher, POLLIN);
            }
        }
        err
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_listen(
    s: *mut uv_stream_t,
    backlog: c_int,
    cb: uv_connection_cb,
) -> c_int {
    // SAFETY: uv.h: `s` is a live handle initialised by uv_tcp_init* or
    // uv_pipe_init (other types are refused by their type_).
    unsafe {
        if s.is_null() || handle::is_closing(s as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        let err = match (*s).h.type_ {
            UV_TCP => crate::tcp::listen(s, backlog, cb),
            UV_NAMED_PIPE => crate::pipe::listen(s as *mut uv_pipe_t, backlog, cb),
            _ => -libc::EINVAL,
        };
        if err == 0 {
            handle::start(s as *mut uv_handle_t);
        }
        err
    }
}

/// All writes are done: stop waiting for POLLOUT and carry out a pending
/// shutdown (or cancel it when the stream is closing).
///
/// # Safety
/// `s` points to a live stream.
unsafe fn drain(s: *mut uv_stream_t) {
    // SAFETY: `s` and its loop are live (contract); a non-null
    // `shutdown_req` is a pending request, not touched after its callback.
    unsafe {
        let closing = (*s).h.flags & handle::CLOSING != 0;
        if !closing {
            watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLOUT);
        }
        let r = (*s).shutdown_req as *mut uv_shutdown_t;
        if r.is_null() {
            return;
        }
        if closing || flags(s) & SHUT == 0 {
            (*s).shutdown_req = std::ptr::null_mut();
            req::unregister((*s).h.loop_);
            let err = if closing {
                -libc::ECANCELED
            } else if libc::shutdown(fd(s), libc::SHUT_WR) != 0 {
                -errno()
            } else {
                (*s).h.flags |= SHUT;
                0
            };
            if let Some(cb) = (*r).cb {
                cb(r, err);
            }
        }
    }
}

/// Bytes of `r` not written yet.
///
/// # Safety
/// `r` is a pending write request whose `bufs` has not been freed.
unsafe fn write_req_size(r: *const uv_write_t) -> usize {
    // SAFETY: `r` is pending (contract) and its `bufs` holds `nbufs` entries;
    // `idx` is clamped to `nbufs`, so the rest of the array is in bounds.
    unsafe {
        let idx = (*r).write_index.min((*r).nbufs) as usize;
        count_bufs((*r).bufs.add(idx), (*r).nbufs as usize - idx)
    }
}

/// Accounts for `n` bytes of `r` written; true when `r` is complete.
///
/// # Safety
/// `s` is a live stream and `r` a pending write of it, with `bufs` not
/// freed; `n` is at most the bytes of `r` not written yet.
unsafe fn write_req_update(s: *mut uv_stream_t, r: *mut uv_write_t, mut n: usize) -> bool {
    // SAFETY: `s` is live (contract).
    unsafe { (*s).write_queue_size = (*s).write_queue_size.saturating_sub(n) };
    // SAFETY: `r` is pending (contract): its `bufs` holds `nbufs` entries
    // (the copy uv_write2 made) and `i` stays below `nbufs` when used. Each
    // base moves by at most its buffer's length, so it stays in (or one past)
    // the caller's buffer.
    unsafe {
        let nbufs = (*r).nbufs as usize;
        let mut i = (*r).write_index as usize;
        while i < nbufs {
            let b = (*r).bufs.add(i);
            let len = n.min((*b).len);
            if (*b).len != 0 {
                (*b).base = (*b).base.add(len);
            }
            (*b).len -= len;
            n -= len;
            if (*b).len == 0 {
                i += 1;
            }
            if n == 0 {
                break;
            }
        }
        (*r).write_index = i as c_uint;
        i == nbufs
    }
}

/// Moves `r` to the completed queue; its callback runs in the pending phase.
///
/// # Safety
/// `r` is a pending write on the `write_queue` of the live stream
/// `(*r).handle`.
unsafe fn write_req_finish(r: *mut uv_write_t) {
    // SAFETY: `r` is pending and its handle live (contract); its queue node
    // moves from one of the stream's lists to the other.
    unsafe {
        let s = (*r).handle;
        queue::remove(&mut (*r).queue);
        // On error the buffers stay until the callback, so that
        // write_queue_size > 0 keeps telling the user to stop writing.
        if (*r).error == 0 {
            free_bufs(r);
        }
        queue::insert_tail(&mut (*s).write_completed_queue, &mut (*r).queue);
        watcher::feed((*s).h.loop_, &mut (*s).io_watcher);
    }
}

/// # Safety
/// `r` is a pending write whose `bufs` is its `bufsml` or a block from
/// `alloc::malloc` not yet freed.
unsafe fn free_bufs(r: *mut uv_write_t) {
    // SAFETY: `r` is pending (contract); a `bufs` other than `bufsml` is the
    // block uv_write2 allocated, freed here once (the field is nulled).
    unsafe {
        if (*r).bufs != (*r).bufsml.as_mut_ptr() {
            alloc::free((*r).bufs as *mut c_void);
        }
        (*r).bufs = std::ptr::null_mut();
    }
}

/// One write(v)/sendmsg: bytes written, or a negative error (UV_EAGAIN when
/// the kernel buffer is full).
///
/// # Safety
/// `s` is a live stream; `bufs` points to `nbufs` >= 1 uv_buf_t, each
/// describing readable memory; `send_handle` is null or a live handle.
unsafe fn write_some(
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: usize,
    send_handle: *mut uv_stream_t,
) -> ssize_t {
    // uv_buf_t is declared with struct iovec's layout on Unix (uv/unix.h), so
    // the array goes to the kernel as it is; the kernel only reads it.
    let iov = bufs as *mut libc::iovec;
    let iovcnt = nbufs.min(IOV_MAX);
    // SAFETY: `s` is live (contract).
    let sfd = unsafe { fd(s) };
    let n = if !send_handle.is_null() {
        // SAFETY: a non-null `send_handle` is a live handle (contract).
        if unsafe { handle::is_closing(send_handle as *const uv_handle_t) } {
            return -libc::EBADF as ssize_t;
        }
        // SAFETY: as above.
        let fd_to_send = unsafe { handle_fd(send_handle as *const uv_handle_t) };
        let mut cmsg = CmsgBuf([0; 256]);
        // SAFETY: msghdr is plain C data; all zeroes is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov;
        msg.msg_iovlen = iovcnt;
        msg.msg_control = cmsg.0.as_mut_ptr() as *mut c_void;
        // SAFETY: CMSG_SPACE is arithmetic on its argument.
        msg.msg_controllen =
            unsafe { libc::CMSG_SPACE(std::mem::size_of::<c_int>() as u32) } as usize;
        // SAFETY: msg_control points to `cmsg`, 8-aligned and larger than
        // msg_controllen, so CMSG_FIRSTHDR gives a non-null header in it and
        // CMSG_DATA room for one int after it.
        unsafe {
            let hdr = libc::CMSG_FIRSTHDR(&msg);
            (*hdr).cmsg_level = libc::SOL_SOCKET;
            (*hdr).cmsg_type = libc::SCM_RIGHTS;
            (*hdr).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<c_int>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(hdr) as *mut c_int, fd_to_send);
        }
        // SAFETY: `msg` points to `iovcnt` readable buffers (contract) and to
        // the control message built above, all alive for the call.
        retry_eintr(|| unsafe { libc::sendmsg(sfd, &msg, 0) })
    } else {
        retry_eintr(|| {
            if iovcnt == 1 {
                // SAFETY: `iov` has at least one entry, a readable buffer
                // (contract).
                unsafe { libc::write(sfd, (*iov).iov_base, (*iov).iov_len) }
            } else {
                // SAFETY: `iov` has `iovcnt` entries of readable buffers
                // (contract).
                unsafe { libc::writev(sfd, iov, iovcnt as c_int) }
            }
        })
    };
    if n >= 0 {
        return n;
    }
    let e = errno();
    if e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::ENOBUFS {
        return -libc::EAGAIN as ssize_t;
    }
    -e as ssize_t
}

/// What to do after one write of the request at the head of the queue.
enum Step {
    /// The request is complete: go on with the next one.
    Next,
    /// Blocking writes: try the rest of the same request again.
    Again,
    /// The kernel pushed back or the write failed: wait for POLLOUT, or stop.
    Stop,
}

/// Accounts for `n`, the result of one write_some of `r`.
///
/// # Safety
/// `s` is a live stream and `r` the pending write at the head of its
/// `write_queue`, with its own copy of the buffer list; `n` is at most the
/// bytes of `r` not written yet.
unsafe fn account_write(s: *mut uv_stream_t, r: *mut uv_write_t, n: ssize_t) -> Step {
    // SAFETY: the contract; no user code runs here.
    unsafe {
        let loop_ = (*s).h.loop_;
        if n >= 0 {
            // A partial write must not send the handle twice.
            (*r).send_handle = std::ptr::null_mut();
            if write_req_update(s, r, n as usize) {
                write_req_finish(r);
                return Step::Next;
            }
        } else if n != -libc::EAGAIN as ssize_t {
            (*r).error = n as c_int;
            write_req_finish(r);
            watcher::stop(loop_, &mut (*s).io_watcher, POLLOUT);
            return Step::Stop;
        }
        if flags(s) & BLOCKING_WRITES != 0 {
            return Step::Again;
        }
        watcher::start(loop_, &mut (*s).io_watcher, POLLOUT);
        Step::Stop
    }
}

/// Most buffers one gathered write hands to the kernel (4 KiB of iovecs on
/// the stack).
const GATHER_IOVS: usize = 256;
/// Only requests with fewer bytes than this left are gathered: for larger
/// ones the system call is a small part of the cost, and one write per
/// request lets the reader start on each while the next is written (a pipe
/// wakes its reader once per write). bench/stream: 4 KiB requests gathered
/// four to a call went 0.6–0.8x as fast through a pipe as one to a call.
const GATHER_SMALL: usize = 1024;
/// On TCP, requests join a gathered write while it is smaller than this.
const GATHER_BYTES: usize = 16 * 1024;
/// Elsewhere a gathered write holds whole requests and at most this much,
/// so that it is written whole or not at all as each request's own write
/// would have been, and another writer to the same pipe cannot land inside
/// a request: a pipe takes a write of up to PIPE_BUF that way.
const GATHER_ATOMIC_PIPE: usize = libc::PIPE_BUF;
/// A Unix stream socket cuts a write into pieces of half its send buffer
/// less 64 bytes and may take only the first ones: 2240 bytes at the
/// smallest buffer Linux allows (SOCK_MIN_SNDBUF, 4608).
const GATHER_ATOMIC_SOCKET: usize = 2048;
/// Non-TCP descriptors are asked what they are (up to three system calls)
/// only when this many requests wait, so that the asking pays for itself.
const GATHER_ASK_AT: usize = 4;

/// How queued requests of a stream may share a system call.
#[derive(Clone, Copy, PartialEq)]
enum Gather {
    /// One write per request, as in libuv.
    No,
    /// A byte stream with nothing to keep whole (TCP): requests up to
    /// GATHER_BYTES, the last one perhaps in part.
    Stream,
    /// A byte stream others may write to too (a pipe, a Unix socket, a
    /// tty): whole requests up to this many bytes.
    Whole(usize),
}

/// Which kind of gathering the descriptor of `s` allows. TCP's is a byte
/// stream (uv_tcp_open is for TCP sockets); a pipe's or tty's may be
/// anything uv_pipe_open was given, and only byte streams are gathered:
/// Unix and other stream sockets but SCTP's, FIFOs without O_DIRECT, ttys.
/// Packet sockets, O_DIRECT pipes and character devices keep one write per
/// request: each write there is a message.
///
/// # Safety
/// `s` points to a live stream.
unsafe fn gather_kind(s: *const uv_stream_t) -> Gather {
    // SAFETY: `s` is live (contract).
    let (kind, sfd) = unsafe { ((*s).h.type_, fd(s)) };
    if kind == UV_TCP {
        return Gather::Stream;
    }
    // SAFETY: all zeroes is a valid stat; fstat writes it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable.
    if unsafe { libc::fstat(sfd, &mut st) } != 0 {
        return Gather::No;
    }
    let limit = match st.st_mode & libc::S_IFMT {
        libc::S_IFSOCK => (sockopt_int(sfd, libc::SO_TYPE) == Ok(libc::SOCK_STREAM)
            && sockopt_int(sfd, libc::SO_PROTOCOL).is_ok_and(|p| p != libc::IPPROTO_SCTP))
        .then_some(GATHER_ATOMIC_SOCKET),
        libc::S_IFIFO => {
            // SAFETY: F_GETFL takes no pointer.
            let mode = unsafe { libc::fcntl(sfd, libc::F_GETFL) };
            (mode != -1 && mode & libc::O_DIRECT == 0).then_some(GATHER_ATOMIC_PIPE)
        }
        libc::S_IFCHR => {
            // SAFETY: isatty takes only the descriptor.
            let tty = unsafe { libc::isatty(sfd) };
            (tty == 1).then_some(GATHER_ATOMIC_PIPE)
        }
        _ => None,
    };
    limit.map_or(Gather::No, Gather::Whole)
}

/// Whether the list `head` holds at least `n` nodes.
///
/// # Safety
/// `head` is a live, well-formed list.
unsafe fn holds_at_least(head: *const uv__queue, n: usize) -> bool {
    let mut q = head;
    for _ in 0..n {
        // SAFETY: the list is live and well formed (contract).
        q = unsafe { (*q).next };
        if std::ptr::eq(q, head) {
            return false;
        }
    }
    true
}

/// Writes queued requests until the kernel pushes back.
///
/// # Safety
/// `s` points to a live stream.
unsafe fn write_queue(s: *mut uv_stream_t) {
    // Bounded so that a fast reader cannot starve the loop.
    let mut count = 32;
    // Decided once, when worth it (TCP: no system call; else GATHER_ASK_AT).
    let mut gather = None;
    // SAFETY: `s` is live (contract).
    let tcp = unsafe { (*s).h.type_ } == UV_TCP;
    // SAFETY: `s` is live and no user code runs here. Each queued node is the
    // `queue` field of a pending write of `s` (see the top) whose `bufs` holds
    // `nbufs` entries, and its write_index is below nbufs (a request reaching
    // nbufs leaves the queue in write_req_finish): write_some gets >= 1 buffer.
    unsafe {
        loop {
            let head: *mut uv__queue = &mut (*s).write_queue;
            if queue::is_empty(head) {
                return;
            }
            let r = crate::container_of!(queue::head(head), uv_write_t, queue);
            // Two or more requests wait, the first small and not empty (an
            // empty one gets its own zero-byte write, whose error is its
            // own): one system call for as many small ones as fit, where
            // libuv makes one for each.
            if (*r).send_handle.is_null()
                && (*r).queue.next != head
                && (1..GATHER_SMALL).contains(&write_req_size(r))
            {
                if gather.is_none() && (tcp || holds_at_least(head, GATHER_ASK_AT)) {
                    gather = Some(gather_kind(s));
                }
                if let Some(kind @ (Gather::Stream | Gather::Whole(_))) = gather {
                    match write_gathered(s, kind) {
                        Some(Step::Next) if count > 0 => {
                            count -= 1;
                            continue;
                        }
                        Some(Step::Next | Step::Stop) => return,
                        Some(Step::Again) => continue,
                        None => {} // the head goes alone, below
                    }
                }
            }
            let idx = (*r).write_index as usize;
            let n = write_some(
                s,
                (*r).bufs.add(idx),
                ((*r).nbufs as usize).saturating_sub(idx),
                (*r).send_handle,
            );
            match account_write(s, r, n) {
                Step::Next if count > 0 => count -= 1,
                Step::Next | Step::Stop => return,
                Step::Again => {}
            }
        }
    }
}

/// The non-empty buffers of `r` not yet written.
///
/// # Safety
/// `r` is a pending write with `nbufs` readable entries in `bufs`.
unsafe fn bufs_left(r: *const uv_write_t) -> usize {
    // SAFETY: the contract.
    unsafe {
        (((*r).write_index as usize)..((*r).nbufs as usize))
            .filter(|&i| (*(*r).bufs.add(i)).len != 0)
            .count()
    }
}

/// A gathered write's buffers: the head of the write queue and the small
/// requests after it that fit (GATHER_IOVS buffers; for `Gather::Stream`
/// GATHER_BYTES, the last perhaps in part; for `Gather::Whole` whole
/// requests within its limit), up to the first that is not small or passes
/// a handle. Returns (buffers, bytes, requests touched), or None when the
/// head itself cannot go whole.
///
/// # Safety
/// `head` is a live stream's write queue holding at least one request, the
/// head without a send_handle, small and not empty; every node is the
/// `queue` field of a pending write with `nbufs` readable entries in `bufs`
/// and write_index below nbufs.
unsafe fn collect(
    head: *mut uv__queue,
    kind: Gather,
    iov: &mut [std::mem::MaybeUninit<uv_buf_t>; GATHER_IOVS],
) -> Option<(usize, usize, usize)> {
    let mut cnt = 0usize;
    let mut bytes = 0usize;
    let mut nreq = 0usize;
    let (whole, limit) = match kind {
        Gather::Whole(limit) => (true, limit),
        _ => (false, GATHER_BYTES),
    };
    // SAFETY: the contract.
    unsafe {
        let mut q = (*head).next;
        while q != head && cnt < GATHER_IOVS && bytes < limit {
            let r = crate::container_of!(q, uv_write_t, queue);
            let size = write_req_size(r);
            if nreq > 0 && (!(*r).send_handle.is_null() || size >= GATHER_SMALL) {
                break;
            }
            if whole && (bytes + size > limit || bufs_left(r) > GATHER_IOVS - cnt) {
                if nreq == 0 {
                    return None;
                }
                break;
            }
            for i in (*r).write_index as usize..(*r).nbufs as usize {
                if cnt == GATHER_IOVS {
                    break;
                }
                let b = &*(*r).bufs.add(i);
                if b.len == 0 {
                    continue;
                }
                iov[cnt].write(uv_buf_t {
                    base: b.base,
                    len: b.len,
                });
                cnt += 1;
                bytes = bytes.saturating_add(b.len);
            }
            nreq += 1;
            q = (*q).next;
        }
    }
    Some((cnt, bytes, nreq))
}

#[cfg(test)]
thread_local! {
    /// The most requests one gathered write on this thread has held
    /// (tests look at theirs).
    static GATHERED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One writev of what `collect` gathers, then the bytes accounted to the
/// requests in order, as if each had been written by its own call. None,
/// with nothing done, when the head itself cannot go whole.
///
/// # Safety
/// `s` is a live stream whose write queue holds at least one request, the
/// head without a send_handle, small and not empty; no user code runs here.
unsafe fn write_gathered(s: *mut uv_stream_t, kind: Gather) -> Option<Step> {
    let mut iov = [const { std::mem::MaybeUninit::<uv_buf_t>::uninit() }; GATHER_IOVS];
    // SAFETY: the contract; every queued node is the `queue` field of a
    // pending write of `s` with `nbufs` readable entries in `bufs` and
    // write_index below nbufs (see write_queue), and the buffers taken point
    // into the caller's memory, which stays valid until the callbacks; the
    // first `cnt` entries of `iov` are initialised, `cnt` >= 1 (the head is
    // not empty).
    unsafe {
        let head: *mut uv__queue = &mut (*s).write_queue;
        let (cnt, bytes, nreq) = collect(head, kind, &mut iov)?;
        #[cfg(test)]
        GATHERED.with(|g| g.set(g.get().max(nreq)));
        let first = crate::container_of!((*head).next, uv_write_t, queue);
        let n = write_some(
            s,
            iov.as_ptr() as *const uv_buf_t,
            cnt,
            std::ptr::null_mut(),
        );
        if n < 0 {
            // The error (or the push-back) belongs to the head request, which
            // has bytes in the call, as it would with one write per request.
            return Some(account_write(s, first, n));
        }
        let n = n as usize;
        let mut left = n;
        for _ in 0..nreq {
            let r = crate::container_of!(queue::head(head), uv_write_t, queue);
            let size = write_req_size(r);
            if left < size {
                write_req_update(s, r, left);
                break;
            }
            write_req_update(s, r, size);
            // All its bytes are out; empty buffers at its end count as written.
            (*r).write_index = (*r).nbufs;
            left -= size;
            write_req_finish(r);
        }
        if n < bytes {
            if flags(s) & BLOCKING_WRITES != 0 {
                return Some(Step::Again);
            }
            watcher::start((*s).h.loop_, &mut (*s).io_watcher, POLLOUT);
            return Some(Step::Stop);
        }
        Some(Step::Next)
    }
}

/// Runs the callbacks of completed writes, in order.
///
/// # Safety
/// `s` points to a live stream.
unsafe fn write_callbacks(s: *mut uv_stream_t) {
    // SAFETY: `s` is live (contract).
    let done: *mut uv__queue = unsafe { &mut (*s).write_completed_queue };
    // SAFETY: `done` is the stream's list head.
    if unsafe { queue::is_empty(done) } {
        return;
    }
    // SAFETY: `done` is the stream's list; drain unlinks each node before
    // the closure sees it, so user callbacks may change the lists freely.
    // Each node is the `queue` field of a pending write of `s`, pending until
    // its callback below; `s` stays live across the callbacks (see the top).
    unsafe {
        queue::drain(done, |q| {
            let r = crate::container_of!(q, uv_write_t, queue);
            req::unregister((*s).h.loop_);
            if !(*r).bufs.is_null() {
                (*s).write_queue_size = (*s).write_queue_size.saturating_sub(write_req_size(r));
                free_bufs(r);
            }
            if let Some(cb) = (*r).cb {
                cb(r, (*r).error);
            }
        });
    }
}

/// # Safety
/// `s` is a live stream; `buf` is null or points to a uv_buf_t valid for
/// the call.
unsafe fn call_read_cb(s: *mut uv_stream_t, nread: ssize_t, buf: *const uv_buf_t) {
    // SAFETY: `s` is live (contract).
    if let Some(cb) = unsafe { (*s).read_cb } {
        // SAFETY: the callback the user registered with uv_read_start, given
        // the stream and a buffer valid for the call (contract).
        unsafe { cb(s, nread, buf) };
    }
}

/// # Safety
/// As for `call_read_cb`.
unsafe fn eof(s: *mut uv_stream_t, buf: *const uv_buf_t) {
    // SAFETY: `s` and its loop are live (contract).
    unsafe {
        (*s).h.flags |= READ_EOF;
        (*s).h.flags &= !READING;
        watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
        handle::stop(s as *mut uv_handle_t);
        call_read_cb(s, UV_EOF as ssize_t, buf);
    }
}

/// Keeps a descriptor received over IPC until uv_accept takes it.
///
/// # Safety
/// `s` points to a live stream.
unsafe fn queue_fd(s: *mut uv_stream_t, fd: c_int) {
    // SAFETY: `s` is live (contract).
    unsafe {
        if (*s).accepted_fd == -1 {
            (*s).accepted_fd = fd;
            return;
        }
    }
    // SAFETY: `s` is live (contract).
    let mut q = unsafe { queued(s) };
    if q.is_null() {
        q = Box::into_raw(Box::new(VecDeque::with_capacity(8)));
        // SAFETY: `s` is live; the stream owns the Box from here (freed by
        // uv_accept or close).
        unsafe { (*s).queued_fds = q as *mut c_void };
    }
    // SAFETY: `q` is the stream's Box, and no other reference to it exists.
    unsafe { (*q).push_back(fd) };
}

/// # Safety
/// `s` is a live stream; `msg` points to a msghdr just filled by recvmsg,
/// whose msg_control/msg_controllen describe a live, 8-aligned buffer.
unsafe fn recv_fds(s: *mut uv_stream_t, msg: *mut libc::msghdr) {
    // SAFETY: the kernel wrote complete headers within msg_controllen;
    // CMSG_FIRSTHDR/CMSG_NXTHDR return null instead of going past it, and an
    // SCM_RIGHTS payload holds cmsg_len - CMSG_LEN(0) bytes of descriptors.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c);
                let bytes = ((*c).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                let n = bytes / std::mem::size_of::<c_int>();
                for i in 0..n {
                    let fd = std::ptr::read_unaligned((data as *const c_int).add(i));
                    queue_fd(s, fd);
                }
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
}

/// Reads until EAGAIN, a short read, EOF, or the user stops reading.
///
/// # Safety
/// `s` points to a live stream.
unsafe fn read(s: *mut uv_stream_t) {
    // SAFETY: `s` is live (contract); a UV_NAMED_PIPE handle is a uv_pipe_t.
    let is_ipc = unsafe {
        (*s).h.flags &= !READ_PARTIAL;
        (*s).h.type_ == UV_NAMED_PIPE && (*(s as *mut uv_pipe_t)).ipc != 0
    };
    // Bounded so that a fast writer cannot starve the loop.
    let mut count = 32;
    // SAFETY: `s` is live, also after the user callbacks below (see the top).
    while count > 0 && unsafe { (*s).read_cb.is_some() && flags(s) & READING != 0 } {
        count -= 1;
        let mut buf = uv_buf_t {
            base: std::ptr::null_mut(),
            len: 0,
        };
        // SAFETY: `s` is live; `buf` is a local the callback fills in.
        if let Some(alloc_cb) = unsafe { (*s).alloc_cb } {
            // SAFETY: the user's alloc_cb with its stream and a local buffer.
            unsafe { alloc_cb(s as *mut uv_handle_t, 64 * 1024, &mut buf) };
        }
        if buf.base.is_null() || buf.len == 0 {
            // SAFETY: `s` is live; `buf` is a local.
            unsafe { call_read_cb(s, -libc::ENOBUFS as ssize_t, &buf) };
            return;
        }
        // SAFETY: `s` is live.
        let sfd = unsafe { fd(s) };
        let mut cmsg = CmsgBuf([0; 256]);
        // SAFETY: msghdr is plain C data; all zeroes is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        let nread = retry_eintr(|| {
            if is_ipc {
                // uv_buf_t has struct iovec's layout (uv/unix.h).
                msg.msg_iov = &mut buf as *mut uv_buf_t as *mut libc::iovec;
                msg.msg_iovlen = 1;
                msg.msg_control = cmsg.0.as_mut_ptr() as *mut c_void;
                msg.msg_controllen = cmsg.0.len();
                // SAFETY: `msg` points to the user's buffer (alloc_cb gave
                // `buf.len` writable bytes at `buf.base`) and to `cmsg`.
                unsafe { libc::recvmsg(sfd, &mut msg, libc::MSG_CMSG_CLOEXEC) }
            } else {
                // SAFETY: alloc_cb gave `buf.len` writable bytes at `buf.base`.
                unsafe { libc::read(sfd, buf.base as *mut c_void, buf.len) }
            }
        });
        if nread < 0 {
            let e = errno();
            // SAFETY: `s` and its loop are live; `buf` is a local. Flags are
            // re-read after read_cb, which may have stopped or closed `s`.
            unsafe {
                if e == libc::EAGAIN || e == libc::EWOULDBLOCK {
                    if flags(s) & READING != 0 {
                        watcher::start((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
                    }
                    call_read_cb(s, 0, &buf);
                } else {
                    // The user is expected to close the stream now.
                    (*s).h.flags &= !(READABLE | WRITABLE);
                    call_read_cb(s, -e as ssize_t, &buf);
                    if flags(s) & READING != 0 {
                        (*s).h.flags &= !READING;
                        watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
                        handle::stop(s as *mut uv_handle_t);
                    }
                }
            }
            return;
        }
        if nread == 0 {
            // SAFETY: `s` is live; `buf` is a local.
            unsafe { eof(s, &buf) };
            return;
        }
        let buflen = buf.len as ssize_t;
        if is_ipc {
            // SAFETY: `s` is live; recvmsg just filled `msg`, whose control
            // buffer `cmsg` is 8-aligned and alive.
            unsafe { recv_fds(s, &mut msg) };
        }
        // SAFETY: `s` is live; `buf` is a local.
        unsafe { call_read_cb(s, nread, &buf) };
        if nread < buflen {
            // Nothing more to read for now.
            // SAFETY: `s` is live after read_cb (see the top).
            unsafe { (*s).h.flags |= READ_PARTIAL };
            return;
        }
    }
}

/// The watcher callback of a connected (or connecting) stream; also what
/// the pending phase calls for fed write/connect/shutdown completions.
///
/// # Safety
/// Called by the loop only: `w` is the `io_watcher` of a live stream.
unsafe extern "C" fn stream_io(_loop: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
    // SAFETY: `w` is the io_watcher field of a live stream (contract).
    let s = unsafe { crate::container_of!(w, uv_stream_t, io_watcher) };
    // SAFETY: `s` is live, and stays so across the user callbacks that
    // read, connect_done and write_callbacks make (see the top); a close in
    // one of them sets the descriptor to -1, checked after each step.
    unsafe {
        if !(*s).connect_req.is_null() {
            connect_done(s);
            return;
        }
        if fd(s) < 0 {
            return;
        }
        // POLLHUP may come with data still to read: read first.
        if events & (POLLIN | POLLERR | POLLHUP) != 0 {
            read(s);
        }
        if fd(s) == -1 {
            return; // read_cb closed the stream
        }
        // A hangup after a short read and no EOF yet: that was the last data.
        if events & POLLHUP != 0
            && flags(s) & READING != 0
            && flags(s) & READ_PARTIAL != 0
            && flags(s) & READ_EOF == 0
        {
            let buf = uv_buf_t {
                base: std::ptr::null_mut(),
                len: 0,
            };
            eof(s, &buf);
        }
        if fd(s) == -1 {
            return;
        }
        if events & (POLLOUT | POLLERR | POLLHUP) != 0 {
            write_queue(s);
            write_callbacks(s);
            if queue::is_empty(&(*s).write_queue) {
                drain(s);
            }
        }
    }
}

/// The outcome of a non-blocking connect (or an error delayed to this turn).
///
/// # Safety
/// `s` is a live stream with a non-null `connect_req`.
unsafe fn connect_done(s: *mut uv_stream_t) {
    // SAFETY: `s` is live (contract), also after the connect callback (see
    // the top); `connect_req` is pending until that callback and `r` is not
    // used after it.
    unsafe {
        let r = (*s).connect_req as *mut uv_connect_t;
        let error = if (*s).delayed_error != 0 {
            let e = (*s).delayed_error;
            (*s).delayed_error = 0;
            e
        } else {
            // A failed getsockopt leaves the error 0, as before: the connect
            // is then taken as done.
            -sockopt_int(fd(s), libc::SO_ERROR).unwrap_or(0)
        };
        if error == -libc::EINPROGRESS {
            return;
        }
        (*s).connect_req = std::ptr::null_mut();
        req::unregister((*s).h.loop_);
        if error < 0 || queue::is_empty(&(*s).write_queue) {
            watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLOUT);
        }
        if let Some(cb) = (*r).cb {
            cb(r, error);
        }
        if fd(s) == -1 {
            return;
        }
        if error < 0 {
            flush_write_queue(s, -libc::ECANCELED);
            write_callbacks(s);
        }
    }
}

/// Registers a connect request and waits for POLLOUT; a `delayed_error`
/// already set is delivered from the pending phase.
///
/// # Safety
/// `s` is a live stream without a pending connect; `r` points to a
/// uv_connect_t the user keeps until its callback (uv.h).
pub unsafe fn start_connect(
    s: *mut uv_stream_t,
    r: *mut uv_connect_t,
    cb: Option<unsafe extern "C" fn(*mut uv_connect_t, c_int)>,
    watch: bool,
) {
    // SAFETY: `s`, its loop and `r` are valid (contract); `r` becomes the
    // stream's pending connect request.
    unsafe {
        let loop_ = (*s).h.loop_;
        req::init(loop_, r as *mut uv_req_t, UV_CONNECT);
        (*r).cb = cb;
        (*r).handle = s;
        queue::init(&mut (*r).queue);
        (*s).connect_req = r as *mut c_void;
        if watch {
            watcher::start(loop_, &mut (*s).io_watcher, POLLOUT);
        }
        if (*s).delayed_error != 0 {
            watcher::feed(loop_, &mut (*s).io_watcher);
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_shutdown(
    r: *mut uv_shutdown_t,
    s: *mut uv_stream_t,
    cb: Option<unsafe extern "C" fn(*mut uv_shutdown_t, c_int)>,
) -> c_int {
    // SAFETY: uv.h: `s` is a live handle (a stream once its type_ is
    // checked) and `r` a uv_shutdown_t the user keeps until its callback.
    unsafe {
        if r.is_null() || s.is_null() || !is_stream_type(s) {
            return -libc::EINVAL;
        }
        if flags(s) & WRITABLE == 0
            || flags(s) & SHUT != 0
            || !(*s).shutdown_req.is_null()
            || handle::is_closing(s as *const uv_handle_t)
        {
            return -libc::ENOTCONN;
        }
        // shutdown(2) itself happens in drain, once every queued write is out.
        req::init((*s).h.loop_, r as *mut uv_req_t, UV_SHUTDOWN);
        (*r).handle = s;
        (*r).cb = cb;
        (*s).shutdown_req = r as *mut c_void;
        (*s).h.flags &= !WRITABLE;
        if queue::is_empty(&(*s).write_queue) {
            watcher::feed((*s).h.loop_, &mut (*s).io_watcher);
        }
    }
    0
}

/// # Safety
/// `s` points to a live handle of any type (its type is checked first);
/// `send_handle` is null or a live handle.
unsafe fn check_before_write(
    s: *mut uv_stream_t,
    nbufs: c_uint,
    send_handle: *mut uv_stream_t,
) -> c_int {
    if nbufs == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: `s` is a live handle (contract) and, past the type check, a
    // stream; a UV_NAMED_PIPE handle is a uv_pipe_t. `send_handle` is null
    // or live (contract).
    unsafe {
        if !is_stream_type(s) {
            return -libc::EINVAL;
        }
        if fd(s) < 0 {
            return -libc::EBADF;
        }
        if flags(s) & WRITABLE == 0 {
            return -libc::EPIPE;
        }
        if !send_handle.is_null() {
            if (*s).h.type_ != UV_NAMED_PIPE || (*(s as *mut uv_pipe_t)).ipc == 0 {
                return -libc::EINVAL;
            }
            if handle_fd(send_handle as *const uv_handle_t) < 0 {
                return -libc::EBADF;
            }
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_write2(
    r: *mut uv_write_t,
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    send_handle: *mut uv_stream_t,
    cb: Option<unsafe extern "C" fn(*mut uv_write_t, c_int)>,
) -> c_int {
    if r.is_null() || s.is_null() || bufs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `s` is a live handle, `send_handle` null or a live
    // handle.
    let err = unsafe { check_before_write(s, nbufs, send_handle) };
    if err < 0 {
        return err;
    }
    // SAFETY: uv.h: `s` is a live stream (checked above), `r` a uv_write_t
    // the user keeps until its callback, `bufs` an array of `nbufs` buffers
    // whose memory stays valid until then.
    unsafe {
        let loop_ = (*s).h.loop_;
        req::init(loop_, r as *mut uv_req_t, UV_WRITE);
        (*r).cb = cb;
        (*r).handle = s;
        (*r).error = 0;
        (*r).send_handle = send_handle;
        (*r).nbufs = nbufs;
        (*r).write_index = 0;
        let n = nbufs as usize;
        let total = count_bufs(bufs, n);
        // write_queue_size > 0 with an empty queue means failed writes await
        // their callbacks: do not try the socket again before that.
        let idle = (*s).write_queue_size == 0;
        let fits = n <= (*r).bufsml.len();
        let mut written = None;
        if idle && fits && (*s).connect_req.is_null() && queue::is_empty(&(*s).write_queue) {
            // Nothing is queued before this request: write straight from the
            // caller's list, and copy it (into bufsml, so the copy below
            // cannot fail once bytes are out) only if some of it is left over.
            let w = write_some(s, bufs, n, send_handle);
            if w >= 0 && w as usize == total {
                (*r).send_handle = std::ptr::null_mut();
                (*r).bufs = std::ptr::null_mut();
                (*r).write_index = nbufs;
                queue::insert_tail(&mut (*s).write_completed_queue, &mut (*r).queue);
                watcher::feed(loop_, &mut (*s).io_watcher);
                return 0;
            }
            written = Some(w);
        }
        if let Err(e) = copy_bufs(r, bufs, n) {
            req::unregister(loop_);
            return e;
        }
        (*s).write_queue_size += total;
        queue::insert_tail(&mut (*s).write_queue, &mut (*r).queue);
        if let Some(w) = written {
            if let Step::Again = account_write(s, r, w) {
                write_queue(s);
            }
        } else if !(*s).connect_req.is_null() {
            // Still connecting: the writes start once connected.
        } else if idle {
            write_queue(s);
        } else {
            watcher::start(loop_, &mut (*s).io_watcher, POLLOUT);
        }
    }
    0
}

/// Gives `r` its own copy of the caller's buffer list: `bufsml` when it
/// fits, else a block freed by free_bufs.
///
/// # Safety
/// `r` is writable and `bufs` points to `n` uv_buf_t.
unsafe fn copy_bufs(r: *mut uv_write_t, bufs: *const uv_buf_t, n: usize) -> Result<(), c_int> {
    // SAFETY: the contract; `dst` has room for `n` entries.
    unsafe {
        let mut dst = (*r).bufsml.as_mut_ptr();
        if n > (*r).bufsml.len() {
            dst = alloc::malloc(n * std::mem::size_of::<uv_buf_t>()) as *mut uv_buf_t;
            if dst.is_null() {
                return Err(-libc::ENOMEM);
            }
        }
        std::ptr::copy_nonoverlapping(bufs, dst, n);
        (*r).bufs = dst;
    }
    Ok(())
}

#[no_mangle]
pub unsafe extern "C" fn uv_write(
    r: *mut uv_write_t,
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    cb: Option<unsafe extern "C" fn(*mut uv_write_t, c_int)>,
) -> c_int {
    // SAFETY: the caller's uv.h contract for uv_write is uv_write2's.
    unsafe { uv_write2(r, s, bufs, nbufs, std::ptr::null_mut(), cb) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_try_write(
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
) -> c_int {
    // SAFETY: the caller's uv.h contract for uv_try_write is uv_try_write2's.
    unsafe { uv_try_write2(s, bufs, nbufs, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_try_write2(
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    send_handle: *mut uv_stream_t,
) -> c_int {
    if s.is_null() || bufs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `s` is a live stream, `bufs` an array of `nbufs`
    // readable buffers (nbufs >= 1 once check_before_write passed) and
    // `send_handle` null or a live handle.
    unsafe {
        // Connecting, or earlier writes still queued: order must be kept.
        if !(*s).connect_req.is_null() || (*s).write_queue_size != 0 {
            return -libc::EAGAIN;
        }
        let err = check_before_write(s, nbufs, std::ptr::null_mut());
        if err < 0 {
            return err;
        }
        let n = write_some(s, bufs, nbufs as usize, send_handle);
        n.clamp(c_int::MIN as ssize_t, c_int::MAX as ssize_t) as c_int
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_read_start(
    s: *mut uv_stream_t,
    alloc_cb: uv_alloc_cb,
    read_cb: uv_read_cb,
) -> c_int {
    // SAFETY: uv.h: `s` is a live handle, a stream once its type_ is checked.
    unsafe {
        if s.is_null() || alloc_cb.is_none() || read_cb.is_none() || !is_stream_type(s) {
            return -libc::EINVAL;
        }
        if flags(s) & handle::CLOSING != 0 {
            return -libc::EINVAL;
        }
        if flags(s) & READING != 0 {
            return -libc::EALREADY;
        }
        if flags(s) & READABLE == 0 {
            return -libc::ENOTCONN;
        }
        if fd(s) < 0 {
            return -libc::EINVAL;
        }
        // READING is the user's wish, whatever state the stream is in.
        (*s).h.flags |= READING;
        (*s).h.flags &= !READ_EOF;
        (*s).read_cb = read_cb;
        (*s).alloc_cb = alloc_cb;
        watcher::start((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
        handle::start(s as *mut uv_handle_t);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_read_stop(s: *mut uv_stream_t) -> c_int {
    // SAFETY: uv.h: `s` is a live stream (READING is only ever set on one).
    unsafe {
        if s.is_null() || flags(s) & READING == 0 {
            return 0;
        }
        (*s).h.flags &= !READING;
        watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
        handle::stop(s as *mut uv_handle_t);
        (*s).read_cb = None;
        (*s).alloc_cb = None;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_is_readable(s: *const uv_stream_t) -> c_int {
    // SAFETY: uv.h: `s` is a live stream.
    (unsafe { flags(s) } & READABLE != 0) as c_int
}

#[no_mangle]
pub unsafe extern "C" fn uv_is_writable(s: *const uv_stream_t) -> c_int {
    // SAFETY: uv.h: `s` is a live stream.
    (unsafe { flags(s) } & WRITABLE != 0) as c_int
}

#[no_mangle]
pub unsafe extern "C" fn uv_stream_set_blocking(s: *mut uv_stream_t, blocking: c_int) -> c_int {
    // An invalid descriptor makes the call fail with EBADF.
    // SAFETY: uv.h: `s` is a live stream.
    watcher::set_nonblock(unsafe { fd(s) }, blocking == 0)
}

#[no_mangle]
pub unsafe extern "C" fn uv_stream_get_write_queue_size(s: *const uv_stream_t) -> size_t {
    // SAFETY: uv.h: `s` is a live stream.
    unsafe { (*s).write_queue_size }
}

/// Reads (`*value == 0`) or sets a SOL_SOCKET option of a socket handle.
///
/// # Safety
/// `h` is null or a live handle; `value` is null or points to a readable
/// and writable int.
unsafe fn socket_sockopt(h: *mut uv_handle_t, optname: c_int, value: *mut c_int) -> c_int {
    if h.is_null() || value.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `h` is live (contract) and its type_ says which struct it is.
    let fd = match unsafe { (*h).type_ } {
        // SAFETY: as above.
        UV_TCP | UV_NAMED_PIPE => unsafe { (*(h as *mut uv_stream_t)).io_watcher.fd },
        // SAFETY: as above.
        UV_UDP => unsafe { (*(h as *mut uv_udp_t)).io_watcher.fd },
        _ => return -libc::ENOTSUP,
    };
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `value` is a valid int (contract) and `len` its size, so the
    // kernel reads or writes exactly that int.
    let r = unsafe {
        if *value == 0 {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                optname,
                value as *mut c_void,
                &mut len,
            )
        } else {
            libc::setsockopt(fd, libc::SOL_SOCKET, optname, value as *const c_void, len)
        }
    };
    if r < 0 {
        return -errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_send_buffer_size(h: *mut uv_handle_t, value: *mut c_int) -> c_int {
    // SAFETY: uv.h: `h` is a live handle and `value` points to an int.
    unsafe { socket_sockopt(h, libc::SO_SNDBUF, value) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_recv_buffer_size(h: *mut uv_handle_t, value: *mut c_int) -> c_int {
    // SAFETY: uv.h: `h` is a live handle and `value` points to an int.
    unsafe { socket_sockopt(h, libc::SO_RCVBUF, value) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::uv_close;
    use crate::loop_::{uv_loop_close, uv_loop_init, uv_run, UV_RUN_DEFAULT, UV_RUN_NOWAIT};
    use crate::pipe::{uv_pipe_init, uv_pipe_open};
    use libc::c_char;
    use std::mem::MaybeUninit;

    /// Statuses of finished writes, in callback order, kept in the
    /// requests' `data` (a pointer to the test's Vec).
    unsafe extern "C" fn record(r: *mut uv_write_t, status: c_int) {
        // SAFETY: every request of these tests carries a live Vec in `data`.
        unsafe { (*((*r).r.data as *mut Vec<(usize, c_int)>)).push((r as usize, status)) };
    }

    /// A connected pair of Unix sockets of type `ty`, the first with
    /// `sndbuf`.
    fn socket_pair(ty: c_int, sndbuf: c_int) -> [c_int; 2] {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two descriptors; setsockopt reads one
        // int.
        unsafe {
            assert_eq!(libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()), 0);
            libc::setsockopt(
                fds[0],
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                &sndbuf as *const c_int as *const c_void,
                4,
            );
        }
        fds
    }

    /// A loop and a pipe handle on one end of a socketpair; the other end is
    /// returned, blocking. Both live in boxes freed by `finish`.
    unsafe fn setup(sndbuf: c_int) -> (Box<uv_loop_t>, Box<uv_pipe_t>, c_int) {
        // SAFETY: zeroed memory for a loop and a pipe, initialised below.
        unsafe {
            let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let mut p: Box<uv_pipe_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let fds = socket_pair(libc::SOCK_STREAM, sndbuf);
            assert_eq!(uv_loop_init(&mut *lp), 0);
            assert_eq!(uv_pipe_init(&mut *lp, &mut *p, 0), 0);
            assert_eq!(uv_pipe_open(&mut *p, fds[0]), 0);
            (lp, p, fds[1])
        }
    }

    unsafe fn finish(mut lp: Box<uv_loop_t>, mut p: Box<uv_pipe_t>, peer: c_int) {
        // SAFETY: `p` is an open handle of `lp`; after the close runs the
        // loop has nothing left.
        unsafe {
            uv_close(&mut *p as *mut uv_pipe_t as *mut uv_handle_t, None);
            assert_eq!(uv_run(&mut *lp, UV_RUN_DEFAULT), 0);
            assert_eq!(uv_loop_close(&mut *lp), 0);
            libc::close(peer);
        }
    }

    fn read_all(fd: c_int, want: usize) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut got = Vec::with_capacity(want);
            let mut chunk = [0u8; 65536];
            while got.len() < want {
                // SAFETY: `chunk` is writable for its length.
                let n = unsafe { libc::read(fd, chunk.as_mut_ptr() as *mut c_void, chunk.len()) };
                assert!(n > 0, "peer read ended early");
                got.extend_from_slice(&chunk[..n as usize]);
            }
            got
        })
    }

    /// A write that goes out whole at once still reports in the pending
    /// phase, not inside uv_write, and leaves no bytes counted as queued.
    #[test]
    fn whole_write_completes_in_the_pending_phase() {
        // SAFETY: the boxes outlive every use; requests and buffers are
        // locals alive until uv_run has run their callbacks.
        unsafe {
            let (mut lp, mut p, peer) = setup(1 << 20);
            let s = &mut *p as *mut uv_pipe_t as *mut uv_stream_t;
            let mut done: Vec<(usize, c_int)> = Vec::new();
            let mut r: uv_write_t = MaybeUninit::zeroed().assume_init();
            r.r.data = &mut done as *mut _ as *mut c_void;
            let (a, b) = (*b"hello ", *b"world");
            let bufs = [
                uv_buf_t {
                    base: a.as_ptr() as *mut c_char,
                    len: a.len(),
                },
                uv_buf_t {
                    base: b.as_ptr() as *mut c_char,
                    len: b.len(),
                },
            ];
            assert_eq!(uv_write(&mut r, s, bufs.as_ptr(), 2, Some(record)), 0);
            assert!(done.is_empty(), "callback ran inside uv_write");
            assert_eq!(uv_stream_get_write_queue_size(s), 0);
            assert_eq!(lp.active_reqs, 1);
            let reader = read_all(peer, 11);
            assert_eq!(uv_run(&mut *lp, UV_RUN_NOWAIT), 0);
            assert_eq!(done, vec![(&mut r as *mut uv_write_t as usize, 0)]);
            assert_eq!(reader.join().unwrap(), b"hello world");
            finish(lp, p, peer);
        }
    }

    /// A first write the kernel takes only part of keeps the rest, in order
    /// before a later write, counted in write_queue_size.
    #[test]
    fn partial_first_write_keeps_the_rest_in_order() {
        // SAFETY: as above.
        unsafe {
            let (mut lp, mut p, peer) = setup(4096);
            let s = &mut *p as *mut uv_pipe_t as *mut uv_stream_t;
            let mut done: Vec<(usize, c_int)> = Vec::new();
            let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
            let small = *b"tail";
            let mut r1: uv_write_t = MaybeUninit::zeroed().assume_init();
            let mut r2: uv_write_t = MaybeUninit::zeroed().assume_init();
            r1.r.data = &mut done as *mut _ as *mut c_void;
            r2.r.data = r1.r.data;
            let half = big.len() / 2;
            let b1 = [
                uv_buf_t {
                    base: big.as_ptr() as *mut c_char,
                    len: half,
                },
                uv_buf_t {
                    base: big[half..].as_ptr() as *mut c_char,
                    len: big.len() - half,
                },
            ];
            let b2 = [uv_buf_t {
                base: small.as_ptr() as *mut c_char,
                len: small.len(),
            }];
            assert_eq!(uv_write(&mut r1, s, b1.as_ptr(), 2, Some(record)), 0);
            let left = uv_stream_get_write_queue_size(s);
            assert!(left > 0 && left < big.len(), "left {left}");
            assert_eq!(uv_write(&mut r2, s, b2.as_ptr(), 1, Some(record)), 0);
            assert_eq!(uv_stream_get_write_queue_size(s), left + small.len());
            let reader = read_all(peer, big.len() + small.len());
            assert_eq!(uv_run(&mut *lp, UV_RUN_DEFAULT), 0);
            let order: Vec<usize> = done.iter().map(|d| d.0).collect();
            assert_eq!(
                order,
                vec![
                    &mut r1 as *mut uv_write_t as usize,
                    &mut r2 as *mut uv_write_t as usize
                ]
            );
            assert!(done.iter().all(|d| d.1 == 0));
            let got = reader.join().unwrap();
            assert_eq!(got.len(), big.len() + small.len());
            assert!(got[..big.len()] == big[..] && got[big.len()..] == small[..]);
            assert_eq!(uv_stream_get_write_queue_size(s), 0);
            finish(lp, p, peer);
        }
    }

    /// What carries the queued writes of `queued`.
    #[derive(Clone, Copy, PartialEq)]
    enum Carrier {
        /// A uv_tcp_t (on a Unix stream socket: the queue does not care which
        /// stream socket it writes to).
        Tcp,
        /// A uv_pipe_t on a Unix stream socket.
        Pipe,
        /// A uv_pipe_t on a Unix SOCK_SEQPACKET socket: each write a message.
        Packet,
        /// A uv_pipe_t on a one-page pipe(2).
        Fifo,
        /// A uv_pipe_t on a one-page O_DIRECT pipe(2): each write a packet.
        PacketFifo,
    }

    impl Carrier {
        fn packets(self) -> bool {
            matches!(self, Carrier::Packet | Carrier::PacketFifo)
        }
    }

    /// A pipe(2) of one page (`flags` for pipe2), reader end first.
    fn small_fifo(flags: c_int) -> [c_int; 2] {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two descriptors; F_SETPIPE_SZ takes an
        // int.
        unsafe {
            assert_eq!(libc::pipe2(fds.as_mut_ptr(), flags), 0);
            assert!(libc::fcntl(fds[1], libc::F_SETPIPE_SZ, 4096) >= 4096);
        }
        fds
    }

    /// A handle with a full send buffer and `tiny` small requests queued
    /// behind it: on a stream, 64 KiB left of a first write and requests of
    /// 0–6 bytes in 1–3 buffers, some empty; on packets (where a message
    /// must fit the buffer) requests of 1–3 bytes, the first ones written at
    /// once. Returns the loop, the handle (in uv_pipe_t-sized memory, enough
    /// for either kind), the peer, the requests, every byte in the order the
    /// peer must see them, and each request's size.
    #[allow(clippy::type_complexity)]
    unsafe fn queued(
        carrier: Carrier,
        tiny: usize,
        done: *mut Vec<(usize, c_int)>,
    ) -> (
        Box<uv_loop_t>,
        Box<uv_pipe_t>,
        c_int,
        Vec<Box<uv_write_t>>,
        Vec<u8>,
        Vec<usize>,
    ) {
        // SAFETY: zeroed memory for a loop, a handle and requests, each
        // initialised before use; the buffers the requests point at are
        // leaked, so they outlive the requests.
        unsafe {
            let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let mut h: Box<uv_pipe_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let packets = carrier.packets();
            // (the handle's end, the peer's end)
            let (mine, peer) = match carrier {
                Carrier::Fifo | Carrier::PacketFifo => {
                    let flags = if packets { libc::O_DIRECT } else { 0 };
                    let fds = small_fifo(flags);
                    (fds[1], fds[0])
                }
                _ => {
                    let ty = if packets {
                        libc::SOCK_SEQPACKET
                    } else {
                        libc::SOCK_STREAM
                    };
                    let fds = socket_pair(ty, 4096);
                    (fds[0], fds[1])
                }
            };
            let fl = libc::fcntl(peer, libc::F_GETFL);
            assert_eq!(libc::fcntl(peer, libc::F_SETFL, fl | libc::O_NONBLOCK), 0);
            assert_eq!(uv_loop_init(&mut *lp), 0);
            let s: *mut uv_stream_t = &mut *h as *mut uv_pipe_t as *mut uv_stream_t;
            if carrier == Carrier::Tcp {
                assert_eq!(crate::tcp::uv_tcp_init(&mut *lp, s), 0);
                assert_eq!(crate::tcp::uv_tcp_open(s, mine), 0);
            } else {
                assert_eq!(uv_pipe_init(&mut *lp, &mut *h, 0), 0);
                assert_eq!(uv_pipe_open(&mut *h, mine), 0);
            }
            let mut expect = Vec::new();
            let mut sizes = Vec::new();
            let mut reqs = Vec::new();
            let big: &'static [u8] = Vec::leak((0..1 << 16).map(|i: u32| i as u8).collect());
            for i in 0..=tiny {
                let mut bufs = Vec::new();
                if i == 0 && !packets {
                    bufs.push(big);
                } else {
                    for k in 0..1 + i % 3 {
                        let len = if packets { 1 } else { (i + k) % 3 };
                        let b: &'static [u8] =
                            Vec::leak((0..len).map(|j| (i * 7 + k * 3 + j) as u8).collect());
                        bufs.push(b);
                    }
                }
                let uv_bufs: Vec<uv_buf_t> = bufs
                    .iter()
                    .map(|b| uv_buf_t {
                        base: b.as_ptr() as *mut c_char,
                        len: b.len(),
                    })
                    .collect();
                for b in &bufs {
                    expect.extend_from_slice(b);
                }
                sizes.push(bufs.iter().map(|b| b.len()).sum());
                let mut r: Box<uv_write_t> = Box::new(MaybeUninit::zeroed().assume_init());
                r.r.data = done as *mut c_void;
                let n = uv_bufs.len() as c_uint;
                assert_eq!(uv_write(&mut *r, s, uv_bufs.as_ptr(), n, Some(record)), 0);
                reqs.push(r);
            }
            assert!(
                uv_stream_get_write_queue_size(s) > 0,
                "send buffer not full"
            );
            (lp, h, peer, reqs, expect, sizes)
        }
    }

    /// Reads what the peer (non-blocking) has; `lens` gets each read's
    /// length (on packets, each message's).
    fn drain_peer(fd: c_int, got: &mut Vec<u8>, lens: &mut Vec<usize>) {
        let mut chunk = [0u8; 65536];
        loop {
            // SAFETY: `chunk` is writable for its length.
            let n = unsafe { libc::read(fd, chunk.as_mut_ptr() as *mut c_void, chunk.len()) };
            if n <= 0 {
                return;
            }
            got.extend_from_slice(&chunk[..n as usize]);
            lens.push(n as usize);
        }
    }

    /// Runs `queued` to the end, reading as the peer; returns the turns taken
    /// after the first callback, the bytes and the read lengths seen.
    unsafe fn run_queued(carrier: Carrier, tiny: usize) -> (usize, Vec<usize>) {
        // SAFETY: the boxes outlive every use; every request completes
        // before the handle is closed.
        unsafe {
            let mut done: Vec<(usize, c_int)> = Vec::new();
            let (mut lp, mut h, peer, reqs, expect, sizes) = queued(carrier, tiny, &mut done);
            let s: *mut uv_stream_t = &mut *h as *mut uv_pipe_t as *mut uv_stream_t;
            let (mut got, mut lens) = (Vec::new(), Vec::new());
            let mut turns_after_first = 0;
            for _ in 0..10_000 {
                if done.len() == reqs.len() {
                    break;
                }
                drain_peer(peer, &mut got, &mut lens);
                uv_run(&mut *lp, UV_RUN_NOWAIT);
                if !done.is_empty() {
                    turns_after_first += 1;
                }
            }
            drain_peer(peer, &mut got, &mut lens);
            assert_eq!(done.len(), reqs.len());
            let order: Vec<usize> = done.iter().map(|d| d.0).collect();
            let want: Vec<usize> = reqs.iter().map(|r| &**r as *const _ as usize).collect();
            assert_eq!(order, want);
            assert!(done.iter().all(|d| d.1 == 0));
            assert!(
                got == expect,
                "bytes differ ({} vs {})",
                got.len(),
                expect.len()
            );
            assert_eq!(uv_stream_get_write_queue_size(s), 0);
            if carrier.packets() {
                assert_eq!(lens, sizes, "one message per request");
            }
            uv_close(s as *mut uv_handle_t, None);
            assert_eq!(uv_run(&mut *lp, UV_RUN_DEFAULT), 0);
            assert_eq!(uv_loop_close(&mut *lp), 0);
            libc::close(peer);
            (turns_after_first, lens)
        }
    }

    /// Queued writes on a byte stream go out many to a system call: once the
    /// peer has read the first write, the 2000 small ones behind it complete
    /// within a few loop turns (one write per request, 33 a turn at most,
    /// took 122), in order, every byte in place, write_queue_size back to 0.
    #[test]
    fn queued_stream_writes_go_out_together_in_order() {
        for carrier in [Carrier::Tcp, Carrier::Pipe, Carrier::Fifo] {
            // SAFETY: run_queued owns everything it uses.
            let (turns, _) = unsafe { run_queued(carrier, 2000) };
            assert!(turns <= 4, "{turns} turns");
        }
    }

    /// On a packet socket or an O_DIRECT pipe each request stays a message
    /// of its own, however many wait.
    #[test]
    fn queued_writes_on_packets_stay_one_message_each() {
        for carrier in [Carrier::Packet, Carrier::PacketFifo] {
            // SAFETY: run_queued owns everything it uses.
            let (_, lens) = unsafe { run_queued(carrier, 300) };
            assert_eq!(lens.len(), 301);
        }
    }

    /// Requests up to PIPE_BUF written to a pipe are never split, gathered
    /// or not: another writer to the pipe could otherwise land inside one.
    #[test]
    fn gathered_pipe_writes_keep_each_request_whole() {
        // SAFETY: the boxes outlive every use; the buffer is leaked; every
        // request completes before the close.
        unsafe {
            let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let mut p: Box<uv_pipe_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let fds = small_fifo(libc::O_NONBLOCK);
            assert_eq!(uv_loop_init(&mut *lp), 0);
            assert_eq!(uv_pipe_init(&mut *lp, &mut *p, 0), 0);
            assert_eq!(uv_pipe_open(&mut *p, fds[1]), 0);
            let s = &mut *p as *mut uv_pipe_t as *mut uv_stream_t;
            let page = [b'F'; 4096];
            while libc::write(fds[1], page.as_ptr() as *const c_void, 4096) > 0 {}
            let mut done: Vec<(usize, c_int)> = Vec::new();
            // One raw pointer for every request's callback to write through.
            let dp = std::ptr::addr_of_mut!(done);
            let data: &'static [u8] = Vec::leak(vec![b'a'; 900]);
            let mut reqs = Vec::new();
            for _ in 0..20 {
                let mut r: Box<uv_write_t> = Box::new(MaybeUninit::zeroed().assume_init());
                r.r.data = dp as *mut c_void;
                let b = [uv_buf_t {
                    base: data.as_ptr() as *mut c_char,
                    len: data.len(),
                }];
                assert_eq!(uv_write(&mut *r, s, b.as_ptr(), 1, Some(record)), 0);
                reqs.push(r);
            }
            assert_eq!(uv_stream_get_write_queue_size(s), 20 * 900);
            let mut buf = [0u8; 4096];
            let mut turns = 0;
            while done.len() < reqs.len() {
                while libc::read(fds[0], buf.as_mut_ptr() as *mut c_void, buf.len()) > 0 {}
                uv_run(&mut *lp, UV_RUN_NOWAIT);
                let left = uv_stream_get_write_queue_size(s);
                assert_eq!(left % 900, 0, "a request was split: {left} bytes left");
                turns += 1;
                assert!(turns < 100);
            }
            assert!(done.iter().all(|d| d.1 == 0));
            uv_close(s as *mut uv_handle_t, None);
            assert_eq!(uv_run(&mut *lp, UV_RUN_DEFAULT), 0);
            assert_eq!(uv_loop_close(&mut *lp), 0);
            libc::close(fds[0]);
        }
    }

    /// A request of empty buffers still gets its own (zero-byte) write, as
    /// in libuv, so on a dead connection it fails like any other instead of
    /// completing without a system call.
    #[test]
    fn empty_request_behind_others_gets_its_own_write() {
        // SAFETY: as above; SIGPIPE is ignored so the failing writes return
        // EPIPE instead of ending the test process.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let mut h: Box<uv_pipe_t> = Box::new(MaybeUninit::zeroed().assume_init());
            let fds = socket_pair(libc::SOCK_STREAM, 4096);
            assert_eq!(uv_loop_init(&mut *lp), 0);
            let s: *mut uv_stream_t = &mut *h as *mut uv_pipe_t as *mut uv_stream_t;
            assert_eq!(crate::tcp::uv_tcp_init(&mut *lp, s), 0);
            assert_eq!(crate::tcp::uv_tcp_open(s, fds[0]), 0);
            let mut done: Vec<(usize, c_int)> = Vec::new();
            let dp = std::ptr::addr_of_mut!(done);
            let big: &'static [u8] = Vec::leak(vec![b'b'; 1 << 16]);
            let mut reqs = Vec::new();
            // A full buffer, then an empty request, then one not gathered.
            for len in [big.len(), 0, 2048] {
                let mut r: Box<uv_write_t> = Box::new(MaybeUninit::zeroed().assume_init());
                r.r.data = dp as *mut c_void;
                let b = [uv_buf_t {
                    base: big.as_ptr() as *mut c_char,
                    len,
                }];
                assert_eq!(uv_write(&mut *r, s, b.as_ptr(), 1, Some(record)), 0);
                reqs.push(r);
            }
            libc::close(fds[1]);
            for _ in 0..100 {
                if done.len() == reqs.len() {
                    break;
                }
                uv_run(&mut *lp, UV_RUN_NOWAIT);
            }
            let want: Vec<(usize, c_int)> = reqs
                .iter()
                .map(|r| (&**r as *const _ as usize, -libc::EPIPE))
                .collect();
            assert_eq!(done, want);
            uv_close(s as *mut uv_handle_t, None);
            assert_eq!(uv_run(&mut *lp, UV_RUN_DEFAULT), 0);
            assert_eq!(uv_loop_close(&mut *lp), 0);
        }
    }

    /// Two small requests waiting are already worth one call.
    #[test]
    fn two_small_requests_are_gathered() {
        GATHERED.with(|g| g.set(0));
        // SAFETY: run_queued owns everything it uses.
        unsafe { run_queued(Carrier::Tcp, 2) };
        assert_eq!(GATHERED.with(|g| g.get()), 2);
    }

    /// A write queue of `n` requests of `bufs` buffers of `len` bytes each,
    /// for `collect`; the requests and buffers are leaked.
    fn fake_queue(n: usize, bufs: usize, len: usize) -> Box<uv__queue> {
        let data: &'static [u8] = Vec::leak(vec![b'x'; len]);
        // SAFETY: a zeroed node made a list by init; zeroed requests are
        // valid uv_write_t whose fields are then set as a queued write's.
        unsafe {
            let mut head: Box<uv__queue> = Box::new(MaybeUninit::zeroed().assume_init());
            queue::init(&mut *head);
            for _ in 0..n {
                let list: &'static mut [uv_buf_t] = Vec::leak(
                    (0..bufs)
                        .map(|_| uv_buf_t {
                            base: data.as_ptr() as *mut c_char,
                            len,
                        })
                        .collect(),
                );
                let r: &'static mut uv_write_t =
                    Box::leak(Box::new(MaybeUninit::zeroed().assume_init()));
                r.bufs = list.as_mut_ptr();
                r.nbufs = bufs as c_uint;
                queue::insert_tail(&mut *head, &mut r.queue);
            }
            head
        }
    }

    /// What one gathered write takes: whole requests only, within the
    /// limit and the 256 buffers, where whole ones are asked for; on TCP
    /// the last in part; small ones only; never a head that cannot go whole.
    #[test]
    fn collect_takes_whole_requests_where_asked() {
        let mut iov = [const { MaybeUninit::<uv_buf_t>::uninit() }; GATHER_IOVS];
        let mut take = |n, bufs, len, kind| {
            let mut head = fake_queue(n, bufs, len);
            // SAFETY: `head` is a queue of pending-write-shaped requests.
            unsafe { collect(&mut *head, kind, &mut iov) }
        };
        let pipe = Gather::Whole(GATHER_ATOMIC_PIPE);
        // 85 requests of three buffers use 255 of the 256: the 86th does
        // not fit whole and waits; on TCP it goes in part.
        assert_eq!(take(100, 3, 1, pipe), Some((255, 255, 85)));
        assert_eq!(take(100, 3, 1, Gather::Stream), Some((256, 256, 86)));
        // Byte limits: whole requests within it, or on TCP past it once.
        assert_eq!(take(10, 1, 1000, pipe), Some((4, 4000, 4)));
        let sock = Gather::Whole(GATHER_ATOMIC_SOCKET);
        assert_eq!(take(10, 1, 1000, sock), Some((2, 2000, 2)));
        assert_eq!(take(30, 1, 1000, Gather::Stream), Some((17, 17000, 17)));
        // Not small: only the head (write_queue gathers behind a small one).
        assert_eq!(take(3, 1, 1024, Gather::Stream), Some((1, 1024, 1)));
        // A head of more buffers than fit cannot go whole.
        assert_eq!(take(2, 300, 1, pipe), None);
    }

    /// A gathered write that fails gives the error to the request at the
    /// head only, as a write of its own would: the next request fails on
    /// its own try, from the pending phase (libuv's order: EPIPE for each,
    /// never a success after a failure).
    #[test]
    fn failed_gathered_write_fails_the_head_only() {
        // SAFETY: as above; SIGPIPE is ignored so the failing write returns
        // EPIPE instead of ending the test process.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            let mut done: Vec<(usize, c_int)> = Vec::new();
            let (mut lp, mut h, peer, reqs, _, _) = queued(Carrier::Tcp, 100, &mut done);
            libc::close(peer);
            let mut runs = 0;
            while done.len() < reqs.len() && runs < 1000 {
                uv_run(&mut *lp, UV_RUN_NOWAIT);
                runs += 1;
                // One failure per try: the poll phase's and 8 pending rounds'.
                assert!(done.len() <= 9 * runs, "{} after {runs} runs", done.len());
            }
            let want: Vec<(usize, c_int)> = reqs
                .iter()
                .map(|r| (&**r as *const _ as usize, -libc::EPIPE))
                .collect();
            assert_eq!(done, want);
            uv_close(&mut *h as *mut uv_pipe_t as *mut uv_handle_t, None);
            assert_eq!(uv_run(&mut *lp, UV_RUN_DEFAULT), 0);
            assert_eq!(uv_loop_close(&mut *lp), 0);
        }
    }

    /// A first write that fails reports the error in the pending phase and
    /// keeps its bytes counted until then.
    #[test]
    fn failed_first_write_reports_in_the_pending_phase() {
        // SAFETY: as above; SIGPIPE is ignored so the failing write returns
        // EPIPE instead of ending the test process.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            let (mut lp, mut p, peer) = setup(1 << 16);
            let s = &mut *p as *mut uv_pipe_t as *mut uv_stream_t;
            libc::shutdown(peer, libc::SHUT_RD);
            let mut done: Vec<(usize, c_int)> = Vec::new();
            let mut r: uv_write_t = MaybeUninit::zeroed().assume_init();
            r.r.data = &mut done as *mut _ as *mut c_void;
            let data = *b"lost";
            let b = [uv_buf_t {
                base: data.as_ptr() as *mut c_char,
                len: data.len(),
            }];
            assert_eq!(uv_write(&mut r, s, b.as_ptr(), 1, Some(record)), 0);
            assert!(done.is_empty());
            assert_eq!(uv_stream_get_write_queue_size(s), data.len());
            assert_eq!(uv_run(&mut *lp, UV_RUN_NOWAIT), 0);
            assert_eq!(
                done,
                vec![(&mut r as *mut uv_write_t as usize, -libc::EPIPE)]
            );
            assert_eq!(uv_stream_get_write_queue_size(s), 0);
            finish(lp, p, peer);
        }
    }
}
