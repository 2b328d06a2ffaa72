//! uv_pipe_*: Unix domain stream sockets (named, abstract or anonymous),
//! pipes and other descriptors opened as streams, IPC handle passing, and
//! uv_pipe().

// "Live stream" in the SAFETY comments is defined at the top of stream.rs.

use crate::abi::*;
use crate::handle;
use crate::stream::{self, BOUND, READABLE, WRITABLE};
use crate::sys::{errno, retry_eintr};
use crate::watcher::{self, POLLIN};
use libc::{c_char, c_int, c_uint, c_void, size_t, socklen_t};

pub const UV_PIPE_NO_TRUNCATE: c_uint = 1;
const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;

/// Offset of sun_path in sockaddr_un.
const SUN_PATH_OFFSET: usize = std::mem::offset_of!(libc::sockaddr_un, sun_path);

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_init(
    loop_: *mut uv_loop_t,
    p: *mut uv_pipe_t,
    ipc: c_int,
) -> c_int {
    if loop_.is_null() || p.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `loop_` is a live loop and `p` points to a uv_pipe_t the
    // caller keeps until its close callback.
    unsafe {
        stream::init(loop_, p as *mut uv_stream_t, UV_NAMED_PIPE);
        (*p).pipe_fname = std::ptr::null();
        (*p).ipc = ipc;
    }
    0
}

/// An embedded NUL makes a name invalid; a leading one (Linux's abstract
/// namespace) does not.
///
/// # Safety
/// When `len` > 1, `name` points to `len` readable bytes.
unsafe fn includes_nul(name: *const c_char, len: size_t) -> bool {
    if len <= 1 {
        return false;
    }
    // SAFETY: bytes 1..len of `name` are readable (contract) and not written
    // while the slice lives.
    let bytes = unsafe { std::slice::from_raw_parts(name.add(1) as *const u8, len - 1) };
    bytes.contains(&0)
}

