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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("exec") => exec(&args[1..]),
        Some("doctor") => print!("{}", uv::doctor::report()),
        _ => usage(),
    }
}
