// The shared object must carry libuv's soname so that programs linked against
// Debian's libuv.so.1 pick it up unchanged.
//
// Rust's std asks for libgcc_s (its unwinder, for backtraces; panics abort
// here). libuv.so.1 needs only libc, and every program that spawns a child
// linked to libuv pays for each extra library the loader must find and map,
// so the unwinder is linked in statically instead: a `libgcc_s.so` linker
// script that names libgcc_eh.a, found before the system's library.
use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libuv.so.1");
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        let dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
            .join("static-unwind");
        std::fs::create_dir_all(&dir).expect("create OUT_DIR/static-unwind");
        std::fs::write(dir.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n")
            .expect("write the libgcc_s.so linker script");
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}
