//! The login page in a real browser: headless Chromium (Debian's package, which `bash .ci/run`
//! installs when missing) driven over the DevTools protocol, through the edge port only. A
//! portal's code flow with PKCE goes through a wrong password, the password, the one-time
//! code, approval in the app, the persona picker, and consent given and refused.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sandbox06_testkit::{personas, start};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The Chromium binary: `SANDBOX06_TEST_CHROMIUM`, else `chromium` on the path.
fn chromium() -> Option<String> {
    if let Ok(path) = std::env::var("SANDBOX06_TEST_CHROMIUM")
        && !path.is_empty()
    {
        return Some(path);
    }
    let paths = std::env::var("PATH").unwrap_or_default();
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .map(|found| found.to_string_lossy().into_owned())
    })
}

/// A headless browser and one page of it, driven over the DevTools protocol.
struct Browser {
    _child: Child,
    _profile: tempdir::Dir,
    socket: Socket,
    session: String,
    next_id: u64,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let path = std::env::temp_dir()
                .join(format!("sandbox06-chromium-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Browser {
    async fn launch(binary: &str) -> Self {
        let profile = tempdir::Dir::new();
        let mut child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("chromium exited without a DevTools address");
        })
        .await
        .expect("chromium prints its DevTools address");
        // Keep draining the browser's log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut browser = Self {
            _child: child,
            _profile: profile,
            socket,
            session: String::new(),
            next_id: 0,
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({})).await;
        browser
    }

    /// Sends one command (to the page once attached) and waits for its answer.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .expect("chromium answers")
                .unwrap()
                .unwrap();
            let Message::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text).unwrap();
            if answer["id"] == json!(id) {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    async fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
    }

    /// Evaluates `expression` in the page: its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in a loaded page.
    async fn wait_for(&mut self, expression: &str) {
        let check = format!("document.readyState === 'complete' && !!({expression})");
        for _ in 0..300 {
            if self.eval(&check).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let page = self
            .eval("location.href + '\\n' + document.body.innerText")
            .await;
        panic!("the page never showed {expression}: {page}");
    }
}

/// A relying party's redirect URI: a listener that answers every request and hands over the
/// query of each.
async fn redirect_target() -> (String, tokio::sync::mpsc::Receiver<Vec<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/callback", listener.local_addr().unwrap());
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0; 8192];
                let n = stream.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..n]).into_owned();
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                    .await;
                if target.starts_with("/callback") {
                    let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
                    let pairs = form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect();
                    let _ = sender.send(pairs).await;
                }
            });
        }
    });
    (uri, receiver)
}

