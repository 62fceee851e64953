//! The sandbox controls from the command line: `fault`, `reset`, `snapshot`, `journal`,
//! `citizens`, `life-event`, `unlock` and `share-code` call the running suite's admin surface
//! over REST at the edge's address, with a token of the admin client, and print its JSON
//! answers (`share-code` the code alone).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::{Args, Subcommand, ValueEnum};
use http_body_util::Full;
use sandbox06::Config;
use serde_json::{Map, Value, json};

use sandbox06_proto::admin;

use crate::token;

/// `sandbox06 fault ...`
#[derive(Subcommand, Debug)]
pub enum FaultCommand {
    /// Add a fault rule to a component; prints the rule with its id.
    Add(FaultArgs),
    /// List the fault rules of every component, with how many calls each affected.
    List,
    /// Remove a fault rule by the id `add` or `list` printed (`population-db.f-1`).
    Rm {
        /// The rule's id.
        id: String,
    },
    /// Remove every fault rule.
    Clear,
}

/// What a fault rule matches and does.
#[derive(Args, Debug)]
pub struct FaultArgs {
    /// The component: `population-db`, `vneid`, `citizen`, `sso`, `gateway`.
    #[arg(long)]
    component: String,
    /// A full method (`sandbox06.upstream.population.v1.PopulationService/GetCitizen`), a
    /// service, or every method when absent.
    #[arg(long, default_value = "")]
    method: String,
    /// Answer with this error code (`unavailable`, `not-found`, `deadline-exceeded`, … or its
    /// number).
    #[arg(long, group = "action")]
    status: Option<String>,
    /// With --status (or alone): one of the component's own reasons, e.g. `CITIZEN_NOT_FOUND`.
    #[arg(long)]
    reason: Option<String>,
    /// Delay matching calls: `300ms`, `1.5s`, or a range `100ms..900ms` (uniform).
    #[arg(long, group = "action")]
    latency: Option<String>,
    /// Reset the call's stream, as a broken connection.
    #[arg(long, group = "action")]
    drop: bool,
    /// Answer as if the component could not be reached.
    #[arg(long, group = "action")]
    down: bool,
    /// Only calls whose request carries this personal ID number.
    #[arg(long)]
    citizen_id: Option<String>,
    /// Only calls of this OAuth client.
    #[arg(long)]
    client: Option<String>,
    /// Only the first N matching calls; then the rule ends.
    #[arg(long)]
    times: Option<u32>,
    /// The rule ends after this long: `30s`, `5m`.
    #[arg(long)]
    ttl: Option<String>,
    /// Only this share of matching calls, more than 0 and at most 1.
    #[arg(long)]
    share: Option<f64>,
}

/// `sandbox06 snapshot ...`
#[derive(Subcommand, Debug)]
pub enum SnapshotCommand {
    /// Save the state of every stateful component under a name.
    Save {
        /// The snapshot's name.
        name: String,
    },
    /// Put every stateful component back in the state saved under a name.
    Restore {
        /// The snapshot's name.
        name: String,
    },
    /// List the saved snapshots.
    List,
    /// Delete a snapshot.
    Rm {
        /// The snapshot's name.
        name: String,
    },
}

/// `sandbox06 clock ...`
#[derive(Subcommand, Debug)]
pub enum ClockCommand {
    /// Show the suite's time and today, and how far both are from the system's.
    Show,
    /// Set the suite's clock to a time, running from there: RFC 3339
    /// (`2027-01-01T08:00:00+07:00`) or a date (`2027-01-01`, midnight in Vietnam).
    Set {
        /// The time or date.
        time: String,
        /// Stop the clock there: it moves only when set or advanced.
        #[arg(long)]
        freeze: bool,
    },
    /// Move the suite's clock forward: `90m`, `36h`, `30d`.
    Advance {
        /// How far.
        by: String,
    },
    /// Put the clock back on the system time, and today on the reference date.
    Reset,
}

