//! `uvring`: run a program on uvring, or explain what uvring would choose.
//!
//!   uvring exec -- PROGRAM [ARGS...]   run PROGRAM with this build's libuv.so.1 first
//!   uvring doctor                      print the kernel, settings and backend choice

use std::os::unix::process::CommandExt;
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: uvring exec -- PROGRAM [ARGS...]\n       uvring doctor");
    std::process::exit(2);
}

/// The folder holding our libuv.so.1: UVRING_LIBDIR, else beside this binary.
fn lib_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("UVRING_LIBDIR") {
        return Some(PathBuf::from(d));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.to_path_buf();
    dir.join("libuv.so.1").exists().then_some(dir)
}

fn exec(args: &[String]) -> ! {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let Some((prog, rest)) = args.split_first() else {
        usage()
    };
    let Some(dir) = lib_dir() else {
        eprintln!("uvring: no libuv.so.1 beside this binary; run `make` or set UVRING_LIBDIR");
        std::process::exit(1);
    };
    let mut path = dir.into_os_string();
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        if !old.is_empty() {
            path.push(":");
            path.push(old);
        }
    }
    let err = std::process::Command::new(prog)
        .args(rest)
        .env("LD_LIBRARY_PATH", path)
        .exec();
    eprintln!("uvring: cannot run {prog}: {err}");
    std::process::exit(127);
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "(absent)".to_string())
}

fn doctor() {
    println!(
        "kernel:                    {}",
        read_trimmed("/proc/sys/kernel/osrelease")
    );
    println!(
        "kernel.io_uring_disabled:  {}",
        read_trimmed("/proc/sys/kernel/io_uring_disabled")
    );
    println!(
        "kernel.io_uring_group:     {}",
        read_trimmed("/proc/sys/kernel/io_uring_group")
    );
    for var in ["UV_USE_IO_URING", "UV_THREADPOOL_SIZE", "UVRING_DEBUG"] {
        let v = std::env::var(var).unwrap_or_else(|_| "(unset)".to_string());
        println!("{var:<27}{v}");
    }
    let no_ring = std::env::var("UV_USE_IO_URING").ok().as_deref() == Some("0");
    if no_ring {
        println!("io_uring:                  not probed (UV_USE_IO_URING=0 means no ring at all)");
    } else {
        match uv::backend::probe_ring() {
            Ok(desc) => println!("io_uring:                  a ring can be set up; {desc}"),
            Err(e) => println!("io_uring:                  setup fails ({})", err_name(e)),
        }
    }
    // A real loop, made by the loop's own constructor: its decision is the
    // one every new loop of this process makes.
    let mut lp = std::mem::MaybeUninit::<uv::abi::uv_loop_t>::zeroed();
    let lp = lp.as_mut_ptr();
    // SAFETY: `lp` is zeroed storage of the right size, closed below.
    let choice = unsafe {
        let r = uv::loop_::uv_loop_init(lp);
        if r != 0 {
            println!(
                "backend of a new loop:     none (uv_loop_init fails: {})",
                err_name(r)
            );
            return;
        }
        let c = uv::loop_::backend_choice(lp);
        uv::loop_::uv_loop_close(lp);
        c
    };
    println!(
        "backend of a new loop:     {} ({})",
        choice.kind.name(),
        choice.reason
    );
}

fn err_name(e: i32) -> String {
    let name = unsafe { std::ffi::CStr::from_ptr(uv::error::uv_err_name(e)) };
    name.to_string_lossy().into_owned()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("exec") => exec(&args[1..]),
        Some("doctor") => doctor(),
        _ => usage(),
    }
}
