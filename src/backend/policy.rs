//! Which backend a loop gets, and why. Decided once per loop and recorded so
//! that `uvring doctor` and UVRING_DEBUG=1 can tell the user.
//!
//! 1. UV_USE_IO_URING=0 (or any value that is not a number other than 0):
//!    epoll, and no ring is ever created.
//! 2. kernel.io_uring_disabled = 2: epoll. = 1: io_uring only with
//!    CAP_SYS_ADMIN or membership of kernel.io_uring_group.
//! 3. UV_USE_IO_URING unset: io_uring only on kernels that carry the fix for
//!    the ring-teardown deadlock behind the Neovim Ctrl+Z freeze (6.9+, and
//!    the 6.6.y / 6.8.y stable releases that took it).
//!    UV_USE_IO_URING=1: io_uring on any kernel that grants a ring.
//! 4. A ring that cannot be set up (seccomp, ENOSYS, ENOMEM, missing
//!    features) means epoll, quietly (the loop records why).

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BackendKind {
    Epoll,
    IoUring,
}

#[derive(Clone, Debug)]
pub struct Choice {
    pub kind: BackendKind,
    pub reason: String,
    /// UV_USE_IO_URING=1: SQPOLL may be granted on request.
    pub forced: bool,
}

fn epoll(reason: impl Into<String>) -> Choice {
    Choice {
        kind: BackendKind::Epoll,
        reason: reason.into(),
        forced: false,
    }
}

/// Parses "6.18.44-foo" into (6, 18, 44).
pub fn parse_release(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.trim().split(|c: char| !c.is_ascii_digit());
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    let patch = it.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

/// Whether a kernel release carries "io_uring: use private workqueue for
/// exit work" (73eaa2b58349, mainline 6.9-rc3; backported to 6.6.26 and
/// 6.8.5), the fix for ring teardown deadlocking with the tty that froze
/// Neovim on Ctrl+Z (libuv #4377, neovim #28149, liburing #1113). This is the
/// one list of fixed releases; compat/kernels checks it against each VM
/// kernel's own /proc/kallsyms (the fix's `iou_wq` workqueue).
pub fn kernel_has_exit_fix(v: (u32, u32, u32)) -> bool {
    match v {
        (maj, _, _) if maj > 6 => true,
        (6, min, _) if min >= 9 => true,
        (6, 8, p) => p >= 5,
        (6, 6, p) => p >= 26,
        _ => false,
    }
}

fn read_sysctl(name: &str) -> Option<i64> {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn has_cap_sys_admin() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: version 3 of capget reads `hdr` and writes two Data structs,
    // both repr(C) locals of the kernel's layout.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut hdr, data.as_mut_ptr()) };
    r == 0 && data[0].effective & (1 << 21) != 0 // CAP_SYS_ADMIN
}

fn in_group(gid: libc::gid_t) -> bool {
    // SAFETY: no arguments, cannot fail.
    if unsafe { libc::getegid() } == gid {
        return true;
    }
    // SAFETY: a size of 0 asks for the count only; nothing is written.
    let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    if n <= 0 {
        return false;
    }
    let mut groups = vec![0 as libc::gid_t; n as usize];
    // SAFETY: `groups` has room for the `n` entries the call may write (more
    // groups meanwhile make it fail with EINVAL, not overflow).
    let n = unsafe { libc::getgroups(n, groups.as_mut_ptr()) };
    n > 0 && groups[..n as usize].contains(&gid)
}

/// The decision for a new loop, before trying to set up a ring.
pub fn choose() -> Choice {
    let env = std::env::var("UV_USE_IO_URING").ok();
    let forced = match env.as_deref() {
        None => false,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(0) | Err(_) => return epoll(format!("UV_USE_IO_URING={v}: no ring is created")),
            Ok(_) => true,
        },
    };
    match read_sysctl("io_uring_disabled").unwrap_or(0) {
        2 => return epoll("kernel.io_uring_disabled=2: io_uring is off for every process"),
        1 => {
            let group = read_sysctl("io_uring_group").unwrap_or(-1);
            let member = group >= 0 && in_group(group as libc::gid_t);
            if !has_cap_sys_admin() && !member {
                return epoll(
                    "kernel.io_uring_disabled=1 and this process has neither CAP_SYS_ADMIN \
                     nor membership of kernel.io_uring_group",
                );
            }
        }
        _ => {}
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    if !forced {
        match parse_release(&release) {
            Some(v) if kernel_has_exit_fix(v) => {}
            _ => {
                return epoll(format!(
                    "kernel {} lacks the io_uring exit-workqueue fix (6.9+, 6.8.5+, 6.6.26+); \
                     UV_USE_IO_URING=1 forces io_uring",
                    release.trim()
                ))
            }
        }
    }
    Choice {
        kind: BackendKind::IoUring,
        reason: if forced {
            "UV_USE_IO_URING=1".to_string()
        } else {
            format!("kernel {} carries the known io_uring fixes", release.trim())
        },
        forced,
    }
}

impl BackendKind {
    /// The name doctor and UVRING_DEBUG print.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Epoll => "epoll",
            BackendKind::IoUring => "io_uring",
        }
    }
}

/// The ring could not be set up: the loop falls back to epoll.
pub fn setup_failed(err: libc::c_int) -> Choice {
    // SAFETY: uv_err_name returns a static or interned (never freed)
    // NUL-terminated string for any code.
    let name = unsafe { std::ffi::CStr::from_ptr(crate::error::uv_err_name(err)) };
    epoll(format!(
        "io_uring setup failed ({}): falling back to epoll",
        name.to_string_lossy()
    ))
}

/// Prints the choice once per loop when UVRING_DEBUG=1.
pub fn announce(choice: &Choice) {
    debug(format_args!(
        "loop backend {}: {}",
        choice.kind.name(),
        choice.reason
    ));
}

/// Prints `msg` to stderr, as uvring's, when UVRING_DEBUG=1.
pub fn debug(msg: std::fmt::Arguments) {
    if std::env::var("UVRING_DEBUG").ok().as_deref() == Some("1") {
        eprintln!("uvring: {msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_fix_versions() {
        assert_eq!(parse_release("6.18.44-fc-v657"), Some((6, 18, 44)));
        assert_eq!(parse_release("6.6"), Some((6, 6, 0)));
        assert!(kernel_has_exit_fix((6, 9, 0)));
        assert!(kernel_has_exit_fix((7, 0, 0)));
        assert!(kernel_has_exit_fix((6, 8, 5)));
        assert!(!kernel_has_exit_fix((6, 8, 4)));
        assert!(kernel_has_exit_fix((6, 6, 26)));
        assert!(!kernel_has_exit_fix((6, 6, 25)));
        assert!(!kernel_has_exit_fix((6, 7, 12)));
        assert!(!kernel_has_exit_fix((5, 15, 150)));
    }
}
