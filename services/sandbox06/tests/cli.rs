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
    let (ok, stdout, stderr) = sandbox06(&["citizen", personas::HAPPY_PATH, "--offline"]);
    assert!(ok, "{stderr}");
    // The JSON of GET /v1/citizens/{citizen_id}.
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["citizen"]["fullName"], "Nguyễn Văn Hùng");
    assert_eq!(json["citizen"]["persona"], "happy-path");
    assert_eq!(json["citizen"]["card"]["status"], "CARD_STATUS_VALID");
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
    // The services' 21 paths (the lodging service's 7, the platform's 6) and the admin
    // surface's 20.
    assert_eq!(document["paths"].as_object().unwrap().len(), 41);
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
        "--offline",
    ]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["citizen"]["card"]["status"], "CARD_STATUS_EXPIRED");
    let (ok, _, stderr) = sandbox06(&["--reference-date", "2030-02-30", "personas"]);
    assert!(!ok);
    assert!(stderr.contains("population.reference_date"), "{stderr}");
}

#[test]
fn a_reader_that_stops_early_is_no_failure() {
    for args in [
        &["personas"][..],
        &["citizen", personas::HAPPY_PATH, "--offline"][..],
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

/// `sandbox06` with `args` and extra environment variables.
fn sandbox06_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
        .args(args)
        .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `sandbox06 up` on an ephemeral edge port: its edge and the commands its banner prints.
struct Up {
    child: std::process::Child,
    edge: std::net::SocketAddr,
    try_lines: Vec<String>,
}

impl Up {
    fn start(env: &[(&str, &str)]) -> Up {
        use std::io::BufRead as _;
        let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox06"))
            .args(["up", "--listen", "127.0.0.1:0", "--size", "1000"])
            .env("SANDBOX06_POPULATION__REFERENCE_DATE", "2026-11-27")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut edge = None;
        let mut try_lines = Vec::new();
        let mut in_try = false;
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some((_, rest)) = line.split_once("edge grpc://") {
                edge = Some(rest.trim().parse().unwrap());
            }
            if line.trim() == "try" {
                in_try = true;
            } else if in_try && line.trim().is_empty() {
                in_try = false;
            } else if in_try {
                try_lines.push(line.trim().to_owned());
            }
            if line.contains("ctrl-c stops") {
                break;
            }
        }
        Up {
            child,
            edge: edge.expect("the banner names the edge"),
            try_lines,
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to the edge: (status, body).
fn http(
    edge: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use http_body_util::BodyExt as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{edge}{path}"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.unwrap_or_default().to_owned(),
            )))
            .unwrap();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let response = client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    })
}

/// The JSON a grpcurl line sends (`-d '…'`).
fn grpcurl_data(line: &str) -> serde_json::Value {
    let (_, rest) = line.split_once("-d '").unwrap();
    let (data, _) = rest.split_once('\'').unwrap();
    serde_json::from_str(data).unwrap()
}

