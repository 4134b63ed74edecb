//! Tauri's build step. The window shows the web UI from `ui/dist` when it has been built, and
//! Kintoun's own status page (`status/`) otherwise: the choice is made here, through the
//! `TAURI_CONFIG` override that Tauri's context macro reads.

use std::path::Path;

fn main() {
    // While ui/dist is missing Cargo reruns this on every build, so its appearance is noticed.
    println!("cargo:rerun-if-changed=../ui/dist");
    if Path::new("../ui/dist/index.html").exists() && std::env::var_os("TAURI_CONFIG").is_none() {
        println!("cargo:rustc-env=TAURI_CONFIG={{\"build\":{{\"frontendDist\":\"../ui/dist\"}}}}");
    }
    tauri_build::build()
}