/// `sandbox06 journal ...`
#[derive(Subcommand, Debug)]
pub enum JournalCommand {
    /// List the calls through the edge that match a filter.
    List {
        #[command(flatten)]
        filter: CallFilterArgs,
        /// At most this many entries.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Check how many calls match a filter: exit 0 when the count is the one expected, 1 when
    /// not (for a CI script).
    Verify {
        #[command(flatten)]
        filter: CallFilterArgs,
        /// The count expected.
        #[arg(long)]
        count: u64,
        /// How the count compares with it.
        #[arg(long, value_enum, default_value_t = Comparison::Exactly)]
        comparison: Comparison,
    },
    /// Forget every call in the journal.
    Clear,
}

/// A filter of the journal's calls.
#[derive(Args, Debug)]
pub struct CallFilterArgs {
    /// A full method, `sandbox06.citizen.v1.CitizenService/GetCitizen`.
    #[arg(long)]
    method: Option<String>,
    /// The caller's OAuth client.
    #[arg(long)]
    client: Option<String>,
    /// The gRPC status code (0 for OK).
    #[arg(long)]
    code: Option<u32>,
}

/// How a count compares with the one expected.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Comparison {
    /// The same.
    Exactly,
    /// At least.
    AtLeast,
    /// At most.
    AtMost,
}

/// The citizens a test needs.
#[derive(Args, Debug)]
pub struct CitizenFilterArgs {
    /// Province of birth registration: a pre-2025 code (`58`) or its ID prefix (`058`).
    #[arg(long)]
    province: Option<String>,
    /// A 2025 province (`56`, Khánh Hòa), covering the provinces merged into it.
    #[arg(long)]
    province_2025: Option<String>,
    /// Youngest age on the suite's reference date.
    #[arg(long)]
    min_age: Option<i32>,
    /// Oldest age on the suite's reference date.
    #[arg(long)]
    max_age: Option<i32>,
    /// Sex.
    #[arg(long, value_enum)]
    sex: Option<Sex>,
    /// Ethnic group: its name (`Chăm`) or GSO code (`01`).
    #[arg(long)]
    ethnicity: Option<String>,
    /// The kind of the current card, or `none`.
    #[arg(long, value_enum)]
    card: Option<Card>,
    /// VNeID account level.
    #[arg(long, value_enum)]
    vneid: Option<Vneid>,
    /// Marital status.
    #[arg(long, value_enum)]
    marital: Option<Marital>,
    /// Health insurance group (`DN`, `HT`, `TE`, …).
    #[arg(long)]
    insurance_group: Option<String>,
    /// Only citizens with (`true`) or without (`false`) health insurance.
    #[arg(long)]
    insured: Option<bool>,
    /// Only deceased (`true`) or living (`false`) citizens.
    #[arg(long)]
    deceased: Option<bool>,
    /// At most this many ID numbers (1 to 1,000).
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Search the generated country, without asking a running suite (recorded life events
    /// are then not seen).
    #[arg(long)]
    offline: bool,
}

/// Sex.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// A card kind.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Card {
    /// A chip CCCD.
    ChipCccd,
    /// A barcode CCCD.
    BarcodeCccd,
    /// A Căn cước (2024).
    CanCuoc,
    /// Only the old CMND.
    CmndOnly,
    /// No card at all.
    None,
}

/// A VNeID level.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Vneid {
    /// No account.
    None,
    /// Level 1.
    #[value(name = "1")]
    Level1,
    /// Level 2.
    #[value(name = "2")]
    Level2,
}

/// A marital status.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Marital {
    /// Single.
    Single,
    /// Married.
    Married,
    /// Divorced.
    Divorced,
    /// Widowed.
    Widowed,
}

/// The tenant the admin calls of this run name (`--tenant`, `SANDBOX06_TENANT`).
static TENANT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes every admin call of this run a call of `tenant` (its `x-sandbox06-tenant` header):
/// fault rules it creates apply to that tenant's calls only, and it lists, clears and resets
/// only that tenant's rules, journal entries and state, and snapshots that tenant's state. A
/// malformed tenant is refused here.
pub fn set_tenant(tenant: Option<&str>) -> anyhow::Result<()> {
    let Some(tenant) = tenant.filter(|tenant| !tenant.is_empty()) else {
        return Ok(());
    };
    if !sandbox06_runtime::faults::is_tenant(tenant.as_bytes()) {
        bail!(
            "--tenant {tenant:?} is not a tenant: 1 to {} of a-z, A-Z, 0-9, '-', '_' and '.'",
            sandbox06_runtime::faults::MAX_TENANT_LEN
        );
    }
    // Set once, from the command line.
    let _ = TENANT.set(tenant.to_owned());
    Ok(())
}