/// The query of the next request to the redirect URI.
async fn next_redirect(
    redirects: &mut tokio::sync::mpsc::Receiver<Vec<(String, String)>>,
) -> Vec<(String, String)> {
    tokio::time::timeout(Duration::from_secs(20), redirects.recv())
        .await
        .expect("the browser reaches the redirect URI")
        .expect("the redirect target runs")
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
#[cfg_attr(
    not(chromium_found),
    ignore = "needs Chromium: apt-get install chromium, or set SANDBOX06_TEST_CHROMIUM (bash .ci/run does)"
)]
async fn a_citizen_logs_in_on_the_login_page_with_each_method_and_consents() {
    let Some(binary) = chromium() else {
        eprintln!("a_citizen_logs_in_on_the_login_page: skipped, no Chromium found");
        return;
    };
    let h = start().await;
    let edge = format!("http://{}", h.suite.edge);
    let (redirect, mut redirects) = redirect_target().await;
    let mut browser = Browser::launch(&binary).await;
    let verifier = "sandbox06-browser-test-verifier-0123456789abcdefgh";
    let challenge = sandbox06_jose::s256(verifier.as_bytes());
    let authorize = |state: &str, extra: &str| {
        format!(
            "{edge}/oidc/authorize?response_type=code&client_id=demo-portal&redirect_uri={}&scope=openid%20profile%20citizen.verify&state={state}&code_challenge={challenge}&code_challenge_method=S256{extra}",
            form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
        )
    };

    // 1. A wrong password, then the right one; then consent.
    browser.navigate(&authorize("one", "")).await;
    browser
        .wait_for("document.getElementById('citizen_id')")
        .await;
    let html_lang = browser.eval("document.documentElement.lang").await;
    assert_eq!(html_lang, "vi");
    browser
        .eval(&format!(
            "document.getElementById('citizen_id').value = '{}';\
             document.getElementById('method-password').checked = true;\
             document.getElementById('secret').value = 'wrong-password';\
             document.getElementById('login').click(); true",
            personas::HAPPY_PATH
        ))
        .await;
    browser.wait_for("document.getElementById('error')").await;
    let error = browser
        .eval("document.getElementById('error').innerText")
        .await;
    assert!(
        error.as_str().unwrap().contains("4"),
        "attempts left are said: {error}"
    );
    browser
        .eval(&format!(
            "document.getElementById('citizen_id').value = '{}';\
             document.getElementById('secret').value = '{}';\
             document.getElementById('login').click(); true",
            personas::HAPPY_PATH,
            sandbox06_vneid::SANDBOX_PASSWORD
        ))
        .await;
    browser.wait_for("document.getElementById('allow')").await;
    let consent = browser.eval("document.body.innerText").await;
    let consent = consent.as_str().unwrap();
    assert!(consent.contains("Cổng dịch vụ công (demo)"), "{consent}");
    assert!(consent.contains("citizen.verify"), "{consent}");
    browser
        .eval("document.getElementById('allow').click(); true")
        .await;
    let pairs = next_redirect(&mut redirects).await;
    assert_eq!(param(&pairs, "state"), Some("one"));
    let code = param(&pairs, "code").unwrap().to_owned();
    let tokens: Value = {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", "demo-portal"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier),
        ];
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = http::Request::post("/oidc/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .unwrap();
        let (status, body) = sandbox06_testkit::http1(h.suite.edge, request).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = sandbox06_jose::decode_unverified(id_token).unwrap().claims;
    assert_eq!(claims["sub"], personas::HAPPY_PATH);
    assert_eq!(claims["amr"], json!(["pwd"]));

    // 2. The session logs the same citizen in again without a page: consent was given.
    browser.navigate(&authorize("two", "")).await;
    let pairs = next_redirect(&mut redirects).await;
    assert_eq!(param(&pairs, "state"), Some("two"));
    assert!(param(&pairs, "code").is_some(), "{pairs:?}");

    // 3. prompt=login: another citizen with the one-time code, who refuses consent.
    browser.navigate(&authorize("three", "&prompt=login")).await;
    browser
        .wait_for("document.getElementById('citizen_id')")
        .await;
    browser
        .eval(&format!(
            "document.getElementById('citizen_id').value = '{}';\
             document.getElementById('method-otp').checked = true;\
             document.getElementById('secret').value = '{}';\
             document.getElementById('login').click(); true",
            personas::MARRIED_WIFE,
            sandbox06_vneid::SANDBOX_ONE_TIME_CODE
        ))
        .await;
    browser.wait_for("document.getElementById('deny')").await;
    browser
        .eval("document.getElementById('deny').click(); true")
        .await;
    let pairs = next_redirect(&mut redirects).await;
    assert_eq!(param(&pairs, "state"), Some("three"));
    assert_eq!(param(&pairs, "error"), Some("access_denied"));

    // 4. A persona picked from the list, approved in the app.
    browser.navigate(&authorize("four", "&prompt=login")).await;
    browser.wait_for("document.getElementById('persona')").await;
    browser
        .eval(&format!(
            "document.getElementById('citizen_id').value = '';\
             document.getElementById('persona').value = '{}';\
             document.getElementById('method-app').checked = true;\
             document.getElementById('login').click(); true",
            personas::VNEID_LEVEL_1
        ))
        .await;
    browser.wait_for("document.getElementById('allow')").await;
    browser
        .eval("document.getElementById('allow').click(); true")
        .await;
    let pairs = next_redirect(&mut redirects).await;
    assert_eq!(param(&pairs, "state"), Some("four"));
    assert!(param(&pairs, "code").is_some(), "{pairs:?}");

    // 5. Logout without an id_token_hint asks first; confirmed, the session is gone.
    browser.navigate(&format!("{edge}/oidc/logout")).await;
    browser.wait_for("document.getElementById('logout')").await;
    assert_eq!(browser.eval("document.documentElement.lang").await, "vi");
    let asked = browser.eval("document.body.innerText").await;
    assert!(asked.as_str().unwrap().contains("Đăng xuất"), "{asked}");
    browser
        .eval("document.getElementById('logout').click(); true")
        .await;
    browser
        .wait_for("document.title.startsWith('Đã đăng xuất')")
        .await;
    browser.navigate(&authorize("five", "&prompt=none")).await;
    let pairs = next_redirect(&mut redirects).await;
    assert_eq!(param(&pairs, "state"), Some("five"));
    assert_eq!(param(&pairs, "error"), Some("login_required"));
}

/// Serves `html` at `/` of a listener of its own: a page on another origin than the edge's.
async fn serve_page(html: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://localhost:{}/",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0; 8192];
                let _ = stream.read(&mut buffer).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    html.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(html.as_bytes()).await;
            });
        }
    });
    url
}