#[test]
fn every_command_the_banner_prints_works_on_the_port_chosen() {
    let up = Up::start(&[]);
    let edge = up.edge;
    assert_ne!(edge.port(), 4606);
    let mut token = None;
    let mut did = Vec::new();
    for line in &up.try_lines {
        if let Some(command) = line
            .strip_prefix("TOKEN=$(")
            .and_then(|l| l.strip_suffix(')'))
        {
            let args: Vec<&str> = command.split_whitespace().skip(1).collect();
            let (ok, stdout, stderr) = sandbox06(&args);
            assert!(ok, "{line}: {stderr}");
            token = Some(stdout.trim().to_owned());
            did.push("token");
        } else if let Some(command) = line.strip_prefix("sandbox06 ") {
            let args: Vec<&str> = command.split_whitespace().collect();
            let (ok, stdout, stderr) = sandbox06(&args);
            assert!(ok, "{line}: {stderr}");
            match args
                .iter()
                .find(|a| !a.starts_with("--") && !a.contains(':'))
            {
                Some(&"health") => assert_eq!(stdout.trim(), "SERVING", "{line}"),
                Some(&"qr") => {
                    assert_eq!(stdout.trim().split('|').count(), 7, "{line}: {stdout}");
                    did.push("qr");
                }
                Some(&"citizen") => {
                    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
                    assert!(json["citizen"]["citizenId"].is_string(), "{stdout}");
                    assert!(!stderr.contains("generated"), "{line}: {stderr}");
                }
                other => panic!("{line}: a command the test does not know: {other:?}"),
            }
        } else if line.starts_with("grpcurl") {
            // No grpcurl here: the line names the edge, and the same call over REST works.
            assert!(line.contains(&format!(" {edge} ")), "{line}");
            let token = token.as_deref();
            if line.ends_with(" list") {
                let (ok, stdout, _) = sandbox06(&["health", "--addr", &edge.to_string()]);
                assert!(ok && stdout.trim() == "SERVING", "{line}");
            } else if line.ends_with("/GetCitizen") {
                let data = grpcurl_data(line);
                let id = data["citizen_id"].as_str().unwrap();
                let (status, body) = http(edge, "GET", &format!("/v1/citizens/{id}"), token, None);
                assert_eq!(status, 200, "{line}: {body}");
            } else if line.ends_with("/VerifyCitizen") {
                let mut data = grpcurl_data(line);
                let id = data["citizen_id"].as_str().unwrap().to_owned();
                data.as_object_mut().unwrap().remove("citizen_id");
                let (status, body) = http(
                    edge,
                    "POST",
                    &format!("/v1/citizens/{id}:verify"),
                    token,
                    Some(&data.to_string()),
                );
                assert_eq!(status, 200, "{line}: {body}");
                let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(answer["verdict"], "VERDICT_MATCH", "{line}: {body}");
                did.push("verify");
            } else {
                panic!("{line}: a grpcurl call the test does not know");
            }
        } else if line.starts_with("curl") {
            let url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap();
            let path = url
                .strip_prefix(&format!("http://{edge}"))
                .unwrap_or_else(|| panic!("{line} does not call the edge {edge}"));
            let authorized = line.contains("authorization");
            let (status, body) = http(
                edge,
                "GET",
                path,
                token.as_deref().filter(|_| authorized),
                None,
            );
            assert_eq!(status, 200, "{line}: {body}");
        } else {
            panic!("a banner line the test does not know: {line}");
        }
    }
    for needed in ["token", "qr", "verify"] {
        assert!(
            did.contains(&needed),
            "no {needed} example in {:?}",
            up.try_lines
        );
    }
}

/// The `sandbox06 …` commands of the README's tools section, without their comments.
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let (_, section) = readme.split_once("## Tools for integrators").unwrap();
    let (_, block) = section.split_once("```sh\n").unwrap();
    let (block, _) = block.split_once("```").unwrap();
    block
        .lines()
        .map(|l| l.split(" # ").next().unwrap().trim().to_owned())
        .filter(|l| l.starts_with("sandbox06 "))
        .collect()
}

