//! Behaviour tests against the real file system, through the C entry points.

use super::*;
use crate::error::UV_EOF;
use std::ffi::{CStr, CString};
use std::mem::MaybeUninit;

fn tmpdir(tag: &str) -> String {
    let d = std::env::temp_dir().join(format!("uvring-fs-{}-{}", tag, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.to_str().unwrap().to_owned()
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn new_req() -> Box<uv_fs_t> {
    // SAFETY: uv_fs_t is integers, raw pointers and an Option of a function
    // pointer: all-zero bytes are a valid value (no callback, null pointers).
    Box::new(unsafe { MaybeUninit::zeroed().assume_init() })
}

fn buf(v: &mut [u8]) -> uv_buf_t {
    uv_buf_t {
        base: v.as_mut_ptr() as *mut c_char,
        len: v.len(),
    }
}

#[test]
fn sync_open_write_read_stat() {
    let d = tmpdir("rw");
    let p = cs(&format!("{d}/f"));
    let mut req = new_req();
    // SAFETY: sync calls on a request, paths and buffers of this frame,
    // alive across each call; the descriptor is the one opened here.
    unsafe {
        let fd = uv_fs_open(
            null_mut(),
            &mut *req,
            p.as_ptr(),
            libc::O_CREAT | libc::O_RDWR,
            0o644,
            None,
        );
        assert!(fd >= 0);
        assert_eq!(req.result, fd as isize);
        assert_eq!(req.path, p.as_ptr());
        uv_fs_req_cleanup(&mut *req);

        // Several buffers, more than bufsml holds.
        let mut parts: Vec<Vec<u8>> = (0..6).map(|i| vec![b'a' + i; 3]).collect();
        let bufs: Vec<uv_buf_t> = parts.iter_mut().map(|v| buf(v)).collect();
        let n = uv_fs_write(null_mut(), &mut *req, fd, bufs.as_ptr(), 6, 0, None);
        assert_eq!(n, 18);
        uv_fs_req_cleanup(&mut *req);

        let mut out = [0u8; 32];
        let b = buf(&mut out[..]);
        let n = uv_fs_read(null_mut(), &mut *req, fd, &b, 1, 3, None);
        assert_eq!(n, 15);
        assert_eq!(&out[..6], b"bbbccc");
        uv_fs_req_cleanup(&mut *req);

        assert_eq!(uv_fs_fstat(null_mut(), &mut *req, fd, None), 0);
        assert_eq!(req.statbuf.st_size, 18);
        assert_eq!(req.ptr, &mut req.statbuf as *mut _ as *mut c_void);
        assert!(req.statbuf.st_birthtim.tv_sec > 0);
        uv_fs_req_cleanup(&mut *req);
        assert!(req.ptr.is_null());

        assert_eq!(uv_fs_close(null_mut(), &mut *req, fd, None), 0);
        assert_eq!(uv_fs_close(null_mut(), &mut *req, fd, None), -libc::EBADF);
        uv_fs_req_cleanup(&mut *req);
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn errors_and_null_args() {
    let mut req = new_req();
    let missing = cs("/nonexistent/uvring/xyz");
    // SAFETY: sync calls on this frame's request and string, or null
    // pointers, which the entry points refuse.
    unsafe {
        assert_eq!(
            uv_fs_stat(null_mut(), &mut *req, missing.as_ptr(), None),
            -libc::ENOENT
        );
        assert_eq!(req.result, -libc::ENOENT as isize);
        assert_eq!(uv_fs_get_system_error(&*req), libc::ENOENT);
        assert!(req.ptr.is_null());
        uv_fs_req_cleanup(&mut *req);
        uv_fs_req_cleanup(&mut *req);
        assert_eq!(
            uv_fs_stat(null_mut(), null_mut(), missing.as_ptr(), None),
            -libc::EINVAL
        );
        assert_eq!(
            uv_fs_read(null_mut(), &mut *req, 0, ptr::null(), 0, -1, None),
            -libc::EINVAL
        );
        assert_eq!(
            uv_fs_copyfile(
                null_mut(),
                &mut *req,
                missing.as_ptr(),
                missing.as_ptr(),
                8,
                None
            ),
            -libc::EINVAL
        );
        uv_fs_req_cleanup(null_mut());
    }
}

#[test]
fn scandir_sorted_and_freed() {
    let d = tmpdir("scan");
    for n in ["b", "a", "c"] {
        std::fs::write(format!("{d}/{n}"), b"x").unwrap();
    }
    std::fs::create_dir(format!("{d}/dd")).unwrap();
    let p = cs(&d);
    let mut req = new_req();
    // SAFETY: sync calls on this frame's request, string and dirent; the
    // names read are the request's entries, alive until the next call.
    unsafe {
        assert_eq!(uv_fs_scandir(null_mut(), &mut *req, p.as_ptr(), 0, None), 4);
        let mut ent = uv_dirent_t {
            name: ptr::null(),
            type_: 0,
        };
        let mut names = Vec::new();
        while uv_fs_scandir_next(&mut *req, &mut ent) == 0 {
            names.push((
                CStr::from_ptr(ent.name).to_str().unwrap().to_owned(),
                ent.type_,
            ));
        }
        assert_eq!(
            names,
            vec![
                ("a".into(), UV_DIRENT_FILE),
                ("b".into(), UV_DIRENT_FILE),
                ("c".into(), UV_DIRENT_FILE),
                ("dd".into(), UV_DIRENT_DIR)
            ]
        );
        assert_eq!(uv_fs_scandir_next(&mut *req, &mut ent), UV_EOF);
        uv_fs_req_cleanup(&mut *req);

        // Early exit: cleanup frees the rest.
        assert_eq!(uv_fs_scandir(null_mut(), &mut *req, p.as_ptr(), 0, None), 4);
        assert_eq!(uv_fs_scandir_next(&mut *req, &mut ent), 0);
        uv_fs_req_cleanup(&mut *req);
        uv_fs_req_cleanup(&mut *req);
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn opendir_readdir_closedir() {
    let d = tmpdir("rd");
    for n in ["x", "y", "z"] {
        std::fs::write(format!("{d}/{n}"), b"").unwrap();
    }
    let p = cs(&d);
    let mut req = new_req();
    // SAFETY: sync calls on this frame's request and string; `dir` is the
    // uv_dir_t opendir gave, lent this frame's dirents (zeroed: null names)
    // until closedir frees it.
    unsafe {
        assert_eq!(uv_fs_opendir(null_mut(), &mut *req, p.as_ptr(), None), 0);
        let dir = req.ptr as *mut uv_dir_t;
        uv_fs_req_cleanup(&mut *req);
        let mut ents: [uv_dirent_t; 2] = MaybeUninit::zeroed().assume_init();
        (*dir).dirents = ents.as_mut_ptr();
        (*dir).nentries = 2;
        let mut total = 0;
        loop {
            let n = uv_fs_readdir(null_mut(), &mut *req, dir, None);
            assert!(n >= 0);
            total += n;
            uv_fs_req_cleanup(&mut *req);
            if n == 0 {
                break;
            }
        }
        assert_eq!(total, 3);
        assert_eq!(uv_fs_closedir(null_mut(), &mut *req, dir, None), 0);
        uv_fs_req_cleanup(&mut *req);
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn copyfile_links_and_temp_names() {
    let d = tmpdir("cp");
    let src = format!("{d}/src");
    std::fs::write(&src, vec![7u8; 100_000]).unwrap();
    let (s, t) = (cs(&src), cs(&format!("{d}/dst")));
    let mut req = new_req();
    // SAFETY: sync calls on this frame's request and strings; the results
    // read (`ptr`, `path`) are the request's until its cleanup; `fd` is the
    // one mkstemp opened.
    unsafe {
        assert_eq!(
            uv_fs_copyfile(null_mut(), &mut *req, s.as_ptr(), t.as_ptr(), 0, None),
            0
        );
        uv_fs_req_cleanup(&mut *req);
        assert_eq!(std::fs::read(format!("{d}/dst")).unwrap().len(), 100_000);
        assert_eq!(
            uv_fs_copyfile(
                null_mut(),
                &mut *req,
                s.as_ptr(),
                t.as_ptr(),
                UV_FS_COPYFILE_EXCL,
                None
            ),
            -libc::EEXIST
        );
        uv_fs_req_cleanup(&mut *req);

        let l = cs(&format!("{d}/lnk"));
        assert_eq!(
            uv_fs_symlink(null_mut(), &mut *req, s.as_ptr(), l.as_ptr(), 0, None),
            0
        );
        uv_fs_req_cleanup(&mut *req);
        assert_eq!(uv_fs_readlink(null_mut(), &mut *req, l.as_ptr(), None), 0);
        assert_eq!(
            CStr::from_ptr(req.ptr as *const c_char).to_bytes(),
            src.as_bytes()
        );
        uv_fs_req_cleanup(&mut *req);
        assert_eq!(uv_fs_realpath(null_mut(), &mut *req, l.as_ptr(), None), 0);
        uv_fs_req_cleanup(&mut *req);
        assert_eq!(uv_fs_lstat(null_mut(), &mut *req, l.as_ptr(), None), 0);
        assert_eq!(req.statbuf.st_mode as u32 & libc::S_IFMT, libc::S_IFLNK);
        uv_fs_req_cleanup(&mut *req);

        let tpl = cs(&format!("{d}/tmpXXXXXX"));
        let fd = uv_fs_mkstemp(null_mut(), &mut *req, tpl.as_ptr(), None);
        assert!(fd >= 0);
        assert_ne!(req.path, tpl.as_ptr());
        assert!(!CStr::from_ptr(req.path).to_bytes().ends_with(b"XXXXXX"));
        uv_fs_req_cleanup(&mut *req);
        libc::close(fd);
        let bad = cs(&format!("{d}/tmpXXXXX"));
        assert_eq!(
            uv_fs_mkstemp(null_mut(), &mut *req, bad.as_ptr(), None),
            -libc::EINVAL
        );
        assert_eq!(*req.path, 0);
        uv_fs_req_cleanup(&mut *req);
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn timespec_conversion() {
    let t = ops::to_timespec(1.5);
    assert_eq!((t.tv_sec, t.tv_nsec), (1, 500_000_000));
    let t = ops::to_timespec(-1.25);
    assert_eq!((t.tv_sec, t.tv_nsec), (-2, 750_000_000));
    assert_eq!(ops::to_timespec(f64::INFINITY).tv_nsec, libc::UTIME_NOW);
    assert_eq!(ops::to_timespec(f64::NAN).tv_nsec, libc::UTIME_OMIT);
}

#[test]
fn advance_bufs_partial() {
    let mut a = [0u8; 4];
    let mut b = [0u8; 4];
    let mut v = [buf(&mut a), buf(&mut b)];
    // SAFETY: two entries, each naming one of this frame's arrays.
    unsafe {
        assert_eq!(ops::advance_bufs(v.as_mut_ptr(), 2, 6), 1);
    }
    assert_eq!(v[1].len, 2);
}

static ASYNC_DONE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

/// # Safety
/// `req` is the test's finished stat request.
unsafe extern "C" fn on_stat(req: *mut uv_fs_t) {
    // SAFETY: per the contract; cleaned up once, not used after.
    unsafe {
        assert_eq!((*req).fs_type, UV_FS_STAT);
        ASYNC_DONE.store((*req).result + 1, std::sync::atomic::Ordering::SeqCst);
        uv_fs_req_cleanup(req);
    }
}

#[test]
fn async_stat_on_loop() {
    // SAFETY: a zeroed uv_loop_t is what uv_loop_init expects; the loop,
    // request and path live on this frame until the loop is closed.
    unsafe {
        let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
        assert_eq!(crate::loop_::uv_loop_init(&mut *lp), 0);
        let mut req = new_req();
        let p = cs("/");
        assert_eq!(
            uv_fs_stat(&mut *lp, &mut *req, p.as_ptr(), Some(on_stat)),
            0
        );
        // Async requests own a copy of the path.
        assert_ne!(req.path, p.as_ptr());
        assert_eq!(lp.active_reqs, 1);
        crate::loop_::uv_run(&mut *lp, crate::loop_::UV_RUN_DEFAULT);
        assert_eq!(ASYNC_DONE.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(lp.active_reqs, 0);
        assert!(req.path.is_null());
        assert_eq!(crate::loop_::uv_loop_close(&mut *lp), 0);
    }
}

/// What the partial-write scenario's callbacks share, through loop->data.
struct PartialWrite {
    req: Box<uv_fs_t>,
    /// The pipe's ends.
    fd: c_int,
    read_fd: c_int,
    bufs: Vec<uv_buf_t>,
    /// Bytes written when the check phase ran, and uv_cancel's answer then.
    seen: Option<(isize, c_int)>,
    result: Option<isize>,
}

/// # Safety
/// `h` is the test's prepare handle, on a loop whose data is its
/// PartialWrite.
unsafe extern "C" fn pw_write(h: *mut crate::abi::uv_prepare_t) {
    // SAFETY: loop->data is the test's PartialWrite, alive across uv_run.
    let st = unsafe { &mut *((*(*h).h.loop_).data as *mut PartialWrite) };
    // SAFETY: the request and buffer list are the test's and outlive the
    // loop run; the buffers' memory is the test's `data` vector.
    let r = unsafe {
        let (lp, fd, bufs, n) = ((*h).h.loop_, st.fd, st.bufs.as_ptr(), st.bufs.len());
        crate::loop_watcher::uv_prepare_stop(h);
        uv_fs_write(lp, &mut *st.req, fd, bufs, n as c_uint, -1, Some(pw_done))
    };
    assert_eq!(r, 0);
}

/// # Safety
/// `h` is the test's check handle, on a loop whose data is its
/// PartialWrite.
unsafe extern "C" fn pw_cancel(h: *mut crate::abi::uv_check_t) {
    // SAFETY: as in pw_write.
    let st = unsafe { &mut *((*(*h).h.loop_).data as *mut PartialWrite) };
    // SAFETY: `h` is the test's check handle; the request is in flight.
    let c = unsafe {
        crate::loop_watcher::uv_check_stop(h);
        crate::work::uv_cancel(&mut *st.req as *mut uv_fs_t as *mut uv_req_t)
    };
    st.seen = Some((st.req.result, c));
    // Without a reader the rest of the write fails at once (EPIPE; the test
    // harness ignores SIGPIPE) instead of waiting in the ring for room.
    // SAFETY: the test's own descriptor, closed once.
    unsafe { libc::close(st.read_fd) };
}

/// # Safety
/// `req` is the test's finished write, on a loop whose data is its
/// PartialWrite.
unsafe extern "C" fn pw_done(req: *mut uv_fs_t) {
    // SAFETY: `req` is the test's request, finished; loop->data as above.
    unsafe {
        let st = &mut *((*(*req).loop_).data as *mut PartialWrite);
        st.result = Some((*req).result);
        uv_fs_req_cleanup(req);
    }
}

/// A write the ring has partly done (a non-blocking pipe takes a pipe's
/// worth, the rest waits for the next submission) cannot be cancelled:
/// its buffer list has moved on. It once could, and uv_fs_req_cleanup
/// then freed the list from its moved start (glibc: free(): invalid pointer).
#[test]
fn ring_partial_write_is_not_cancelled() {
    // SAFETY: a zeroed uv_loop_t is what uv_loop_init expects; every handle
    // and request below lives on this frame until the loop is closed.
    unsafe {
        let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
        assert_eq!(crate::loop_::uv_loop_init(&mut *lp), 0);
        if (*crate::loop_::inner(&mut *lp)).backend.ring().is_none() {
            eprintln!("ring_partial_write_is_not_cancelled: NOT RUN, this loop has no io_uring (policy or kernel)");
            assert_eq!(crate::loop_::uv_loop_close(&mut *lp), 0);
            return;
        }
        let mut fds = [0; 2];
        assert_eq!(
            libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC),
            0
        );
        // The smallest pipe the kernel allows (one page).
        let cap = libc::fcntl(fds[1], libc::F_SETPIPE_SZ, 4096);
        assert!(cap > 0);
        let half = cap as usize / 2;
        let mut data = vec![b'w'; half * 6];
        let bufs = data.chunks_mut(half).map(buf).collect();
        let mut st = PartialWrite {
            req: new_req(),
            fd: fds[1],
            read_fd: fds[0],
            bufs,
            seen: None,
            result: None,
        };
        lp.data = &mut st as *mut PartialWrite as *mut c_void;
        let mut prep: Box<crate::abi::uv_prepare_t> = Box::new(MaybeUninit::zeroed().assume_init());
        let mut check: Box<crate::abi::uv_check_t> = Box::new(MaybeUninit::zeroed().assume_init());
        crate::loop_watcher::uv_prepare_init(&mut *lp, &mut *prep);
        crate::loop_watcher::uv_prepare_start(&mut *prep, Some(pw_write));
        crate::loop_watcher::uv_check_init(&mut *lp, &mut *check);
        crate::loop_watcher::uv_check_start(&mut *check, Some(pw_cancel));
        crate::loop_::uv_run(&mut *lp, crate::loop_::UV_RUN_DEFAULT);
        // The first turn's completion wrote one pipe's worth; the rest was
        // waiting for the ring when uv_cancel came.
        assert_eq!(st.seen, Some((cap as isize, -libc::EBUSY)));
        // The rest fails: the write reports what it did.
        assert_eq!(st.result, Some(cap as isize));
        crate::handle::uv_close(&mut *prep as *mut _ as *mut uv_handle_t, None);
        crate::handle::uv_close(&mut *check as *mut _ as *mut uv_handle_t, None);
        crate::loop_::uv_run(&mut *lp, crate::loop_::UV_RUN_DEFAULT);
        assert_eq!(crate::loop_::uv_loop_close(&mut *lp), 0);
        libc::close(fds[1]);
        drop(data);
    }
}

/// # Safety
/// `req` is a finished request of the test below, whose loop's data is its
/// results vector.
unsafe extern "C" fn on_given_up(req: *mut uv_fs_t) {
    // SAFETY: per the contract; the vector outlives the loop run.
    unsafe {
        let got = &mut *((*(*req).loop_).data as *mut Vec<(c_int, isize)>);
        got.push(((*req).fs_type, (*req).result));
        uv_fs_req_cleanup(req);
    }
}

/// File requests on a loop whose ring the kernel stops taking entries from
/// (its descriptor made to name /dev/null) still complete, with their real
/// results: the ring hands them back and the pool runs them; later ones go
/// to the pool directly.
#[test]
fn ring_given_up_sends_its_operations_to_the_pool() {
    let d = tmpdir("givenup");
    let path = format!("{d}/f");
    std::fs::write(&path, b"0123456789").unwrap();
    let p = cs(&path);
    // SAFETY: a zeroed uv_loop_t is what uv_loop_init expects; the loop,
    // requests, buffer and results live on this frame until the loop is
    // closed; the descriptors are the test's.
    unsafe {
        let mut lp: Box<uv_loop_t> = Box::new(MaybeUninit::zeroed().assume_init());
        assert_eq!(crate::loop_::uv_loop_init(&mut *lp), 0);
        let Some(ring_fd) = (*crate::loop_::inner(&mut *lp))
            .backend
            .ring()
            .map(|r| r.fd())
        else {
            eprintln!("ring_given_up_sends_its_operations_to_the_pool: NOT RUN, this loop has no io_uring (policy or kernel)");
            assert_eq!(crate::loop_::uv_loop_close(&mut *lp), 0);
            return;
        };
        let mut got: Vec<(c_int, isize)> = Vec::new();
        lp.data = &mut got as *mut _ as *mut c_void;
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        assert!(null >= 0);
        assert!(libc::dup2(null, ring_fd) >= 0);

        let fd = libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        assert!(fd >= 0);
        let (mut r1, mut r2, mut r3) = (new_req(), new_req(), new_req());
        let mut out = [0u8; 4];
        let b = buf(&mut out);
        // Queued for the ring from inside the loop (a timer), as a loop
        // turn does; the ring fails when the loop submits them.
        let mut t: Box<crate::abi::uv_timer_t> = Box::new(MaybeUninit::zeroed().assume_init());
        struct Start {
            p: *const c_char,
            fd: c_int,
            b: uv_buf_t,
            r1: *mut uv_fs_t,
            r2: *mut uv_fs_t,
        }
        let mut st = Start {
            p: p.as_ptr(),
            fd,
            b,
            r1: &mut *r1,
            r2: &mut *r2,
        };
        t.h.data = &mut st as *mut Start as *mut c_void;
        unsafe extern "C" fn go(t: *mut crate::abi::uv_timer_t) {
            // SAFETY: the timer's data is the test's Start, alive across uv_run.
            unsafe {
                let st = &*((*t).h.data as *const Start);
                let lp = (*t).h.loop_;
                assert_eq!(uv_fs_stat(lp, st.r1, st.p, Some(on_given_up)), 0);
                assert_eq!(
                    uv_fs_read(lp, st.r2, st.fd, &st.b, 1, 2, Some(on_given_up)),
                    0
                );
            }
        }
        crate::timer::uv_timer_init(&mut *lp, &mut *t);
        crate::timer::uv_timer_start(&mut *t, Some(go), 0, 0);
        crate::loop_::uv_run(&mut *lp, crate::loop_::UV_RUN_DEFAULT);
        got.sort();
        assert_eq!(got, vec![(UV_FS_READ, 4), (UV_FS_STAT, 0)]);
        assert_eq!(&out, b"2345");
        let ring = (*crate::loop_::inner(&mut *lp)).backend.ring().unwrap();
        assert!(!ring.usable());
        // A request made inside the loop later goes to the pool at once.
        got.clear();
        // Through the timer's pointer, as the callback reads it.
        (*(t.h.data as *mut Start)).r1 = &mut *r3;
        unsafe extern "C" fn go_again(t: *mut crate::abi::uv_timer_t) {
            // SAFETY: as in `go`.
            unsafe {
                let st = &*((*t).h.data as *const Start);
                let lp = (*t).h.loop_;
                assert_eq!(uv_fs_stat(lp, st.r1, st.p, Some(on_given_up)), 0);
                let ring = (*crate::loop_::inner(lp)).backend.ring().unwrap();
                assert_eq!(ring.in_flight(), 0);
            }
        }
        crate::timer::uv_timer_start(&mut *t, Some(go_again), 0, 0);
        crate::loop_::uv_run(&mut *lp, crate::loop_::UV_RUN_DEFAULT);
        assert_eq!(got, vec![(UV_FS_STAT, 0)]);
        crate::handle::uv_close(&mut *t as *mut _ as *mut uv_handle_t, None);
        crate::loop_::uv_run(&mut *lp, crate::loop_::UV_RUN_DEFAULT);
        assert_eq!(crate::loop_::uv_loop_close(&mut *lp), 0);
        libc::close(fd);
        libc::close(null);
    }
    let _ = std::fs::remove_dir_all(&d);
}
