//! Environment, home and temp directories, users and groups, host name,
//! uname, pids, priorities, working directory, executable path, rusage.

use super::*;
use crate::alloc;
use libc::{c_char, c_int, c_void, size_t};
use std::ptr;

extern "C" {
    static mut environ: *mut *mut c_char;
}

// --- environment -----------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn uv_os_getenv(
    name: *const c_char,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: uv.h: `name` is a C string, `buffer` holds `*size` bytes
    // (`size` checked non-NULL first). getenv's string lives in the
    // environment, which only this process's setenv/unsetenv change; libuv
    // documents these calls as not thread-safe, as getenv(3) is.
    unsafe {
        if name.is_null() || buffer.is_null() || size.is_null() || *size == 0 {
            return UV_EINVAL;
        }
        let var = libc::getenv(name);
        if var.is_null() {
            return UV_ENOENT;
        }
        copy_out(cstr_bytes(var), buffer, size)
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_setenv(name: *const c_char, value: *const c_char) -> c_int {
    if name.is_null() || value.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: `name` and `value` are C strings (non-NULL checked);
    // setenv copies them.
    if unsafe { libc::setenv(name, value, 1) } != 0 {
        return neg_errno();
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_unsetenv(name: *const c_char) -> c_int {
    if name.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: `name` is a C string (non-NULL checked).
    if unsafe { libc::unsetenv(name) } != 0 {
        return neg_errno();
    }
    0
}

/// Each item's name and value share one allocation (name first), which is
/// what `uv_os_free_environ` frees.
#[no_mangle]
pub unsafe extern "C" fn uv_os_environ(
    envitems: *mut *mut uv_env_item_t,
    count: *mut c_int,
) -> c_int {
    if envitems.is_null() || count.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: both are the caller's out-parameters (non-NULL checked).
    unsafe {
        *envitems = ptr::null_mut();
        *count = 0;
    }

    // SAFETY: `environ` is NULL or a NULL-terminated array of C strings owned
    // by the C library; nothing on this thread changes it while we copy
    // (uv_os_environ is documented as not thread-safe, like environ itself).
    let env = unsafe { environ };
    let mut n = 0usize;
    if !env.is_null() {
        // SAFETY: as above; we stop at the terminating NULL.
        while !unsafe { *env.add(n) }.is_null() {
            n += 1;
        }
    }
    // At least one slot so that an empty environment still gives a pointer
    // the caller can free, as calloc(0, ...) does for libuv.
    // SAFETY: plain allocation; the result is checked for NULL.
    let items = unsafe { alloc::calloc(n.max(1), std::mem::size_of::<uv_env_item_t>()) }
        as *mut uv_env_item_t;
    if items.is_null() {
        return UV_ENOMEM;
    }
    let mut cnt = 0usize;
    for i in 0..n {
        // SAFETY: i < n, the entries counted above, each NULL or a C string.
        let entry = unsafe { *env.add(i) };
        if entry.is_null() {
            break;
        }
        // SAFETY: `entry` is a C string of the environment (see above).
        let bytes = unsafe { cstr_bytes(entry) };
        // Entries without '=' are not variables; libuv skips them.
        let Some(eq) = bytes.iter().position(|&b| b == b'=') else {
            continue;
        };
        // SAFETY: strdup_bytes copies `bytes` into a fresh allocation.
        let buf = unsafe { alloc::strdup_bytes(bytes) };
        if buf.is_null() {
            // SAFETY: `items` holds `cnt` filled items, allocated above.
            unsafe { uv_os_free_environ(items, cnt as c_int) };
            return UV_ENOMEM;
        }
        // SAFETY: `buf` holds bytes.len() + 1 bytes and eq < bytes.len();
        // `items` has n >= cnt + 1 slots, zeroed by calloc.
        unsafe {
            *buf.add(eq) = 0;
            let item = &mut *items.add(cnt);
            item.name = buf;
            item.value = buf.add(eq + 1);
        }
        cnt += 1;
    }
    // SAFETY: the caller's out-parameters, checked non-NULL above.
    unsafe {
        *envitems = items;
        *count = cnt as c_int;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_free_environ(envitems: *mut uv_env_item_t, count: c_int) {
    if envitems.is_null() {
        return;
    }
    // SAFETY: uv.h: `envitems` and `count` are what uv_os_environ returned;
    // each item's name is the start of its own allocation from crate::alloc,
    // and the array is one allocation too.
    unsafe {
        for i in 0..count.max(0) as usize {
            alloc::free((*envitems.add(i)).name as *mut c_void);
        }
        alloc::free(envitems as *mut c_void);
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_homedir(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // HOME wins; uv_os_getenv also validates the arguments.
    // SAFETY: `buffer` / `size` are the caller's, under the same uv.h
    // contract as uv_os_getenv's; the name is a C string literal.
    let r = unsafe { uv_os_getenv(c"HOME".as_ptr(), buffer, size) };
    if r != UV_ENOENT {
        return r;
    }
    let mut pwd = uv_passwd_t {
        username: ptr::null_mut(),
        uid: 0,
        gid: 0,
        shell: ptr::null_mut(),
        homedir: ptr::null_mut(),
    };
    // SAFETY: `pwd` is a local; on success its strings live until
    // uv_os_free_passwd below. `buffer` / `size` were validated by
    // uv_os_getenv (it returned ENOENT, not EINVAL).
    unsafe {
        let r = uv_os_get_passwd(&mut pwd);
        if r != 0 {
            return r;
        }
        let r = copy_out(cstr_bytes(pwd.homedir), buffer, size);
        uv_os_free_passwd(&mut pwd);
        r
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_tmpdir(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: `size` is checked non-NULL before the read (uv.h: it and
    // `buffer` describe a caller buffer of `*size` bytes).
    if buffer.is_null() || size.is_null() || unsafe { *size } == 0 {
        return UV_EINVAL;
    }
    let mut dir: &[u8] = b"/tmp";
    for name in [c"TMPDIR", c"TMP", c"TEMP", c"TEMPDIR"] {
        // SAFETY: getenv of a C string literal; the value lives in the
        // environment, which this thread does not change while we use it
        // (not thread-safe, as documented for libuv's uv_os_tmpdir).
        let v = unsafe { libc::getenv(name.as_ptr()) };
        if !v.is_null() {
            // SAFETY: as above, a C string of the environment.
            dir = unsafe { cstr_bytes(v) };
            break;
        }
    }
    // SAFETY: uv.h: `size` (checked non-NULL) and `buffer` of `*size` bytes.
    unsafe {
        // The size check uses the raw length (as libuv does); the result
        // loses one trailing slash.
        if dir.len() >= *size {
            *size = dir.len() + 1;
            return UV_ENOBUFS;
        }
        if dir.len() > 1 && dir.last() == Some(&b'/') {
            dir = &dir[..dir.len() - 1];
        }
        copy_out(dir, buffer, size)
    }
}

// --- users and groups --------------------------------------------------------

/// Runs a `get*_r` lookup with a growing scratch buffer. `call` gets the
/// buffer, its length and the result slot; `Ok(None)` is "no such entry";
/// the buffer is returned so the entry's strings stay valid.
fn lookup_r<F>(mut call: F) -> Result<Option<Vec<u8>>, c_int>
where
    F: FnMut(*mut c_char, size_t, *mut *mut c_void) -> c_int,
{
    let mut bufsize: usize = 2000;
    loop {
        let mut buf: Vec<u8> = Vec::new();
        if buf.try_reserve_exact(bufsize).is_err() {
            return Err(UV_ENOMEM);
        }
        buf.resize(bufsize, 0);
        let mut result: *mut c_void = ptr::null_mut();
        // get*_r return the error number itself (no -1 / errno), so this is
        // not retry_eintr's shape.
        let r = loop {
            let r = call(buf.as_mut_ptr() as *mut c_char, bufsize, &mut result);
            if r != libc::EINTR {
                break r;
            }
        };
        match r {
            0 if result.is_null() => return Ok(None),
            0 => return Ok(Some(buf)),
            libc::ERANGE if bufsize < (1 << 30) => bufsize *= 2,
            libc::ERANGE => return Err(UV_ENOMEM),
            e => return Err(-e),
        }
    }
}

/// # Safety
/// `pwd` is NULL or valid for writes of a uv_passwd_t.
unsafe fn get_passwd(pwd: *mut uv_passwd_t, uid: libc::uid_t) -> c_int {
    if pwd.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: libc::passwd is plain C data; all-zero is a valid value.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let found = lookup_r(|buf, len, res| {
        // SAFETY: lookup_r passes its own scratch buffer of `len` bytes and a
        // live result slot; `pw` is a local outliving the call.
        unsafe { libc::getpwuid_r(uid, &mut pw, buf, len, res as *mut *mut libc::passwd) }
    });
    let _buf = match found {
        Ok(Some(buf)) => buf,
        Ok(None) => return UV_ENOENT,
        Err(e) => return e,
    };
    // SAFETY: on success getpwuid_r points these at C strings inside `_buf`,
    // which lives to the end of this function.
    let (name, dir, shell) = unsafe {
        (
            cstr_bytes(pw.pw_name),
            cstr_bytes(pw.pw_dir),
            cstr_bytes(pw.pw_shell),
        )
    };
    // One block: username, homedir, shell; uv_os_free_passwd frees username.
    let total = name.len() + dir.len() + shell.len() + 3;
    // SAFETY: plain allocation; the result is checked for NULL.
    let block = unsafe { alloc::malloc(total) } as *mut u8;
    if block.is_null() {
        return UV_ENOMEM;
    }
    let mut at = block;
    let mut put = |s: &[u8]| {
        let start = at;
        // SAFETY: `block` was sized for the three strings and their NULs,
        // and `put` is called once for each.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr(), at, s.len());
            *at.add(s.len()) = 0;
            at = at.add(s.len() + 1);
        }
        start as *mut c_char
    };
    // SAFETY: `pwd` is non-NULL and writable (caller's contract).
    unsafe {
        (*pwd).username = put(name);
        (*pwd).homedir = put(dir);
        (*pwd).shell = put(shell);
        (*pwd).uid = pw.pw_uid as libc::c_ulong;
        (*pwd).gid = pw.pw_gid as libc::c_ulong;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_get_passwd(pwd: *mut uv_passwd_t) -> c_int {
    // SAFETY: geteuid has no preconditions. uv.h: `pwd` is NULL or the
    // caller's uv_passwd_t to fill.
    unsafe { get_passwd(pwd, libc::geteuid()) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_get_passwd2(pwd: *mut uv_passwd_t, uid: uv_uid_t) -> c_int {
    // SAFETY: uv.h: `pwd` is NULL or the caller's uv_passwd_t to fill.
    unsafe { get_passwd(pwd, uid) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_free_passwd(pwd: *mut uv_passwd_t) {
    if pwd.is_null() {
        return;
    }
    // SAFETY: uv.h: `pwd` was filled by uv_os_get_passwd(2) (its username
    // is the start of the one block, or NULL after an earlier free).
    unsafe {
        alloc::free((*pwd).username as *mut c_void);
        (*pwd).username = ptr::null_mut();
        (*pwd).shell = ptr::null_mut();
        (*pwd).homedir = ptr::null_mut();
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_get_group(grp: *mut uv_group_t, gid: uv_uid_t) -> c_int {
    if grp.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: libc::group is plain C data; all-zero is a valid value.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let found = lookup_r(|buf, len, res| {
        // SAFETY: lookup_r passes its own scratch buffer of `len` bytes and a
        // live result slot; `gr` is a local outliving the call.
        unsafe { libc::getgrgid_r(gid, &mut gr, buf, len, res as *mut *mut libc::group) }
    });
    let _buf = match found {
        Ok(Some(buf)) => buf,
        Ok(None) => return UV_ENOENT,
        Err(e) => return e,
    };
    let mut members: Vec<&[u8]> = Vec::new();
    // SAFETY: on success getgrgid_r points gr_mem at a NULL-terminated array
    // of C strings and gr_name at a C string, all inside `_buf`, which lives
    // to the end of this function.
    let name = unsafe {
        if !gr.gr_mem.is_null() {
            let mut i = 0;
            while !(*gr.gr_mem.add(i)).is_null() {
                members.push(cstr_bytes(*gr.gr_mem.add(i)));
                i += 1;
            }
        }
        cstr_bytes(gr.gr_name)
    };
    // One block starting with the NULL-terminated member pointer array, then
    // the member strings, then the group name; uv_os_free_group frees members.
    let table = (members.len() + 1) * std::mem::size_of::<*mut c_char>();
    let strings: usize = members.iter().map(|m| m.len() + 1).sum::<usize>() + name.len() + 1;
    // SAFETY: plain allocation; the result is checked for NULL.
    let block = unsafe { alloc::malloc(table + strings) } as *mut u8;
    if block.is_null() {
        return UV_ENOMEM;
    }
    let ptrs = block as *mut *mut c_char;
    // SAFETY: `table` < table + strings, the block's size.
    let mut at = unsafe { block.add(table) };
    let mut put = |s: &[u8]| {
        let start = at;
        // SAFETY: the `strings` bytes after the table were sized for the
        // members and the name with their NULs, and `put` is called once
        // for each.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr(), at, s.len());
            *at.add(s.len()) = 0;
            at = at.add(s.len() + 1);
        }
        start as *mut c_char
    };
    // SAFETY: the table has members.len() + 1 pointer slots (malloc's
    // alignment suits pointers); `grp` is non-NULL and writable (uv.h: the
    // caller's uv_group_t to fill).
    unsafe {
        for (i, m) in members.iter().enumerate() {
            *ptrs.add(i) = put(m);
        }
        *ptrs.add(members.len()) = ptr::null_mut();
        (*grp).groupname = put(name);
        (*grp).members = ptrs;
        (*grp).gid = gr.gr_gid as libc::c_ulong;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_free_group(grp: *mut uv_group_t) {
    if grp.is_null() {
        return;
    }
    // SAFETY: uv.h: `grp` was filled by uv_os_get_group (members is the
    // start of the one block, or NULL after an earlier free).
    unsafe {
        alloc::free((*grp).members as *mut c_void);
        (*grp).members = ptr::null_mut();
        (*grp).groupname = ptr::null_mut();
    }
}

// --- host ---------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn uv_os_uname(buffer: *mut uv_utsname_t) -> c_int {
    if buffer.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: `buffer` (non-NULL) is the caller's uv_utsname_t, not
    // otherwise accessed during this call.
    let b = unsafe { &mut *buffer };
    // SAFETY: libc::utsname is plain C data; all-zero is a valid value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a local utsname for uname to fill.
    let r = if unsafe { libc::uname(&mut u) } == -1 {
        neg_errno()
    } else {
        let fields: [(&mut [c_char; 256], &[c_char]); 4] = [
            (&mut b.sysname, &u.sysname[..]),
            (&mut b.release, &u.release[..]),
            (&mut b.version, &u.version[..]),
            (&mut b.machine, &u.machine[..]),
        ];
        let mut r = 0;
        for (dst, src) in fields {
            // Copy up to the NUL; a value that does not fit is E2BIG.
            let len = src.iter().position(|&c| c == 0).unwrap_or(src.len());
            if len >= dst.len() {
                r = UV_E2BIG;
                break;
            }
            dst[..len].copy_from_slice(&src[..len]);
            dst[len] = 0;
        }
        r
    };
    if r != 0 {
        b.sysname[0] = 0;
        b.release[0] = 0;
        b.version[0] = 0;
        b.machine[0] = 0;
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_gethostname(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: `size` is checked non-NULL before the read.
    if buffer.is_null() || size.is_null() || unsafe { *size } == 0 {
        return UV_EINVAL;
    }
    // Ask for the whole name in our own buffer so a short user buffer gets
    // ENOBUFS and the needed size instead of a silently truncated name.
    let mut buf = [0 as c_char; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into the local.
    if unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len()) } != 0 {
        return neg_errno();
    }
    buf[buf.len() - 1] = 0;
    // SAFETY: `buf` is NUL-terminated (last byte forced); uv.h: `buffer`
    // holds `*size` bytes.
    unsafe { copy_out(cstr_bytes(buf.as_ptr()), buffer, size) }
}

#[no_mangle]
pub extern "C" fn uv_os_getpid() -> uv_pid_t {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

#[no_mangle]
pub extern "C" fn uv_os_getppid() -> uv_pid_t {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() }
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_getpriority(pid: uv_pid_t, priority: *mut c_int) -> c_int {
    if priority.is_null() {
        return UV_EINVAL;
    }
    // -1 is a valid nice value, so errno tells an error apart.
    // SAFETY: this thread's errno slot; getpriority has no pointer arguments.
    let r = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, pid as libc::id_t)
    };
    // SAFETY: this thread's errno slot.
    if r == -1 && unsafe { *libc::__errno_location() } != 0 {
        return neg_errno();
    }
    // SAFETY: uv.h: `priority` (non-NULL) is the caller's out-parameter.
    unsafe { *priority = r };
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_os_setpriority(pid: uv_pid_t, priority: c_int) -> c_int {
    if !(UV_PRIORITY_HIGHEST..=UV_PRIORITY_LOW).contains(&priority) {
        return UV_EINVAL;
    }
    // SAFETY: setpriority takes no pointers.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, priority) } != 0 {
        return neg_errno();
    }
    0
}

// --- paths ----------------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn uv_cwd(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: `size` is checked non-NULL before the read.
    if buffer.is_null() || size.is_null() || unsafe { *size } == 0 {
        return UV_EINVAL;
    }
    // SAFETY: uv.h: `buffer` holds `*size` bytes; on success getcwd leaves a
    // C string there, and len >= 1 since it is an absolute path.
    unsafe {
        if !libc::getcwd(buffer, *size).is_null() {
            let mut len = libc::strlen(buffer);
            if len > 1 && *buffer.add(len - 1) == b'/' as c_char {
                len -= 1;
                *buffer.add(len) = 0;
            }
            *size = len;
            return 0;
        }
    }
    // SAFETY: this thread's errno slot.
    if unsafe { *libc::__errno_location() } != libc::ERANGE {
        return neg_errno();
    }
    // Too small: find out how much is needed so the caller can retry.
    let mut scratch = vec![0 as c_char; libc::PATH_MAX as usize + 1];
    // SAFETY: getcwd writes at most scratch.len() bytes into the local Vec
    // and, on success, leaves a C string there.
    let len = unsafe {
        if libc::getcwd(scratch.as_mut_ptr(), scratch.len()).is_null() {
            return neg_errno();
        }
        libc::strlen(scratch.as_ptr())
    };
    let mut len = len;
    if len > 1 && scratch[len - 1] == b'/' as c_char {
        len -= 1;
    }
    // SAFETY: uv.h: `size` (non-NULL checked) is the caller's in/out size.
    unsafe { *size = len + 1 };
    UV_ENOBUFS
}

#[no_mangle]
pub unsafe extern "C" fn uv_chdir(dir: *const c_char) -> c_int {
    // SAFETY: uv.h: `dir` is a C string (a NULL one gets EFAULT from the
    // kernel, which reads it).
    if unsafe { libc::chdir(dir) } != 0 {
        return neg_errno();
    }
    0
}

/// Unlike the other getters this truncates to fit, as libuv does: a buffer
/// of size 1 gives "" and size 0.
#[no_mangle]
pub unsafe extern "C" fn uv_exepath(buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: uv.h: `buffer` holds `*size` bytes (`size` checked non-NULL
    // before the read); readlink writes at most `cap` = *size - 1 bytes,
    // leaving room for the NUL at n <= cap.
    unsafe {
        if buffer.is_null() || size.is_null() || *size == 0 {
            return UV_EINVAL;
        }
        let cap = *size - 1;
        let mut n: isize = 0;
        if cap > 0 {
            n = libc::readlink(c"/proc/self/exe".as_ptr(), buffer, cap);
            if n < 0 {
                return neg_errno();
            }
        }
        *buffer.add(n as usize) = 0;
        *size = n as size_t;
    }
    0
}

// --- resource usage ---------------------------------------------------------------

/// # Safety
/// `out` is NULL or valid for writes of a uv_rusage_t.
unsafe fn rusage(who: c_int, out: *mut uv_rusage_t) -> c_int {
    if out.is_null() {
        return UV_EINVAL;
    }
    // SAFETY: libc::rusage is plain C data; all-zero is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a local rusage for getrusage to fill.
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return neg_errno();
    }
    let usage = uv_rusage_t {
        ru_utime: uv_timeval_t {
            tv_sec: u.ru_utime.tv_sec,
            tv_usec: u.ru_utime.tv_usec,
        },
        ru_stime: uv_timeval_t {
            tv_sec: u.ru_stime.tv_sec,
            tv_usec: u.ru_stime.tv_usec,
        },
        ru_maxrss: u.ru_maxrss as u64,
        ru_ixrss: u.ru_ixrss as u64,
        ru_idrss: u.ru_idrss as u64,
        ru_isrss: u.ru_isrss as u64,
        ru_minflt: u.ru_minflt as u64,
        ru_majflt: u.ru_majflt as u64,
        ru_nswap: u.ru_nswap as u64,
        ru_inblock: u.ru_inblock as u64,
        ru_oublock: u.ru_oublock as u64,
        ru_msgsnd: u.ru_msgsnd as u64,
        ru_msgrcv: u.ru_msgrcv as u64,
        ru_nsignals: u.ru_nsignals as u64,
        ru_nvcsw: u.ru_nvcsw as u64,
        ru_nivcsw: u.ru_nivcsw as u64,
    };
    // SAFETY: `out` is non-NULL and writable (caller's contract).
    unsafe { *out = usage };
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_getrusage(usage: *mut uv_rusage_t) -> c_int {
    // SAFETY: uv.h: `usage` is NULL or the caller's uv_rusage_t to fill.
    unsafe { rusage(libc::RUSAGE_SELF, usage) }
}

#[no_mangle]
pub unsafe extern "C" fn uv_getrusage_thread(usage: *mut uv_rusage_t) -> c_int {
    // SAFETY: uv.h: `usage` is NULL or the caller's uv_rusage_t to fill.
    unsafe { rusage(libc::RUSAGE_THREAD, usage) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// Set in the child process that runs `env_protocol_body`.
    const ENV_CHILD: &str = "UVRING_OS_ENV_PROTOCOL_CHILD";

    // All environment mutation lives in this one test, and runs in a child
    // process of the test binary that runs only this test: setenv while
    // another thread reads the environment (getenv, std::env::var, as other
    // tests running in parallel do) is a data race in glibc.
    #[test]
    fn env_protocol() {
        if std::env::var_os(ENV_CHILD).is_some() {
            env_protocol_body();
            return;
        }
        let name = "os::user::tests::env_protocol";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1"])
            .env(ENV_CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child run of {name}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn env_protocol_body() {
        // SAFETY: every pointer passed is a C string literal or a local of
        // this test, alive across the calls; items come from uv_os_environ
        // and are freed once. This runs alone in its process (see
        // env_protocol), so no other thread reads the environment meanwhile.
        unsafe {
            let name = c"UVRING_OS_TEST_VAR";
            let mut buf = [0 as c_char; 10];
            let mut size: size_t;
            assert_eq!(uv_os_setenv(ptr::null(), c"x".as_ptr()), UV_EINVAL);
            assert_eq!(
                uv_os_getenv(name.as_ptr(), buf.as_mut_ptr(), ptr::null_mut()),
                UV_EINVAL
            );
            size = 0;
            assert_eq!(
                uv_os_getenv(name.as_ptr(), buf.as_mut_ptr(), &mut size),
                UV_EINVAL
            );

            assert_eq!(uv_os_setenv(name.as_ptr(), c"123456789".as_ptr()), 0);
            size = 10;
            assert_eq!(uv_os_getenv(name.as_ptr(), buf.as_mut_ptr(), &mut size), 0);
            assert_eq!(size, 9);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_bytes(), b"123456789");
            size = 9;
            assert_eq!(
                uv_os_getenv(name.as_ptr(), buf.as_mut_ptr(), &mut size),
                UV_ENOBUFS
            );
            assert_eq!(size, 10);

            let mut items: *mut uv_env_item_t = ptr::null_mut();
            let mut count: c_int = 0;
            assert_eq!(uv_os_environ(&mut items, &mut count), 0);
            let found = (0..count as usize)
                .filter(|&i| {
                    let it = &*items.add(i);
                    CStr::from_ptr(it.name) == name
                        && CStr::from_ptr(it.value).to_bytes() == b"123456789"
                })
                .count();
            assert_eq!(found, 1);
            uv_os_free_environ(items, count);

            assert_eq!(uv_os_unsetenv(name.as_ptr()), 0);
            assert_eq!(
                uv_os_getenv(name.as_ptr(), buf.as_mut_ptr(), &mut size),
                UV_ENOENT
            );
            assert_eq!(uv_os_unsetenv(name.as_ptr()), 0);

            // tmpdir: trailing slash dropped, size protocol.
            let saved = std::env::var_os("TMPDIR");
            assert_eq!(uv_os_setenv(c"TMPDIR".as_ptr(), c"/var/tmp/".as_ptr()), 0);
            let mut big = [0 as c_char; 64];
            size = 64;
            assert_eq!(uv_os_tmpdir(big.as_mut_ptr(), &mut size), 0);
            assert_eq!(CStr::from_ptr(big.as_ptr()).to_bytes(), b"/var/tmp");
            assert_eq!(size, 8);
            size = 1;
            assert_eq!(uv_os_tmpdir(big.as_mut_ptr(), &mut size), UV_ENOBUFS);
            assert_eq!(size, 10);
            match saved {
                Some(v) => {
                    let v = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(
                        v.as_os_str(),
                    ))
                    .unwrap();
                    uv_os_setenv(c"TMPDIR".as_ptr(), v.as_ptr());
                }
                None => {
                    uv_os_unsetenv(c"TMPDIR".as_ptr());
                }
            }
        }
    }

    #[test]
    fn passwd_group_and_host() {
        // SAFETY: every pointer passed is a local of this test; the strings
        // read are those uv_os_get_passwd / uv_os_get_group filled in, read
        // before the matching free.
        unsafe {
            let mut pwd: uv_passwd_t = std::mem::zeroed();
            assert_eq!(uv_os_get_passwd(ptr::null_mut()), UV_EINVAL);
            assert_eq!(uv_os_get_passwd(&mut pwd), 0);
            assert_eq!(pwd.uid, libc::geteuid() as libc::c_ulong);
            assert!(!CStr::from_ptr(pwd.username).to_bytes().is_empty());
            let mut grp: uv_group_t = std::mem::zeroed();
            assert_eq!(uv_os_get_group(&mut grp, pwd.gid as libc::gid_t), 0);
            assert_eq!(grp.gid, pwd.gid);
            assert!(!CStr::from_ptr(grp.groupname).to_bytes().is_empty());
            uv_os_free_group(&mut grp);
            assert!(grp.members.is_null());
            uv_os_free_passwd(&mut pwd);
            uv_os_free_passwd(&mut pwd);
            assert!(pwd.username.is_null());

            assert_eq!(uv_os_get_passwd2(&mut pwd, 0), 0);
            assert_eq!(CStr::from_ptr(pwd.username).to_bytes(), b"root");
            uv_os_free_passwd(&mut pwd);
            // A uid nobody has.
            assert_eq!(uv_os_get_passwd2(&mut pwd, 0x7fff_fff0), UV_ENOENT);

            let mut u: uv_utsname_t = std::mem::zeroed();
            assert_eq!(uv_os_uname(&mut u), 0);
            assert_eq!(CStr::from_ptr(u.sysname.as_ptr()).to_bytes(), b"Linux");

            let mut host = [0 as c_char; 65]; // UV_MAXHOSTNAMESIZE on glibc
            let mut small: size_t = 1;
            assert_eq!(uv_os_gethostname(host.as_mut_ptr(), &mut small), UV_ENOBUFS);
            let mut size = host.len();
            assert_eq!(uv_os_gethostname(host.as_mut_ptr(), &mut size), 0);
            assert_eq!(size + 1, small);
        }
    }

    #[test]
    fn paths_and_priority() {
        // SAFETY: every pointer passed is a local buffer of this test with
        // its true size; CStr reads stop at the NUL the calls wrote.
        unsafe {
            let mut buf = [0 as c_char; 4096];
            let mut size: size_t = 1;
            assert_eq!(uv_cwd(buf.as_mut_ptr(), &mut size), UV_ENOBUFS);
            let need = size;
            size = buf.len();
            assert_eq!(uv_cwd(buf.as_mut_ptr(), &mut size), 0);
            assert_eq!(size + 1, need);

            size = buf.len();
            assert_eq!(uv_exepath(buf.as_mut_ptr(), &mut size), 0);
            let exe = std::fs::read_link("/proc/self/exe").unwrap();
            assert_eq!(
                CStr::from_ptr(buf.as_ptr()).to_bytes(),
                std::os::unix::ffi::OsStrExt::as_bytes(exe.as_os_str())
            );
            size = 2;
            assert_eq!(uv_exepath(buf.as_mut_ptr(), &mut size), 0);
            assert_eq!(size, 1);
            assert_eq!(buf[1], 0);
            size = 1;
            assert_eq!(uv_exepath(buf.as_mut_ptr(), &mut size), 0);
            assert_eq!(size, 0);

            let mut prio = 99;
            assert_eq!(uv_os_getpriority(0, ptr::null_mut()), UV_EINVAL);
            assert_eq!(uv_os_getpriority(0, &mut prio), 0);
            assert_eq!(uv_os_setpriority(0, UV_PRIORITY_LOW + 1), UV_EINVAL);
            assert_eq!(uv_os_setpriority(0, UV_PRIORITY_HIGHEST - 1), UV_EINVAL);

            let mut ru: uv_rusage_t = std::mem::zeroed();
            assert_eq!(uv_getrusage(&mut ru), 0);
            assert!(ru.ru_maxrss > 0);
            assert_eq!(uv_getrusage_thread(&mut ru), 0);
            assert!(uv_os_getpid() > 0 && uv_os_getppid() > 0);
        }
    }
}