#[test]
fn the_readme_commands_find_the_suite_through_the_same_setting_as_up() {
    let up = Up::start(&[]);
    let listen = up.edge.to_string();
    // The edge's address as `up` reads it: the environment variable here.
    let env = [("SANDBOX06_GATEWAY__LISTEN", listen.as_str())];
    let (ok, token, stderr) = sandbox06_with(&["token", "--client", "demo-hospital"], &env);
    assert!(ok, "{stderr}");
    let token = token.trim().to_owned();
    let dir = std::env::temp_dir().join(format!("sandbox06-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let commands = readme_commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for command in &commands {
        if command.starts_with("sandbox06 serve") {
            continue; // runs until stopped: `up` is the same components
        }
        let args: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .map(|a| match a {
                "\"$TOKEN\"" => token.clone(),
                "card.png" | "openapi.json" => dir.join(a).to_string_lossy().into_owned(),
                other => other.to_owned(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, stdout, stderr) = sandbox06_with(&args, &env);
        assert!(ok, "{command}: {stdout} {stderr}");
        if args[0] == "citizen" {
            assert!(!stderr.contains("generated"), "{command}: {stderr}");
        }
    }
    // inspect-token finds the suite through the token's issuer, with no address given at all.
    let (ok, report, stderr) = sandbox06(&["inspect-token", &token]);
    assert!(ok, "{report} {stderr}");
    assert!(report.contains("verdict: accepted"), "{report}");
    assert!(
        report.contains(&format!("issuer: http://{listen}")),
        "{report}"
    );
    // A token of another issuer is named as such.
    let other = Up::start(&[]);
    let (ok, report, stderr) = sandbox06(&[
        "inspect-token",
        &token,
        "--url",
        &format!("http://{}", other.edge),
    ]);
    assert!(!ok, "{report} {stderr}");
    assert!(report.contains("not by the suite at"), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn health_asks_the_edge_of_the_listen_setting() {
    let (addr, _runtime) = health_server(true);
    let (ok, stdout, stderr) = sandbox06(&["--listen", &addr.to_string(), "health"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "SERVING");
    let (ok, stdout, stderr) = sandbox06_with(
        &["health"],
        &[("SANDBOX06_GATEWAY__LISTEN", &addr.to_string())],
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "SERVING");
}

#[test]
fn citizen_shows_what_the_running_suite_shows_and_says_when_it_cannot() {
    use sandbox06_proto::population::{
        self as pop, population_service_client::PopulationServiceClient,
    };
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let population = free.local_addr().unwrap().to_string();
    drop(free);
    let up = Up::start(&[("SANDBOX06_POPULATION__LISTEN", &population)]);
    let id = personas::NO_HEALTH_INSURANCE;
    // The national system records a death.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut upstream = PopulationServiceClient::connect(format!("http://{population}"))
            .await
            .unwrap();
        upstream
            .create_life_event(pop::CreateLifeEventRequest {
                citizen_id: id.into(),
                request_id: String::new(),
                event: Some(pop::LifeEvent {
                    effective_date: None,
                    change: Some(pop::life_event::Change::Died(pop::Died {})),
                }),
            })
            .await
            .unwrap();
    });
    let listen = up.edge.to_string();
    let (ok, stdout, stderr) = sandbox06(&["--listen", &listen, "citizen", id]);
    assert!(ok, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        shown["citizen"]["lifeStatus"], "LIFE_STATUS_DECEASED",
        "{stdout}"
    );
    // The very JSON of the REST API.
    let (ok, token, _) = sandbox06(&["--listen", &listen, "token", "--client", "demo-hospital"]);
    assert!(ok);
    let (status, body) = http(
        up.edge,
        "GET",
        &format!("/v1/citizens/{id}"),
        Some(token.trim()),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        shown,
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    );
    // --offline, or no suite at the address: the generated record, which knows of no death.
    for args in [
        vec!["--listen", &listen, "citizen", id, "--offline"],
        vec!["--listen", "127.0.0.1:1", "citizen", id],
    ] {
        let (ok, stdout, stderr) = sandbox06(&args);
        assert!(ok, "{args:?}: {stderr}");
        let generated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(generated["citizen"]["citizenId"], id);
        assert_ne!(generated["citizen"]["lifeStatus"], "LIFE_STATUS_DECEASED");
        if args.contains(&"--offline") {
            assert!(stderr.is_empty(), "{stderr}");
        } else {
            assert!(
                stderr.contains("no suite answers at http://127.0.0.1:1")
                    && stderr.contains("generated record"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn life_event_and_unlock_change_the_running_suite() {
    let up = Up::start(&[]);
    let listen = up.edge.to_string();
    let id = personas::NO_HEALTH_INSURANCE;
    let (ok, stdout, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "life-event",
        id,
        "moved",
        "--commune",
        "22366",
        "--street",
        "Số 1 đường Trần Phú",
    ]);
    assert!(ok, "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["citizenId"], id, "{stdout}");
    let (ok, stdout, stderr) = sandbox06(&["--listen", &listen, "life-event", id, "died"]);
    assert!(ok, "{stderr}");
    let (ok, shown, stderr) = sandbox06(&["--listen", &listen, "citizen", id]);
    assert!(ok, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        shown["citizen"]["lifeStatus"], "LIFE_STATUS_DECEASED",
        "{stdout}"
    );
    assert_eq!(
        shown["citizen"]["permanentAddress"]["current"]["communeCode"],
        "22366"
    );
    // The population database's refusal, with its field; a flag of another kind is refused
    // before anything is sent.
    let (ok, _, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "life-event",
        personas::HAPPY_PATH,
        "moved",
        "--commune",
        "99999",
        "--street",
        "x",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("INVALID_ARGUMENT") && stderr.contains("event.moved.commune_code"),
        "{stderr}"
    );
    let (ok, _, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "life-event",
        personas::HAPPY_PATH,
        "died",
        "--spouse",
        personas::MARRIED_WIFE,
    ]);
    assert!(!ok);
    assert!(stderr.contains("--spouse is for `married`"), "{stderr}");
    // The persona whose account starts locked.
    let (ok, stdout, stderr) = sandbox06(&["--listen", &listen, "unlock", personas::VNEID_LOCKED]);
    assert!(ok, "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["active"], true, "{stdout}");
}

#[test]
fn share_code_prints_a_code_for_the_facility() {
    let up = Up::start(&[]);
    let listen = up.edge.to_string();
    let (ok, stdout, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "share-code",
        personas::HAPPY_PATH,
        "--facility",
        "hotel-42",
        "--ttl",
        "300",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim().split('.').count(), 3, "{stdout}");
    assert!(stderr.contains("expires at"), "{stderr}");
    // VNeID's refusal, with its field.
    let (ok, _, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "share-code",
        personas::HAPPY_PATH,
        "--facility",
        "hotel-42",
        "--ttl",
        "5",
    ]);
    assert!(!ok);
    assert!(stderr.contains("ttl_seconds"), "{stderr}");
}

#[test]
fn declare_records_guests_and_declarations_lists_them() {
    let up = Up::start(&[]);
    let listen = up.edge.to_string();
    let (ok, stdout, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "declare",
        "demo-hotel-phan-rang",
        personas::HAPPY_PATH,
        personas::MARRIED_WIFE,
        "--room",
        "305",
        "--nights",
        "2",
        "--id",
        "booking-9",
        "--client",
        "demo-hotel",
    ]);
    assert!(ok, "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let declaration = &answer["declaration"];
    assert_eq!(
        declaration["name"],
        "facilities/demo-hotel-phan-rang/declarations/booking-9"
    );
    // The guests as the population database records them: no findings.
    assert_eq!(
        declaration["guests"][1]["citizen"]["fullName"],
        "Trần Thị Mai"
    );
    assert!(declaration.get("findings").is_none(), "{stdout}");
    // A coach's passengers with their seats.
    let (ok, stdout, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "declare",
        "demo-coach-phan-rang-hcm",
        personas::HAPPY_PATH,
        "--vehicle",
        "85B-012.34",
        "--trip",
        "PR-HCM-2100",
        "--seats",
        "A07",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\"seat\": \"A07\""), "{stdout}");
    let (ok, stdout, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "declarations",
        "demo-hotel-phan-rang",
        "--guest",
        personas::MARRIED_WIFE,
        "--client",
        "demo-hotel",
    ]);
    assert!(ok, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        listed["declarations"].as_array().unwrap().len(),
        1,
        "{stdout}"
    );
    // Another facility's: refused, with the service's reason.
    let (ok, _, stderr) = sandbox06(&[
        "--listen",
        &listen,
        "declarations",
        "demo-hospital-khanh-hoa",
        "--client",
        "demo-hotel",
    ]);
    assert!(!ok);
    assert!(stderr.contains("FACILITY_NOT_PERMITTED"), "{stderr}");
}

#[test]
fn clock_shows_sets_advances_and_resets_the_running_suites_time() {
    let up = Up::start(&[]);
    let listen = up.edge.to_string();
    let clock = |args: &[&str]| {
        let mut all = vec!["--listen", listen.as_str(), "clock"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = sandbox06(&all);
        assert!(ok, "{args:?}: {stderr}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let shown = clock(&["show"]);
    assert_eq!(shown["today"], shown["referenceDate"], "{shown}");
    let advanced = clock(&["advance", "30d"]);
    assert_ne!(advanced["today"], shown["today"], "{advanced}");
    assert!(
        advanced["offset"].as_str().unwrap().starts_with("25920"),
        "{advanced}"
    );
    let set = clock(&["set", "2027-03-01", "--freeze"]);
    assert_eq!(set["time"], "2027-02-28T17:00:00Z", "{set}");
    assert_eq!(set["frozen"], true, "{set}");
    assert_eq!(
        set["today"],
        serde_json::json!({"year": 2027, "month": 3, "day": 1})
    );
    let reset = clock(&["reset"]);
    assert_eq!(reset["today"], shown["today"], "{reset}");
    assert_ne!(reset["frozen"], true, "{reset}");
    // A step that is not a duration is refused before anything is sent.
    let (ok, _, stderr) = sandbox06(&["--listen", &listen, "clock", "advance", "soon"]);
    assert!(!ok);
    assert!(stderr.contains("not a duration"), "{stderr}");
}