/// The admin surface of the suite at the edge's address.
pub struct AdminClient {
    edge: String,
    token: Option<String>,
}

impl AdminClient {
    /// A client of the suite `config` names, with the admin client's token when the suite's
    /// single sign-on gives one.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        Self::connect_as(config, "sandbox06-admin", sandbox06_admin::ADMIN_SCOPE).await
    }

    /// A client of the suite `config` names, with a token of `client` for `scope` when the
    /// suite's single sign-on gives one.
    pub async fn connect_as(config: &Config, client: &str, scope: &str) -> anyhow::Result<Self> {
        let edge = sandbox06::edge_url(config)?;
        let token = token::fetch(config, client, Some(scope), None, Some(&edge))
            .await
            .ok();
        Ok(Self { edge, token })
    }

    /// `method` on `path` with `body`: the JSON answer of a success, else the suite's error.
    pub async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.edge);
        let mut request = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("accept", "application/json");
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(tenant) = TENANT.get() {
            request = request.header(sandbox06_runtime::faults::TENANT_HEADER, tenant);
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let (status, answer) = token::send(&url, request.body(Full::new(body))?).await?;
        if !status.is_success() {
            let error = &answer["error"];
            bail!(
                "the suite answered {status}{}: {}",
                error["details"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find_map(|d| d["reason"].as_str())
                    .map(|reason| format!(" {reason}"))
                    .unwrap_or_default(),
                error["message"].as_str().unwrap_or_default()
            );
        }
        Ok(answer)
    }
}

/// Prints `answer` as indented JSON.
pub(crate) fn print(answer: &Value) -> anyhow::Result<ExitCode> {
    crate::emit(format_args!("{}\n", serde_json::to_string_pretty(answer)?))?;
    Ok(ExitCode::SUCCESS)
}

/// A duration as protobuf JSON writes it (`0.300000000s`), from `300ms`, `1.5s`, `2m` or
/// `250us`.
fn duration(text: &str) -> anyhow::Result<String> {
    let duration = sandbox06_runtime::faults::parse_duration(text.trim())
        .with_context(|| format!("{text:?} is not a duration: 300ms, 1.5s, 2m"))?;
    Ok(format!(
        "{}.{:09}s",
        duration.as_secs(),
        duration.subsec_nanos()
    ))
}

/// A time as protobuf JSON writes it: RFC 3339 as given, or a date at midnight in Vietnam.
fn clock_time(text: &str) -> anyhow::Result<String> {
    let text = text.trim();
    let is_date = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if is_date {
        return Ok(format!("{text}T00:00:00+07:00"));
    }
    if !text.contains('T') {
        bail!("{text:?} is not a time: 2027-01-01T08:00:00+07:00, or a date: 2027-01-01");
    }
    Ok(text.to_owned())
}

/// How far to move the clock, as protobuf JSON writes it: [`duration`]'s forms, or days
/// (`30d`).
fn clock_step(text: &str) -> anyhow::Result<String> {
    match text.trim().strip_suffix('d') {
        Some(days) => {
            let days: u32 = days
                .parse()
                .with_context(|| format!("{text:?} is not a number of days: 30d"))?;
            Ok(format!("{}s", u64::from(days) * 86_400))
        }
        None => duration(text),
    }
}

/// `sandbox06 clock ...`
pub async fn clock(config: &Config, command: &ClockCommand) -> anyhow::Result<ExitCode> {
    let (method, path, body) = match command {
        ClockCommand::Show => (http::Method::GET, "/v1/admin/clock", None),
        ClockCommand::Set { time, freeze } => (
            http::Method::POST,
            "/v1/admin/clock:set",
            Some(json!({ "time": clock_time(time)?, "freeze": freeze })),
        ),
        ClockCommand::Advance { by } => (
            http::Method::POST,
            "/v1/admin/clock:advance",
            Some(json!({ "by": clock_step(by)? })),
        ),
        ClockCommand::Reset => (http::Method::POST, "/v1/admin/clock:reset", Some(json!({}))),
    };
    let admin = AdminClient::connect(config).await?;
    print(&admin.call(method, path, body).await?)
}

