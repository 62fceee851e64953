//! The pages a browser sees: login, consent, errors that must not be redirected, logout.
//! Vietnamese first, English beneath; no script, no external resource.

use std::fmt::Write as _;

use crate::clients::Client;

/// `text` with the five HTML-special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
h1{font-size:1.4rem;color:#b71c1c}h1 small{display:block;font-size:.9rem;color:#555;font-weight:normal}\
label{display:block;margin:.8rem 0 .2rem;font-weight:600}label span,.en{color:#555;font-weight:normal;font-size:.9em}\
input[type=text],input[type=password],select{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
fieldset{border:1px solid #ccc;margin:.8rem 0}button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}\
.error{background:#fdecea;border-left:4px solid #b71c1c;padding:.6rem}.note{color:#555;font-size:.85rem}\
ul.scopes li{margin:.3rem 0}";

fn page(title_vi: &str, title_en: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{} · {}</title><style>{STYLE}</style></head><body>\
<h1>{}<small>{}</small></h1>{body}\
<p class=\"note\">sandbox06 · Đăng nhập một lần bằng VNeID (mô phỏng) · VNeID single sign-on (sandbox): synthetic citizens only.</p>\
</body></html>",
        escape(title_vi),
        escape(title_en),
        escape(title_vi),
        escape(title_en)
    )
}

/// A persona offered on the login page.
#[derive(Clone, Debug)]
pub struct PersonaChoice {
    /// ID number.
    pub id: String,
    /// Key, e.g. `happy-path`.
    pub key: String,
    /// Name.
    pub name: String,
    /// What the account is like (level, locked, …).
    pub note: &'static str,
}

/// The login form of pending request `request`.
pub fn login(
    request: &str,
    client: &Client,
    login_hint: Option<&str>,
    personas: &[PersonaChoice],
    error: Option<(String, String)>,
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<p><b>{}</b> yêu cầu đăng nhập bằng tài khoản định danh điện tử.<br><span class=\"en\">{} asks you to log in with your VNeID account.</span></p>",
        escape(&client.config.name),
        escape(&client.config.name_en)
    );
    if let Some((vi, en)) = error {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\" id=\"error\">{}<br><span class=\"en\">{}</span></p>",
            escape(&vi),
            escape(&en)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"login\"><input type=\"hidden\" name=\"request\" value=\"{}\">\
<label for=\"citizen_id\">Số định danh cá nhân <span>ID number</span></label>\
<input type=\"text\" id=\"citizen_id\" name=\"citizen_id\" inputmode=\"numeric\" autocomplete=\"username\" maxlength=\"12\" value=\"{}\">\
<label for=\"persona\">hoặc chọn nhân vật mẫu <span>or pick a persona</span></label><select id=\"persona\" name=\"persona\"><option value=\"\">—</option>",
        escape(request),
        escape(login_hint.unwrap_or_default())
    );
    for persona in personas {
        let _ = write!(
            body,
            "<option value=\"{}\">{} · {} · {} ({})</option>",
            escape(&persona.id),
            escape(&persona.key),
            escape(&persona.name),
            escape(&persona.id),
            escape(persona.note)
        );
    }
    body.push_str(
        "</select><fieldset><legend>Phương thức xác thực <span class=\"en\">How to authenticate</span></legend>\
<label><input type=\"radio\" name=\"method\" value=\"password\" id=\"method-password\" checked> Mật khẩu <span>password</span></label>\
<label><input type=\"radio\" name=\"method\" value=\"otp\" id=\"method-otp\"> Mã OTP <span>one-time code</span></label>\
<label><input type=\"radio\" name=\"method\" value=\"app\" id=\"method-app\"> Xác nhận trên ứng dụng VNeID <span>approve in the VNeID app</span></label>\
</fieldset><label for=\"secret\">Mật khẩu hoặc mã OTP <span>password or one-time code</span></label>\
<input type=\"password\" id=\"secret\" name=\"secret\" autocomplete=\"current-password\">\
<p class=\"note\">Mật khẩu thử nghiệm: <code>Sandbox06@VNeID</code> · mã OTP: <code>060606</code>. Test password and one-time code for every account.</p>\
<button type=\"submit\" id=\"login\">Đăng nhập · Log in</button></form>",
    );
    page("Đăng nhập VNeID", "Log in with VNeID", &body)
}

/// What a scope lets the client see, in Vietnamese and English.
pub fn scope_text(scope: &str) -> (String, String) {
    let (vi, en) = match scope {
        "openid" => ("Số định danh cá nhân của bạn", "Your ID number"),
        "profile" => (
            "Họ tên, ngày sinh, giới tính",
            "Your name, date of birth and sex",
        ),
        "address" => ("Nơi thường trú", "Your permanent address"),
        "phone" => (
            "Số điện thoại đăng ký VNeID",
            "The phone number registered with VNeID",
        ),
        "offline_access" => (
            "Truy cập khi bạn không trực tuyến",
            "Access while you are not online",
        ),
        crate::claims::NATIONAL_SCOPE => (
            "Số định danh cá nhân, họ tên, ngày sinh (theo chuẩn Cổng dịch vụ công quốc gia)",
            "Your ID number, full name and date of birth, as the national SSO returns them",
        ),
        other => {
            return (
                format!("Gọi API sandbox06: {other}"),
                format!("Call sandbox06 APIs: {other}"),
            );
        }
    };
    (vi.to_owned(), en.to_owned())
}

/// The consent screen for `scopes`.
pub fn consent(request: &str, client: &Client, person_name: &str, scopes: &[String]) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<p>Xin chào <b>{}</b>. <b>{}</b> đề nghị được truy cập:<br><span class=\"en\">{} asks for access to:</span></p><ul class=\"scopes\">",
        escape(person_name),
        escape(&client.config.name),
        escape(&client.config.name_en)
    );
    for scope in scopes {
        let (vi, en) = if scope == "openid"
            && client.claims_profile() == crate::clients::ClaimsProfile::National
        {
            scope_text(crate::claims::NATIONAL_SCOPE)
        } else {
            scope_text(scope)
        };
        let _ = write!(
            body,
            "<li><code>{}</code> — {}<br><span class=\"en\">{}</span></li>",
            escape(scope),
            escape(&vi),
            escape(&en)
        );
    }
    let _ = write!(
        body,
        "</ul><form method=\"post\" action=\"consent\"><input type=\"hidden\" name=\"request\" value=\"{}\">\
<button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Đồng ý · Allow</button> \
<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Từ chối · Deny</button></form>",
        escape(request)
    );
    page("Chia sẻ thông tin", "Share your data", &body)
}

/// An error shown to the user, never redirected (unknown client, bad redirect URI, …): what
/// happened in Vietnamese (`vi`), the error and its description in English beneath, and what
/// to do in both.
pub fn error(error: &str, vi: &str, description: &str) -> String {
    let body = format!(
        "<div class=\"error\" role=\"alert\" id=\"error\"><p lang=\"vi\">{}</p>\
<p class=\"en\" lang=\"en\"><code>{}</code>: {}</p></div>\
<p>Hãy quay lại ứng dụng và thử lại; nếu lỗi vẫn còn, hãy báo cho đơn vị quản lý ứng dụng.<br>\
<span class=\"en\">Go back to the application and try again; if the error stays, tell the application's owner.</span></p>",
        escape(vi),
        escape(error),
        escape(description)
    );
    page("Không thể đăng nhập", "Cannot log in", &body)
}

/// A Vietnamese sentence for an OAuth error `code` shown on a page.
pub fn error_vi(code: &str) -> &'static str {
    match code {
        "invalid_client" => "Ứng dụng không được hệ thống đăng nhập một lần nhận ra.",
        "temporarily_unavailable" | "server_error" => {
            "Hệ thống đăng nhập tạm thời không phục vụ được; vui lòng thử lại sau."
        }
        _ => "Yêu cầu đăng nhập từ ứng dụng không hợp lệ.",
    }
}

