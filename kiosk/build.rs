//! Compiles the kiosk's Slint UI; debug info stays on so tests can find elements by label.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(true);
    if let Err(err) = slint_build::compile_with_config("ui/app.slint", config) {
        println!("cargo:warning=slint: {err}");
        std::process::exit(1);
    }
}