/// A gRPC code by name (`unavailable`, `NOT_FOUND`, `not-found`) or number.
fn code(text: &str) -> anyhow::Result<i32> {
    if let Ok(number) = text.parse::<i32>() {
        return Ok(number);
    }
    let wanted = text.trim().to_ascii_uppercase().replace('-', "_");
    (1..=16)
        .find(|n| sandbox06_runtime::error::code_name(tonic::Code::from_i32(*n)) == wanted)
        .with_context(|| format!("{text:?} is not a gRPC status code: unavailable, not-found, …"))
}

/// The rule `args` describe, in the admin surface's JSON.
fn rule_of(args: &FaultArgs) -> anyhow::Result<Value> {
    let mut rule = Map::new();
    rule.insert("component".into(), json!(args.component));
    if !args.method.is_empty() {
        rule.insert("method".into(), json!(args.method));
    }
    if let Some(id) = &args.citizen_id {
        rule.insert("citizenId".into(), json!(id));
    }
    if let Some(client) = &args.client {
        rule.insert("clientId".into(), json!(client));
    }
    if let Some(times) = args.times {
        rule.insert("times".into(), json!(times));
    }
    if let Some(ttl) = &args.ttl {
        rule.insert("ttl".into(), json!(duration(ttl)?));
    }
    if let Some(share) = args.share {
        rule.insert("share".into(), json!(share));
    }
    if let Some(latency) = &args.latency {
        let delay = match latency.split_once("..") {
            Some((min, max)) => json!({"uniform": {"min": duration(min)?, "max": duration(max)?}}),
            None => json!({"fixed": duration(latency)?}),
        };
        rule.insert("latency".into(), delay);
    } else if args.drop {
        rule.insert("drop".into(), json!({}));
    } else if args.down {
        rule.insert("down".into(), json!({}));
    } else if args.status.is_some() || args.reason.is_some() {
        let mut status = Map::new();
        if let Some(text) = &args.status {
            status.insert("code".into(), json!(code(text)?));
        }
        if let Some(reason) = &args.reason {
            status.insert("reason".into(), json!(reason));
        }
        rule.insert("status".into(), Value::Object(status));
    } else {
        bail!("say what the rule does: --status, --latency, --drop or --down");
    }
    Ok(json!({ "rule": rule }))
}

/// `sandbox06 fault ...`
pub async fn fault(config: &Config, command: &FaultCommand) -> anyhow::Result<ExitCode> {
    let admin = AdminClient::connect(config).await?;
    let answer = match command {
        FaultCommand::Add(args) => {
            let body = rule_of(args)?;
            admin
                .call(http::Method::POST, "/v1/admin/faultRules", Some(body))
                .await?
        }
        FaultCommand::List => {
            admin
                .call(http::Method::GET, "/v1/admin/faultRules", None)
                .await?
        }
        FaultCommand::Rm { id } => {
            let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
            admin
                .call(
                    http::Method::DELETE,
                    &format!("/v1/admin/faultRules/{id}"),
                    None,
                )
                .await?
        }
        FaultCommand::Clear => {
            admin
                .call(
                    http::Method::POST,
                    "/v1/admin/faultRules:clear",
                    Some(json!({})),
                )
                .await?
        }
    };
    print(&answer)
}

/// `sandbox06 reset [--component]`
pub async fn reset(config: &Config, component: Option<&str>) -> anyhow::Result<ExitCode> {
    let admin = AdminClient::connect(config).await?;
    let body = json!({ "component": component.unwrap_or_default() });
    print(
        &admin
            .call(http::Method::POST, "/v1/admin:reset", Some(body))
            .await?,
    )
}

