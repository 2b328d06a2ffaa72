//! Streams: what TCP sockets, pipes and ttys share. Listening and accepting,
//! reading (alloc_cb/read_cb), the ordered write queue, shutdown, connect
//! completion, and closing.
//!
//! Write, connect and shutdown callbacks never run inside the call that
//! started them: a finished request is put on `write_completed_queue` and the
//! stream's watcher is fed to the loop's pending phase, as libuv does.

use crate::abi::*;
use crate::error::UV_EOF;
use crate::sys::errno;
use crate::sys::IOV_MAX;
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

unsafe fn flags(s: *const uv_stream_t) -> u32 {
    (*s).h.flags
}

/// The stream flag bits only mean something on these handle types.
unsafe fn is_stream_type(s: *const uv_stream_t) -> bool {
    matches!((*s).h.type_, UV_TCP | UV_NAMED_PIPE | UV_TTY)
}

pub unsafe fn fd(s: *const uv_stream_t) -> c_int {
    (*s).io_watcher.fd
}

/// libuv's `uv__stream_init`: a stream with no descriptor yet.
pub unsafe fn init(loop_: *mut uv_loop_t, s: *mut uv_stream_t, type_: uv_handle_type) {
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
    if (*loop_).emfile_fd == -1 {
        // The descriptor held in reserve for the EMFILE trick (see server_io).
        let mut fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            fd = libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        }
        if fd >= 0 {
            (*loop_).emfile_fd = fd;
        }
    }
    watcher::init(&mut (*s).io_watcher, Some(stream_io), -1);
}

/// libuv's `uv__stream_open`: gives the stream its descriptor. Used by tcp,
/// pipe, tty and by uv_spawn for its stdio pipes.
pub unsafe fn open(s: *mut uv_stream_t, fd: c_int, add_flags: u32) -> c_int {
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
    0
}

unsafe fn queued(s: *mut uv_stream_t) -> *mut VecDeque<c_int> {
    (*s).queued_fds as *mut VecDeque<c_int>
}

/// libuv's `uv__stream_close`: stops everything and releases descriptors.
/// Pending requests are cancelled later, in `destroy`.
pub unsafe fn close(s: *mut uv_stream_t) {
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
    let q = queued(s);
    if !q.is_null() {
        (*s).queued_fds = std::ptr::null_mut();
        for fd in Box::from_raw(q).into_iter() {
            libc::close(fd);
        }
    }
}

/// libuv's `uv__stream_destroy`, run when the close callback is due:
/// requests still pending complete with UV_ECANCELED.
pub unsafe fn destroy(s: *mut uv_stream_t) {
    let cr = (*s).connect_req as *mut uv_connect_t;
    if !cr.is_null() {
        (*s).connect_req = std::ptr::null_mut();
        req::unregister((*s).h.loop_);
        if let Some(cb) = (*cr).cb {
            cb(cr, -libc::ECANCELED);
        }
    }
    flush_write_queue(s, -libc::ECANCELED);
    write_callbacks(s);
    drain(s);
}

/// Fails every queued write with `error`; callbacks run from write_callbacks.
pub unsafe fn flush_write_queue(s: *mut uv_stream_t, error: c_int) {
    let head: *mut uv__queue = &mut (*s).write_queue;
    while !queue::is_empty(head) {
        let q = queue::head(head);
        queue::remove(q);
        let r = crate::container_of!(q, uv_write_t, queue);
        (*r).error = error;
        queue::insert_tail(&mut (*s).write_completed_queue, q);
    }
}

/// The descriptor of a handle that can be sent over an IPC pipe.
unsafe fn handle_fd(h: *const uv_handle_t) -> c_int {
    match (*h).type_ {
        UV_NAMED_PIPE | UV_TCP => (*(h as *const uv_stream_t)).io_watcher.fd,
        UV_UDP => (*(h as *const uv_udp_t)).io_watcher.fd,
        _ => -1,
    }
}

