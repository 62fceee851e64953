//! Static checks of the deployment files (Docker cannot run where the tests run): the
//! Dockerfile, `docker-compose.yml`, the Kubernetes manifests, their kustomization and the
//! collector config agree with the binary's commands, the config keys and each other.
#![allow(clippy::unwrap_used, clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use figment::Figment;
use sandbox06::{Config, components};
use sandbox06_runtime::{component::ComponentSpec, config::ENV_PREFIX};
use serde::Deserialize;
use serde_yaml::Value;

/// Subcommands of the `sandbox06` binary a container may run.
const SUBCOMMANDS: &[&str] = &["up", "serve", "health"];
/// Components `sandbox06 serve` accepts: the suite's list.
fn component_names() -> Vec<&'static str> {
    components().iter().map(|c| c.spec().name).collect()
}

fn spec_of(name: &str) -> &'static ComponentSpec {
    sandbox06::component(name).unwrap().spec()
}
/// The one image of every component.
const IMAGE: &str = "sandbox06:latest";
/// The edge port.
const EDGE_PORT: u16 = 4606;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// Every document of a YAML file, with `<<` merge keys applied.
fn documents(relative: &str) -> Vec<Value> {
    let text = read(relative);
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"));
            value.apply_merge().unwrap();
            value
        })
        .filter(|value| !value.is_null())
        .collect()
}

fn str_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a string, got {value:?}"))
}

fn seq(value: &Value) -> &[Value] {
    value.as_sequence().map(Vec::as_slice).unwrap_or_default()
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

/// Checks a container's argument list against the binary's subcommands; the component it
/// serves, if any.
fn check_command(args: &[String], origin: &str) -> Option<String> {
    let first = args.first().map(String::as_str).unwrap_or("up");
    assert!(
        SUBCOMMANDS.contains(&first),
        "{origin}: {first:?} is not one of the subcommands {SUBCOMMANDS:?}"
    );
    match first {
        "serve" => {
            assert_eq!(
                args.len(),
                2,
                "{origin}: serve takes one component: {args:?}"
            );
            let component = &args[1];
            assert!(
                component_names().contains(&component.as_str()),
                "{origin}: serve {component:?} is not one of {:?}",
                component_names()
            );
            Some(component.clone())
        }
        "up" => {
            assert_eq!(args.len(), 1, "{origin}: up takes no arguments: {args:?}");
            None
        }
        _ => None,
    }
}

/// Loads a `Config` from exactly these variables through the real layering, failing on any
/// `SANDBOX06_*` name that is not a config key, and checks every value reads back unchanged.
fn config_from_env(vars: &BTreeMap<String, String>, origin: &str) -> Config {
    let mut loaded = None;
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        for (name, value) in vars {
            jail.set_env(name, value);
        }
        let config = Config::load(None, Figment::new())
            .map_err(|e| format!("{origin}: environment is not a valid config: {e}"))?;
        let back = config.layers();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let path = key.to_lowercase().replace("__", ".");
            let found = back
                .find_value(&path)
                .map_err(|e| format!("{origin}: {name} is not config key {path}: {e}"))?;
            let found = found
                .as_str()
                .map(str::to_owned)
                .or_else(|| found.to_u128().map(|n| n.to_string()))
                .or_else(|| found.to_bool_lossy().map(|b| b.to_string()))
                .unwrap_or_default();
            if &found != value {
                return Err(format!("{origin}: {name}={value} reads back as {found}").into());
            }
        }
        loaded = Some(config);
        Ok(())
    });
    loaded.unwrap()
}

/// The address a component listens on.
fn listen_of(config: &Config, component: &str) -> std::net::SocketAddr {
    sandbox06::component(component)
        .unwrap()
        .listen(&config.layers())
        .unwrap()
}

/// Checks that a component running alone is told where each of its peers is.
fn check_peers_configured(config: &Config, component: &str, origin: &str) {
    let me = spec_of(component);
    for peer in components() {
        if let Some(key) = me.peer_key(peer.spec()) {
            assert!(
                config.layers().find_value(&key).is_ok(),
                "{origin}: {component} needs {key}"
            );
        }
    }
}

/// Whether an env var names an address of another service.
fn is_address_var(name: &str) -> bool {
    name.ends_with("_URL") || name.ends_with("_ENDPOINT") || name.contains("__BACKENDS__")
}