/// `sandbox06 snapshot ...`
pub async fn snapshot(config: &Config, command: &SnapshotCommand) -> anyhow::Result<ExitCode> {
    let admin = AdminClient::connect(config).await?;
    let escape =
        |name: &str| -> String { form_urlencoded::byte_serialize(name.as_bytes()).collect() };
    let answer = match command {
        SnapshotCommand::Save { name } => {
            admin
                .call(
                    http::Method::POST,
                    "/v1/admin/snapshots",
                    Some(json!({ "name": name })),
                )
                .await?
        }
        SnapshotCommand::Restore { name } => {
            admin
                .call(
                    http::Method::POST,
                    &format!("/v1/admin/snapshots/{}:restore", escape(name)),
                    Some(json!({})),
                )
                .await?
        }
        SnapshotCommand::List => {
            admin
                .call(http::Method::GET, "/v1/admin/snapshots", None)
                .await?
        }
        SnapshotCommand::Rm { name } => {
            admin
                .call(
                    http::Method::DELETE,
                    &format!("/v1/admin/snapshots/{}", escape(name)),
                    None,
                )
                .await?
        }
    };
    print(&answer)
}

/// A journal filter in the admin surface's JSON.
fn filter_of(args: &CallFilterArgs) -> Value {
    let mut filter = Map::new();
    if let Some(method) = &args.method {
        filter.insert("method".into(), json!(method));
    }
    if let Some(client) = &args.client {
        filter.insert("clientId".into(), json!(client));
    }
    if let Some(code) = args.code {
        filter.insert("code".into(), json!(code));
    }
    Value::Object(filter)
}

/// `sandbox06 journal ...`
pub async fn journal(config: &Config, command: &JournalCommand) -> anyhow::Result<ExitCode> {
    let admin = AdminClient::connect(config).await?;
    match command {
        JournalCommand::List { filter, limit } => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("pageSize", &limit.to_string());
            if let Value::Object(filter) = filter_of(filter) {
                for (key, value) in filter {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    query.append_pair(&format!("filter.{key}"), &text);
                }
            }
            let path = format!("/v1/admin/journal?{}", query.finish());
            print(&admin.call(http::Method::GET, &path, None).await?)
        }
        JournalCommand::Verify {
            filter,
            count,
            comparison,
        } => {
            let comparison = match comparison {
                Comparison::Exactly => "COMPARISON_EXACTLY",
                Comparison::AtLeast => "COMPARISON_AT_LEAST",
                Comparison::AtMost => "COMPARISON_AT_MOST",
            };
            let body = json!({
                "filter": filter_of(filter),
                "comparison": comparison,
                "expectedCount": count.to_string(),
            });
            let answer = admin
                .call(http::Method::POST, "/v1/admin/journal:verify", Some(body))
                .await?;
            print(&answer)?;
            Ok(if answer["matched"] == json!(true) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        JournalCommand::Clear => print(
            &admin
                .call(
                    http::Method::POST,
                    "/v1/admin/journal:clear",
                    Some(json!({})),
                )
                .await?,
        ),
    }
}

/// The FindCitizens request `args` describe.
fn find_request(args: &CitizenFilterArgs) -> admin::FindCitizensRequest {
    use sandbox06_proto::types::{CardType, MaritalStatus, Sex as ProtoSex, VneidLevel};
    let (card_type, has_card) = match args.card {
        None => (CardType::Unspecified, None),
        Some(Card::None) => (CardType::Unspecified, Some(false)),
        Some(Card::ChipCccd) => (CardType::CccdChip, None),
        Some(Card::BarcodeCccd) => (CardType::CccdBarcode, None),
        Some(Card::CanCuoc) => (CardType::CanCuoc, None),
        Some(Card::CmndOnly) => (CardType::Cmnd, None),
    };
    let filter = admin::CitizenFilter {
        province_code: args.province.clone().unwrap_or_default(),
        province_2025_code: args.province_2025.clone().unwrap_or_default(),
        min_age: args.min_age,
        max_age: args.max_age,
        sex: match args.sex {
            None => ProtoSex::Unspecified,
            Some(Sex::Male) => ProtoSex::Male,
            Some(Sex::Female) => ProtoSex::Female,
        } as i32,
        ethnicity: args.ethnicity.clone().unwrap_or_default(),
        card_type: card_type as i32,
        has_card,
        vneid_level: match args.vneid {
            None => VneidLevel::Unspecified,
            Some(Vneid::None) => VneidLevel::None,
            Some(Vneid::Level1) => VneidLevel::VneidLevel1,
            Some(Vneid::Level2) => VneidLevel::VneidLevel2,
        } as i32,
        marital_status: match args.marital {
            None => MaritalStatus::Unspecified,
            Some(Marital::Single) => MaritalStatus::Single,
            Some(Marital::Married) => MaritalStatus::Married,
            Some(Marital::Divorced) => MaritalStatus::Divorced,
            Some(Marital::Widowed) => MaritalStatus::Widowed,
        } as i32,
        insurance_group: args.insurance_group.clone().unwrap_or_default(),
        insured: args.insured,
        deceased: args.deceased,
    };
    admin::FindCitizensRequest {
        filter: Some(filter),
        page_size: i32::try_from(args.limit).unwrap_or(i32::MAX),
        page_token: String::new(),
    }
}

/// `sandbox06 citizens`: the ID numbers the running suite finds for the filter, one per line;
/// with `--offline`, those the generated country has.
pub async fn citizens(config: &Config, args: &CitizenFilterArgs) -> anyhow::Result<ExitCode> {
    const RESPONSE: &str = "sandbox06.admin.v1.FindCitizensResponse";
    let request = find_request(args);
    let answer = if args.offline {
        let country = sandbox06::country(config)?;
        let found = sandbox06_country::find::find_citizens(&country, &request)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        sandbox06_proto::to_json(&found, RESPONSE)?
    } else {
        let body = sandbox06_proto::to_json(&request, "sandbox06.admin.v1.FindCitizensRequest")?;
        AdminClient::connect(config)
            .await?
            .call(http::Method::POST, "/v1/admin/citizens:find", Some(body))
            .await?
    };
    let ids: Vec<&str> = answer["citizenIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for id in &ids {
        crate::emit(format_args!("{id}\n"))?;
    }
    if ids.is_empty() {
        eprintln!("sandbox06: no citizen matches in the part of the country searched");
    }
    Ok(ExitCode::SUCCESS)
}

/// What changed, for `sandbox06 life-event`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LifeEventKind {
    /// Moved permanent residence: --commune and --street.
    Moved,
    /// Married another citizen: --spouse.
    Married,
    /// Reported the card lost or damaged; a replacement card was issued.
    CardReplaced,
    /// Died.
    Died,
    /// The VNeID account changed level: --level.
    VneidChanged,
}

