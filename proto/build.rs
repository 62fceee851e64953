//! Compiles the sandbox06 contract with a pure-Rust protobuf compiler, so that building needs no
//! system `protoc`, and writes the file descriptor set that reflection and the gateway read.

use std::{env, fs, io, path::PathBuf};

/// The files under `dir` whose name ends with `suffix`, sorted by path.
fn files_ending(dir: &PathBuf, suffix: &str, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            files_ending(&path, suffix, out)?;
        } else if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.ends_with(suffix))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let own = root.join("sandbox06");
    let third_party = root.join("third_party");
    println!("cargo:rerun-if-changed={}", own.display());
    println!("cargo:rerun-if-changed={}", third_party.display());

    let mut files = Vec::new();
    files_ending(&own, ".proto", &mut files)?;
    let mut compiler = protox::Compiler::new([root.clone(), third_party])?;
    compiler.include_imports(true).include_source_info(true);
    for file in &files {
        compiler.open_file(file.strip_prefix(&root)?)?;
    }
    // The encoded set keeps custom options (policies, HTTP rules), which the decoded
    // prost-types set would drop; the gateway and reflection read them from these bytes.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out.join("sandbox06_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let fds = compiler.file_descriptor_set();

    // Request examples beside the contract (`*.examples.json`), embedded for the API document
    // and the tests that call every example.
    let mut examples = Vec::new();
    files_ending(&own, ".examples.json", &mut examples)?;
    let mut listed = String::from("&[\n");
    for file in &examples {
        listed.push_str(&format!(
            "    include_str!({:?}),\n",
            file.display().to_string()
        ));
    }
    listed.push(']');
    fs::write(out.join("examples.rs"), listed)?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