/// `scheme://host:port[/…]` → (host, port).
fn host_port(url: &str, origin: &str) -> (String, u16) {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{origin}: {url} has no scheme"));
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{origin}: {url} must name its port"));
    (host.to_owned(), port.parse().unwrap())
}

// ----- Dockerfile -----

/// Instructions of a Dockerfile: (keyword, arguments), continuation lines joined.
fn dockerfile() -> Vec<(String, String)> {
    let text = read("deploy/Dockerfile");
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let (keyword, arguments) = current.split_once(' ').unwrap_or((&current, ""));
        instructions.push((keyword.to_uppercase(), arguments.trim().to_owned()));
        current.clear();
    }
    instructions
}

fn exec_form(arguments: &str, origin: &str) -> Vec<String> {
    serde_yaml::from_str(arguments)
        .unwrap_or_else(|e| panic!("{origin} must use the exec form [\"…\"]: {e}"))
}

/// Variables the image sets, which every container of it inherits.
fn image_env() -> BTreeMap<String, String> {
    dockerfile()
        .into_iter()
        .filter(|(keyword, _)| keyword == "ENV")
        .map(|(_, arguments)| {
            let (name, value) = arguments.split_once('=').unwrap();
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect()
}

#[test]
fn dockerfile_builds_the_binary_into_a_non_root_image() {
    let instructions = dockerfile();
    let all = |keyword: &str| -> Vec<String> {
        instructions
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, a)| a.clone())
            .collect()
    };
    let from = all("FROM");
    assert_eq!(from.len(), 2, "a builder and a runtime stage: {from:?}");
    assert!(from[0].starts_with("rust:1-bookworm"), "{from:?}");
    assert!(
        all("RUN")
            .iter()
            .any(|run| { run.contains("cargo build --release -p sandbox06 --locked") })
    );
    assert!(all("COPY").iter().any(|copy| {
        copy.starts_with("--from=builder") && copy.ends_with("/usr/local/bin/sandbox06")
    }));
    let user = all("USER");
    let runtime_user = user.last().expect("the runtime stage sets a USER");
    assert!(
        !["root", "0", "0:0"].contains(&runtime_user.as_str()),
        "{runtime_user}"
    );
    let exposed: Vec<String> = all("EXPOSE")
        .iter()
        .flat_map(|e| e.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert!(
        exposed.contains(&EDGE_PORT.to_string()),
        "the image exposes {exposed:?}, not the edge port"
    );
    let entrypoint = all("ENTRYPOINT");
    assert_eq!(entrypoint.len(), 1);
    assert_eq!(exec_form(&entrypoint[0], "ENTRYPOINT"), vec!["sandbox06"]);
    let cmd = all("CMD");
    assert_eq!(cmd.len(), 1);
    assert_eq!(check_command(&exec_form(&cmd[0], "CMD"), "CMD"), None);
    // The default `up` listens on the exposed edge port, reachable from outside the container.
    let config = config_from_env(&image_env(), "Dockerfile ENV");
    let edge = listen_of(&config, "gateway");
    assert_eq!(edge.port(), EDGE_PORT);
    assert!(edge.ip().is_unspecified());
    for check in all("HEALTHCHECK") {
        let (_, command) = check.split_once("CMD ").unwrap();
        let args = exec_form(command, "HEALTHCHECK");
        assert_eq!(args[..3], ["sandbox06", "health", "--addr"]);
        assert_eq!(args[3], format!("127.0.0.1:{EDGE_PORT}"));
    }

    let ignore = read(".dockerignore");
    for entry in ["target/", ".git/"] {
        assert!(ignore.lines().any(|line| line.trim() == entry), "{entry}");
    }
}

// ----- docker-compose.yml -----

struct ComposeService {
    name: String,
    spec: Value,
    env: BTreeMap<String, String>,
    /// Ports the service listens on inside its network.
    ports: BTreeSet<u16>,
}

fn compose() -> Vec<ComposeService> {
    let file = documents("docker-compose.yml").remove(0);
    let services = file["services"].as_mapping().expect("services");
    services
        .iter()
        .map(|(name, spec)| {
            let name = str_of(name, "service name").to_owned();
            let env: BTreeMap<String, String> = spec["environment"]
                .as_mapping()
                .map(|env| {
                    env.iter()
                        .map(|(k, v)| (str_of(k, "env name").to_owned(), scalar(v)))
                        .collect()
                })
                .unwrap_or_default();
            let mut ports: BTreeSet<u16> = seq(&spec["expose"])
                .iter()
                .map(|port| scalar(port).parse().unwrap())
                .collect();
            for mapping in seq(&spec["ports"]) {
                let mapping = scalar(mapping);
                let container = mapping.rsplit(':').next().unwrap();
                ports.insert(container.parse().unwrap());
            }
            for (var, value) in &env {
                if var.starts_with(ENV_PREFIX) && var.ends_with("__LISTEN") {
                    ports.insert(value.rsplit(':').next().unwrap().parse().unwrap());
                }
            }
            ComposeService {
                name,
                spec: spec.clone(),
                env,
                ports,
            }
        })
        .collect()
}

#[test]
fn compose_services_run_valid_commands_with_valid_config() {
    let services = compose();
    let by_name: BTreeMap<&str, &ComposeService> =
        services.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut served = BTreeSet::new();
    let mut trace_names = BTreeSet::new();
    for service in services.iter().filter(|s| s.spec["image"] == IMAGE) {
        let origin = format!("compose service {}", service.name);
        assert_eq!(
            service.spec["build"]["dockerfile"], "deploy/Dockerfile",
            "{origin}"
        );
        assert!(repo().join("deploy/Dockerfile").is_file());
        assert_eq!(service.spec["read_only"], true, "{origin}");
        assert!(!service.spec["mem_limit"].is_null(), "{origin}");

        let args: Vec<String> = seq(&service.spec["command"]).iter().map(scalar).collect();
        let component = check_command(&args, &origin);
        // What the container really sees: the image's variables, then the service's.
        let mut env = image_env();
        env.extend(service.env.clone());
        let config = config_from_env(&env, &origin);
        let port = match &component {
            Some(component) => {
                assert!(served.insert(component.clone()), "{component} served twice");
                let listen = listen_of(&config, component);
                assert!(
                    listen.ip().is_unspecified(),
                    "{origin}: {listen} is unreachable"
                );
                check_peers_configured(&config, component, &origin);
                listen.port()
            }
            None => listen_of(&config, "gateway").port(),
        };
        assert!(service.ports.contains(&port), "{origin}: {port} not listed");
        let health: Vec<String> = seq(&service.spec["healthcheck"]["test"])
            .iter()
            .map(scalar)
            .collect();
        assert_eq!(
            health,
            [
                "CMD",
                "sandbox06",
                "health",
                "--addr",
                &format!("127.0.0.1:{port}")
            ],
            "{origin}"
        );
        assert!(env.contains_key("OTEL_EXPORTER_OTLP_ENDPOINT"), "{origin}");
        let trace_name = env.get("OTEL_SERVICE_NAME").expect("OTEL_SERVICE_NAME");
        assert!(
            trace_names.insert(trace_name.clone()),
            "{origin}: {trace_name} twice"
        );
    }
    assert_eq!(
        served.len(),
        component_names().len(),
        "every component runs: {served:?}"
    );

    // The gateway publishes the edge port, and listens on it.
    let gateway = services
        .iter()
        .find(|s| {
            seq(&s.spec["command"])
                .get(1)
                .is_some_and(|c| c == "gateway")
        })
        .unwrap();
    let published: Vec<String> = seq(&gateway.spec["ports"]).iter().map(scalar).collect();
    assert!(
        published.contains(&format!("{EDGE_PORT}:{EDGE_PORT}")),
        "{published:?}"
    );
    assert!(gateway.ports.contains(&EDGE_PORT));

    for service in &services {
        let origin = format!("compose service {}", service.name);
        for (var, value) in service.env.iter().filter(|(var, _)| is_address_var(var)) {
            let (host, port) = host_port(value, &origin);
            let target = by_name
                .get(host.as_str())
                .unwrap_or_else(|| panic!("{origin}: {var} names unknown service {host}"));
            assert!(
                target.ports.contains(&port),
                "{origin}: {var} uses port {port}, {host} listens on {:?}",
                target.ports
            );
        }
        if let Some(depends) = service.spec["depends_on"].as_mapping() {
            for (dependency, condition) in depends {
                let dependency = str_of(dependency, "depends_on");
                let target = by_name
                    .get(dependency)
                    .unwrap_or_else(|| panic!("{origin}: depends on unknown {dependency}"));
                if condition["condition"] == "service_healthy" {
                    assert!(
                        !target.spec["healthcheck"].is_null(),
                        "{origin}: waits for {dependency} to be healthy, which has no healthcheck"
                    );
                }
            }
        }
        if let Some(test) = service.spec["healthcheck"]["test"].as_sequence() {
            assert!(
                matches!(test[0].as_str(), Some("CMD" | "CMD-SHELL")),
                "{origin}"
            );
        }
    }
}

// ----- Kubernetes -----

struct Container {
    deployment: String,
    spec: Value,
    /// containerPort by port name (unnamed ports under their number).
    ports: BTreeMap<String, u16>,
}

impl Container {
    fn resolves(&self, port: &Value) -> Option<u16> {
        match port {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| self.ports.values().any(|p| p == n)),
            Value::String(name) => self.ports.get(name).copied(),
            _ => None,
        }
    }
}

