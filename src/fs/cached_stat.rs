//! Stat on the loop thread when the kernel can answer from its caches.
//!
//! The ring has no non-blocking statx: the kernel hands every statx to an
//! io-wq worker, which costs a thread hand-off per call just as the pool
//! does. When the path resolves from the dentry cache (openat2 with
//! RESOLVE_CACHED fails with EAGAIN instead of reading a directory) and the
//! file lives on a local filesystem whose getattr only reads the in-memory
//! inode, the loop thread gets the answer in a few microseconds without
//! waiting on a disk, a network or a FUSE daemon. Everything else (uncached
//! path, another filesystem, an old kernel, seccomp) returns None and takes
//! the ring's statx.

use libc::{c_char, c_int, c_long};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

const STATX_MNT_ID_UNIQUE: u32 = 0x4000;
const STATMOUNT_SB_BASIC: u64 = 1;
const SYS_STATMOUNT: c_long = 457; // same number on x86_64 and aarch64
const RESOLVE_CACHED: u64 = 0x20;

// Filesystems whose getattr takes no sleeping lock and does no I/O.
const EXT4_SUPER_MAGIC: u64 = 0xEF53;
const TMPFS_MAGIC: u64 = 0x0102_1994;
const BTRFS_SUPER_MAGIC: u64 = 0x9123_683E;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

#[repr(C)]
struct MntIdReq {
    size: u32,
    spare: u32,
    mnt_id: u64,
    param: u64,
}

/// Unique mount ids are never reused, so an answer can be kept for good.
fn local_mounts() -> &'static Mutex<HashMap<u64, bool>> {
    static M: OnceLock<Mutex<HashMap<u64, bool>>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(HashMap::new()))
}

fn is_local_mount(id: u64) -> bool {
    let mut m = local_mounts().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&local) = m.get(&id) {
        return local;
    }
    let local = query_local(id);
    if m.len() < 4096 {
        m.insert(id, local);
    }
    local
}

fn query_local(id: u64) -> bool {
    let req = MntIdReq {
        size: std::mem::size_of::<MntIdReq>() as u32,
        spare: 0,
        mnt_id: id,
        param: STATMOUNT_SB_BASIC,
    };
    // struct statmount: size, mnt_opts (u32 each), mask (u64), dev
    // major/minor (u32 each), sb_magic (u64) at byte 24.
    let mut buf = [0u64; 64];
    // SAFETY: req and buf live across the call; the kernel writes at most
    // the given size.
    let r = unsafe {
        libc::syscall(
            SYS_STATMOUNT,
            &req as *const MntIdReq,
            buf.as_mut_ptr(),
            std::mem::size_of_val(&buf),
            0u32,
        )
    };
    if r != 0 || buf[1] & STATMOUNT_SB_BASIC == 0 {
        return false;
    }
    matches!(buf[3], EXT4_SUPER_MAGIC | TMPFS_MAGIC | BTRFS_SUPER_MAGIC)
}

/// Stats `path` (or `file` for fstat) into `out` if that cannot block.
/// Some(0) or Some(-errno) is the final answer; None means "use the ring".
///
/// # Safety
/// `path` must be a NUL-terminated string unless `fstat` is set. (`file` is
/// only stat'ed, which is harmless on any descriptor.)
pub(crate) unsafe fn try_stat(
    path: *const c_char,
    file: c_int,
    fstat: bool,
    nofollow: bool,
    out: &mut libc::statx,
) -> Option<c_int> {
    let fd = if fstat {
        file
    } else {
        let mut flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
        if nofollow {
            flags |= libc::O_NOFOLLOW as u64;
        }
        let how = OpenHow {
            flags,
            mode: 0,
            resolve: RESOLVE_CACHED,
        };
        // SAFETY: `path` is a C string (contract) and `how` a live open_how
        // of the size passed; the descriptor returned is ours, closed below.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                libc::AT_FDCWD,
                path,
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        } as c_int;
        if fd < 0 {
            // A cached walk that fails has the same answer statx would
            // give; EAGAIN (not cached) and anything odd go to the ring.
            let e = crate::sys::errno();
            return match e {
                libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG | libc::EACCES => {
                    Some(-e)
                }
                _ => None,
            };
        }
        fd
    };
    // DONT_SYNC never waits; on the filesystems below it changes nothing.
    // SAFETY: a literal empty path and `out`, a statx the caller lent us;
    // `fd` is only read (the request's for fstat, ours otherwise).
    let r = unsafe {
        libc::statx(
            fd,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_STATX_DONT_SYNC,
            libc::STATX_BASIC_STATS | libc::STATX_BTIME | STATX_MNT_ID_UNIQUE,
            out,
        )
    };
    if !fstat {
        // SAFETY: the O_PATH descriptor openat2 gave us above, closed once.
        unsafe { libc::close(fd) };
    }
    if r != 0 || out.stx_mask & STATX_MNT_ID_UNIQUE == 0 || !is_local_mount(out.stx_mnt_id) {
        return None;
    }
    Some(0)
}