/// `sandbox06 life-event <citizen_id> <kind> [options]`
#[derive(Args, Debug)]
pub struct LifeEventArgs {
    /// Whose record changes: a personal ID number.
    citizen_id: String,
    /// What changed.
    #[arg(value_enum)]
    kind: LifeEventKind,
    /// `moved`: the 5-digit GSO code of the new commune, 2025 units or before (`22366`).
    #[arg(long)]
    commune: Option<String>,
    /// `moved`: house number and street, or hamlet.
    #[arg(long)]
    street: Option<String>,
    /// `married`: the spouse's personal ID number.
    #[arg(long)]
    spouse: Option<String>,
    /// `vneid-changed`: the new level.
    #[arg(long, value_enum)]
    level: Option<Vneid>,
    /// The date the change took effect, `YYYY-MM-DD`; the suite's reference date when absent.
    #[arg(long)]
    date: Option<String>,
    /// An idempotency key: a retry with the same key records the event once.
    #[arg(long)]
    request_id: Option<String>,
}

/// A date written `YYYY-MM-DD`, as the contract's Date.
fn date(text: &str) -> anyhow::Result<sandbox06_proto::types::Date> {
    let parts: Vec<i32> = text
        .trim()
        .split('-')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{text:?} is not a date: YYYY-MM-DD"))?;
    let [year, month, day] = parts[..] else {
        bail!("{text:?} is not a date: YYYY-MM-DD");
    };
    let date = sandbox06_proto::types::Date { year, month, day };
    sandbox06_proto::dates::date_from_proto(&date, "--date")
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(date)
}

