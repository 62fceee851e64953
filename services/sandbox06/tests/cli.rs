//! The integrator tools of the binary, run as a user runs them.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_world::personas::ids as personas;
use std::process::Command;

fn sandbox06(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
        .args(args)
        .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const OLD_CMND_QR: &str = "058091001234|264123456|Nguyễn Văn An|01011991|Nam|Thôn 1, Phước Hậu, Ninh Phước, Ninh Thuận|15042021";

#[test]
fn qr_prints_the_payload_and_writes_a_scannable_image() {
    let png = std::env::temp_dir().join(format!("sandbox06-qr-{}.png", std::process::id()));
    let (ok, stdout, stderr) =
        sandbox06(&["qr", personas::OLD_CMND, "--png", png.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim_end(), OLD_CMND_QR);
    // Decode the image as a scanner would.
    let image = image::open(&png).unwrap().to_luma8();
    let (width, height) = image.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            image.get_pixel(x as u32, y as u32).0[0]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, OLD_CMND_QR);
    std::fs::remove_file(png).unwrap();
}

#[test]
fn qr_of_a_child_without_a_card_says_so() {
    let (ok, _, stderr) = sandbox06(&["qr", personas::MINOR_NO_CARD]);
    assert!(!ok);
    assert!(stderr.contains("has no card"), "{stderr}");
}

#[test]
fn qr_of_a_citizen_whose_document_has_no_qr_code_says_so() {
    // The country the binary serves with the tests' reference date: someone who died before
    // the first chip card was issued to them holds a CMND, which has no QR code.
    let country = sandbox06_world::Country::new(
        6,
        100_000_000,
        time::Date::from_calendar_date(2026, time::Month::November, 27).unwrap(),
    );
    let id = (0..country.population())
        .step_by(10_007)
        .filter_map(|i| country.citizen_at(i))
        .find(|&id| {
            country
                .person(id, sandbox06_world::View::Basic)
                .and_then(|p| p.current_card().map(|c| c.kind))
                == Some(sandbox06_world::person::CardKind::Cmnd)
        })
        .unwrap()
        .to_string();
    let (ok, stdout, stderr) = sandbox06(&["qr", &id]);
    assert!(!ok);
    assert_eq!(stdout, "");
    assert!(stderr.contains("a CMND"), "{stderr}");
    assert!(stderr.contains("carries no QR code"), "{stderr}");
}

#[test]
fn qr_of_the_barcode_and_cmnd_personas_says_there_is_none() {
    for (id, card) in [
        (personas::BARCODE_CCCD, "a barcode CCCD"),
        (personas::CMND_ONLY, "a CMND"),
    ] {
        let (ok, stdout, stderr) = sandbox06(&["qr", id]);
        assert!(!ok, "{id}");
        assert_eq!(stdout, "");
        assert!(stderr.contains(card), "{stderr}");
        assert!(stderr.contains("carries no QR code"), "{stderr}");
    }
}

#[test]
fn citizen_prints_the_record_as_json_and_refuses_bad_numbers() {
    let (ok, stdout, stderr) = sandbox06(&["citizen", personas::HAPPY_PATH]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["fullName"], "Nguyễn Văn Hùng");
    assert_eq!(json["persona"], "happy-path");
    assert_eq!(json["card"]["status"], "CARD_STATUS_VALID");
    let (ok, _, stderr) = sandbox06(&["citizen", "05809000123"]);
    assert!(!ok);
    assert!(
        stderr.contains("citizen_id: must be 12 digits, got 11"),
        "{stderr}"
    );
}

#[test]
fn personas_lists_every_persona() {
    let (ok, stdout, _) = sandbox06(&["personas"]);
    assert!(ok);
    for key in [
        "happy-path",
        "deceased",
        "moved-after-merger",
        "name-twin-ha-dot",
        "raglai",
    ] {
        assert!(stdout.contains(key), "{key} missing");
    }
    assert_eq!(stdout.lines().count(), 1 + 27);
}

#[test]
fn openapi_writes_the_document_of_every_routed_rpc() {
    let (ok, stdout, stderr) = sandbox06(&["openapi", "--server", "http://sandbox.example:4606"]);
    assert!(ok, "{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "http://sandbox.example:4606");
    assert_eq!(document["paths"].as_object().unwrap().len(), 8);
    // To a file, with the edge's listen address as the default server.
    let dir = std::env::temp_dir().join(format!("sandbox06-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("openapi.json");
    let (ok, stdout, stderr) = sandbox06(&[
        "--listen",
        "127.0.0.1:4999",
        "openapi",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["servers"][0]["url"], "http://127.0.0.1:4999");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn health_fails_when_nothing_listens() {
    let (ok, _, stderr) = sandbox06(&["health", "--addr", "127.0.0.1:1"]);
    assert!(!ok);
    assert!(!stderr.is_empty());
}

#[test]
fn flags_override_config_and_environment() {
    // The environment says 2026-11-27; the flag wins: by mid-2031 the card has expired (at 40).
    let (ok, stdout, stderr) = sandbox06(&[
        "--reference-date",
        "2031-06-30",
        "citizen",
        personas::HAPPY_PATH,
    ]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["card"]["status"], "CARD_STATUS_EXPIRED");
    let (ok, _, stderr) = sandbox06(&["--reference-date", "2030-02-30", "personas"]);
    assert!(!ok);
    assert!(stderr.contains("population.reference_date"), "{stderr}");
}

#[test]
fn a_reader_that_stops_early_is_no_failure() {
    for args in [
        &["personas"][..],
        &["citizen", personas::HAPPY_PATH][..],
        &["qr", personas::OLD_CMND][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
            .args(args)
            .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line, as `| head -0` would.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A grpc.health.v1 server on a loopback port, reporting `status` for the whole server.
fn health_server(serving: bool) -> (std::net::SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        let (reporter, service) = tonic_health::server::health_reporter();
        if !serving {
            reporter
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
        }
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    (addr, runtime)
}

#[test]
fn health_prints_the_status() {
    for (serving, expected) in [(true, "SERVING"), (false, "NOT_SERVING")] {
        let (addr, _runtime) = health_server(serving);
        let (ok, stdout, stderr) = sandbox06(&["health", "--addr", &addr.to_string()]);
        assert_eq!(ok, serving, "{stderr}");
        assert_eq!(stdout.trim(), expected);
    }
}

#[test]
fn a_taken_edge_port_says_so_once_and_names_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (ok, _, stderr) = sandbox06(&["up", "--listen", &addr, "--size", "1000"]);
    assert!(!ok);
    assert_eq!(stderr.matches("in use").count(), 1, "{stderr}");
    assert!(stderr.contains("--listen"), "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn logs_go_to_stderr_without_colours_when_not_on_a_terminal() {
    use std::io::{BufRead as _, Read as _};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
        .args(["up", "--listen", "127.0.0.1:0", "--size", "1000"])
        .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // The banner ends with how to stop; by then the components have logged their start.
    for line in lines.by_ref() {
        let line = line.unwrap();
        stdout.push_str(&line);
        stdout.push('\n');
        if line.contains("ctrl-c stops") {
            break;
        }
    }
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    assert!(stdout.contains("sandbox06 ready in"), "{stdout}");
    assert!(!stdout.contains("INFO"), "log lines on stdout: {stdout}");
    assert!(stderr.contains("INFO"), "no log lines on stderr: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colours off a terminal: {stderr:?}"
    );
}

#[test]
fn sigterm_stops_the_suite_cleanly_as_ctrl_c_does() {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
        .args(["up", "--listen", "127.0.0.1:0", "--size", "1000"])
        .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines {
        if line.unwrap().contains("ctrl-c stops") {
            break;
        }
    }
    // Containers and Kubernetes stop the process (PID 1 there) with SIGTERM.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.contains("sandbox06 stopped"), "{stderr}");
}

#[test]
fn token_prints_a_token_and_inspect_token_says_why_the_edge_would_refuse_it() {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
        .args(["up", "--listen", "127.0.0.1:0", "--size", "1000"])
        .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut edge = None;
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some((_, rest)) = line.split_once("edge grpc://") {
            edge = Some(format!("http://{}", rest.trim()));
        }
        if line.contains("ctrl-c stops") {
            break;
        }
    }
    let url = edge.expect("the banner names the edge");
    let (ok, token, stderr) = sandbox06(&["token", "--client", "demo-hotel", "--url", &url]);
    assert!(ok, "{stderr}");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let (ok, report, _) = sandbox06(&[
        "inspect-token",
        token,
        "--url",
        &url,
        "--scope",
        "citizen.verify",
    ]);
    assert!(ok, "{report}");
    assert!(report.contains("verdict: accepted"), "{report}");
    assert!(report.contains("\"client_id\": \"demo-hotel\""), "{report}");
    let (ok, report, _) = sandbox06(&[
        "inspect-token",
        token,
        "--url",
        &url,
        "--scope",
        "citizen.read",
    ]);
    assert!(!ok);
    assert!(report.contains("lacks the scope citizen.read"), "{report}");
    let (ok, _, stderr) = sandbox06(&["token", "--client", "nobody", "--url", &url]);
    assert!(!ok);
    assert!(stderr.contains("no client \"nobody\""), "{stderr}");
    child.kill().unwrap();
    child.wait().unwrap();
}