fn accept_fd(fd: c_int) -> c_int {
    loop {
        let r = unsafe {
            libc::accept4(
                fd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if r >= 0 {
            return r;
        }
        let e = errno();
        if e != libc::EINTR {
            return -e;
        }
    }
}

/// Out of descriptors: give up the reserved one, accept and drop every
/// waiting connection (so clients see a close instead of hanging), then
/// reserve a descriptor again.
unsafe fn emfile_trick(loop_: *mut uv_loop_t, fd: c_int) -> c_int {
    if (*loop_).emfile_fd == -1 {
        return -libc::EMFILE;
    }
    libc::close((*loop_).emfile_fd);
    (*loop_).emfile_fd = -1;
    let err = loop {
        let r = accept_fd(fd);
        if r >= 0 {
            libc::close(r);
        } else if r != -libc::EINTR {
            break r;
        }
    };
    let reserve = libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
    if reserve >= 0 {
        (*loop_).emfile_fd = reserve;
    }
    err
}

/// Readiness of a listening socket: one connection per event.
pub unsafe extern "C" fn server_io(loop_: *mut uv_loop_t, w: *mut uv__io_t, _events: c_uint) {
    let s = crate::container_of!(w, uv_stream_t, io_watcher);
    if handle::is_closing(s as *const uv_handle_t) || (*s).accepted_fd != -1 {
        return;
    }
    let lfd = (*w).fd;
    let mut err = accept_fd(lfd);
    if err == -libc::EMFILE || err == -libc::ENFILE {
        err = emfile_trick(loop_, lfd);
    }
    if err < 0 {
        return;
    }
    (*s).accepted_fd = err;
    if let Some(cb) = (*s).connection_cb {
        cb(s, 0);
    }
    if (*s).accepted_fd != -1 {
        // Not accepted yet: stop accepting until uv_accept is called.
        watcher::stop(loop_, w, POLLIN);
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_accept(server: *mut uv_stream_t, client: *mut uv_stream_t) -> c_int {
    if server.is_null() || client.is_null() {
        return -libc::EINVAL;
    }
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

#[no_mangle]
pub unsafe extern "C" fn uv_listen(
    s: *mut uv_stream_t,
    backlog: c_int,
    cb: uv_connection_cb,
) -> c_int {
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

/// All writes are done: stop waiting for POLLOUT and carry out a pending
/// shutdown (or cancel it when the stream is closing).
unsafe fn drain(s: *mut uv_stream_t) {
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

unsafe fn count_bufs(bufs: *const uv_buf_t, n: usize) -> usize {
    (0..n).fold(0usize, |acc, i| acc.wrapping_add((*bufs.add(i)).len))
}

/// Bytes of `r` not written yet.
unsafe fn write_req_size(r: *const uv_write_t) -> usize {
    let idx = (*r).write_index.min((*r).nbufs) as usize;
    count_bufs((*r).bufs.add(idx), (*r).nbufs as usize - idx)
}

/// Accounts for `n` bytes of `r` written; true when `r` is complete.
unsafe fn write_req_update(s: *mut uv_stream_t, r: *mut uv_write_t, mut n: usize) -> bool {
    (*s).write_queue_size = (*s).write_queue_size.saturating_sub(n);
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

/// Moves `r` to the completed queue; its callback runs in the pending phase.
unsafe fn write_req_finish(r: *mut uv_write_t) {
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

unsafe fn free_bufs(r: *mut uv_write_t) {
    if (*r).bufs != (*r).bufsml.as_mut_ptr() {
        alloc::free((*r).bufs as *mut c_void);
    }
    (*r).bufs = std::ptr::null_mut();
}

/// One write(v)/sendmsg: bytes written, or a negative error (UV_EAGAIN when
/// the kernel buffer is full).
unsafe fn write_some(
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: usize,
    send_handle: *mut uv_stream_t,
) -> ssize_t {
    let iov = bufs as *mut libc::iovec;
    let iovcnt = nbufs.min(IOV_MAX);
    let n = if !send_handle.is_null() {
        if handle::is_closing(send_handle as *const uv_handle_t) {
            return -libc::EBADF as ssize_t;
        }
        let fd_to_send = handle_fd(send_handle as *const uv_handle_t);
        let mut cmsg = CmsgBuf([0; 256]);
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = iov;
        msg.msg_iovlen = iovcnt;
        msg.msg_control = cmsg.0.as_mut_ptr() as *mut c_void;
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<c_int>() as u32) as usize;
        let hdr = libc::CMSG_FIRSTHDR(&msg);
        (*hdr).cmsg_level = libc::SOL_SOCKET;
        (*hdr).cmsg_type = libc::SCM_RIGHTS;
        (*hdr).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<c_int>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(hdr) as *mut c_int, fd_to_send);
        loop {
            let n = libc::sendmsg(fd(s), &msg, 0);
            if n != -1 || errno() != libc::EINTR {
                break n;
            }
        }
    } else {
        loop {
            let n = if iovcnt == 1 {
                libc::write(fd(s), (*iov).iov_base, (*iov).iov_len)
            } else {
                libc::writev(fd(s), iov, iovcnt as c_int)
            };
            if n != -1 || errno() != libc::EINTR {
                break n;
            }
        }
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

/// Writes queued requests until the kernel pushes back.
unsafe fn write_queue(s: *mut uv_stream_t) {
    let loop_ = (*s).h.loop_;
    // Bounded so that a fast reader cannot starve the loop.
    let mut count = 32;
    loop {
        let head: *mut uv__queue = &mut (*s).write_queue;
        if queue::is_empty(head) {
            return;
        }
        let r = crate::container_of!(queue::head(head), uv_write_t, queue);
        let idx = (*r).write_index as usize;
        let n = write_some(
            s,
            (*r).bufs.add(idx),
            ((*r).nbufs as usize).saturating_sub(idx),
            (*r).send_handle,
        );
        if n >= 0 {
            // A partial write must not send the handle twice.
            (*r).send_handle = std::ptr::null_mut();
            if write_req_update(s, r, n as usize) {
                write_req_finish(r);
                if count > 0 {
                    count -= 1;
                    continue;
                }
                return;
            }
        } else if n != -libc::EAGAIN as ssize_t {
            (*r).error = n as c_int;
            write_req_finish(r);
            watcher::stop(loop_, &mut (*s).io_watcher, POLLOUT);
            return;
        }
        if flags(s) & BLOCKING_WRITES != 0 {
            continue;
        }
        watcher::start(loop_, &mut (*s).io_watcher, POLLOUT);
        return;
    }
}

/// Runs the callbacks of completed writes, in order.
unsafe fn write_callbacks(s: *mut uv_stream_t) {
    let done: *mut uv__queue = &mut (*s).write_completed_queue;
    if queue::is_empty(done) {
        return;
    }
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

unsafe fn call_read_cb(s: *mut uv_stream_t, nread: ssize_t, buf: *const uv_buf_t) {
    if let Some(cb) = (*s).read_cb {
        cb(s, nread, buf);
    }
}

unsafe fn eof(s: *mut uv_stream_t, buf: *const uv_buf_t) {
    (*s).h.flags |= READ_EOF;
    (*s).h.flags &= !READING;
    watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
    handle::stop(s as *mut uv_handle_t);
    call_read_cb(s, UV_EOF as ssize_t, buf);
}

/// Keeps a descriptor received over IPC until uv_accept takes it.
unsafe fn queue_fd(s: *mut uv_stream_t, fd: c_int) {
    if (*s).accepted_fd == -1 {
        (*s).accepted_fd = fd;
        return;
    }
    let mut q = queued(s);
    if q.is_null() {
        q = Box::into_raw(Box::new(VecDeque::with_capacity(8)));
        (*s).queued_fds = q as *mut c_void;
    }
    (*q).push_back(fd);
}

unsafe fn recv_fds(s: *mut uv_stream_t, msg: *mut libc::msghdr) {
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

/// Reads until EAGAIN, a short read, EOF, or the user stops reading.
unsafe fn read(s: *mut uv_stream_t) {
    (*s).h.flags &= !READ_PARTIAL;
    let is_ipc = (*s).h.type_ == UV_NAMED_PIPE && (*(s as *mut uv_pipe_t)).ipc != 0;
    // Bounded so that a fast writer cannot starve the loop.
    let mut count = 32;
    while count > 0 && (*s).read_cb.is_some() && flags(s) & READING != 0 {
        count -= 1;
        let mut buf = uv_buf_t {
            base: std::ptr::null_mut(),
            len: 0,
        };
        if let Some(alloc_cb) = (*s).alloc_cb {
            alloc_cb(s as *mut uv_handle_t, 64 * 1024, &mut buf);
        }
        if buf.base.is_null() || buf.len == 0 {
            call_read_cb(s, -libc::ENOBUFS as ssize_t, &buf);
            return;
        }
        let mut cmsg = CmsgBuf([0; 256]);
        let mut msg: libc::msghdr = std::mem::zeroed();
        let nread = loop {
            let n = if is_ipc {
                msg.msg_iov = &mut buf as *mut uv_buf_t as *mut libc::iovec;
                msg.msg_iovlen = 1;
                msg.msg_control = cmsg.0.as_mut_ptr() as *mut c_void;
                msg.msg_controllen = cmsg.0.len();
                libc::recvmsg(fd(s), &mut msg, libc::MSG_CMSG_CLOEXEC)
            } else {
                libc::read(fd(s), buf.base as *mut c_void, buf.len)
            };
            if n >= 0 || errno() != libc::EINTR {
                break n;
            }
        };
        if nread < 0 {
            let e = errno();
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
            return;
        }
        if nread == 0 {
            eof(s, &buf);
            return;
        }
        let buflen = buf.len as ssize_t;
        if is_ipc {
            recv_fds(s, &mut msg);
        }
        call_read_cb(s, nread, &buf);
        if nread < buflen {
            // Nothing more to read for now.
            (*s).h.flags |= READ_PARTIAL;
            return;
        }
    }
}

/// The watcher callback of a connected (or connecting) stream; also what
/// the pending phase calls for fed write/connect/shutdown completions.
unsafe extern "C" fn stream_io(_loop: *mut uv_loop_t, w: *mut uv__io_t, events: c_uint) {
    let s = crate::container_of!(w, uv_stream_t, io_watcher);
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

/// The outcome of a non-blocking connect (or an error delayed to this turn).
unsafe fn connect_done(s: *mut uv_stream_t) {
    let r = (*s).connect_req as *mut uv_connect_t;
    let error = if (*s).delayed_error != 0 {
        let e = (*s).delayed_error;
        (*s).delayed_error = 0;
        e
    } else {
        let mut e: c_int = 0;
        let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
        libc::getsockopt(
            fd(s),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut e as *mut c_int as *mut c_void,
            &mut len,
        );
        -e
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

/// Registers a connect request and waits for POLLOUT; a `delayed_error`
/// already set is delivered from the pending phase.
pub unsafe fn start_connect(
    s: *mut uv_stream_t,
    r: *mut uv_connect_t,
    cb: Option<unsafe extern "C" fn(*mut uv_connect_t, c_int)>,
    watch: bool,
) {
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

#[no_mangle]
pub unsafe extern "C" fn uv_shutdown(
    r: *mut uv_shutdown_t,
    s: *mut uv_stream_t,
    cb: Option<unsafe extern "C" fn(*mut uv_shutdown_t, c_int)>,
) -> c_int {
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
    0
}

unsafe fn check_before_write(
    s: *mut uv_stream_t,
    nbufs: c_uint,
    send_handle: *mut uv_stream_t,
) -> c_int {
    if nbufs == 0 {
        return -libc::EINVAL;
    }
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
    let err = check_before_write(s, nbufs, send_handle);
    if err < 0 {
        return err;
    }
    // write_queue_size > 0 with an empty queue means failed writes await
    // their callbacks: do not try the socket again before that.
    let empty_queue = (*s).write_queue_size == 0;
    let n = nbufs as usize;
    let mut dst = (*r).bufsml.as_mut_ptr();
    if n > (*r).bufsml.len() {
        dst = alloc::malloc(n * std::mem::size_of::<uv_buf_t>()) as *mut uv_buf_t;
        if dst.is_null() {
            return -libc::ENOMEM;
        }
    }
    req::init((*s).h.loop_, r as *mut uv_req_t, UV_WRITE);
    (*r).cb = cb;
    (*r).handle = s;
    (*r).error = 0;
    (*r).send_handle = send_handle;
    std::ptr::copy_nonoverlapping(bufs, dst, n);
    (*r).bufs = dst;
    (*r).nbufs = nbufs;
    (*r).write_index = 0;
    (*s).write_queue_size += count_bufs(bufs, n);
    queue::insert_tail(&mut (*s).write_queue, &mut (*r).queue);
    if !(*s).connect_req.is_null() {
        // Still connecting: the writes start once connected.
    } else if empty_queue {
        write_queue(s);
    } else {
        watcher::start((*s).h.loop_, &mut (*s).io_watcher, POLLOUT);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_write(
    r: *mut uv_write_t,
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
    cb: Option<unsafe extern "C" fn(*mut uv_write_t, c_int)>,
) -> c_int {
    uv_write2(r, s, bufs, nbufs, std::ptr::null_mut(), cb)
}

#[no_mangle]
pub unsafe extern "C" fn uv_try_write(
    s: *mut uv_stream_t,
    bufs: *const uv_buf_t,
    nbufs: c_uint,
) -> c_int {
    uv_try_write2(s, bufs, nbufs, std::ptr::null_mut())
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

#[no_mangle]
pub unsafe extern "C" fn uv_read_start(
    s: *mut uv_stream_t,
    alloc_cb: uv_alloc_cb,
    read_cb: uv_read_cb,
) -> c_int {
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
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_read_stop(s: *mut uv_stream_t) -> c_int {
    if s.is_null() || flags(s) & READING == 0 {
        return 0;
    }
    (*s).h.flags &= !READING;
    watcher::stop((*s).h.loop_, &mut (*s).io_watcher, POLLIN);
    handle::stop(s as *mut uv_handle_t);
    (*s).read_cb = None;
    (*s).alloc_cb = None;
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_is_readable(s: *const uv_stream_t) -> c_int {
    (flags(s) & READABLE != 0) as c_int
}

#[no_mangle]
pub unsafe extern "C" fn uv_is_writable(s: *const uv_stream_t) -> c_int {
    (flags(s) & WRITABLE != 0) as c_int
}

#[no_mangle]
pub unsafe extern "C" fn uv_stream_set_blocking(s: *mut uv_stream_t, blocking: c_int) -> c_int {
    // An invalid descriptor makes the call fail with EBADF.
    watcher::set_nonblock(fd(s), blocking == 0)
}

#[no_mangle]
pub unsafe extern "C" fn uv_stream_get_write_queue_size(s: *const uv_stream_t) -> size_t {
    (*s).write_queue_size
}

/// Reads (`*value == 0`) or sets a SOL_SOCKET option of a socket handle.
unsafe fn socket_sockopt(h: *mut uv_handle_t, optname: c_int, value: *mut c_int) -> c_int {
    if h.is_null() || value.is_null() {
        return -libc::EINVAL;
    }
    let fd = match (*h).type_ {
        UV_TCP | UV_NAMED_PIPE => (*(h as *mut uv_stream_t)).io_watcher.fd,
        UV_UDP => (*(h as *mut uv_udp_t)).io_watcher.fd,
        _ => return -libc::ENOTSUP,
    };
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    let r = if *value == 0 {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            optname,
            value as *mut c_void,
            &mut len,
        )
    } else {
        libc::setsockopt(fd, libc::SOL_SOCKET, optname, value as *const c_void, len)
    };
    if r < 0 {
        return -errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_send_buffer_size(h: *mut uv_handle_t, value: *mut c_int) -> c_int {
    socket_sockopt(h, libc::SO_SNDBUF, value)
}

#[no_mangle]
pub unsafe extern "C" fn uv_recv_buffer_size(h: *mut uv_handle_t, value: *mut c_int) -> c_int {
    socket_sockopt(h, libc::SO_RCVBUF, value)
}