struct Deployment {
    name: String,
    pod_labels: BTreeMap<String, String>,
    containers: Vec<Container>,
    document: Value,
}

struct Cluster {
    documents: Vec<(String, Value)>,
    deployments: Vec<Deployment>,
    /// Service name → its ports.
    services: BTreeMap<String, BTreeSet<u16>>,
}

fn labels(value: &Value) -> BTreeMap<String, String> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (str_of(k, "label").to_owned(), scalar(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn manifest_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("deploy/kubernetes"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .map(|name| format!("kubernetes/{name}"))
        .collect();
    files.sort();
    files
}

fn cluster() -> Cluster {
    let mut documents = Vec::new();
    for file in manifest_files() {
        for document in self::documents(&format!("deploy/{file}")) {
            documents.push((file.clone(), document));
        }
    }
    let mut deployments = Vec::new();
    let mut services = BTreeMap::new();
    for (file, document) in &documents {
        let name = str_of(&document["metadata"]["name"], "metadata.name").to_owned();
        match document["kind"].as_str() {
            Some("Deployment") => {
                let pod = &document["spec"]["template"];
                let containers = seq(&pod["spec"]["containers"])
                    .iter()
                    .map(|container| Container {
                        deployment: name.clone(),
                        spec: container.clone(),
                        ports: seq(&container["ports"])
                            .iter()
                            .map(|port| {
                                let number = port["containerPort"].as_u64().unwrap();
                                let number = u16::try_from(number).unwrap();
                                let key = port["name"]
                                    .as_str()
                                    .map_or_else(|| number.to_string(), str::to_owned);
                                (key, number)
                            })
                            .collect(),
                    })
                    .collect();
                deployments.push(Deployment {
                    name,
                    pod_labels: labels(&pod["metadata"]["labels"]),
                    containers,
                    document: document.clone(),
                });
            }
            Some("Service") => {
                let ports = seq(&document["spec"]["ports"])
                    .iter()
                    .map(|port| u16::try_from(port["port"].as_u64().unwrap()).unwrap())
                    .collect();
                services.insert(name, ports);
            }
            Some(_) => {}
            None => panic!("{file}: a document without kind"),
        }
    }
    Cluster {
        documents,
        deployments,
        services,
    }
}

#[test]
fn kubernetes_manifests_are_consistent() {
    let cluster = cluster();
    let namespaces: BTreeSet<String> = cluster
        .documents
        .iter()
        .filter(|(_, d)| d["kind"] == "Namespace")
        .map(|(_, d)| scalar(&d["metadata"]["name"]))
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["sandbox06".to_owned()]));
    let claims: BTreeSet<String> = cluster
        .documents
        .iter()
        .filter(|(_, d)| d["kind"] == "PersistentVolumeClaim")
        .map(|(_, d)| scalar(&d["metadata"]["name"]))
        .collect();
    for (file, document) in &cluster.documents {
        assert!(document["apiVersion"].is_string(), "{file}: apiVersion");
        if document["kind"] != "Namespace" {
            assert_eq!(document["metadata"]["namespace"], "sandbox06", "{file}");
        }
    }

    let mut served = BTreeSet::new();
    for Deployment {
        name,
        pod_labels,
        containers,
        document,
    } in &cluster.deployments
    {
        let origin = format!("deployment {name}");
        let selector = labels(&document["spec"]["selector"]["matchLabels"]);
        assert!(!selector.is_empty(), "{origin}: selector");
        assert!(
            selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)),
            "{origin}: selector {selector:?} does not match pod labels {pod_labels:?}"
        );
        let pod = &document["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{origin}");
        for volume in seq(&pod["volumes"]) {
            if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                assert!(claims.contains(claim), "{origin}: unknown claim {claim}");
            }
        }
        assert!(!containers.is_empty(), "{origin}: containers");
        for container in containers {
            let spec = &container.spec;
            let origin = format!("{origin} container {}", scalar(&spec["name"]));
            let security = &spec["securityContext"];
            assert_eq!(security["readOnlyRootFilesystem"], true, "{origin}");
            assert_eq!(security["allowPrivilegeEscalation"], false, "{origin}");
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        !spec["resources"][bound][resource].is_null(),
                        "{origin}: resources.{bound}.{resource}"
                    );
                }
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                let probe_spec = &spec[probe];
                assert!(!probe_spec.is_null(), "{origin}: {probe}");
                for kind in ["grpc", "tcpSocket", "httpGet"] {
                    let port = &probe_spec[kind]["port"];
                    if !port.is_null() {
                        assert!(
                            container.resolves(port).is_some(),
                            "{origin}: {probe} port {port:?} is not a containerPort"
                        );
                    }
                }
            }
            let env: BTreeMap<String, String> = seq(&spec["env"])
                .iter()
                .map(|var| (scalar(&var["name"]), scalar(&var["value"])))
                .collect();
            for (var, value) in env.iter().filter(|(var, _)| is_address_var(var)) {
                let (host, port) = host_port(value, &origin);
                let ports = cluster
                    .services
                    .get(&host)
                    .unwrap_or_else(|| panic!("{origin}: {var} names unknown service {host}"));
                assert!(
                    ports.contains(&port),
                    "{origin}: {var} port {port} not in {ports:?}"
                );
            }
            if spec["image"] != IMAGE {
                continue;
            }
            let args: Vec<String> = seq(&spec["args"]).iter().map(scalar).collect();
            let component = check_command(&args, &origin)
                .unwrap_or_else(|| panic!("{origin}: runs no component"));
            assert!(
                served.insert(component.clone()),
                "{component} deployed twice"
            );
            let mut full_env = image_env();
            full_env.extend(env.clone());
            let config = config_from_env(&full_env, &origin);
            let listen = listen_of(&config, &component);
            assert!(listen.ip().is_unspecified(), "{origin}: {listen}");
            assert!(
                container.ports.values().any(|p| *p == listen.port()),
                "{origin}: listens on {} which is no containerPort",
                listen.port()
            );
            assert_eq!(
                spec["readinessProbe"]["grpc"]["port"].as_u64(),
                Some(u64::from(listen.port())),
                "{origin}: the gRPC probe asks the port the component listens on"
            );
            assert!(env.contains_key("OTEL_SERVICE_NAME"), "{origin}");
        }
    }
    assert_eq!(
        served.len(),
        component_names().len(),
        "every component runs: {served:?}"
    );
    assert!(cluster.services["gateway"].contains(&EDGE_PORT));

    for (file, service) in cluster
        .documents
        .iter()
        .filter(|(_, d)| d["kind"] == "Service")
    {
        let name = scalar(&service["metadata"]["name"]);
        let origin = format!("{file}: service {name}");
        let selector = labels(&service["spec"]["selector"]);
        let matched: Vec<_> = cluster
            .deployments
            .iter()
            .filter(|Deployment { pod_labels, .. }| {
                !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
            })
            .collect();
        assert_eq!(
            matched.len(),
            1,
            "{origin}: selects {} deployments",
            matched.len()
        );
        let containers = &matched[0].containers;
        for port in seq(&service["spec"]["ports"]) {
            let target = if port["targetPort"].is_null() {
                &port["port"]
            } else {
                &port["targetPort"]
            };
            assert!(
                containers.iter().any(|c| c.resolves(target).is_some()),
                "{origin}: targetPort {target:?} is not a containerPort of {}",
                containers[0].deployment
            );
        }
    }
}

