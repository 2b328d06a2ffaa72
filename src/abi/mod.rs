//! repr(C) mirrors of libuv 1.50's public structs on Linux (x86_64, aarch64).
//!
//! This is the only place where a field offset is written down. Every struct
//! is checked against the sizes libuv has (see the `layout` tests below and
//! compat/abi, which compares against libuv's own headers).
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_long, c_uint, c_ulong, c_void, size_t, ssize_t};

/// libuv's intrusive doubly linked list node (`struct uv__queue`).
#[repr(C)]
#[derive(Debug)]
pub struct uv__queue {
    pub next: *mut uv__queue,
    pub prev: *mut uv__queue,
}

pub type uv__io_cb = Option<unsafe extern "C" fn(*mut uv_loop_t, *mut uv__io_t, c_uint)>;

/// The descriptor watcher embedded in loops, streams, polls and UDP handles.
/// `fd` is read by real programs and must stay the descriptor.
#[repr(C)]
pub struct uv__io_t {
    pub cb: uv__io_cb,
    pub pending_queue: uv__queue,
    pub watcher_queue: uv__queue,
    pub pevents: c_uint,
    pub events: c_uint,
    pub fd: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct uv_buf_t {
    pub base: *mut c_char,
    pub len: size_t,
}

/// `struct uv__work`, the thread pool's unit of work.
#[repr(C)]
pub struct uv__work {
    pub work: Option<unsafe extern "C" fn(*mut uv__work)>,
    pub done: Option<unsafe extern "C" fn(*mut uv__work, c_int)>,
    pub loop_: *mut uv_loop_t,
    pub wq: uv__queue,
}

pub type uv_handle_type = c_int;
pub const UV_UNKNOWN_HANDLE: c_int = 0;
pub const UV_ASYNC: c_int = 1;
pub const UV_CHECK: c_int = 2;
pub const UV_FS_EVENT: c_int = 3;
pub const UV_FS_POLL: c_int = 4;
pub const UV_HANDLE: c_int = 5;
pub const UV_IDLE: c_int = 6;
pub const UV_NAMED_PIPE: c_int = 7;
pub const UV_POLL: c_int = 8;
pub const UV_PREPARE: c_int = 9;
pub const UV_PROCESS: c_int = 10;
pub const UV_STREAM: c_int = 11;
pub const UV_TCP: c_int = 12;
pub const UV_TIMER: c_int = 13;
pub const UV_TTY: c_int = 14;
pub const UV_UDP: c_int = 15;
pub const UV_SIGNAL: c_int = 16;
pub const UV_FILE: c_int = 17;
pub const UV_HANDLE_TYPE_MAX: c_int = 18;

pub type uv_req_type = c_int;
pub const UV_UNKNOWN_REQ: c_int = 0;
pub const UV_REQ: c_int = 1;
pub const UV_CONNECT: c_int = 2;
pub const UV_WRITE: c_int = 3;
pub const UV_SHUTDOWN: c_int = 4;
pub const UV_UDP_SEND: c_int = 5;
pub const UV_FS: c_int = 6;
pub const UV_WORK: c_int = 7;
pub const UV_GETADDRINFO: c_int = 8;
pub const UV_GETNAMEINFO: c_int = 9;
pub const UV_RANDOM: c_int = 10;
pub const UV_REQ_TYPE_MAX: c_int = 11;

pub type uv_close_cb = Option<unsafe extern "C" fn(*mut uv_handle_t)>;
pub type uv_timer_cb = Option<unsafe extern "C" fn(*mut uv_timer_t)>;
pub type uv_idle_cb = Option<unsafe extern "C" fn(*mut uv_idle_t)>;
pub type uv_prepare_cb = Option<unsafe extern "C" fn(*mut uv_prepare_t)>;
pub type uv_check_cb = Option<unsafe extern "C" fn(*mut uv_check_t)>;
pub type uv_async_cb = Option<unsafe extern "C" fn(*mut uv_async_t)>;
pub type uv_walk_cb = Option<unsafe extern "C" fn(*mut uv_handle_t, *mut c_void)>;
pub type uv_work_cb = Option<unsafe extern "C" fn(*mut uv_work_t)>;
pub type uv_after_work_cb = Option<unsafe extern "C" fn(*mut uv_work_t, c_int)>;
pub type uv_alloc_cb = Option<unsafe extern "C" fn(*mut uv_handle_t, size_t, *mut uv_buf_t)>;
pub type uv_read_cb = Option<unsafe extern "C" fn(*mut uv_stream_t, ssize_t, *const uv_buf_t)>;
pub type uv_connection_cb = Option<unsafe extern "C" fn(*mut uv_stream_t, c_int)>;
pub type uv_signal_cb = Option<unsafe extern "C" fn(*mut uv_signal_t, c_int)>;
pub type uv_random_cb = Option<unsafe extern "C" fn(*mut uv_random_t, c_int, *mut c_void, size_t)>;
pub type uv_fs_cb = Option<unsafe extern "C" fn(*mut uv_fs_t)>;

/// The common head of every handle (`UV_HANDLE_FIELDS`).
#[repr(C)]
pub struct uv_handle_t {
    pub data: *mut c_void,
    pub loop_: *mut uv_loop_t,
    pub type_: uv_handle_type,
    pub close_cb: uv_close_cb,
    pub handle_queue: uv__queue,
    pub u: [*mut c_void; 4],
    pub next_closing: *mut uv_handle_t,
    pub flags: c_uint,
}

/// The common head of every request (`UV_REQ_FIELDS`).
#[repr(C)]
pub struct uv_req_t {
    pub data: *mut c_void,
    pub type_: uv_req_type,
    pub reserved: [*mut c_void; 6],
}

#[repr(C)]
pub struct uv_stream_t {
    pub h: uv_handle_t,
    pub write_queue_size: size_t,
    pub alloc_cb: uv_alloc_cb,
    pub read_cb: uv_read_cb,
    pub connect_req: *mut c_void,
    pub shutdown_req: *mut c_void,
    pub io_watcher: uv__io_t,
    pub write_queue: uv__queue,
    pub write_completed_queue: uv__queue,
    pub connection_cb: uv_connection_cb,
    pub delayed_error: c_int,
    pub accepted_fd: c_int,
    pub queued_fds: *mut c_void,
}
pub type uv_tcp_t = uv_stream_t;

#[repr(C)]
pub struct uv_pipe_t {
    pub s: uv_stream_t,
    pub ipc: c_int,
    pub pipe_fname: *const c_char,
}

#[repr(C)]
pub struct uv_tty_t {
    pub s: uv_stream_t,
    pub orig_termios: libc::termios,
    pub mode: c_int,
}

#[repr(C)]
pub struct uv_timer_t {
    pub h: uv_handle_t,
    pub timer_cb: uv_timer_cb,
    /// libuv's union of a heap node (3 pointers) and a queue node; uvring
    /// keeps active timers in its own ordered set and uses only the queue.
    pub node: uv__queue,
    pub node_pad: *mut c_void,
    pub timeout: u64,
    pub repeat: u64,
    pub start_id: u64,
}

/// Layout shared by uv_idle_t, uv_prepare_t and uv_check_t.
#[repr(C)]
pub struct uv_phase_handle_t {
    pub h: uv_handle_t,
    pub cb: Option<unsafe extern "C" fn(*mut uv_phase_handle_t)>,
    pub queue: uv__queue,
}
pub type uv_idle_t = uv_phase_handle_t;
pub type uv_prepare_t = uv_phase_handle_t;
pub type uv_check_t = uv_phase_handle_t;

#[repr(C)]
pub struct uv_async_t {
    pub h: uv_handle_t,
    pub async_cb: uv_async_cb,
    pub queue: uv__queue,
    pub pending: c_int,
}

#[repr(C)]
pub struct uv_poll_t {
    pub h: uv_handle_t,
    pub poll_cb: Option<unsafe extern "C" fn(*mut uv_poll_t, c_int, c_int)>,
    pub io_watcher: uv__io_t,
}

#[repr(C)]
pub struct uv_signal_tree_entry {
    pub left: *mut uv_signal_t,
    pub right: *mut uv_signal_t,
    pub parent: *mut uv_signal_t,
    pub color: c_int,
}

#[repr(C)]
pub struct uv_signal_t {
    pub h: uv_handle_t,
    pub signal_cb: uv_signal_cb,
    pub signum: c_int,
    pub tree_entry: uv_signal_tree_entry,
    pub caught_signals: c_uint,
    pub dispatched_signals: c_uint,
}

#[repr(C)]
pub struct uv_process_t {
    pub h: uv_handle_t,
    pub exit_cb: Option<unsafe extern "C" fn(*mut uv_process_t, i64, c_int)>,
    pub pid: c_int,
    pub queue: uv__queue,
    pub status: c_int,
}

#[repr(C)]
pub struct uv_udp_t {
    pub h: uv_handle_t,
    pub send_queue_size: size_t,
    pub send_queue_count: size_t,
    pub alloc_cb: uv_alloc_cb,
    pub recv_cb: *mut c_void,
    pub io_watcher: uv__io_t,
    pub write_queue: uv__queue,
    pub write_completed_queue: uv__queue,
}

#[repr(C)]
pub struct uv_fs_event_t {
    pub h: uv_handle_t,
    pub path: *mut c_char,
    pub cb: *mut c_void,
    pub watchers: uv__queue,
    pub wd: c_int,
}

#[repr(C)]
pub struct uv_fs_poll_t {
    pub h: uv_handle_t,
    pub poll_ctx: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct uv_timespec_t {
    pub tv_sec: libc::c_long,
    pub tv_nsec: libc::c_long,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct uv_stat_t {
    pub st_dev: u64,
    pub st_mode: u64,
    pub st_nlink: u64,
    pub st_uid: u64,
    pub st_gid: u64,
    pub st_rdev: u64,
    pub st_ino: u64,
    pub st_size: u64,
    pub st_blksize: u64,
    pub st_blocks: u64,
    pub st_flags: u64,
    pub st_gen: u64,
    pub st_atim: uv_timespec_t,
    pub st_mtim: uv_timespec_t,
    pub st_ctim: uv_timespec_t,
    pub st_birthtim: uv_timespec_t,
}

#[repr(C)]
pub struct uv_fs_t {
    pub r: uv_req_t,
    pub fs_type: c_int,
    pub loop_: *mut uv_loop_t,
    pub cb: uv_fs_cb,
    pub result: ssize_t,
    pub ptr: *mut c_void,
    pub path: *const c_char,
    pub statbuf: uv_stat_t,
    pub new_path: *const c_char,
    pub file: c_int,
    pub flags: c_int,
    pub mode: libc::mode_t,
    pub nbufs: c_uint,
    pub bufs: *mut uv_buf_t,
    pub off: libc::off_t,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub atime: f64,
    pub mtime: f64,
    pub work_req: uv__work,
    pub bufsml: [uv_buf_t; 4],
}

#[repr(C)]
pub struct uv_work_t {
    pub r: uv_req_t,
    pub loop_: *mut uv_loop_t,
    pub work_cb: uv_work_cb,
    pub after_work_cb: uv_after_work_cb,
    pub work_req: uv__work,
}

#[repr(C)]
pub struct uv_random_t {
    pub r: uv_req_t,
    pub loop_: *mut uv_loop_t,
    pub status: c_int,
    pub buf: *mut c_void,
    pub buflen: size_t,
    pub cb: uv_random_cb,
    pub work_req: uv__work,
}

#[repr(C)]
pub struct uv_write_t {
    pub r: uv_req_t,
    pub cb: Option<unsafe extern "C" fn(*mut uv_write_t, c_int)>,
    pub send_handle: *mut uv_stream_t,
    pub handle: *mut uv_stream_t,
    pub queue: uv__queue,
    pub write_index: c_uint,
    pub bufs: *mut uv_buf_t,
    pub nbufs: c_uint,
    pub error: c_int,
    pub bufsml: [uv_buf_t; 4],
}

#[repr(C)]
pub struct uv_connect_t {
    pub r: uv_req_t,
    pub cb: Option<unsafe extern "C" fn(*mut uv_connect_t, c_int)>,
    pub handle: *mut uv_stream_t,
    pub queue: uv__queue,
}

#[repr(C)]
pub struct uv_shutdown_t {
    pub r: uv_req_t,
    pub handle: *mut uv_stream_t,
    pub cb: Option<unsafe extern "C" fn(*mut uv_shutdown_t, c_int)>,
}

#[repr(C)]
pub struct uv_udp_send_t {
    pub r: uv_req_t,
    pub handle: *mut uv_udp_t,
    pub cb: *mut c_void,
    pub queue: uv__queue,
    pub addr: libc::sockaddr_storage,
    pub nbufs: c_uint,
    pub bufs: *mut uv_buf_t,
    pub status: ssize_t,
    pub send_cb: *mut c_void,
    pub bufsml: [uv_buf_t; 4],
}

#[repr(C)]
pub struct uv_getaddrinfo_t {
    pub r: uv_req_t,
    pub loop_: *mut uv_loop_t,
    pub work_req: uv__work,
    pub cb: *mut c_void,
    pub hints: *mut libc::addrinfo,
    pub hostname: *mut c_char,
    pub service: *mut c_char,
    pub addrinfo: *mut libc::addrinfo,
    pub retcode: c_int,
}

#[repr(C)]
pub struct uv_getnameinfo_t {
    pub r: uv_req_t,
    pub loop_: *mut uv_loop_t,
    pub work_req: uv__work,
    pub getnameinfo_cb: *mut c_void,
    pub storage: libc::sockaddr_storage,
    pub flags: c_int,
    pub host: [c_char; 1025],
    pub service: [c_char; 32],
    pub retcode: c_int,
}

#[repr(C)]
pub struct uv_loop_t {
    pub data: *mut c_void,
    pub active_handles: c_uint,
    pub handle_queue: uv__queue,
    /// libuv's `union { void* unused; unsigned int count; } active_reqs`:
    /// the count is the first four bytes.
    pub active_reqs: c_uint,
    pub active_reqs_pad: c_uint,
    pub internal_fields: *mut c_void,
    pub stop_flag: c_uint,
    pub flags: libc::c_ulong,
    pub backend_fd: c_int,
    pub pending_queue: uv__queue,
    pub watcher_queue: uv__queue,
    pub watchers: *mut *mut uv__io_t,
    pub nwatchers: c_uint,
    pub nfds: c_uint,
    pub wq: uv__queue,
    pub wq_mutex: libc::pthread_mutex_t,
    pub wq_async: uv_async_t,
    pub cloexec_lock: libc::pthread_rwlock_t,
    pub closing_handles: *mut uv_handle_t,
    pub process_handles: uv__queue,
    pub prepare_handles: uv__queue,
    pub check_handles: uv__queue,
    pub idle_handles: uv__queue,
    pub async_handles: uv__queue,
    pub async_unused: *mut c_void,
    pub async_io_watcher: uv__io_t,
    pub async_wfd: c_int,
    pub timer_heap_min: *mut c_void,
    pub timer_heap_nelts: c_uint,
    pub timer_counter: u64,
    pub time: u64,
    pub signal_pipefd: [c_int; 2],
    pub signal_io_watcher: uv__io_t,
    pub child_watcher: uv_signal_t,
    pub emfile_fd: c_int,
    pub inotify_read_watcher: uv__io_t,
    pub inotify_watchers: *mut c_void,
    pub inotify_fd: c_int,
}

#[repr(C)]
pub struct uv_dirent_t {
    pub name: *const c_char,
    pub type_: c_int,
}

#[repr(C)]
pub struct uv_dir_t {
    pub dirents: *mut uv_dirent_t,
    pub nentries: size_t,
    pub reserved: [*mut c_void; 4],
    pub dir: *mut libc::DIR,
}

// ---------------------------------------------------------------------------
// The rest of uv.h's public layouts: what process, thread, os, time, dl, fs
// and metrics calls take and fill in.

/// `uv_lib_t` on Unix: `{ void* handle; char* errmsg; }`.
#[repr(C)]
pub struct uv_lib_t {
    pub handle: *mut c_void,
    pub errmsg: *mut c_char,
}

#[repr(C)]
pub struct uv_metrics_t {
    pub loop_count: u64,
    pub events: u64,
    pub events_waiting: u64,
    pub reserved: [*mut u64; 13],
}

#[repr(C)]
pub union uv_stdio_data {
    pub stream: *mut uv_stream_t,
    pub fd: c_int,
}

#[repr(C)]
pub struct uv_stdio_container_t {
    pub flags: c_int,
    pub data: uv_stdio_data,
}

pub type uv_exit_cb = Option<unsafe extern "C" fn(*mut uv_process_t, i64, c_int)>;

#[repr(C)]
pub struct uv_process_options_t {
    pub exit_cb: uv_exit_cb,
    pub file: *const c_char,
    pub args: *mut *mut c_char,
    pub env: *mut *mut c_char,
    pub cwd: *const c_char,
    pub flags: c_uint,
    pub stdio_count: c_int,
    pub stdio: *mut uv_stdio_container_t,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct uv_thread_options_t {
    pub flags: c_uint,
    pub stack_size: size_t,
}

#[repr(C)]
pub struct uv_timespec64_t {
    pub tv_sec: i64,
    pub tv_nsec: i32,
}

#[repr(C)]
pub struct uv_timeval64_t {
    pub tv_sec: i64,
    pub tv_usec: i32,
}

/// `struct uv_statfs_s` (public, result of uv_fs_statfs in `req->ptr`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct uv_statfs_t {
    pub f_type: u64,
    pub f_bsize: u64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_spare: [u64; 4],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct uv_cpu_times_s {
    pub user: u64,
    pub nice: u64,
    pub sys: u64,
    pub idle: u64,
    pub irq: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct uv_cpu_info_t {
    pub model: *mut c_char,
    pub speed: c_int,
    pub cpu_times: uv_cpu_times_s,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union uv_interface_address_addr {
    pub address4: libc::sockaddr_in,
    pub address6: libc::sockaddr_in6,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union uv_interface_address_mask {
    pub netmask4: libc::sockaddr_in,
    pub netmask6: libc::sockaddr_in6,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct uv_interface_address_t {
    pub name: *mut c_char,
    pub phys_addr: [c_char; 6],
    pub is_internal: c_int,
    pub address: uv_interface_address_addr,
    pub netmask: uv_interface_address_mask,
}

#[repr(C)]
#[derive(Debug)]
pub struct uv_passwd_t {
    pub username: *mut c_char,
    pub uid: c_ulong,
    pub gid: c_ulong,
    pub shell: *mut c_char,
    pub homedir: *mut c_char,
}

#[repr(C)]
#[derive(Debug)]
pub struct uv_group_t {
    pub groupname: *mut c_char,
    pub gid: c_ulong,
    pub members: *mut *mut c_char,
}

#[repr(C)]
pub struct uv_utsname_t {
    pub sysname: [c_char; 256],
    pub release: [c_char; 256],
    pub version: [c_char; 256],
    pub machine: [c_char; 256],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct uv_timeval_t {
    pub tv_sec: c_long,
    pub tv_usec: c_long,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct uv_rusage_t {
    pub ru_utime: uv_timeval_t,
    pub ru_stime: uv_timeval_t,
    pub ru_maxrss: u64,
    pub ru_ixrss: u64,
    pub ru_idrss: u64,
    pub ru_isrss: u64,
    pub ru_minflt: u64,
    pub ru_majflt: u64,
    pub ru_nswap: u64,
    pub ru_inblock: u64,
    pub ru_oublock: u64,
    pub ru_msgsnd: u64,
    pub ru_msgrcv: u64,
    pub ru_nsignals: u64,
    pub ru_nvcsw: u64,
    pub ru_nivcsw: u64,
}

#[repr(C)]
#[derive(Debug)]
pub struct uv_env_item_t {
    pub name: *mut c_char,
    pub value: *mut c_char,
}

#[cfg(test)]
mod rendering;

#[cfg(all(test, target_pointer_width = "64"))]
mod layout {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// uv_loop_t holds a pthread_mutex_t (`wq_mutex`): 40 bytes on x86_64, 48 on aarch64, so
    /// on aarch64 the loop and every field after `wq_mutex` lie 8 bytes further (libuv 1.50's
    /// uv.h compiled for aarch64: uv_loop_t 856, time at 552). Everything else is the same.
    const LOOP_SHIFT: usize = if cfg!(target_arch = "aarch64") { 8 } else { 0 };

    #[test]
    fn sizes_match_libuv() {
        assert_eq!(size_of::<uv_loop_t>(), 848 + LOOP_SHIFT);
        assert_eq!(size_of::<uv_handle_t>(), 96);
        assert_eq!(size_of::<uv_stream_t>(), 248);
        assert_eq!(size_of::<uv_pipe_t>(), 264);
        assert_eq!(size_of::<uv_tty_t>(), 312);
        assert_eq!(size_of::<uv_timer_t>(), 152);
        assert_eq!(size_of::<uv_idle_t>(), 120);
        assert_eq!(size_of::<uv_async_t>(), 128);
        assert_eq!(size_of::<uv_poll_t>(), 160);
        assert_eq!(size_of::<uv_signal_t>(), 152);
        assert_eq!(size_of::<uv_process_t>(), 136);
        assert_eq!(size_of::<uv_udp_t>(), 216);
        assert_eq!(size_of::<uv_fs_event_t>(), 136);
        assert_eq!(size_of::<uv_fs_poll_t>(), 104);
        assert_eq!(size_of::<uv_req_t>(), 64);
        assert_eq!(size_of::<uv_fs_t>(), 440);
        assert_eq!(size_of::<uv_write_t>(), 192);
        assert_eq!(size_of::<uv_connect_t>(), 96);
        assert_eq!(size_of::<uv_shutdown_t>(), 80);
        assert_eq!(size_of::<uv_udp_send_t>(), 320);
        assert_eq!(size_of::<uv_work_t>(), 128);
        assert_eq!(size_of::<uv_getaddrinfo_t>(), 160);
        assert_eq!(size_of::<uv_getnameinfo_t>(), 1320);
        assert_eq!(size_of::<uv_random_t>(), 144);
        assert_eq!(size_of::<uv_buf_t>(), 16);
        assert_eq!(size_of::<uv_stat_t>(), 160);
        assert_eq!(size_of::<uv_dir_t>(), 56);
        assert_eq!(size_of::<uv_dirent_t>(), 16);
    }

    #[test]
    fn offsets_match_libuv() {
        assert_eq!(offset_of!(uv_handle_t, close_cb), 24);
        assert_eq!(offset_of!(uv_handle_t, handle_queue), 32);
        assert_eq!(offset_of!(uv_handle_t, next_closing), 80);
        assert_eq!(offset_of!(uv_handle_t, flags), 88);
        assert_eq!(offset_of!(uv_stream_t, io_watcher), 136);
        assert_eq!(offset_of!(uv_fs_t, result), 88);
        assert_eq!(offset_of!(uv_fs_t, statbuf), 112);
        assert_eq!(offset_of!(uv_fs_t, work_req), 336);
        assert_eq!(offset_of!(uv_process_t, pid), 104);
        assert_eq!(offset_of!(uv_signal_t, signum), 104);
        assert_eq!(offset_of!(uv_timer_t, timeout), 128);
        assert_eq!(offset_of!(uv_timer_t, repeat), 136);
        assert_eq!(offset_of!(uv_loop_t, time), 544 + LOOP_SHIFT);
        assert_eq!(offset_of!(uv_loop_t, wq_async), 176 + LOOP_SHIFT);
        assert_eq!(offset_of!(uv_loop_t, closing_handles), 360 + LOOP_SHIFT);
        assert_eq!(offset_of!(uv_loop_t, async_wfd), 512 + LOOP_SHIFT);
        assert_eq!(offset_of!(uv_loop_t, inotify_fd), 840 + LOOP_SHIFT);
        assert_eq!(offset_of!(uv_getnameinfo_t, retcode), 1312);
    }
}