/// The CreateLifeEvent request `args` describe; a flag of another kind, or a missing one, is
/// refused before anything is sent.
fn life_event_request(args: &LifeEventArgs) -> anyhow::Result<admin::CreateLifeEventRequest> {
    use admin::life_event::Change;
    use sandbox06_proto::types::VneidLevel;
    let kind = args.kind;
    for (flag, given, of) in [
        ("--commune", args.commune.is_some(), LifeEventKind::Moved),
        ("--street", args.street.is_some(), LifeEventKind::Moved),
        ("--spouse", args.spouse.is_some(), LifeEventKind::Married),
        ("--level", args.level.is_some(), LifeEventKind::VneidChanged),
    ] {
        if given && kind != of {
            bail!("{flag} is for `{}`", name_of(of));
        }
    }
    let needs = |flag: &str| anyhow::anyhow!("`{}` needs {flag}", name_of(kind));
    let change = match kind {
        LifeEventKind::Moved => Change::Moved(admin::LifeEventMoved {
            commune_code: args.commune.clone().ok_or_else(|| needs("--commune"))?,
            street: args.street.clone().ok_or_else(|| needs("--street"))?,
        }),
        LifeEventKind::Married => Change::Married(admin::LifeEventMarried {
            spouse_citizen_id: args.spouse.clone().ok_or_else(|| needs("--spouse"))?,
        }),
        LifeEventKind::CardReplaced => Change::CardReplaced(admin::LifeEventCardReplaced {}),
        LifeEventKind::Died => Change::Died(admin::LifeEventDied {}),
        LifeEventKind::VneidChanged => Change::VneidChanged(admin::LifeEventVneidChanged {
            level: match args.level.ok_or_else(|| needs("--level"))? {
                Vneid::None => VneidLevel::None,
                Vneid::Level1 => VneidLevel::VneidLevel1,
                Vneid::Level2 => VneidLevel::VneidLevel2,
            } as i32,
        }),
    };
    Ok(admin::CreateLifeEventRequest {
        citizen_id: args.citizen_id.clone(),
        event: Some(admin::LifeEvent {
            effective_date: args.date.as_deref().map(date).transpose()?,
            change: Some(change),
        }),
        request_id: args.request_id.clone().unwrap_or_default(),
    })
}

/// A kind as the command line names it.
fn name_of(kind: LifeEventKind) -> String {
    kind.to_possible_value()
        .map(|value| value.get_name().to_owned())
        .unwrap_or_default()
}

/// `sandbox06 life-event`: records the event in the running suite; prints the parts of the
/// record it changed.
pub async fn life_event(config: &Config, args: &LifeEventArgs) -> anyhow::Result<ExitCode> {
    let request = life_event_request(args)?;
    let body = sandbox06_proto::to_json(&request, "sandbox06.admin.v1.CreateLifeEventRequest")?;
    print(
        &AdminClient::connect(config)
            .await?
            .call(http::Method::POST, "/v1/admin/lifeEvents", Some(body))
            .await?,
    )
}

/// `sandbox06 unlock <citizen_id>`: unlocks the VNeID account in the running suite.
pub async fn unlock(config: &Config, citizen_id: &str) -> anyhow::Result<ExitCode> {
    let id: String = form_urlencoded::byte_serialize(citizen_id.as_bytes()).collect();
    print(
        &AdminClient::connect(config)
            .await?
            .call(
                http::Method::POST,
                &format!("/v1/admin/accounts/{id}:unlock"),
                Some(json!({})),
            )
            .await?,
    )
}

/// The facility a share code is for, as VNeID names it: `facilities/<id>`, from the id (or the
/// whole name).
fn facility_name(facility: &str) -> String {
    let facility = facility.trim();
    if facility.starts_with("facilities/") {
        facility.to_owned()
    } else {
        format!("facilities/{facility}")
    }
}