/// The script of a page that calls GetCitizen over gRPC-Web (text mode, framed and decoded by
/// hand, as a generated client would) and over REST, then leaves what it got in `window.result`.
const GRPC_WEB_PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>portal</title><script>
const edge = "EDGE", token = "TOKEN", id = "CITIZEN";
async function run() {
  const idBytes = new TextEncoder().encode(id);
  const message = new Uint8Array([0x0a, idBytes.length, ...idBytes]);
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  const answer = await fetch(edge + "/sandbox06.citizen.v1.CitizenService/GetCitizen", {
    method: "POST",
    headers: {"content-type": "application/grpc-web-text", "accept": "application/grpc-web-text",
              "x-grpc-web": "1", "authorization": "Bearer " + token},
    body: btoa(String.fromCharCode(...framed)),
  });
  const text = await answer.text();
  const bytes = [];
  for (const chunk of text.match(/[^=]+=*/g) || []) {
    for (const c of atob(chunk)) bytes.push(c.charCodeAt(0));
  }
  let i = 0, found = null, trailers = "";
  while (i + 5 <= bytes.length) {
    const len = (bytes[i + 1] << 24) | (bytes[i + 2] << 16) | (bytes[i + 3] << 8) | bytes[i + 4];
    const body = new Uint8Array(bytes.slice(i + 5, i + 5 + len));
    if (bytes[i] & 0x80) trailers += new TextDecoder().decode(body); else found = body;
    i += 5 + len;
  }
  const rest = await (await fetch(edge + "/v1/citizens/" + id, {headers: {"authorization": "Bearer " + token}})).json();
  window.result = {
    status: answer.status,
    trailers: trailers,
    name: found !== null && new TextDecoder().decode(found).includes("Nguyễn Văn Hùng"),
    rest: rest.citizen.fullName,
  };
}
run().catch(e => { window.result = {error: String(e)}; });
</script>"#;

#[tokio::test]
#[cfg_attr(
    not(chromium_found),
    ignore = "needs Chromium: apt-get install chromium, or set SANDBOX06_TEST_CHROMIUM (bash .ci/run does)"
)]
async fn a_page_on_another_origin_calls_over_grpc_web_and_rest() {
    let Some(binary) = chromium() else {
        eprintln!(
            "a_page_on_another_origin_calls_over_grpc_web_and_rest: skipped, no Chromium found"
        );
        return;
    };
    let h = start().await;
    let page = GRPC_WEB_PAGE
        .replace("EDGE", &format!("http://{}", h.suite.edge))
        .replace("TOKEN", &h.token)
        .replace("CITIZEN", personas::HAPPY_PATH);
    let url = serve_page(page).await;
    let mut browser = Browser::launch(&binary).await;
    browser.navigate(&url).await;
    browser.wait_for("window.result").await;
    let result = browser.eval("window.result").await;
    assert_eq!(result["status"], 200, "{result}");
    assert!(
        result["trailers"]
            .as_str()
            .unwrap()
            .contains("grpc-status:0"),
        "{result}"
    );
    assert_eq!(result["name"], true, "{result}");
    assert_eq!(result["rest"], "Nguyễn Văn Hùng", "{result}");
}