#[cfg(test)]
mod tests {
    use super::{query_local, try_stat, STATX_MNT_ID_UNIQUE};
    use std::ffi::CString;

    fn sx() -> libc::statx {
        // SAFETY: libc::statx is plain integers: all-zero bytes are a value.
        unsafe { std::mem::zeroed() }
    }

    /// Whether this kernel and the filesystem holding `dir` let the loop
    /// thread answer stats (statx's unique mount id, statmount, a listed
    /// filesystem), decided apart from the code under test.
    fn cached_path_available(dir: &std::path::Path) -> Result<(), String> {
        let c = CString::new(dir.to_str().unwrap()).unwrap();
        let mut out = sx();
        // SAFETY: c is NUL-terminated and out is writable.
        let r =
            unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, STATX_MNT_ID_UNIQUE, &mut out) };
        if r != 0 || out.stx_mask & STATX_MNT_ID_UNIQUE == 0 {
            return Err("statx has no unique mount id (kernel before 6.8)".into());
        }
        if !query_local(out.stx_mnt_id) {
            return Err(format!(
                "{} is not on ext2/3/4, tmpfs or btrfs, or statmount is missing",
                dir.display()
            ));
        }
        Ok(())
    }

    #[test]
    fn answers_match_the_kernel_or_defer() {
        let dir = std::env::temp_dir().join(format!("uvring-cached-stat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"12345").unwrap();
        let link = dir.join("l");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let available = cached_path_available(&dir);
        let cl = CString::new(link.to_str().unwrap()).unwrap();
        // A failed lookup leaves a negative dentry: the second one is cached.
        assert!(std::fs::metadata(dir.join("missing")).is_err());
        let missing = CString::new(dir.join("missing").to_str().unwrap()).unwrap();
        let (mut follow, mut nofollow, mut absent) = (sx(), sx(), sx());
        // SAFETY: the paths are NUL-terminated CStrings alive for the calls.
        let (rf, rn, ra) = unsafe {
            (
                try_stat(cl.as_ptr(), -1, false, false, &mut follow),
                try_stat(cl.as_ptr(), -1, false, true, &mut nofollow),
                try_stat(missing.as_ptr(), -1, false, false, &mut absent),
            )
        };
        match available {
            Ok(()) => {
                // Just written and walked: every answer comes from the caches.
                assert_eq!(rf, Some(0));
                assert_eq!(follow.stx_size, 5);
                assert_eq!(follow.stx_mode as u32 & libc::S_IFMT, libc::S_IFREG);
                assert_eq!(rn, Some(0));
                assert_eq!(nofollow.stx_mode as u32 & libc::S_IFMT, libc::S_IFLNK);
                assert_eq!(ra, Some(-libc::ENOENT));
            }
            Err(why) => {
                eprintln!("cached_stat: the loop-thread path is unavailable here ({why}): checking that it defers");
                assert_eq!(rf, None);
                assert_eq!(rn, None);
                assert!(ra.is_none() || ra == Some(-libc::ENOENT));
            }
        }
        // procfs is not on the list: always the ring's statx.
        let mut out = sx();
        // SAFETY: a NUL-terminated literal; `out` is writable.
        let r = unsafe { try_stat(c"/proc/self/status".as_ptr(), -1, false, false, &mut out) };
        assert_eq!(r, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