/// `sandbox06 share-code <citizen_id> --facility <facility_id> [--ttl <seconds>]`: a VNeID
/// share code of the citizen's data for the facility, as the app's QR code carries it; prints
/// the code alone on its line (its expiry on standard error), to hand to the facility's
/// software.
pub async fn share_code(
    config: &Config,
    citizen_id: &str,
    facility: &str,
    ttl_seconds: Option<i32>,
) -> anyhow::Result<ExitCode> {
    let body = json!({
        "citizenId": citizen_id,
        "facility": facility_name(facility),
        "ttlSeconds": ttl_seconds.unwrap_or(0),
    });
    let answer = AdminClient::connect(config)
        .await?
        .call(http::Method::POST, "/v1/admin/vneidShareCodes", Some(body))
        .await?;
    let code = answer["shareCode"]
        .as_str()
        .context("the admin surface answered no shareCode")?;
    if let Some(expire) = answer["expireTime"].as_str() {
        eprintln!("expires at {expire}");
    }
    crate::emit(format_args!("{code}\n"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_code_is_for_a_facility_by_its_id_or_its_name() {
        assert_eq!(facility_name("hotel-42"), "facilities/hotel-42");
        assert_eq!(facility_name("facilities/hotel-42"), "facilities/hotel-42");
    }

    fn life_event_args(kind: LifeEventKind) -> LifeEventArgs {
        LifeEventArgs {
            citizen_id: "001091012345".to_owned(),
            kind,
            commune: None,
            street: None,
            spouse: None,
            level: None,
            date: None,
            request_id: None,
        }
    }

    #[test]
    fn a_life_event_takes_the_flags_of_its_kind() {
        let moved = LifeEventArgs {
            commune: Some("22366".to_owned()),
            street: Some("Số 1 đường Trần Phú".to_owned()),
            date: Some("2026-05-01".to_owned()),
            ..life_event_args(LifeEventKind::Moved)
        };
        let request = life_event_request(&moved).unwrap();
        let event = request.event.unwrap();
        assert_eq!(
            event.effective_date,
            Some(sandbox06_proto::types::Date {
                year: 2026,
                month: 5,
                day: 1
            })
        );
        assert!(matches!(
            event.change,
            Some(admin::life_event::Change::Moved(ref m)) if m.commune_code == "22366"
        ));
        let missing = life_event_request(&life_event_args(LifeEventKind::Married)).unwrap_err();
        assert_eq!(missing.to_string(), "`married` needs --spouse");
        let stray = LifeEventArgs {
            spouse: Some("001192023456".to_owned()),
            ..life_event_args(LifeEventKind::Died)
        };
        assert_eq!(
            life_event_request(&stray).unwrap_err().to_string(),
            "--spouse is for `married`"
        );
        for bad in ["2026-02-30", "1 May 2026", "2026-05"] {
            let args = LifeEventArgs {
                date: Some(bad.to_owned()),
                ..life_event_args(LifeEventKind::Died)
            };
            assert!(life_event_request(&args).is_err(), "{bad}");
        }
        let level = LifeEventArgs {
            level: Some(Vneid::Level2),
            ..life_event_args(LifeEventKind::VneidChanged)
        };
        assert!(matches!(
            life_event_request(&level).unwrap().event.unwrap().change,
            Some(admin::life_event::Change::VneidChanged(
                admin::LifeEventVneidChanged { level: 3 }
            ))
        ));
    }

    #[test]
    fn clock_times_and_steps_are_written_as_protobuf_json_writes_them() {
        assert_eq!(
            clock_time("2027-01-01").unwrap(),
            "2027-01-01T00:00:00+07:00"
        );
        assert_eq!(
            clock_time("2027-01-01T08:00:00Z").unwrap(),
            "2027-01-01T08:00:00Z"
        );
        assert!(clock_time("tomorrow").is_err());
        assert_eq!(clock_step("30d").unwrap(), "2592000s");
        assert_eq!(clock_step("90m").unwrap(), "5400.000000000s");
        assert!(clock_step("-1d").is_err());
        assert!(clock_step("soon").is_err());
    }

    #[test]
    fn durations_are_written_as_protobuf_json_writes_them() {
        assert_eq!(duration("300ms").unwrap(), "0.300000000s");
        assert_eq!(duration("1.5s").unwrap(), "1.500000000s");
        assert_eq!(duration("2m").unwrap(), "120.000000000s");
        assert!(duration("soon").is_err());
        assert!(duration("-1s").is_err());
    }

    #[test]
    fn a_malformed_tenant_is_refused_before_any_call() {
        assert!(set_tenant(None).is_ok());
        assert!(set_tenant(Some("")).is_ok());
        assert!(set_tenant(Some("job a")).is_err());
        assert!(set_tenant(Some(&"x".repeat(65))).is_err());
    }

    #[test]
    fn codes_are_read_by_name_or_number() {
        assert_eq!(code("unavailable").unwrap(), 14);
        assert_eq!(code("NOT_FOUND").unwrap(), 5);
        assert_eq!(code("deadline-exceeded").unwrap(), 4);
        assert_eq!(code("14").unwrap(), 14);
        assert!(code("broken").is_err());
    }
}