/// Asks the user to confirm a logout the request could not prove they wanted; `client` names
/// the application that asked (Vietnamese, English) when known.
pub fn logout_confirm(request: &str, client: Option<(&str, &str)>, person_name: &str) -> String {
    let mut body = String::new();
    match client {
        Some((vi, en)) => {
            let _ = write!(
                body,
                "<p><b>{}</b> đề nghị đăng xuất <b>{}</b> khỏi VNeID (mô phỏng).<br><span class=\"en\">{} asks to log you out of VNeID (sandbox).</span></p>",
                escape(vi),
                escape(person_name),
                escape(en)
            );
        }
        None => {
            let _ = write!(
                body,
                "<p>Bạn có muốn đăng xuất <b>{}</b> khỏi VNeID (mô phỏng)?<br><span class=\"en\">Do you want to log out of VNeID (sandbox)?</span></p>",
                escape(person_name)
            );
        }
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"logout\"><input type=\"hidden\" name=\"logout_request\" value=\"{}\">\
<button type=\"submit\" name=\"decision\" value=\"logout\" id=\"logout\">Đăng xuất · Log out</button> \
<button type=\"submit\" name=\"decision\" value=\"stay\" id=\"stay\">Vẫn đăng nhập · Stay logged in</button></form>",
        escape(request)
    );
    page("Đăng xuất?", "Log out?", &body)
}

/// After the user chose not to log out.
pub fn still_logged_in() -> String {
    page(
        "Vẫn đăng nhập",
        "Still logged in",
        "<p>Bạn vẫn đăng nhập VNeID (mô phỏng); có thể đóng trang này.<br><span class=\"en\">You are still logged in; you may close this page.</span></p>",
    )
}

/// After logout without a redirect.
pub fn logged_out() -> String {
    page(
        "Đã đăng xuất",
        "Logged out",
        "<p>Bạn đã đăng xuất khỏi VNeID (mô phỏng).<br><span class=\"en\">You are logged out.</span></p>",
    )
}
