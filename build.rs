// The shared object must carry libuv's soname so that programs linked against
// Debian's libuv.so.1 pick it up unchanged.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libuv.so.1");
    println!("cargo:rerun-if-changed=build.rs");
}
