//! What tokens and userinfo say of a citizen: standard OpenID Connect claims by scope, and the
//! national SSO's own attribute names, for `openid` under the national profile (a client
//! setting) or under the compatibility scope `national_sso`.

use sandbox06_proto::{types, vneid as pb};
use serde_json::{Map, Value, json};

use crate::clients::ClaimsProfile;

/// The default key of [`TechIdKey`]: with it, an account's `TechID` is the same on every run
/// of the same synthetic country.
pub const DEFAULT_TECH_ID_KEY: &str = "sandbox06-techid-v1";

/// The key `TechID`s are derived with: an account's `TechID` is
/// `HMAC-SHA256(key, "TechID:" + ID number)`, shaped as a UUID. Opaque and stable, never the
/// ID number (the national SSO's `TechID` is not documented: a relying party must not read the
/// person from it).
#[derive(Clone)]
pub struct TechIdKey(ring::hmac::Key);

impl TechIdKey {
    /// The key of `secret`.
    pub fn new(secret: &str) -> Self {
        Self(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            secret.as_bytes(),
        ))
    }

    /// The `TechID` of the account of `citizen_id`.
    pub fn tech_id(&self, citizen_id: &str) -> String {
        let tag = ring::hmac::sign(&self.0, format!("TechID:{citizen_id}").as_bytes());
        let hex = sandbox06_runtime::digest::hex(&tag.as_ref()[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

impl Default for TechIdKey {
    fn default() -> Self {
        Self::new(DEFAULT_TECH_ID_KEY)
    }
}

impl std::fmt::Debug for TechIdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TechIdKey(..)")
    }
}

/// The scope that returns the national SSO's attribute names (`SoDinhDanh`, `HoVaTen`,
/// `NgayThangNamSinh`, `LoaiTaiKhoan`, `TechID`, `loginIdp`).
pub const NATIONAL_SCOPE: &str = "national_sso";

/// `acr` of a VNeID level 1 login.
pub const ACR_LEVEL_1: &str = "LoA1";
/// `acr` of a VNeID level 2 login.
pub const ACR_LEVEL_2: &str = "LoA2";
/// Every `acr` the provider issues, lowest first.
pub const ACR_VALUES: [&str; 2] = [ACR_LEVEL_1, ACR_LEVEL_2];

/// Every claim the provider may return, for discovery.
pub const CLAIMS_SUPPORTED: [&str; 29] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "birthdate",
    "gender",
    "locale",
    "zoneinfo",
    "address",
    "phone_number",
    "phone_number_verified",
    "SoDinhDanh",
    "HoVaTen",
    "NgayThangNamSinh",
    "LoaiTaiKhoan",
    "TechID",
    "loginIdp",
];

/// The level an `acr` value stands for: 1 or 2.
pub fn level_of_acr(acr: &str) -> Option<u8> {
    match acr {
        ACR_LEVEL_1 => Some(1),
        ACR_LEVEL_2 => Some(2),
        _ => None,
    }
}

/// The `acr` of an account's level; `None` for an account without a level.
pub fn acr_of(level: i32) -> Option<&'static str> {
    match types::VneidLevel::try_from(level) {
        Ok(types::VneidLevel::VneidLevel1) => Some(ACR_LEVEL_1),
        Ok(types::VneidLevel::VneidLevel2) => Some(ACR_LEVEL_2),
        _ => None,
    }
}

/// A citizen as the provider describes them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    /// ID number (the subject).
    pub citizen_id: String,
    /// Full name, family name first.
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    /// `male` or `female`.
    pub gender: Option<String>,
    /// The phone registered with the account, E.164.
    pub phone_number: Option<String>,
    /// Permanent address in the current units.
    pub address: Option<Address>,
}

/// An address claim (OIDC Core §5.1.1).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    /// The whole address on one line.
    pub formatted: String,
    /// House, street, hamlet.
    pub street_address: String,
    /// Commune.
    pub locality: String,
    /// Province.
    pub region: String,
}

impl Person {
    /// The person of a VNeID account, with the record's permanent address when known.
    pub fn new(account: &pb::Account, address: Option<&types::AdministrativeAddress>) -> Self {
        let birthdate = account
            .date_of_birth
            .as_ref()
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
            .unwrap_or_default();
        let gender = match types::Sex::try_from(account.sex) {
            Ok(types::Sex::Male) => Some("male".to_owned()),
            Ok(types::Sex::Female) => Some("female".to_owned()),
            _ => None,
        };
        Self {
            citizen_id: account.citizen_id.clone(),
            full_name: account.full_name.clone(),
            birthdate,
            gender,
            phone_number: Some(account.phone_number.clone()).filter(|p| !p.is_empty()),
            address: address.map(|a| Address {
                formatted: a.text.clone(),
                street_address: a.street.clone(),
                locality: a.commune_name.clone(),
                region: a.province_name.clone(),
            }),
        }
    }

