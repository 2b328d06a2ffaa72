//! uv_fs_event_*: file change notification through inotify.
//!
//! One inotify descriptor per loop (`loop->inotify_fd`), read by the loop's
//! `inotify_read_watcher`. Handles watching the same path share the kernel's
//! watch descriptor: `loop->inotify_watchers` points at a map from watch
//! descriptor to the list of handles on it.
//! UV_FS_EVENT_RECURSIVE is ignored on Linux, as in libuv.

use crate::abi::*;
use crate::watcher::{self, POLLIN};
use crate::{handle, queue};
use libc::{c_char, c_int, c_uint, c_void, size_t};
use std::collections::BTreeMap;
use std::ffi::{CStr, CString};

pub const UV_RENAME: c_int = 1;
pub const UV_CHANGE: c_int = 2;

pub type uv_fs_event_cb = unsafe extern "C" fn(*mut uv_fs_event_t, *const c_char, c_int, c_int);

/// The handles watching one inotify watch descriptor.
struct WatchList {
    /// Queue of uv_fs_event_t::watchers nodes.
    handles: uv__queue,
    /// How many `deliver` calls are walking the list (more than one when a
    /// callback runs a nested uv_run), so that a stop from a callback does
    /// not free the list being walked.
    iterating: c_uint,
    path: CString,
    wd: c_int,
}

type Watches = BTreeMap<c_int, *mut WatchList>;

/// The loop's map of watch lists, created on first use.
///
/// # Safety
/// `loop_` is a live loop, used on its own thread. The map is only ever
/// reached through this pointer, and no reference to it may be held across
/// a user callback.
unsafe fn watches(loop_: *mut uv_loop_t) -> *mut Watches {
    // SAFETY: `loop_` is live (contract); inotify_watchers is NULL or the
    // Box<Watches> made here, freed only by loop_close.
    unsafe {
        if (*loop_).inotify_watchers.is_null() {
            (*loop_).inotify_watchers = Box::into_raw(Box::<Watches>::default()) as *mut c_void;
        }
        (*loop_).inotify_watchers as *mut Watches
    }
}

/// The list of watch descriptor `wd`, or NULL.
///
/// # Safety
/// As for `watches`.
unsafe fn find(loop_: *mut uv_loop_t, wd: c_int) -> *mut WatchList {
    // SAFETY: the map is live and only borrowed for this lookup (contract).
    unsafe { (*watches(loop_)).get(&wd) }
        .copied()
        .unwrap_or(std::ptr::null_mut())
}

/// # Safety
/// `h` is an initialised uv_fs_event_t: its `cb` is NULL or was stored from
/// a uv_fs_event_cb by uv_fs_event_start.
unsafe fn cb_of(h: *const uv_fs_event_t) -> Option<uv_fs_event_cb> {
    // SAFETY: `cb` is NULL (None) or a uv_fs_event_cb (contract); function
    // pointers and data pointers have the same size and representation here.
    unsafe { std::mem::transmute::<*mut c_void, Option<uv_fs_event_cb>>((*h).cb) }
}

/// Drops the list (and the kernel's watch) once no handle uses it.
///
/// # Safety
/// `w` is a live list of the map of the live loop `loop_`.
unsafe fn maybe_free(loop_: *mut uv_loop_t, w: *mut WatchList) {
    // SAFETY: `w` is a live list (contract); when no walk is in progress and
    // its queue is empty, no handle and no `deliver` refers to it any more,
    // so it leaves the map and is freed once (it came from Box::into_raw).
    unsafe {
        if (*w).iterating != 0 || !queue::is_empty(&(*w).handles) {
            return;
        }
        (*watches(loop_)).remove(&(*w).wd);
        libc::inotify_rm_watch((*loop_).inotify_fd, (*w).wd);
        drop(Box::from_raw(w));
    }
}