#[test]
fn kustomization_lists_every_manifest_and_the_collector_config() {
    let kustomization = documents("deploy/kustomization.yaml").remove(0);
    let resources: BTreeSet<String> = seq(&kustomization["resources"])
        .iter()
        .map(scalar)
        .collect();
    let files: BTreeSet<String> = manifest_files().into_iter().collect();
    assert_eq!(
        resources, files,
        "kustomization resources and deploy/kubernetes differ"
    );

    let cluster = cluster();
    let collector = cluster
        .deployments
        .iter()
        .find(|deployment| deployment.name == "otel-collector")
        .expect("a collector deployment");
    let document = &collector.document;
    let container = &collector.containers[0];
    let generators = seq(&kustomization["configMapGenerator"]);
    for volume in seq(&document["spec"]["template"]["spec"]["volumes"]) {
        let Some(map) = volume["configMap"]["name"].as_str() else {
            continue;
        };
        let generator = generators
            .iter()
            .find(|g| g["name"] == map)
            .unwrap_or_else(|| panic!("configMap {map} is not generated"));
        for file in seq(&generator["files"]) {
            assert!(
                repo().join("deploy").join(scalar(file)).is_file(),
                "{file:?}"
            );
        }
        // The collector is started with the file where the ConfigMap is mounted.
        let mount = seq(&container.spec["volumeMounts"])
            .iter()
            .find(|m| m["name"] == volume["name"])
            .unwrap();
        let file = scalar(&seq(&generator["files"])[0]);
        let expected = format!("--config={}/{file}", scalar(&mount["mountPath"]));
        let args: Vec<String> = seq(&container.spec["args"]).iter().map(scalar).collect();
        assert!(args.contains(&expected), "{args:?} lacks {expected}");
    }

    // The collector config: OTLP in on the collector's port, out to a defined service.
    let config = documents("deploy/otel-collector.yaml").remove(0);
    let port = |endpoint: &Value| -> u16 {
        scalar(endpoint)
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let receiver = port(&config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]);
    assert!(container.resolves(&Value::from(receiver)).is_some());
    assert!(cluster.services["otel-collector"].contains(&receiver));
    let health = port(&config["extensions"]["health_check"]["endpoint"]);
    assert!(container.resolves(&Value::from(health)).is_some());
    let exporters = config["exporters"].as_mapping().unwrap();
    for (name, exporter) in exporters {
        let (host, port) = host_port(
            &format!("grpc://{}", scalar(&exporter["endpoint"])),
            &scalar(name),
        );
        assert!(
            cluster
                .services
                .get(&host)
                .is_some_and(|ports| ports.contains(&port)),
            "exporter {name:?} sends to {host}:{port}, which is no service"
        );
    }
    for (pipeline_name, pipeline) in config["service"]["pipelines"].as_mapping().unwrap() {
        for section in ["receivers", "processors", "exporters"] {
            for component in seq(&pipeline[section]) {
                assert!(
                    !config[section][scalar(component).as_str()].is_null(),
                    "pipeline {pipeline_name:?} uses undefined {section} {component:?}"
                );
            }
        }
    }
    for extension in seq(&config["service"]["extensions"]) {
        assert!(!config["extensions"][scalar(extension).as_str()].is_null());
    }
}

#[test]
fn compose_publishes_only_the_edge_and_the_trace_viewer() {
    let file = documents("docker-compose.yml").remove(0);
    let services = file["services"].as_mapping().unwrap();
    let mut published = BTreeSet::new();
    for (name, spec) in services {
        for mapping in seq(&spec["ports"]) {
            let mapping = scalar(mapping);
            assert!(
                mapping.contains(':'),
                "{name:?} publishes {mapping} on a random host port"
            );
            published.insert(mapping);
        }
    }
    assert_eq!(
        published,
        BTreeSet::from(["4606:4606".to_owned(), "16686:16686".to_owned()])
    );
    // Jaeger v2: OTLP is native, and the v1 image and its variables are gone.
    let jaeger = &services[&Value::from("jaeger")];
    assert!(
        scalar(&jaeger["image"]).starts_with("jaegertracing/jaeger:2."),
        "{:?}",
        jaeger["image"]
    );
    assert!(jaeger["environment"]["COLLECTOR_OTLP_ENABLED"].is_null());
}