/// Checks a name and builds its address: (sockaddr, address length,
/// name length used).
///
/// # Safety
/// `name` is null or points to `namelen` readable bytes.
unsafe fn make_addr(
    name: *const c_char,
    namelen: size_t,
    flags: c_uint,
) -> Result<(libc::sockaddr_un, socklen_t, size_t), c_int> {
    if flags & !UV_PIPE_NO_TRUNCATE != 0 || name.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: `name` is non-null here, so `namelen` bytes are readable.
    if unsafe { includes_nul(name, namelen) } {
        return Err(-libc::EINVAL);
    }
    // SAFETY: sockaddr_un is plain C data; all zeroes is a valid value.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let cap = sa.sun_path.len();
    if flags & UV_PIPE_NO_TRUNCATE != 0 && namelen > cap {
        return Err(-libc::EINVAL);
    }
    // Long paths are truncated: documented behaviour.
    let namelen = namelen.min(cap);
    // SAFETY: `namelen` is at most both the readable length of `name`
    // (contract) and the size of sun_path; a local cannot overlap it.
    unsafe { std::ptr::copy_nonoverlapping(name, sa.sun_path.as_mut_ptr(), namelen) };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // An abstract name is exactly its bytes; a path is NUL-terminated.
    // SAFETY: `name` has at least one readable byte when namelen > 0.
    let addrlen = if namelen == 0 || unsafe { *name } == 0 {
        SUN_PATH_OFFSET + namelen
    } else {
        std::mem::size_of::<libc::sockaddr_un>()
    };
    Ok((sa, addrlen as socklen_t, namelen))
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_bind2(
    p: *mut uv_pipe_t,
    name: *const c_char,
    namelen: size_t,
    flags: c_uint,
) -> c_int {
    if p.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `p` is a live uv_pipe_t and `name` points to `namelen`
    // readable bytes (make_addr refuses a null one, and `namelen` was cut to
    // sun_path's size); `fname` has room for namelen + 1 bytes; bind reads
    // `addrlen` <= sizeof(sa) bytes of the local `sa`.
    unsafe {
        // namelen 0 asks Linux to autobind in the abstract namespace.
        let (sa, addrlen, namelen) = match make_addr(name, namelen, flags) {
            Ok(v) => v,
            Err(e) => return e,
        };
        if stream::fd(p as *const uv_stream_t) >= 0 || handle::is_closing(p as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        // Abstract sockets vanish by themselves; paths are unlinked on close.
        let mut fname: *mut c_char = std::ptr::null_mut();
        if namelen > 0 && *name != 0 {
            fname = crate::alloc::malloc(namelen + 1) as *mut c_char;
            if fname.is_null() {
                return -libc::ENOMEM;
            }
            std::ptr::copy_nonoverlapping(name, fname, namelen);
            *fname.add(namelen) = 0;
        }
        let fd = crate::tcp::new_socket_fd(libc::AF_UNIX, libc::SOCK_STREAM);
        if fd < 0 {
            crate::alloc::free(fname as *mut c_void);
            return fd;
        }
        if libc::bind(
            fd,
            &sa as *const libc::sockaddr_un as *const libc::sockaddr,
            addrlen,
        ) != 0
        {
            let mut e = -errno();
            // As on Windows.
            if e == -libc::ENOENT {
                e = -libc::EACCES;
            }
            libc::close(fd);
            crate::alloc::free(fname as *mut c_void);
            return e;
        }
        (*p).s.h.flags |= BOUND;
        (*p).pipe_fname = fname;
        (*p).s.io_watcher.fd = fd;
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_bind(p: *mut uv_pipe_t, name: *const c_char) -> c_int {
    if name.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `name` is a NUL-terminated string, `p` a live uv_pipe_t.
    unsafe { uv_pipe_bind2(p, name, libc::strlen(name), 0) }
}

/// uv_listen of a pipe handle.
///
/// # Safety
/// `p` points to a live uv_pipe_t.
pub unsafe fn listen(p: *mut uv_pipe_t, backlog: c_int, cb: uv_connection_cb) -> c_int {
    // SAFETY: `p` and its loop are live (contract).
    unsafe {
        let fd = stream::fd(p as *const uv_stream_t);
        if fd == -1 || (*p).ipc != 0 {
            return -libc::EINVAL;
        }
        if libc::listen(fd, backlog) != 0 {
            return -errno();
        }
        (*p).s.connection_cb = cb;
        (*p).s.io_watcher.cb = Some(stream::server_io);
        watcher::start((*p).s.h.loop_, &mut (*p).s.io_watcher, POLLIN);
        0
    }
}

/// uv_close of a pipe: the socket file goes before the descriptor, so that
/// we never unlink a socket someone else just bound to the same name.
///
/// # Safety
/// `p` points to a live uv_pipe_t, being closed by uv_close.
pub unsafe fn close(p: *mut uv_pipe_t) {
    // SAFETY: `p` is live (contract); a non-null `pipe_fname` is the
    // NUL-terminated copy uv_pipe_bind2 allocated, freed once here (the
    // field is nulled).
    unsafe {
        if !(*p).pipe_fname.is_null() {
            libc::unlink((*p).pipe_fname);
            crate::alloc::free((*p).pipe_fname as *mut c_void);
            (*p).pipe_fname = std::ptr::null();
        }
        stream::close(p as *mut uv_stream_t);
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_open(p: *mut uv_pipe_t, fd: c_int) -> c_int {
    if p.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `p` is a live uv_pipe_t (so its loop is live too).
    if fd >= 0 && unsafe { watcher::fd_exists((*p).s.h.loop_, fd) } {
        return -libc::EEXIST;
    }
    // SAFETY: F_GETFL takes no pointer; a bad `fd` is an error.
    let mode = retry_eintr(|| unsafe { libc::fcntl(fd, libc::F_GETFL) });
    if mode == -1 {
        return -errno();
    }
    let err = watcher::set_nonblock(fd, true);
    if err != 0 {
        return err;
    }
    let acc = mode & libc::O_ACCMODE;
    let mut flags = 0;
    if acc != libc::O_WRONLY {
        flags |= READABLE;
    }
    if acc != libc::O_RDONLY {
        flags |= WRITABLE;
    }
    // SAFETY: as above.
    unsafe { stream::open(p as *mut uv_stream_t, fd, flags) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_connect2(
    r: *mut uv_connect_t,
    p: *mut uv_pipe_t,
    name: *const c_char,
    namelen: size_t,
    flags: c_uint,
    cb: Option<unsafe extern "C" fn(*mut uv_connect_t, c_int)>,
) -> c_int {
    if r.is_null() || p.is_null() || namelen == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `p` is a live uv_pipe_t, `r` a uv_connect_t the user
    // keeps until its callback, `name` points to `namelen` readable bytes;
    // connect reads `addrlen` <= sizeof(sa) bytes of the local `sa`.
    unsafe {
        let (sa, addrlen, _) = match make_addr(name, namelen, flags) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let s = p as *mut uv_stream_t;
        let new_sock = stream::fd(s) == -1;
        let mut err = 0;
        'out: {
            if new_sock {
                let fd = crate::tcp::new_socket_fd(libc::AF_UNIX, libc::SOCK_STREAM);
                if fd < 0 {
                    err = fd;
                    break 'out;
                }
                (*s).io_watcher.fd = fd;
            }
            let rc = retry_eintr(|| {
                libc::connect(
                    stream::fd(s),
                    &sa as *const libc::sockaddr_un as *const libc::sockaddr,
                    addrlen,
                )
            });
            if rc == -1 && errno() != libc::EINPROGRESS {
                err = -errno();
                break 'out;
            }
            if new_sock {
                err = stream::open(s, stream::fd(s), READABLE | WRITABLE);
            }
        }
        // Errors are reported through the callback, on the next loop turn.
        (*s).delayed_error = err;
        stream::start_connect(s, r, cb, err == 0);
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_connect(
    r: *mut uv_connect_t,
    p: *mut uv_pipe_t,
    name: *const c_char,
    cb: Option<unsafe extern "C" fn(*mut uv_connect_t, c_int)>,
) {
    if r.is_null() || p.is_null() {
        return;
    }
    // SAFETY: uv.h: `p` is a live uv_pipe_t, `r` a uv_connect_t the user
    // keeps until its callback, `name` null or a NUL-terminated string.
    unsafe {
        let len = if name.is_null() {
            0
        } else {
            libc::strlen(name)
        };
        let err = uv_pipe_connect2(r, p, name, len, 0, cb);
        if err != 0 {
            // This variant has no return value: deliver the error to the callback.
            (*p).s.delayed_error = err;
            stream::start_connect(p as *mut uv_stream_t, r, cb, false);
        }
    }
}

type SockNameFn = unsafe extern "C" fn(c_int, *mut libc::sockaddr, *mut socklen_t) -> c_int;

/// The name of either end; *size in: room, out: length (or room needed,
/// with UV_ENOBUFS). Paths are NUL-terminated, abstract names are not.
///
/// # Safety
/// `p` points to a live uv_pipe_t; `size` is null or points to a size_t,
/// and `buffer` is null or points to `*size` writable bytes.
unsafe fn sock_peer_name(
    p: *const uv_pipe_t,
    f: SockNameFn,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: `size` is non-null, so a valid size_t (contract).
    if buffer.is_null() || size.is_null() || unsafe { *size } == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: sockaddr_un is plain C data; all zeroes is a valid value.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let mut addrlen = std::mem::size_of::<libc::sockaddr_un>() as c_int;
    // SAFETY: `p` is a live handle (contract); the name goes into the local
    // `sa`, whose size is `addrlen`.
    let err = unsafe {
        crate::tcp::sock_peer_name(
            p as *const uv_handle_t,
            f,
            &mut sa as *mut libc::sockaddr_un as *mut libc::sockaddr,
            &mut addrlen,
        )
    };
    if err < 0 {
        // SAFETY: `size` is a valid size_t (contract).
        unsafe { *size = 0 };
        return err;
    }
    // SAFETY: sun_path is an array of c_char, which has u8's size and
    // alignment; the local `sa` outlives `path`.
    let path =
        unsafe { std::slice::from_raw_parts(sa.sun_path.as_ptr() as *const u8, sa.sun_path.len()) };
    let (len, slop) = if path.first() == Some(&0) {
        (
            (addrlen as usize)
                .saturating_sub(SUN_PATH_OFFSET)
                .min(path.len()),
            0,
        )
    } else {
        (path.iter().position(|&b| b == 0).unwrap_or(path.len()), 1)
    };
    // SAFETY: `size` is valid and `buffer` has `*size` writable bytes
    // (contract); len + slop <= *size is checked before writing them.
    unsafe {
        if len + slop > *size {
            *size = len + slop;
            return -libc::ENOBUFS;
        }
        std::ptr::copy_nonoverlapping(path.as_ptr(), buffer as *mut u8, len);
        *size = len;
        if slop == 1 {
            *buffer.add(len) = 0;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_getsockname(
    p: *const uv_pipe_t,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: uv.h: `p` is a live uv_pipe_t and `buffer` has `*size` bytes.
    unsafe { sock_peer_name(p, libc::getsockname, buffer, size) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_getpeername(
    p: *const uv_pipe_t,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: uv.h: `p` is a live uv_pipe_t and `buffer` has `*size` bytes.
    unsafe { sock_peer_name(p, libc::getpeername, buffer, size) }
}

/// A Windows tuning knob; nothing to do on Linux.
#[no_mangle]
pub unsafe extern "C" fn uv_pipe_pending_instances(_p: *mut uv_pipe_t, _count: c_int) {}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_pending_count(p: *mut uv_pipe_t) -> c_int {
    // SAFETY: uv.h: `p` is a live uv_pipe_t; a non-null `queued_fds` is the
    // stream's own VecDeque (stream.rs, queue_fd).
    unsafe {
        if p.is_null() || (*p).ipc == 0 || (*p).s.accepted_fd == -1 {
            return 0;
        }
        let q = (*p).s.queued_fds as *const std::collections::VecDeque<c_int>;
        if q.is_null() {
            return 1;
        }
        c_int::try_from((*q).len() + 1).unwrap_or(c_int::MAX)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_pending_type(p: *mut uv_pipe_t) -> uv_handle_type {
    // SAFETY: uv.h: `p` is a live uv_pipe_t.
    unsafe {
        if p.is_null() || (*p).ipc == 0 || (*p).s.accepted_fd == -1 {
            return UV_UNKNOWN_HANDLE;
        }
        crate::tty::uv_guess_handle((*p).s.accepted_fd)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe_chmod(p: *mut uv_pipe_t, mode: c_int) -> c_int {
    // SAFETY: uv.h: `p` is a live uv_pipe_t.
    if p.is_null() || unsafe { stream::fd(p as *const uv_stream_t) } == -1 {
        return -libc::EBADF;
    }
    if mode != UV_READABLE && mode != UV_WRITABLE && mode != (UV_READABLE | UV_WRITABLE) {
        return -libc::EINVAL;
    }
    // fchmod does not work on sockets everywhere: chmod the path.
    let mut name = [0 as c_char; libc::PATH_MAX as usize + 1];
    let mut len = name.len();
    // SAFETY: `p` is live (uv.h); `name` has `len` writable bytes.
    let r = unsafe { uv_pipe_getsockname(p, name.as_mut_ptr(), &mut len) };
    if r != 0 {
        return r;
    }
    // SAFETY: libc::stat is plain C data; all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated (the array was zeroed and is longer
    // than any name written into it); `st` is a local stat.
    if unsafe { libc::stat(name.as_ptr(), &mut st) } == -1 {
        return -errno();
    }
    let mut desired: libc::mode_t = 0;
    if mode & UV_READABLE != 0 {
        desired |= libc::S_IRUSR | libc::S_IRGRP | libc::S_IROTH;
    }
    if mode & UV_WRITABLE != 0 {
        desired |= libc::S_IWUSR | libc::S_IWGRP | libc::S_IWOTH;
    }
    if st.st_mode & desired == desired {
        return 0;
    }
    // SAFETY: `name` is NUL-terminated, as above.
    if unsafe { libc::chmod(name.as_ptr(), st.st_mode | desired) } == -1 {
        return -errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_pipe(fds: *mut c_int, read_flags: c_int, write_flags: c_int) -> c_int {
    if fds.is_null() {
        return -libc::EINVAL;
    }
    let nb = crate::tcp::UV_NONBLOCK_PIPE;
    let both = read_flags & nb != 0 && write_flags & nb != 0;
    let mut temp = [-1 as c_int; 2];
    let flags = libc::O_CLOEXEC | if both { libc::O_NONBLOCK } else { 0 };
    // SAFETY: `temp` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(temp.as_mut_ptr(), flags) } != 0 {
        return -errno();
    }
    if !both {
        for (fd, f) in [(temp[0], read_flags), (temp[1], write_flags)] {
            if f & nb != 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn nonblocking(fd: c_int) -> bool {
        // SAFETY: F_GETFL takes no pointer; a bad `fd` is an error.
        unsafe { libc::fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK != 0 }
    }

    #[test]
    fn uv_pipe_sets_nonblock_per_end() {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two ints; the descriptors are ours.
        unsafe {
            assert_eq!(
                uv_pipe(fds.as_mut_ptr(), crate::tcp::UV_NONBLOCK_PIPE, 0),
                0
            );
            assert!(nonblocking(fds[0]));
            assert!(!nonblocking(fds[1]));
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn names_are_checked() {
        // SAFETY: each name passed is a local array at least `namelen` long.
        unsafe {
            let long = [b'@' as c_char; 512];
            assert_eq!(
                make_addr(long.as_ptr(), long.len(), UV_PIPE_NO_TRUNCATE).err(),
                Some(-libc::EINVAL)
            );
            // Without the flag a long name is truncated to sun_path.
            let (_, len, n) = make_addr(long.as_ptr(), long.len(), 0).unwrap();
            assert_eq!(n, 108);
            assert_eq!(len as usize, std::mem::size_of::<libc::sockaddr_un>());
            // Embedded NUL: invalid; leading NUL: abstract, exact length.
            let bad = *b"a\0b";
            assert!(make_addr(bad.as_ptr() as *const c_char, 3, 0).is_err());
            let abs = *b"\0abc";
            let (_, len, _) = make_addr(abs.as_ptr() as *const c_char, 4, 0).unwrap();
            assert_eq!(len as usize, SUN_PATH_OFFSET + 4);
            assert!(make_addr(abs.as_ptr() as *const c_char, 4, 2).is_err());
        }
    }
}