/// # Safety
/// `loop_` is a live loop, used on its own thread.
unsafe fn init_inotify(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_` is live (contract); the read watcher is a field of it.
    unsafe {
        if (*loop_).inotify_fd != -1 {
            return 0;
        }
        let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
        if fd < 0 {
            return -*libc::__errno_location();
        }
        (*loop_).inotify_fd = fd;
        watcher::init(&mut (*loop_).inotify_read_watcher, Some(on_inotify), fd);
        watcher::start(loop_, &mut (*loop_).inotify_read_watcher, POLLIN);
    }
    0
}

fn basename(path: &CStr) -> *const c_char {
    let b = path.to_bytes();
    match b.iter().rposition(|&c| c == b'/') {
        // SAFETY: i < b.len(), so i + 1 is at most the NUL's offset, inside
        // the CStr.
        Some(i) => unsafe { path.as_ptr().add(i + 1) },
        None => path.as_ptr(),
    }
}

/// Calls every handle on `w` with one event. Each handle is moved back to
/// the list before its callback, which may stop (or start) any handle.
///
/// # Safety
/// `w` is a live list of the live loop `loop_` (on its thread); `name` is a
/// C string that stays valid while the callbacks run.
unsafe fn deliver(loop_: *mut uv_loop_t, w: *mut WatchList, name: *const c_char, events: c_int) {
    // SAFETY: `w` is live (contract), and stays so until the count drops
    // back: while `iterating` is non-zero maybe_free leaves it alone, nested
    // walks included. Only raw pointers to it are held across the callbacks.
    let handles = unsafe {
        (*w).iterating += 1;
        std::ptr::addr_of_mut!((*w).handles)
    };
    let call = |q: *mut uv__queue| {
        // SAFETY: `q` is the `watchers` node of a started uv_fs_event_t on
        // this list (stop unlinks it before the handle may be freed),
        // started with its cb; the user's callback gets its own live handle
        // and the event's name (uv.h uv_fs_event_cb) and may re-enter
        // anything.
        unsafe {
            let h = crate::container_of!(q, uv_fs_event_t, watchers);
            if let Some(cb) = cb_of(h) {
                cb(h, name, events, 0);
            }
        }
    };
    // SAFETY: `handles` is the live list's queue head (above).
    unsafe { queue::for_each_requeued(handles, call) };
    // SAFETY: `w` is still live (above); maybe_free gets the live loop.
    unsafe {
        (*w).iterating -= 1;
        maybe_free(loop_, w);
    }
}

#[repr(C, align(8))]
struct EventBuf([u8; 4096]);

/// The inotify descriptor's watcher callback.
///
/// # Safety
/// Called by the loop, on its thread, with the live loop `loop_`.
unsafe extern "C" fn on_inotify(loop_: *mut uv_loop_t, _w: *mut uv__io_t, _events: c_uint) {
    let mut buf = EventBuf([0; 4096]);
    loop {
        // A callback may have closed the loop's descriptor (loop fork).
        // SAFETY: `loop_` is live (contract).
        let fd = unsafe { (*loop_).inotify_fd };
        if fd == -1 {
            return;
        }
        // SAFETY: reads at most buf.0.len() bytes into the local buffer.
        let n = crate::sys::retry_eintr(|| unsafe {
            libc::read(fd, buf.0.as_mut_ptr() as *mut c_void, buf.0.len())
        });
        if n <= 0 {
            return;
        }
        let n = n as usize;
        let hdr = std::mem::size_of::<libc::inotify_event>();
        let mut off = 0;
        while off + hdr <= n {
            // SAFETY: the kernel returns whole events, each a header and
            // `len` name bytes, padded so the next header stays aligned
            // (buf is 8-aligned); off + hdr <= n bytes were read.
            let e = unsafe { buf.0.as_ptr().add(off) } as *const libc::inotify_event;
            // SAFETY: as above, `e` is an aligned, whole header in `buf`.
            let (wd, mask, len) = unsafe { ((*e).wd, (*e).mask, (*e).len as usize) };
            off += hdr + len;
            let mut events = 0;
            if mask & (libc::IN_ATTRIB | libc::IN_MODIFY) != 0 {
                events |= UV_CHANGE;
            }
            if mask & !(libc::IN_ATTRIB | libc::IN_MODIFY) != 0 {
                events |= UV_RENAME;
            }
            // SAFETY: the live loop (contract); looked up afresh for every
            // event, since callbacks may free lists.
            let w = unsafe { find(loop_, wd) };
            if w.is_null() {
                // Nobody watches it any more.
                continue;
            }
            // For a watched file (not a directory) inotify gives no name;
            // libuv reports the file's own basename instead.
            // SAFETY: a non-empty name follows the header in `buf`,
            // NUL-padded to `len` bytes; `w` is live (in the map).
            let name = unsafe {
                if len > 0 {
                    (e as *const u8).add(hdr) as *const c_char
                } else {
                    basename(&(*w).path)
                }
            };
            // SAFETY: `w` is a live list of this loop; `name` lives in the
            // local `buf` or in `w.path`, which deliver keeps alive while
            // its callbacks run.
            unsafe { deliver(loop_, w, name, events) };
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_event_init(loop_: *mut uv_loop_t, h: *mut uv_fs_event_t) -> c_int {
    if loop_.is_null() || h.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `loop_` is a live loop and `h` the caller's
    // uv_fs_event_t to initialise (both non-NULL checked).
    unsafe {
        handle::init(loop_, h as *mut uv_handle_t, UV_FS_EVENT);
        (*h).path = std::ptr::null_mut();
        (*h).cb = std::ptr::null_mut();
        (*h).wd = -1;
        queue::init(&mut (*h).watchers);
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_event_start(
    h: *mut uv_fs_event_t,
    cb: Option<uv_fs_event_cb>,
    path: *const c_char,
    _flags: c_uint,
) -> c_int {
    if h.is_null() || path.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: uv.h: `h` is a uv_fs_event_t initialised by uv_fs_event_init
    // (so its loop is live and this is the loop's thread) and `path` a C
    // string (both non-NULL checked). The list `w` is live: found in the map
    // or just made. No user callback runs in here.
    unsafe {
        if handle::is_active(h as *const uv_handle_t) {
            return -libc::EINVAL;
        }
        let loop_ = (*h).h.loop_;
        let err = init_inotify(loop_);
        if err != 0 {
            return err;
        }
        let mask = libc::IN_ATTRIB
            | libc::IN_CREATE
            | libc::IN_MODIFY
            | libc::IN_DELETE
            | libc::IN_DELETE_SELF
            | libc::IN_MOVE_SELF
            | libc::IN_MOVED_FROM
            | libc::IN_MOVED_TO;
        let wd = libc::inotify_add_watch((*loop_).inotify_fd, path, mask);
        if wd == -1 {
            return -*libc::__errno_location();
        }
        let mut w = find(loop_, wd);
        if w.is_null() {
            w = Box::into_raw(Box::new(WatchList {
                handles: uv__queue {
                    next: std::ptr::null_mut(),
                    prev: std::ptr::null_mut(),
                },
                iterating: 0,
                path: CStr::from_ptr(path).to_owned(),
                wd,
            }));
            queue::init(&mut (*w).handles);
            (*watches(loop_)).insert(wd, w);
        }
        handle::start(h as *mut uv_handle_t);
        queue::insert_tail(&mut (*w).handles, &mut (*h).watchers);
        // Shared with the list; cleared when the handle stops.
        (*h).path = (*w).path.as_ptr() as *mut c_char;
        (*h).cb = cb.map_or(std::ptr::null_mut(), |f| f as *mut c_void);
        (*h).wd = wd;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_event_stop(h: *mut uv_fs_event_t) -> c_int {
    // SAFETY: uv.h: `h` is NULL or a uv_fs_event_t initialised by
    // uv_fs_event_init; an active one is on the list of its wd, which is
    // live while it has handles or is being walked.
    unsafe {
        if h.is_null() || !handle::is_active(h as *const uv_handle_t) {
            return 0;
        }
        let loop_ = (*h).h.loop_;
        let w = find(loop_, (*h).wd);
        (*h).wd = -1;
        (*h).path = std::ptr::null_mut();
        handle::stop(h as *mut uv_handle_t);
        queue::remove(&mut (*h).watchers);
        if !w.is_null() {
            maybe_free(loop_, w);
        }
    }
    0
}

/// uv_close's part for an fs_event handle.
///
/// # Safety
/// `h` is an initialised uv_fs_event_t being closed on its loop's thread.
pub unsafe fn close(h: *mut uv_fs_event_t) {
    // SAFETY: as the contract says, which is uv_fs_event_stop's.
    unsafe { uv_fs_event_stop(h) };
}

#[no_mangle]
pub unsafe extern "C" fn uv_fs_event_getpath(
    h: *mut uv_fs_event_t,
    buffer: *mut c_char,
    size: *mut size_t,
) -> c_int {
    // SAFETY: uv.h: `h` is an initialised uv_fs_event_t, `buffer` holds
    // `*size` bytes (`size` checked non-NULL before the read). An active
    // handle's `path` is its list's C string, alive while it is started.
    unsafe {
        if buffer.is_null() || size.is_null() || *size == 0 {
            return -libc::EINVAL;
        }
        if !handle::is_active(h as *const uv_handle_t) || (*h).path.is_null() {
            *size = 0;
            return -libc::EINVAL;
        }
        copy_path((*h).path, buffer, size)
    }
}

/// Copies a path out as uv_fs_event_getpath/uv_fs_poll_getpath do:
/// UV_ENOBUFS with the size needed (NUL included) when it does not fit,
/// else the length without the NUL.
///
/// # Safety
/// `path` is a C string; `size` is valid for reads and writes and `buffer`
/// for writes of `*size` bytes, not overlapping `path`.
pub unsafe fn copy_path(path: *const c_char, buffer: *mut c_char, size: *mut size_t) -> c_int {
    // SAFETY: as the contract says; the copy happens only when len < *size.
    unsafe {
        let len = libc::strlen(path);
        if len >= *size {
            *size = len + 1;
            return -libc::ENOBUFS;
        }
        std::ptr::copy_nonoverlapping(path, buffer, len);
        *buffer.add(len) = 0;
        *size = len;
    }
    0
}

/// uv_loop_close's part: the inotify descriptor and the watch lists.
/// Every fs_event handle is closed by then.
///
/// # Safety
/// `loop_` is a live loop being closed on its thread, with no fs_event
/// handle left and no callback running.
pub unsafe fn loop_close(loop_: *mut uv_loop_t) {
    // SAFETY: `loop_` is live (contract); the descriptor is ours, closed
    // once; the map and every list in it came from Box::into_raw and nothing
    // refers to them any more (no handles, no walk), so each is freed once.
    unsafe {
        if (*loop_).inotify_fd != -1 {
            watcher::close(loop_, &mut (*loop_).inotify_read_watcher);
            libc::close((*loop_).inotify_fd);
            (*loop_).inotify_fd = -1;
        }
        if !(*loop_).inotify_watchers.is_null() {
            let map = Box::from_raw((*loop_).inotify_watchers as *mut Watches);
            for (_, w) in map.into_iter() {
                drop(Box::from_raw(w));
            }
            (*loop_).inotify_watchers = std::ptr::null_mut();
        }
    }
}

/// uv_loop_fork's part: the child gets its own inotify descriptor and every
/// active handle is watched again through it.
///
/// # Safety
/// `loop_` is a live loop, used on its own thread, with no fs_event
/// callback running.
pub unsafe fn loop_fork(loop_: *mut uv_loop_t) -> c_int {
    // SAFETY: `loop_` is live (contract). Every list in the map is live and
    // holds started handles (lists are freed when their last handle stops);
    // the list pointers are copied out before any handle is stopped, and
    // each handle's path is cloned because stopping frees the list.
    unsafe {
        if (*loop_).inotify_fd == -1 {
            return 0;
        }
        // Collect the handles with their paths, stop them all, start afresh.
        let mut restart: Vec<(*mut uv_fs_event_t, CString)> = Vec::new();
        let lists: Vec<*mut WatchList> = (*watches(loop_)).values().copied().collect();
        for w in lists {
            let head: *mut uv__queue = &mut (*w).handles;
            let mut q = (*head).next;
            while q != head {
                let h = crate::container_of!(q, uv_fs_event_t, watchers);
                restart.push((h, (*w).path.clone()));
                q = (*q).next;
            }
        }
        // The descriptor goes first: after fork it still names the parent's
        // inotify instance, and the stops below must not inotify_rm_watch the
        // parent's watches from it (with the descriptor at -1 they cannot).
        watcher::close(loop_, &mut (*loop_).inotify_read_watcher);
        libc::close((*loop_).inotify_fd);
        (*loop_).inotify_fd = -1;
        for (h, _) in &restart {
            uv_fs_event_stop(*h);
        }
        for (h, path) in restart {
            let cb = cb_of(h);
            let err = uv_fs_event_start(h, cb, path.as_ptr(), 0);
            if err != 0 {
                return err;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::uv_close;
    use crate::loop_::{uv_loop_close, uv_loop_init, uv_run, UV_RUN_NOWAIT};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static A_CALLS: AtomicUsize = AtomicUsize::new(0);
    static B_CALLS: AtomicUsize = AtomicUsize::new(0);

    /// A fresh directory holding an empty file; the file's path.
    fn watched_file(tag: &str) -> (std::path::PathBuf, CString) {
        let dir =
            std::env::temp_dir().join(format!("uvring-fs-event-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("watched");
        std::fs::write(&file, b"").unwrap();
        let path = CString::new(file.as_os_str().as_encoded_bytes()).unwrap();
        (dir, path)
    }

    /// A heap loop, initialised; `close_loop` ends it.
    fn new_loop() -> *mut uv_loop_t {
        let lp =
            Box::into_raw(Box::new(std::mem::MaybeUninit::<uv_loop_t>::zeroed())) as *mut uv_loop_t;
        // SAFETY: `lp` is a fresh zeroed allocation of a uv_loop_t.
        assert_eq!(unsafe { uv_loop_init(lp) }, 0);
        lp
    }

    /// Runs the pending closes, closes and frees a `new_loop`.
    ///
    /// # Safety
    /// `lp` came from `new_loop`; all its handles are closing or closed.
    unsafe fn close_loop(lp: *mut uv_loop_t) {
        // SAFETY: a live loop from new_loop, freed once after uv_loop_close.
        unsafe {
            uv_run(lp, UV_RUN_NOWAIT);
            assert_eq!(uv_loop_close(lp), 0);
            drop(Box::from_raw(lp as *mut std::mem::MaybeUninit<uv_loop_t>));
        }
    }

    /// Appends one byte to the watched file: one IN_MODIFY.
    fn touch(path: &CStr) {
        use std::io::Write;
        let p = std::path::Path::new(std::ffi::OsStr::new(path.to_str().unwrap()));
        let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
        f.write_all(b"x").unwrap();
    }

    /// The first handle stops itself, touches the file and runs the loop
    /// once more from inside its callback: the nested delivery on the same
    /// list finds it empty while the outer one still holds `b`.
    unsafe extern "C" fn cb_a(h: *mut uv_fs_event_t, _: *const c_char, _: c_int, _: c_int) {
        A_CALLS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: `h` is the test's live handle; its data is the watched
        // path (a CString the test keeps alive); the loop is live.
        unsafe {
            uv_fs_event_stop(h);
            touch(CStr::from_ptr((*h).h.data as *const c_char));
            uv_run((*h).h.loop_, UV_RUN_NOWAIT);
        }
    }

    unsafe extern "C" fn cb_b(_: *mut uv_fs_event_t, _: *const c_char, _: c_int, _: c_int) {
        B_CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn nested_run_keeps_the_list_of_a_waiting_handle() {
        let (dir, path) = watched_file("nested");
        // SAFETY: the loop and handles are boxed and outlive every use (the
        // handles are closed and the loop closed before they drop); `path`
        // outlives the handles that point at it.
        unsafe {
            let lp = new_loop();
            let a = Box::into_raw(Box::new(std::mem::zeroed::<uv_fs_event_t>()));
            let b = Box::into_raw(Box::new(std::mem::zeroed::<uv_fs_event_t>()));
            for (h, cb) in [(a, cb_a as uv_fs_event_cb), (b, cb_b as uv_fs_event_cb)] {
                assert_eq!(uv_fs_event_init(lp, h), 0);
                (*h).h.data = path.as_ptr() as *mut c_void;
                assert_eq!(uv_fs_event_start(h, Some(cb), path.as_ptr(), 0), 0);
            }
            touch(&path);
            uv_run(lp, UV_RUN_NOWAIT);
            assert_eq!(A_CALLS.load(Ordering::SeqCst), 1);
            assert!(B_CALLS.load(Ordering::SeqCst) >= 1);
            // `b` is still watching: its list and the kernel's watch remain.
            assert!(handle::is_active(b as *const uv_handle_t));
            assert!(!find(lp, (*b).wd).is_null(), "b's watch list was freed");
            let before = B_CALLS.load(Ordering::SeqCst);
            touch(&path);
            uv_run(lp, UV_RUN_NOWAIT);
            assert!(
                B_CALLS.load(Ordering::SeqCst) > before,
                "b no longer notified"
            );

            uv_close(a as *mut uv_handle_t, None);
            uv_close(b as *mut uv_handle_t, None);
            close_loop(lp);
            drop(Box::from_raw(a));
            drop(Box::from_raw(b));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    unsafe extern "C" fn cb_none(_: *mut uv_fs_event_t, _: *const c_char, _: c_int, _: c_int) {}

    /// After fork the child's inotify descriptor still names the parent's
    /// instance: uv_loop_fork's part must leave the parent's watches alone.
    /// A dup of the old descriptor stands for the parent here.
    #[test]
    fn loop_fork_leaves_the_old_instance_its_watches() {
        let (dir, path) = watched_file("fork");
        // SAFETY: the loop and handle are boxed and outlive every use (the
        // handle and the loop are closed before they drop); `buf` is a local
        // of its true size; `parent` is our dup, closed once.
        unsafe {
            let lp = new_loop();
            let h = Box::into_raw(Box::new(std::mem::zeroed::<uv_fs_event_t>()));
            assert_eq!(uv_fs_event_init(lp, h), 0);
            assert_eq!(uv_fs_event_start(h, Some(cb_none), path.as_ptr(), 0), 0);
            let parent = libc::fcntl((*lp).inotify_fd, libc::F_DUPFD_CLOEXEC, 0);
            assert!(parent >= 0);
            let old_wd = (*h).wd;

            assert_eq!(loop_fork(lp), 0);
            assert!(handle::is_active(h as *const uv_handle_t));

            // The old instance still watches the file: a change arrives
            // there as IN_MODIFY, and no IN_IGNORED announces a removal.
            touch(&path);
            let mut buf = [0u8; 4096];
            let n = libc::read(parent, buf.as_mut_ptr() as *mut c_void, buf.len());
            assert!(n > 0, "no event on the old instance");
            let hdr = std::mem::size_of::<libc::inotify_event>();
            let (mut off, mut modified) = (0usize, false);
            while off + hdr <= n as usize {
                let e =
                    std::ptr::read_unaligned(buf.as_ptr().add(off) as *const libc::inotify_event);
                assert_eq!(e.wd, old_wd);
                assert_eq!(
                    e.mask & libc::IN_IGNORED,
                    0,
                    "the old instance lost its watch"
                );
                modified |= e.mask & libc::IN_MODIFY != 0;
                off += hdr + e.len as usize;
            }
            assert!(modified);
            libc::close(parent);

            uv_close(h as *mut uv_handle_t, None);
            close_loop(lp);
            drop(Box::from_raw(h));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