#[tokio::test]
#[cfg_attr(
    not(chromium_found),
    ignore = "needs Chromium: apt-get install chromium, or set SANDBOX06_TEST_CHROMIUM (bash .ci/run does)"
)]
async fn the_api_page_shows_every_operation_offline() {
    let Some(binary) = chromium() else {
        eprintln!("the_api_page_shows_every_operation_offline: skipped, no Chromium found");
        return;
    };
    let h = start().await;
    let mut browser = Browser::launch(&binary).await;
    browser
        .navigate(&format!("http://{}/docs", h.suite.edge))
        .await;
    // The bundled viewer renders the document: one block per operation.
    browser
        .wait_for("document.querySelectorAll('.opblock').length >= 8")
        .await;
    let text = browser.eval("document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(text.contains("/v1/citizens/{citizen_id}"), "{text}");
    assert!(text.contains("CitizenService"), "{text}");
}

#[tokio::test]
#[cfg_attr(
    not(chromium_found),
    ignore = "needs Chromium: apt-get install chromium, or set SANDBOX06_TEST_CHROMIUM (bash .ci/run does)"
)]
async fn the_api_page_prefills_each_flow_with_its_own_demo_client() {
    let Some(binary) = chromium() else {
        eprintln!("the_api_page_prefills_each_flow_with_its_own_demo_client: skipped, no Chromium");
        return;
    };
    let h = start().await;
    let mut browser = Browser::launch(&binary).await;
    browser
        .navigate(&format!("http://{}/docs", h.suite.edge))
        .await;
    browser
        .wait_for("document.querySelectorAll('.opblock').length >= 8")
        .await;
    // The OpenID Connect scheme's flows are known once the viewer has read the discovery.
    browser
        .wait_for("JSON.stringify(window.ui.authSelectors.definitionsToAuthorize().toJS()).includes('authorization_code')")
        .await;
    browser
        .eval("document.querySelector('.btn.authorize').click()")
        .await;
    browser
        .wait_for("document.querySelector('input[data-name=clientId][id*=uthorization]')")
        .await;
    // Each flow's inputs are named by it: client_id_authorizationCode, client_secret_…
    let flows = browser
        .eval(
            "[...document.querySelectorAll('input[data-name=clientId]')].map(input => { const flow = input.id.replace('client_id_', ''); const secret = document.getElementById('client_secret_' + flow); return [flow, input.value, secret ? secret.value : null]; })",
        )
        .await;
    let flows = flows.as_array().unwrap();
    assert!(!flows.is_empty(), "no OAuth 2.0 flow on the page");
    let mut seen = Vec::new();
    for flow in flows {
        let (name, client) = (flow[0].as_str().unwrap_or(""), flow[1].as_str().unwrap());
        match name {
            "authorizationCode" | "authorization_code" => {
                assert_eq!(client, "demo-portal", "{flow}");
                assert!(flow[2].as_str().is_none_or(str::is_empty), "{flow}");
            }
            "clientCredentials" | "client_credentials" => {
                assert_eq!(client, "demo-hospital", "{flow}");
                assert_eq!(flow[2], "demo-hospital-secret", "{flow}");
            }
            _ => {}
        }
        seen.push(name.to_owned());
    }
    assert!(
        seen.iter().any(|f| f.starts_with("authorization")),
        "no code flow: {flows:?}"
    );
    assert!(
        seen.iter().any(|f| f.starts_with("client")),
        "no client-credentials flow: {flows:?}"
    );
}
