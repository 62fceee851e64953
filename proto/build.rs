//! Compiles the sandbox06 contract with a pure-Rust protobuf compiler, so that building needs no
//! system `protoc`, and writes the file descriptor set that reflection and the gateway read.

use std::{env, fs, io, path::PathBuf};

fn proto_files(dir: &PathBuf, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            proto_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
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
    proto_files(&own, &mut files)?;
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

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
