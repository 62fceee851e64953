//! `sandbox06`: start the whole suite (`up`, the default), one component (`serve`), use the
//! integrator tools (`personas`, `citizen`, `qr`, `health`), or drive a running suite's
//! controls (`fault`, `reset`, `snapshot`, `journal`, `citizens`).

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use clap::{
    Parser, Subcommand,
    builder::{PossibleValue, PossibleValuesParser},
};
use figment::{Figment, providers::Serialized};
use sandbox06::{Config, SERVING, Suite, components, country, health_status};
use sandbox06_runtime::telemetry;
use sandbox06_runtime::{component::StartError, server::ServeError};
use sandbox06_vn::CitizenId;
use sandbox06_world::personas::ids as persona_ids;
use sandbox06_world::{View, card_qr};

mod admin;
mod lodging;
mod token;

#[derive(Parser, Debug)]
#[command(
    name = "sandbox06",
    version,
    about = "Local sandbox of Project 06 identity integrations"
)]
struct Cli {
    /// Config file (default: sandbox06.toml in the working directory, when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Seed of the synthetic country.
    #[arg(long, global = true)]
    seed: Option<u64>,
    /// Edge address of the gateway (default 127.0.0.1:4606, or SANDBOX06_GATEWAY__LISTEN): where
    /// `up` listens, and where `health`, `token`, `inspect-token`, `citizen` and `openapi` find
    /// the running suite.
    #[arg(long, global = true)]
    listen: Option<std::net::SocketAddr>,
    /// Number of generated citizens (default 100000000).
    #[arg(long, global = true)]
    size: Option<u64>,
    /// The date the country is computed for, YYYY-MM-DD (default: today in Vietnam).
    #[arg(long, global = true)]
    reference_date: Option<String>,
    /// Where state lives: memory, or redis://host:port (default memory).
    #[arg(long, global = true)]
    store: Option<String>,
    /// The tenant of the admin commands (fault, reset, snapshot, journal…): the
    /// `x-sandbox06-tenant` of a parallel CI job, whose fault rules, journal entries, state
    /// and snapshots they alone see and clear.
    #[arg(long, global = true, env = "SANDBOX06_TENANT")]
    tenant: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start every component in one process, the gateway on the edge port (the default).
    Up,
    /// Run one component, with addresses from config and environment.
    Serve {
        /// The component.
        #[arg(value_parser = component_names())]
        component: String,
    },
    /// List the hand-written personas.
    Personas,
    /// Print a citizen's record as JSON: what `GET /v1/citizens/{id}` of the running suite at the
    /// edge's address answers (recorded life events included); without a running suite, the
    /// generated record, saying so on standard error.
    Citizen {
        /// The 12-digit personal ID number.
        citizen_id: String,
        /// Read the generator, without asking a running suite.
        #[arg(long)]
        offline: bool,
    },
    /// Print the QR payload of a citizen's current card.
    Qr {
        /// The 12-digit personal ID number.
        citizen_id: String,
        /// Also write a scannable QR image to this PNG file.
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// Print an access token from the running suite's single sign-on (client credentials),
    /// for curl and grpcurl: `-H "authorization: Bearer $(sandbox06 token)"`.
    Token {
        /// The client: a demo client or one of `sso.clients`.
        #[arg(long, default_value = "demo-hospital")]
        client: String,
        /// Scopes, space-separated (default: every scope the client may have).
        #[arg(long)]
        scope: Option<String>,
        /// The client's secret (default: the configured or documented one).
        #[arg(long, env = "SANDBOX06_CLIENT_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// The suite's URL (default: `sso.issuer` when set, else the edge's address).
        #[arg(long)]
        url: Option<String>,
    },
    /// Decode an access or ID token and say whether the running suite accepts it, and if not,
    /// why (expired, revoked, another issuer or audience, an unknown key, a missing scope).
    InspectToken {
        /// The token.
        token: String,
        /// The scope a call needs, to check the token carries it.
        #[arg(long)]
        scope: Option<String>,
        /// The suite to ask (default: the token's issuer, its `iss`).
        #[arg(long)]
        url: Option<String>,
    },
    /// Write the OpenAPI 3.1 document of the REST/JSON API (what the edge serves at
    /// /openapi.json), for Postman or a client generator.
    Openapi {
        /// The server URL the document names (default: the edge's listen address).
        #[arg(long)]
        server: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Fault rules of the running suite: make a component or a mock national system fail, slow
    /// or go down, with that system's own errors.
    Fault {
        #[command(subcommand)]
        command: admin::FaultCommand,
    },
    /// Put the running suite (or one component) back in its seeded state: life events, sign-on
    /// sessions, lockouts, fault rules and the journal are gone; snapshots stay.
    Reset {
        /// Only this component.
        #[arg(long)]
        component: Option<String>,
    },
    /// Save, restore, list or delete named snapshots of the running suite's state.
    Snapshot {
        #[command(subcommand)]
        command: admin::SnapshotCommand,
    },
    /// The running suite's journal of the calls through the edge: list, verify, clear.
    Journal {
        #[command(subcommand)]
        command: admin::JournalCommand,
    },
    /// The running suite's clock: show it, set it, advance it (tokens, codes, sessions, card
    /// expiry and deadlines follow), reset it.
    Clock {
        #[command(subcommand)]
        command: admin::ClockCommand,
    },
    /// List the ID numbers of generated citizens that match a filter, from the running suite.
    Citizens(admin::CitizenFilterArgs),
    /// Record a life event in the running suite's population database: a move, a marriage, a
    /// lost card, a death, a VNeID level.
    LifeEvent(admin::LifeEventArgs),
    /// Unlock a VNeID account of the running suite locked after wrong passwords or codes.
    Unlock {
        /// The account number: the holder's personal ID number.
        citizen_id: String,
    },
    /// Issue a VNeID share code in the running suite, as the app shows it in a QR code at a
    /// lodging facility's desk: prints the code, which that facility redeems once.
    ShareCode {
        /// The account number: the holder's personal ID number.
        citizen_id: String,
        /// The facility's id (or its name, `facilities/<id>`).
        #[arg(long)]
        facility: String,
        /// Seconds the code is good for, 30 to 600 (default 120).
        #[arg(long)]
        ttl: Option<i32>,
    },
    /// Declare guests at a lodging facility of the running suite (citizens by ID number, or
    /// VNeID share codes): prints the declaration as recorded, with its verdicts.
    Declare(lodging::DeclareArgs),
    /// List a lodging facility's declarations in the running suite.
    Declarations(lodging::DeclarationsArgs),
    /// Check a component's grpc.health.v1 status: exit 0 when SERVING.
    Health {
        /// Address of the component (default: the edge's address).
        #[arg(long)]
        addr: Option<String>,
        /// Service to ask about ("" = the server).
        #[arg(long, default_value = "")]
        service: String,
    },
}

/// The names `serve` accepts: every component of the list, with what it is.
fn component_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        components()
            .iter()
            .map(|c| PossibleValue::new(c.spec().name).help(c.spec().summary)),
    )
}

