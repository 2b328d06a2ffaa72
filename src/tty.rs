//! Terminals: uv_tty_* and uv_guess_handle.
//!
//! Only uv_guess_handle lives here so far; the uv_tty_t handle itself is
//! still to be written.

use crate::abi::*;
use libc::c_int;

/// What kind of handle a program should open on `file` (libuv's rules):
/// terminals are UV_TTY; regular files and character devices UV_FILE;
/// FIFOs and Unix-domain stream sockets UV_NAMED_PIPE; IPv4/IPv6 stream
/// sockets UV_TCP and datagram sockets UV_UDP; anything else, or a bad
/// descriptor, UV_UNKNOWN_HANDLE.
#[no_mangle]
pub unsafe extern "C" fn uv_guess_handle(file: c_int) -> uv_handle_type {
    if file < 0 {
        return UV_UNKNOWN_HANDLE;
    }
    if libc::isatty(file) == 1 {
        return UV_TTY;
    }
    let mut st: libc::stat = std::mem::zeroed();
    if libc::fstat(file, &mut st) != 0 {
        return UV_UNKNOWN_HANDLE;
    }
    match st.st_mode & libc::S_IFMT {
        // Character devices that are not terminals (/dev/null, ...) are
        // read and written like files.
        libc::S_IFREG | libc::S_IFCHR => return UV_FILE,
        libc::S_IFIFO => return UV_NAMED_PIPE,
        libc::S_IFSOCK => {}
        _ => return UV_UNKNOWN_HANDLE,
    }

    let mut ss: libc::sockaddr_storage = std::mem::zeroed();
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    if libc::getsockname(file, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
        return UV_UNKNOWN_HANDLE;
    }
    let mut sock_type: c_int = 0;
    let mut tlen = std::mem::size_of::<c_int>() as libc::socklen_t;
    if libc::getsockopt(
        file,
        libc::SOL_SOCKET,
        libc::SO_TYPE,
        &mut sock_type as *mut c_int as *mut libc::c_void,
        &mut tlen,
    ) != 0
    {
        return UV_UNKNOWN_HANDLE;
    }
    let family = c_int::from(ss.ss_family);
    let inet = family == libc::AF_INET || family == libc::AF_INET6;
    match sock_type {
        libc::SOCK_DGRAM if inet => UV_UDP,
        libc::SOCK_STREAM if inet => UV_TCP,
        libc::SOCK_STREAM if family == libc::AF_UNIX => UV_NAMED_PIPE,
        _ => UV_UNKNOWN_HANDLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fd(c_int);
    impl Drop for Fd {
        fn drop(&mut self) {
            unsafe { libc::close(self.0) };
        }
    }

    fn socket(domain: c_int, ty: c_int) -> Fd {
        let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0);
        Fd(fd)
    }

    #[test]
    fn bad_descriptors_are_unknown() {
        unsafe {
            assert_eq!(uv_guess_handle(-1), UV_UNKNOWN_HANDLE);
            assert_eq!(uv_guess_handle(c_int::MIN), UV_UNKNOWN_HANDLE);
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            assert!(fd >= 0);
            libc::close(fd);
            assert_eq!(uv_guess_handle(fd), UV_UNKNOWN_HANDLE);
        }
    }

    #[test]
    fn files_devices_and_directories() {
        unsafe {
            let f = Fd(libc::open(c"/proc/self/exe".as_ptr(), libc::O_RDONLY));
            assert!(f.0 >= 0);
            assert_eq!(uv_guess_handle(f.0), UV_FILE);
            let null = Fd(libc::open(c"/dev/null".as_ptr(), libc::O_RDWR));
            assert_eq!(uv_guess_handle(null.0), UV_FILE);
            let dir = Fd(libc::open(
                c"/".as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY,
            ));
            assert_eq!(uv_guess_handle(dir.0), UV_UNKNOWN_HANDLE);
        }
    }

    #[test]
    fn pipes_and_unix_sockets_are_named_pipes() {
        unsafe {
            let mut fds = [0; 2];
            assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
            let (r, w) = (Fd(fds[0]), Fd(fds[1]));
            assert_eq!(uv_guess_handle(r.0), UV_NAMED_PIPE);
            assert_eq!(uv_guess_handle(w.0), UV_NAMED_PIPE);

            assert_eq!(
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()),
                0
            );
            let (a, b) = (Fd(fds[0]), Fd(fds[1]));
            assert_eq!(uv_guess_handle(a.0), UV_NAMED_PIPE);
            assert_eq!(uv_guess_handle(b.0), UV_NAMED_PIPE);

            let dgram = socket(libc::AF_UNIX, libc::SOCK_DGRAM);
            assert_eq!(uv_guess_handle(dgram.0), UV_UNKNOWN_HANDLE);
        }
    }

    #[test]
    fn inet_sockets() {
        unsafe {
            assert_eq!(
                uv_guess_handle(socket(libc::AF_INET, libc::SOCK_STREAM).0),
                UV_TCP
            );
            assert_eq!(
                uv_guess_handle(socket(libc::AF_INET, libc::SOCK_DGRAM).0),
                UV_UDP
            );
            let fd = libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if fd >= 0 {
                let s6 = Fd(fd);
                assert_eq!(uv_guess_handle(s6.0), UV_TCP);
                let u6 = socket(libc::AF_INET6, libc::SOCK_DGRAM);
                assert_eq!(uv_guess_handle(u6.0), UV_UDP);
            }
        }
    }

    #[test]
    fn pseudo_terminal_is_tty() {
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            if m < 0 {
                return; // no /dev/ptmx in this environment
            }
            let master = Fd(m);
            assert_eq!(uv_guess_handle(master.0), UV_TTY);
        }
    }
}
