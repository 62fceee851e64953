//! The document's own checks.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::examples::*;
use super::schema::*;
use super::*;

/// The document of the contract's own services (the mocks' packages, `sandbox06.upstream.*`,
/// are not routed); which of them the suite routes is the component list's business, tested
/// end to end.
fn document() -> Value {
    let services = sandbox06_proto::DESCRIPTOR_POOL
        .services()
        .map(|s| s.full_name().to_owned())
        .filter(|s| s.starts_with("sandbox06.") && !s.starts_with("sandbox06.upstream."))
        .collect();
    ApiDocument::new(&sandbox06_proto::DESCRIPTOR_POOL, &services, true)
        .for_server("http://127.0.0.1:4606/")
}

#[test]
fn every_route_is_an_operation_with_its_scope_and_comment() {
    let doc = document();
    let get = &doc["paths"]["/v1/citizens/{citizen_id}"]["get"];
    assert_eq!(get["operationId"], "CitizenService_GetCitizen");
    assert_eq!(get["x-sandbox06-scope"], "citizen.read");
    assert!(
        get.get("security").is_none(),
        "the document's security: {get}"
    );
    assert!(
        get["summary"]
            .as_str()
            .unwrap()
            .starts_with("Reads a citizen by ID number")
    );
    let params = get["parameters"].as_array().unwrap();
    assert_eq!(params[0]["name"], "citizen_id");
    assert_eq!(params[0]["in"], "path");
    assert_eq!(params[0]["examples"]["happy-path"]["value"], "001091012345");
    let mask = params.iter().find(|p| p["name"] == "read_mask").unwrap();
    assert_eq!(mask["in"], "query");
    assert_eq!(mask["schema"]["type"], "string");
    let verify = &doc["paths"]["/v1/citizens/{citizen_id}:verify"]["post"];
    let body = &verify["requestBody"]["content"]["application/json"];
    assert!(
        body["schema"]["properties"].get("citizenId").is_none(),
        "{body}"
    );
    assert!(body["schema"]["properties"].get("fullName").is_some());
    assert!(
        body["examples"]["happy-path"]["value"]
            .get("citizenId")
            .is_none()
    );
    let matching = &doc["paths"]["/v1/citizens:match"]["post"];
    assert!(matching["requestBody"]["content"]["application/x-ndjson"].is_object());
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:4606");
    assert_eq!(
        doc["components"]["securitySchemes"]["sso"]["openIdConnectUrl"],
        "http://127.0.0.1:4606/.well-known/openid-configuration"
    );
    // The services' 8 paths, the lodging service's 7, the data-sharing platform's 6 and the
    // admin surface's 20; the control services the admin calls have no HTTP rule.
    assert_eq!(doc["paths"].as_object().unwrap().len(), 41);
}

#[test]
fn the_first_security_scheme_gets_a_token_by_client_credentials_at_an_absolute_url() {
    let doc = document();
    assert_eq!(doc["security"][0], json!({"oauth2": []}));
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], "http://127.0.0.1:4606/oidc/token");
    let scopes = flow["scopes"].as_object().unwrap();
    for scope in [
        "citizen.read",
        "citizen.verify",
        "citizen.match",
        "sso.admin",
    ] {
        assert!(scopes.contains_key(scope), "{scope}: {scopes:?}");
    }
}

#[test]
fn the_citizen_id_pattern_takes_every_persona_and_refuses_what_the_services_refuse() {
    let pattern = citizen_id_pattern(2026);
    let body = pattern
        .strip_prefix("^(")
        .and_then(|p| p.strip_suffix("[0-9]{6}$"))
        .unwrap();
    let (provinces, years) = body.split_once(")(").unwrap();
    let years = years.strip_suffix(')').unwrap();
    let matches = |id: &str| {
        let (province, rest) = id.split_at(3);
        let (year, _) = rest.split_at(3);
        let in_list = provinces.split('|').any(|p| {
            p == province
                || (p == "09[7-9]" && ("097"..="099").contains(&province))
                || (p == "[1-9][0-9]{2}" && province >= "100")
        });
        let century = year.as_bytes()[0] - b'0';
        let yy: i32 = year[1..].parse().unwrap();
        let birth = 1900 + 100 * i32::from(century / 2) + yy;
        in_list && century <= 5 && birth <= 2026 && years.contains(&format!("[{}", century / 2 * 2))
    };
    for id in [
        "001091012345",
        "058091001234",
        "001219216789",
        "099226000001",
        "100026000001",
    ] {
        assert!(matches(id), "{id}");
        assert!(
            sandbox06_vn::CitizenId::parse_at(id, "id", 2026).is_ok(),
            "{id}"
        );
    }
    // 000 and 003 are no province; 2027 is after the year; digit 6 is no century.
    for id in [
        "000091012345",
        "003091012345",
        "001227012345",
        "001691012345",
    ] {
        assert!(
            sandbox06_vn::CitizenId::parse_at(id, "id", 2026).is_err(),
            "{id}"
        );
        assert!(!matches(id), "{id}");
    }
    assert!(years.contains("[23]([0-1][0-9]|2[0-6])"), "{years}");
}

#[test]
fn schemas_follow_the_proto3_json_mapping() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let citizen = &schemas["sandbox06.citizen.v1.Citizen"]["properties"];
    assert_eq!(citizen["fullName"]["type"], json!(["string", "null"]));
    assert_eq!(
        citizen["dateOfBirth"]["anyOf"][0]["$ref"],
        "#/components/schemas/sandbox06.types.v1.Date"
    );
    let sex = &schemas["sandbox06.types.v1.Sex"];
    assert!(
        sex["anyOf"][0]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("SEX_MALE"))
    );
    assert!(
        sex["anyOf"][1]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!(1))
    );
    let index = &schemas["sandbox06.citizen.v1.MatchCitizensResponse"]["properties"]["index"];
    assert_eq!(index["type"], json!(["string", "integer", "null"]));
    assert_eq!(index["format"], "int64");
    // Every reference resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"").skip(1) {
        let target = &part[..part.find('"').unwrap()];
        let pointer = target.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
    }
}

#[test]
fn every_example_names_a_method_of_the_contract() {
    let all = examples().unwrap();
    assert!(!all.is_empty());
    for example in all {
        let service = sandbox06_proto::DESCRIPTOR_POOL
            .get_service_by_name(&example.service)
            .unwrap_or_else(|| panic!("{} is not a service", example.service));
        assert!(
            service.methods().any(|m| m.name() == example.method),
            "{}.{} is not a method",
            example.service,
            example.method
        );
    }
}