const POPULATION: &str = sandbox06_population_db::component::SECTION;

fn key(section: &str, name: &str) -> String {
    format!("{section}.{name}")
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut overrides = Figment::new();
    if let Some(seed) = cli.seed {
        overrides = overrides.merge(Serialized::default(&key(POPULATION, "seed"), seed));
    }
    if let Some(listen) = cli.listen {
        overrides = overrides.merge(Serialized::default(
            &key(sandbox06_gateway::component::SECTION, "listen"),
            listen.to_string(),
        ));
    }
    if let Some(size) = cli.size {
        overrides = overrides.merge(Serialized::default(&key(POPULATION, "size"), size));
    }
    if let Some(date) = &cli.reference_date {
        overrides = overrides.merge(Serialized::default(
            &key(POPULATION, "reference_date"),
            date,
        ));
    }
    if let Some(store) = &cli.store {
        overrides = overrides.merge(Serialized::default(
            &key(sandbox06_store::SECTION, "url"),
            store,
        ));
    }
    Ok(Config::load(cli.config.as_deref(), overrides)?)
}

fn main() -> ExitCode {
    // A panic message may quote the input it failed on: ID numbers in it are masked.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "sandbox06: panic at {at}: {}",
            sandbox06_runtime::mask::path(&message)
        );
    }));
    let cli = Cli::parse();
    let result = match &cli.command {
        None
        | Some(Command::Up)
        | Some(Command::Serve { .. })
        | Some(Command::Health { .. })
        | Some(Command::Token { .. })
        | Some(Command::InspectToken { .. })
        | Some(Command::Citizen { .. })
        | Some(Command::Fault { .. })
        | Some(Command::Reset { .. })
        | Some(Command::Snapshot { .. })
        | Some(Command::Journal { .. })
        | Some(Command::Clock { .. })
        | Some(Command::Citizens(_))
        | Some(Command::LifeEvent(_))
        | Some(Command::Unlock { .. })
        | Some(Command::ShareCode { .. })
        | Some(Command::Declare(_))
        | Some(Command::Declarations(_)) => {
            match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(run_async(&cli)),
                Err(e) => Err(e.into()),
            }
        }
        Some(Command::Personas) => personas(&cli),
        Some(Command::Qr { citizen_id, png }) => qr(&cli, citizen_id, png.as_deref()),
        Some(Command::Openapi { server, out }) => openapi(&cli, server.as_deref(), out.as_deref()),
    };
    match result {
        Ok(code) => code,
        // A reader that stops early (`sandbox06 personas | head`) is not a failure.
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sandbox06: {}", explain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The API document of every routed service, as the edge of `up` serves it.
fn openapi(
    cli: &Cli,
    server: Option<&str>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let list = components();
    let services = sandbox06::routed_services(&list)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let single_sign_on = list.iter().any(|c| {
        c.spec().role == sandbox06_runtime::component::Role::Service
            && c.spec()
                .http_prefixes
                .contains(&"/.well-known/openid-configuration")
    });
    let config = load_config(cli)?;
    let server = match server {
        Some(url) => url.to_owned(),
        None => sandbox06::edge_url(&config)?,
    };
    // The ID numbers and dates of birth the suite takes depend on its reference date.
    let reference = config.population.reference_date()?;
    let document = sandbox06_gateway::openapi::ApiDocument::new(
        &sandbox06_proto::DESCRIPTOR_POOL,
        &services,
        single_sign_on,
    )
    .at(reference)
    .with_components(sandbox06_runtime::component::controlled_components(
        list.iter().map(|c| c.spec()),
    ))
    .for_server(&server);
    let text = serde_json::to_string_pretty(&document)? + "\n";
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The error as one message, with what to do about a port that is taken.
fn explain(error: &anyhow::Error) -> String {
    if let Some(StartError::Serve {
        component,
        source: ServeError::Bind { addr, source },
    }) = error.downcast_ref::<StartError>()
        && source.kind() == std::io::ErrorKind::AddrInUse
    {
        let flag = if *component == sandbox06_gateway::component::SPEC.name {
            "--listen".to_owned()
        } else {
            format!("{}.listen", section_of(component))
        };
        return format!(
            "{component} cannot listen on {addr}: the address is in use (another sandbox06 \
             running?); choose another address with {flag}"
        );
    }
    format!("{error:#}")
}

fn section_of(component: &str) -> &'static str {
    sandbox06::component(component).map_or("", |c| c.spec().section)
}

/// Writes `text` to standard output, reporting a closed pipe as an error instead of panicking.
fn emit(text: impl std::fmt::Display) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")?;
    out.flush()
}