    /// The claims `scopes` release under `profile`, to add to an ID token or answer at
    /// userinfo.
    pub fn claims<'a>(
        &self,
        scopes: impl IntoIterator<Item = &'a str>,
        profile: ClaimsProfile,
        tech_ids: &TechIdKey,
    ) -> Map<String, Value> {
        let mut claims = Map::new();
        for scope in scopes {
            match scope {
                "openid" if profile == ClaimsProfile::National => {
                    self.national(&mut claims, tech_ids);
                }
                "profile" => self.profile(&mut claims),
                "address" => {
                    if let Some(address) = &self.address {
                        claims.insert(
                            "address".to_owned(),
                            json!({
                                "formatted": address.formatted,
                                "street_address": address.street_address,
                                "locality": address.locality,
                                "region": address.region,
                                "country": "VN",
                            }),
                        );
                    }
                }
                "phone" => {
                    if let Some(phone) = &self.phone_number {
                        claims.insert("phone_number".to_owned(), json!(phone));
                        claims.insert("phone_number_verified".to_owned(), json!(true));
                    }
                }
                NATIONAL_SCOPE => self.national(&mut claims, tech_ids),
                _ => {}
            }
        }
        claims
    }

    /// The national SSO's attributes.
    fn national(&self, claims: &mut Map<String, Value>, tech_ids: &TechIdKey) {
        claims.insert("SoDinhDanh".to_owned(), json!(self.citizen_id));
        claims.insert("HoVaTen".to_owned(), json!(self.full_name));
        claims.insert(
            "NgayThangNamSinh".to_owned(),
            json!(self.birthdate.replace('-', "")),
        );
        claims.insert("LoaiTaiKhoan".to_owned(), json!("CongDan"));
        claims.insert(
            "TechID".to_owned(),
            json!(tech_ids.tech_id(&self.citizen_id)),
        );
        claims.insert("loginIdp".to_owned(), json!("VNeID"));
    }

    fn profile(&self, claims: &mut Map<String, Value>) {
        let words: Vec<&str> = self.full_name.split_whitespace().collect();
        claims.insert("name".to_owned(), json!(self.full_name));
        if let (Some(family), Some(given)) = (words.first(), words.last())
            && words.len() > 1
        {
            claims.insert("family_name".to_owned(), json!(family));
            claims.insert("given_name".to_owned(), json!(given));
            if words.len() > 2 {
                claims.insert(
                    "middle_name".to_owned(),
                    json!(words[1..words.len() - 1].join(" ")),
                );
            }
        }
        if !self.birthdate.is_empty() {
            claims.insert("birthdate".to_owned(), json!(self.birthdate));
        }
        if let Some(gender) = &self.gender {
            claims.insert("gender".to_owned(), json!(gender));
        }
        claims.insert("locale".to_owned(), json!("vi-VN"));
        claims.insert("zoneinfo".to_owned(), json!("Asia/Ho_Chi_Minh"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn person() -> Person {
        Person {
            citizen_id: "001095012345".to_owned(),
            full_name: "Nguyễn Thị Thu Hà".to_owned(),
            birthdate: "1995-03-07".to_owned(),
            gender: Some("female".to_owned()),
            phone_number: Some("+84912345678".to_owned()),
            address: None,
        }
    }

    #[test]
    fn profile_splits_a_vietnamese_name_family_first() {
        let claims = person().claims(
            ["openid", "profile"],
            ClaimsProfile::Standard,
            &TechIdKey::default(),
        );
        assert_eq!(claims["family_name"], "Nguyễn");
        assert_eq!(claims["middle_name"], "Thị Thu");
        assert_eq!(claims["given_name"], "Hà");
        assert_eq!(claims["birthdate"], "1995-03-07");
        assert!(!claims.contains_key("SoDinhDanh"));
    }

    #[test]
    fn the_national_scope_uses_the_national_names() {
        let claims = person().claims(
            [NATIONAL_SCOPE],
            ClaimsProfile::Standard,
            &TechIdKey::default(),
        );
        assert_eq!(claims["SoDinhDanh"], "001095012345");
        assert_eq!(claims["HoVaTen"], "Nguyễn Thị Thu Hà");
        assert_eq!(claims["NgayThangNamSinh"], "19950307");
        assert_eq!(claims["LoaiTaiKhoan"], "CongDan");
        assert!(!claims.contains_key("name"));
    }

    #[test]
    fn openid_alone_releases_the_national_attributes_under_the_national_profile() {
        let key = TechIdKey::default();
        let national = person().claims(["openid"], ClaimsProfile::National, &key);
        assert_eq!(national["SoDinhDanh"], "001095012345");
        assert_eq!(national["NgayThangNamSinh"], "19950307");
        assert!(!national.contains_key("name"));
        let both = person().claims(["openid", "profile"], ClaimsProfile::National, &key);
        assert_eq!(both["HoVaTen"], both["name"]);
        let standard = person().claims(["openid"], ClaimsProfile::Standard, &key);
        assert!(standard.is_empty());
    }

    #[test]
    fn tech_ids_are_opaque_and_stable_per_key() {
        let key = TechIdKey::default();
        let id = key.tech_id("001095012345");
        assert_eq!(id, TechIdKey::default().tech_id("001095012345"));
        assert!(!id.contains("001095012345"));
        assert_eq!(id.len(), 36);
        assert_ne!(id, key.tech_id("001095012346"));
        assert_ne!(id, TechIdKey::new("another").tech_id("001095012345"));
    }
}