async fn run_async(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    if let Some(Command::Health { addr, service }) = &cli.command {
        let url = match addr {
            Some(addr) if addr.contains("://") => addr.clone(),
            Some(addr) => format!("http://{addr}"),
            None => sandbox06::edge_url(&config)?,
        };
        let addr = url.trim_start_matches("http://");
        return Ok(match health_status(&url, service).await {
            Ok(status) => {
                emit(format_args!("{status}\n"))?;
                if status == SERVING {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("{addr}: {e}");
                ExitCode::FAILURE
            }
        });
    }
    if let Some(Command::Citizen {
        citizen_id,
        offline,
    }) = &cli.command
    {
        return citizen(&config, citizen_id, *offline).await;
    }
    admin::set_tenant(cli.tenant.as_deref())?;
    match &cli.command {
        Some(Command::Fault { command }) => return admin::fault(&config, command).await,
        Some(Command::Reset { component }) => {
            return admin::reset(&config, component.as_deref()).await;
        }
        Some(Command::Snapshot { command }) => return admin::snapshot(&config, command).await,
        Some(Command::Journal { command }) => return admin::journal(&config, command).await,
        Some(Command::Clock { command }) => return admin::clock(&config, command).await,
        Some(Command::Citizens(filter)) => return admin::citizens(&config, filter).await,
        Some(Command::LifeEvent(args)) => return admin::life_event(&config, args).await,
        Some(Command::Unlock { citizen_id }) => return admin::unlock(&config, citizen_id).await,
        Some(Command::ShareCode {
            citizen_id,
            facility,
            ttl,
        }) => return admin::share_code(&config, citizen_id, facility, *ttl).await,
        Some(Command::Declare(args)) => return lodging::declare(&config, args).await,
        Some(Command::Declarations(args)) => return lodging::declarations(&config, args).await,
        _ => {}
    }
    if let Some(Command::Token {
        client,
        scope,
        secret,
        url,
    }) = &cli.command
    {
        let token = token::fetch(
            &config,
            client,
            scope.as_deref(),
            secret.as_deref(),
            url.as_deref(),
        )
        .await?;
        emit(format_args!("{token}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(Command::InspectToken { token, scope, url }) = &cli.command {
        let report = token::inspect(&config, token, scope.as_deref(), url.as_deref()).await?;
        emit(format_args!("{}\n", report.text))?;
        return Ok(if report.accepted {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let name = match &cli.command {
        Some(Command::Serve { component }) => component.as_str(),
        _ => "sandbox06",
    };
    // A bad log filter or exporter setting stops the start; a second init is harmless.
    let _telemetry = match telemetry::init(name, &config.telemetry) {
        Ok(guard) => guard,
        Err(telemetry::TelemetryError::AlreadyInitialized) => telemetry::TelemetryGuard::default(),
        Err(error) => return Err(error.into()),
    };
    match &cli.command {
        Some(Command::Serve { component }) => sandbox06::serve(&config, component).await?,
        _ => up(&config).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn up(config: &Config) -> anyhow::Result<()> {
    let began = std::time::Instant::now();
    let mut suite = Suite::start(config).await?;
    suite.wait_ready(Duration::from_secs(10)).await?;
    print_banner(&suite, began.elapsed());
    suite
        .run_until_stopped(config.limits.shutdown_grace())
        .await?;
    tracing::info!("sandbox06 stopped");
    Ok(())
}

fn print_banner(suite: &Suite, ready_in: Duration) {
    let c = &suite.country;
    let edge = suite.edge;
    let mut out = String::new();
    out.push_str(&format!(
        "sandbox06 ready in {} ms: edge grpc://{edge}\n  {} synthetic citizens (seed {}, as of {}), {} personas\n\n",
        ready_in.as_millis().max(1),
        c.population(),
        c.seed(),
        c.reference_date(),
        c.personas().all().len()
    ));
    out.push_str("  a few personas (all: sandbox06 personas)\n");
    for p in c.personas().all().iter().take(5) {
        out.push_str(&format!("    {}  {:<20} {}\n", p.id, p.key, p.use_for));
    }
    out.push_str("\n  try\n");
    for line in try_lines(c, edge) {
        out.push_str(&format!("    {line}\n"));
    }
    let host = sandbox06::reachable(edge);
    out.push_str(&format!(
        "\n  the REST API, browsable: http://{host}/docs (OpenAPI: http://{host}/openapi.json)\n\n  ctrl-c stops\n"
    ));
    // The banner is a courtesy: a closed standard output must not stop the suite.
    let _ = emit(out);
}

/// The banner's commands for the suite whose edge is at `edge`, built from the personas' own
/// records so that each does what it says: a `sandbox06` command names the edge when it is not
/// the default one (`--listen`), and grpcurl and curl call it.
fn try_lines(country: &sandbox06_world::Country, edge: std::net::SocketAddr) -> Vec<String> {
    let host = sandbox06::reachable(edge);
    let default_edge: std::net::SocketAddr = ([127, 0, 0, 1], 4606).into();
    let sandbox06 = if host == default_edge {
        "sandbox06".to_owned()
    } else {
        format!("sandbox06 --listen {host}")
    };
    let mut lines = vec![
        format!("grpcurl -plaintext {host} list"),
        format!("{sandbox06} health"),
        format!("TOKEN=$({sandbox06} token --client demo-hospital)"),
    ];
    let year = country.reference_date().year();
    let person_of = |raw: &str| {
        CitizenId::parse_at(raw, "citizen_id", year)
            .ok()
            .and_then(|id| country.person(id, View::Full))
    };
    if let Some(p) = person_of(persona_ids::HAPPY_PATH) {
        let id = p.id.to_string();
        let claim = serde_json::json!({
            "citizen_id": id,
            "full_name": p.full_name,
            "date_of_birth": {
                "year": p.date_of_birth.year(),
                "month": u8::from(p.date_of_birth.month()),
                "day": p.date_of_birth.day(),
            },
            "sex": match p.sex {
                sandbox06_vn::Sex::Male => "SEX_MALE",
                sandbox06_vn::Sex::Female => "SEX_FEMALE",
            },
        });
        lines.push(format!(
            "grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" -d '{{\"citizen_id\":\"{id}\"}}' {host} sandbox06.citizen.v1.CitizenService/GetCitizen"
        ));
        lines.push(format!(
            "grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" -d '{claim}' {host} sandbox06.citizen.v1.CitizenService/VerifyCitizen"
        ));
        lines.push(format!(
            "curl -H \"authorization: Bearer $TOKEN\" http://{host}/v1/citizens/{id}"
        ));
        lines.push(format!("{sandbox06} citizen {id}"));
    }
    lines.push(format!(
        "curl http://{host}/.well-known/openid-configuration"
    ));
    // A persona whose card carries a QR code (a chip card with the old CMND number).
    if let Some(p) = person_of(persona_ids::OLD_CMND).filter(|p| card_qr(country, p).is_some()) {
        lines.push(format!("sandbox06 qr {}", p.id));
    }
    lines
}

fn personas(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let country = country(&config)?;
    emit(format_args!(
        "{:<12}  {:<20}  {:<20}  use for\n",
        "citizen_id", "persona", "full name"
    ))?;
    for p in country.personas().all() {
        emit(format_args!(
            "{:<12}  {:<20}  {:<20}  {}\n",
            p.id, p.key, p.name, p.use_for
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_id(raw: &str, year: i32) -> anyhow::Result<CitizenId> {
    CitizenId::parse_at(raw, "citizen_id", year).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `sandbox06 citizen`: the record as the running suite's REST API answers it, else (no suite
/// at the edge's address, or `--offline`) the generated one in the same JSON.
async fn citizen(config: &Config, raw: &str, offline: bool) -> anyhow::Result<ExitCode> {
    let country = country(config)?;
    let id = parse_id(raw, country.reference_date().year())?;
    if !offline {
        let edge = sandbox06::edge_url(config)?;
        if let Some(answer) = token::read_citizen(config, &edge, &id.to_string()).await? {
            emit(format_args!("{}\n", serde_json::to_string_pretty(&answer)?))?;
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "sandbox06: no suite answers at {edge}: this is the generated record, without the \
             life events a running suite has recorded (start one with sandbox06 up, or name it \
             with --listen)"
        );
    }
    let Some(person) = country.person(id, View::Full) else {
        bail!("no citizen has the number {raw}");
    };
    let record =
        sandbox06_citizen::service::release(sandbox06_population_db::record_of(&country, &person));
    let answer = sandbox06_proto::citizen::GetCitizenResponse {
        citizen: Some(record),
    };
    let json = sandbox06_proto::to_json(&answer, "sandbox06.citizen.v1.GetCitizenResponse")?;
    emit(format_args!("{}\n", serde_json::to_string_pretty(&json)?))?;
    Ok(ExitCode::SUCCESS)
}

fn qr(cli: &Cli, raw: &str, png: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let country = country(&config)?;
    let id = parse_id(raw, country.reference_date().year())?;
    let Some(person) = country.person(id, View::Full) else {
        bail!("no citizen has the number {raw}");
    };
    let Some(card) = person.current_card() else {
        bail!("citizen {raw} has no card (children under 14 usually have none)");
    };
    let Some(qr) = card_qr(&country, &person) else {
        bail!(
            "citizen {raw}'s last document is {}, issued {:02}/{:02}/{}: it carries no QR code, so there is no payload to print",
            card.kind.description(),
            card.issued.day(),
            u8::from(card.issued.month()),
            card.issued.year()
        );
    };
    let payload = qr.to_payload();
    emit(format_args!("{payload}\n"))?;
    if let Some(path) = png {
        let code = qrcode::QrCode::new(payload.as_bytes())
            .context("the payload does not fit a QR code")?;
        let image = code
            .render::<image::Luma<u8>>()
            .min_dimensions(300, 300)
            .build();
        image
            .save(path)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn country() -> sandbox06_world::Country {
        sandbox06_world::Country::new(
            6,
            1000,
            time::Date::from_calendar_date(2026, time::Month::November, 27).unwrap(),
        )
    }

    #[test]
    fn the_banner_names_the_edge_only_when_it_is_not_the_default() {
        let default = try_lines(&country(), "127.0.0.1:4606".parse().unwrap());
        assert!(
            default.contains(&"TOKEN=$(sandbox06 token --client demo-hospital)".to_owned()),
            "{default:?}"
        );
        assert!(
            default.iter().all(|l| !l.contains("--listen")),
            "{default:?}"
        );
        // Every address, the unspecified one reached on loopback.
        let other = try_lines(&country(), "0.0.0.0:5000".parse().unwrap());
        assert!(
            other.contains(
                &"TOKEN=$(sandbox06 --listen 127.0.0.1:5000 token --client demo-hospital)"
                    .to_owned()
            ),
            "{other:?}"
        );
        assert!(
            other
                .iter()
                .filter(|l| l.starts_with("grpcurl") || l.starts_with("curl"))
                .all(|l| l.contains("127.0.0.1:5000")),
            "{other:?}"
        );
    }
}
