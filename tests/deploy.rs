//! The Kubernetes manifests (`deploy/kubernetes/`) checked against the service itself.
//!
//! Both overlays (`sandbox`, `production`) are rendered with `kubectl kustomize`, as an operator
//! would apply them, and turned into JSON by `kubectl annotate --local` (no cluster is contacted).
//! What they say is compared with what the built binary says of itself: its settings and which of
//! them are secret from `neighborhood-text --help` (a secret setting shows no value there), its
//! routes from `neighborhood-text openapi`. So a setting renamed in `src/config.rs`, a probe path
//! moved or a secret put into a ConfigMap fails here rather than in a cluster.
//!
//! `kubectl` (with its built-in kustomize) is needed; without it every test says so and passes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::Value;

const OVERLAYS: [&str; 2] = ["sandbox", "production"];
/// The service's Deployment and container, as the base names them.
const APP: &str = "neighborhood-text";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kubernetes_dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

/// Whether `kubectl` runs here; if not, the caller skips (and says so once per test).
fn kubectl_present(test: &str) -> bool {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    let present = *PRESENT.get_or_init(|| {
        Command::new("kubectl")
            .args(["version", "--client"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if !present {
        println!(
            "skipping {test}: kubectl is not installed, so deploy/kubernetes cannot be rendered"
        );
    }
    present
}

/// The service's settings, as `neighborhood-text --help` describes them.
struct HelpSettings {
    /// Every `NT_*` variable.
    all: BTreeSet<String>,
    /// Those whose value the help hides (`[env: NT_X]` rather than `[env: NT_X=]`): the secrets.
    secret: BTreeSet<String>,
    /// The `[default: ...]` of each variable that has one.
    defaults: BTreeMap<String, String>,
}

fn run_binary(args: &[&str]) -> String {
    // No NT_* of the caller's: the help would show their values.
    let output = Command::new(env!("CARGO_BIN_EXE_neighborhood-text"))
        .args(args)
        .env_clear()
        .output()
        .expect("the service's binary runs");
    assert!(
        output.status.success(),
        "neighborhood-text {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn help() -> &'static HelpSettings {
    static HELP: OnceLock<HelpSettings> = OnceLock::new();
    HELP.get_or_init(|| {
        let text = run_binary(&["--help"]);
        let mut settings = HelpSettings {
            all: BTreeSet::new(),
            secret: BTreeSet::new(),
            defaults: BTreeMap::new(),
        };
        let mut current: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('-') {
                // The next option's block begins.
                current = None;
            } else if let Some(rest) = trimmed.strip_prefix("[env: ") {
                let rest = rest.strip_suffix(']').unwrap_or(rest);
                let (name, hidden) = match rest.split_once('=') {
                    Some((name, _)) => (name, false),
                    None => (rest, true),
                };
                settings.all.insert(name.to_string());
                if hidden {
                    settings.secret.insert(name.to_string());
                }
                current = Some(name.to_string());
            } else if let (Some(name), Some(rest)) = (&current, trimmed.strip_prefix("[default: "))
            {
                let value = rest.strip_suffix(']').unwrap_or(rest);
                settings.defaults.insert(name.clone(), value.to_string());
            }
        }
        assert!(
            settings.all.contains("NT_BIND") && settings.all.contains("NT_REDIS_URL"),
            "--help lists no NT_BIND or NT_REDIS_URL; its format changed?\n{text}"
        );
        assert!(
            settings.secret.contains("NT_SESSION_SECRET"),
            "--help does not hide NT_SESSION_SECRET's value; its format changed?\n{text}"
        );
        settings
    })
}

/// The paths of the service's HTTP API, from the OpenAPI document it generates.
fn routes() -> &'static Value {
    static ROUTES: OnceLock<Value> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let document: Value =
            serde_json::from_str(&run_binary(&["openapi"])).expect("the OpenAPI document is JSON");
        document["paths"].clone()
    })
}

/// Kubernetes YAML as JSON objects, through `kubectl annotate --local` (offline).
fn yaml_to_objects(yaml: &[u8], what: &str) -> Vec<Value> {
    let mut child = Command::new("kubectl")
        .args([
            "annotate",
            "--local",
            "-f",
            "-",
            "-o",
            "json",
            "deploy-test/rendered=true",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(yaml)
        .expect("YAML written to kubectl");
    let output = child.wait_with_output().expect("kubectl ends");
    assert!(
        output.status.success(),
        "kubectl could not read {what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .map(|object| object.expect("kubectl printed JSON"))
        .collect()
}

/// An overlay as `kubectl kustomize` renders it.
fn rendered(overlay: &str) -> &'static [Value] {
    static RENDERED: OnceLock<BTreeMap<&'static str, Vec<Value>>> = OnceLock::new();
    let all = RENDERED.get_or_init(|| {
        OVERLAYS
            .iter()
            .map(|&name| {
                let dir = kubernetes_dir().join("overlays").join(name);
                let output = Command::new("kubectl")
                    .arg("kustomize")
                    .arg(&dir)
                    .output()
                    .expect("kubectl starts");
                assert!(
                    output.status.success(),
                    "kubectl kustomize {} failed: {}",
                    dir.display(),
                    String::from_utf8_lossy(&output.stderr)
                );
                (
                    name,
                    yaml_to_objects(&output.stdout, &format!("the {name} overlay")),
                )
            })
            .collect()
    });
    &all[overlay]
}

/// `base/secret.example.yaml`: the Secret an operator fills in (not part of any render).
fn secret_example() -> &'static Value {
    static EXAMPLE: OnceLock<Value> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let path = kubernetes_dir().join("base/secret.example.yaml");
        let yaml = std::fs::read(&path).expect("base/secret.example.yaml is there");
        let mut objects = yaml_to_objects(&yaml, "base/secret.example.yaml");
        assert_eq!(objects.len(), 1, "one Secret in {}", path.display());
        objects.remove(0)
    })
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|object| object["kind"] == kind)
        .collect()
}

fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|object| object["kind"] == kind && object["metadata"]["name"] == name)
}

fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The keys of a ConfigMap's or Secret's `data` and `stringData`.
fn keys(object: &Value) -> BTreeSet<String> {
    ["data", "stringData"]
        .iter()
        .filter_map(|field| object[field].as_object())
        .flat_map(|map| map.keys().cloned())
        .collect()
}

/// A ConfigMap's or Secret's value for `key` (Secrets' `data` is base64, so only `stringData`
/// and ConfigMaps are read).
fn plain_value(object: &Value, key: &str) -> Option<String> {
    ["stringData", "data"]
        .iter()
        .filter(|field| object["kind"] == "ConfigMap" || **field == "stringData")
        .find_map(|field| object[field][key].as_str().map(str::to_string))
}

fn app_deployment(objects: &[Value]) -> &Value {
    named(objects, "Deployment", APP).expect("the neighborhood-text Deployment")
}

fn app_container(objects: &[Value]) -> &Value {
    items(&app_deployment(objects)["spec"]["template"]["spec"]["containers"])
        .iter()
        .find(|container| container["name"] == APP)
        .expect("the neighborhood-text container")
}

/// What the service's container is given: each variable with where it comes from.
#[derive(Debug)]
enum Source {
    /// `env: - name: X, value: ...`
    PlainValue,
    /// `env: - name: X, valueFrom: ...`
    ValueFrom,
    /// A key of a ConfigMap (`envFrom`).
    ConfigMap(String),
    /// A key of a Secret (`envFrom`; the example's keys when the overlay does not render it).
    Secret(String),
}

fn container_settings(overlay: &str) -> Vec<(String, Source)> {
    let objects = rendered(overlay);
    let container = app_container(objects);
    let mut settings = Vec::new();
    for variable in items(&container["env"]) {
        let name = str_of(&variable["name"]).to_string();
        let source = if variable.get("valueFrom").is_some() {
            Source::ValueFrom
        } else {
            Source::PlainValue
        };
        settings.push((name, source));
    }
    for from in items(&container["envFrom"]) {
        if let Some(name) = from["configMapRef"]["name"].as_str() {
            let map = named(objects, "ConfigMap", name).unwrap_or_else(|| {
                panic!("{overlay}: envFrom names ConfigMap {name}, not rendered")
            });
            settings.extend(
                keys(map)
                    .into_iter()
                    .map(|key| (key, Source::ConfigMap(name.into()))),
            );
        }
        if let Some(name) = from["secretRef"]["name"].as_str() {
            let secret = match named(objects, "Secret", name) {
                Some(secret) => secret,
                None => {
                    let example = secret_example();
                    assert_eq!(
                        example["metadata"]["name"], name,
                        "{overlay}: the Secret {name} is neither rendered nor the one secret.example.yaml makes"
                    );
                    example
                }
            };
            settings.extend(
                keys(secret)
                    .into_iter()
                    .map(|key| (key, Source::Secret(name.into()))),
            );
        }
    }
    settings
}

/// The value the service gets for `name` from a rendered ConfigMap, else its default.
fn setting_value(overlay: &str, name: &str) -> Option<String> {
    let objects = rendered(overlay);
    container_settings(overlay)
        .into_iter()
        .find_map(|(key, source)| match source {
            Source::ConfigMap(map) if key == name => {
                named(objects, "ConfigMap", &map).and_then(|map| plain_value(map, name))
            }
            _ => None,
        })
        .or_else(|| help().defaults.get(name).cloned())
}

#[test]
fn both_overlays_set_only_settings_the_service_has() {
    if !kubectl_present("both_overlays_set_only_settings_the_service_has") {
        return;
    }
    let known = &help().all;
    for overlay in OVERLAYS {
        let settings = container_settings(overlay);
        assert!(
            !settings.is_empty(),
            "{overlay}: the container gets no settings"
        );
        for (name, source) in &settings {
            assert!(
                known.contains(name),
                "{overlay}: {name} (from {source:?}) is not a setting of neighborhood-text --help"
            );
        }
        // Every ConfigMap and Secret rendered, referenced or not, holds only settings.
        for object in of_kind(rendered(overlay), "ConfigMap")
            .into_iter()
            .chain(of_kind(rendered(overlay), "Secret"))
        {
            for key in keys(object) {
                assert!(
                    known.contains(&key),
                    "{overlay}: {} {} holds {key}, which neighborhood-text --help does not list",
                    object["kind"],
                    object["metadata"]["name"]
                );
            }
        }
    }
    for key in keys(secret_example()) {
        assert!(
            known.contains(&key),
            "secret.example.yaml sets {key}, unknown to --help"
        );
    }
}

#[test]
fn no_secret_setting_is_in_a_configmap_or_a_plain_value() {
    if !kubectl_present("no_secret_setting_is_in_a_configmap_or_a_plain_value") {
        return;
    }
    let secret = &help().secret;
    for overlay in OVERLAYS {
        for map in of_kind(rendered(overlay), "ConfigMap") {
            let leaked: Vec<_> = keys(map).intersection(secret).cloned().collect();
            assert!(
                leaked.is_empty(),
                "{overlay}: ConfigMap {} holds secret settings {leaked:?}: they belong in the Secret",
                map["metadata"]["name"]
            );
        }
        for deployment in of_kind(rendered(overlay), "Deployment") {
            for container in items(&deployment["spec"]["template"]["spec"]["containers"]) {
                for variable in items(&container["env"]) {
                    let name = str_of(&variable["name"]);
                    assert!(
                        !(secret.contains(name) && variable.get("value").is_some()),
                        "{overlay}: {name} is secret but set as a plain value in {}",
                        deployment["metadata"]["name"]
                    );
                }
            }
        }
        // And the service reads every secret it is given from a Secret.
        for (name, source) in container_settings(overlay) {
            if secret.contains(&name) {
                assert!(
                    matches!(source, Source::Secret(_) | Source::ValueFrom),
                    "{overlay}: secret setting {name} comes from {source:?}"
                );
            }
        }
    }
}

#[test]
fn the_secret_example_lists_every_secret_setting() {
    if !kubectl_present("the_secret_example_lists_every_secret_setting") {
        return;
    }
    let example = secret_example();
    assert_eq!(example["kind"], "Secret");
    let listed = keys(example);
    // The emulator's own token is a sandbox setting: production never has one.
    let missing: Vec<_> = help()
        .secret
        .iter()
        .filter(|name| !name.starts_with("NT_SANDBOX_") && !listed.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "secret.example.yaml lacks the secret settings {missing:?}"
    );
    // Production reads the example's Secret, by name, for everything secret.
    let production = container_settings("production");
    assert!(
        production
            .iter()
            .any(|(name, source)| name == "NT_REDIS_URL" && matches!(source, Source::Secret(_))),
        "production's Redis URL does not come from the Secret: {production:?}"
    );
}

#[test]
fn ports_and_probes_match_the_service() {
    if !kubectl_present("ports_and_probes_match_the_service") {
        return;
    }
    let paths = routes();
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        let bind = setting_value(overlay, "NT_BIND").expect("NT_BIND is set or has a default");
        let (host, port) = bind.rsplit_once(':').expect("NT_BIND is host:port");
        assert_eq!(
            host, "0.0.0.0",
            "{overlay}: NT_BIND must listen on every interface in a pod"
        );
        let port: u64 = port.parse().expect("NT_BIND's port is a number");

        let container = app_container(objects);
        let ports = items(&container["ports"]);
        let http = ports
            .iter()
            .find(|entry| entry["containerPort"] == port)
            .unwrap_or_else(|| {
                panic!("{overlay}: no container port {port} (NT_BIND) in {ports:?}")
            });
        let port_name = str_of(&http["name"]);
        // A probe's or Service's port, by name or number, must be NT_BIND's.
        let is_app_port =
            |value: &Value| value == port || (!port_name.is_empty() && value == port_name);

        for (probe, path) in [("readinessProbe", "/ready"), ("livenessProbe", "/health")] {
            let get = &container[probe]["httpGet"];
            assert_eq!(get["path"], path, "{overlay}: the {probe} must ask {path}");
            assert!(
                is_app_port(&get["port"]),
                "{overlay}: the {probe} asks another port: {get}"
            );
            assert!(
                paths[path].get("get").is_some(),
                "{overlay}: the service has no GET {path} (neighborhood-text openapi)"
            );
        }

        let pod_labels = &app_deployment(objects)["spec"]["template"]["metadata"]["labels"];
        let selects_pods = |selector: &Value| {
            selector.as_object().is_some_and(|pairs| {
                !pairs.is_empty() && pairs.iter().all(|(k, v)| &pod_labels[k] == v)
            })
        };
        let service = named(objects, "Service", APP).expect("the neighborhood-text Service");
        assert!(
            selects_pods(&service["spec"]["selector"]),
            "{overlay}: the Service selects other pods"
        );
        let service_ports = items(&service["spec"]["ports"]);
        assert!(
            service_ports
                .iter()
                .any(|entry| is_app_port(&entry["targetPort"])),
            "{overlay}: the Service targets no port of the service's: {service_ports:?}"
        );

        for ingress in of_kind(objects, "Ingress") {
            for rule in items(&ingress["spec"]["rules"]) {
                for route in items(&rule["http"]["paths"]) {
                    let backend = &route["backend"]["service"];
                    assert_eq!(
                        backend["name"], APP,
                        "{overlay}: the Ingress routes elsewhere"
                    );
                    let matches = service_ports.iter().any(|entry| {
                        (backend["port"]["name"].is_string()
                            && backend["port"]["name"] == entry["name"])
                            || backend["port"]["number"] == entry["port"]
                    });
                    assert!(
                        matches,
                        "{overlay}: the Ingress names no port of the Service: {backend}"
                    );
                }
            }
        }
        for policy in of_kind(objects, "NetworkPolicy") {
            if selects_pods(&policy["spec"]["podSelector"]["matchLabels"]) {
                let opens = items(&policy["spec"]["ingress"])
                    .iter()
                    .flat_map(|rule| items(&rule["ports"]))
                    .any(|entry| is_app_port(&entry["port"]));
                assert!(
                    opens,
                    "{overlay}: NetworkPolicy {} closes the app port",
                    policy["metadata"]["name"]
                );
            }
        }
    }
}

#[test]
fn pods_drain_before_they_are_killed() {
    if !kubectl_present("pods_drain_before_they_are_killed") {
        return;
    }
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        let grace: u64 = setting_value(overlay, "NT_SHUTDOWN_GRACE_SECS")
            .expect("NT_SHUTDOWN_GRACE_SECS is set or has a default")
            .parse()
            .expect("a number of seconds");
        let pre_stop = &app_container(objects)["lifecycle"]["preStop"];
        let pause: u64 = if let Some(seconds) = pre_stop["sleep"]["seconds"].as_u64() {
            seconds
        } else {
            let command: Vec<&str> = items(&pre_stop["exec"]["command"])
                .iter()
                .map(str_of)
                .collect();
            match command.as_slice() {
                ["sleep", seconds] => seconds.parse().expect("sleep's seconds"),
                other => panic!("{overlay}: the preStop hook is no pause: {other:?}"),
            }
        };
        assert!(pause > 0, "{overlay}: the preStop pause is zero");
        let termination =
            app_deployment(objects)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
                .as_u64()
                .unwrap_or(30);
        assert!(
            termination > pause + grace,
            "{overlay}: terminationGracePeriodSeconds ({termination}) must exceed the preStop pause ({pause}) plus NT_SHUTDOWN_GRACE_SECS ({grace})"
        );
    }
}

#[test]
fn every_container_runs_as_non_root_on_a_read_only_root_with_sized_resources() {
    if !kubectl_present("every_container_runs_as_non_root_on_a_read_only_root_with_sized_resources")
    {
        return;
    }
    // The image's own user (Dockerfile), which the pod must not contradict.
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).expect("the Dockerfile");
    let image_user = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("the Dockerfile names a USER");
    let image_uid: u64 = image_user
        .split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .expect("a numeric USER");
    assert_ne!(image_uid, 0, "the image runs as root");

    for overlay in OVERLAYS {
        for deployment in of_kind(rendered(overlay), "Deployment") {
            let name = str_of(&deployment["metadata"]["name"]);
            let pod = &deployment["spec"]["template"]["spec"];
            if name == APP {
                assert_eq!(
                    pod["securityContext"]["runAsUser"], image_uid,
                    "{overlay}: not the image's user"
                );
            }
            for container in items(&pod["containers"]) {
                let own = &container["securityContext"];
                let non_root = own["runAsNonRoot"]
                    .as_bool()
                    .or(pod["securityContext"]["runAsNonRoot"].as_bool());
                assert_eq!(
                    non_root,
                    Some(true),
                    "{overlay}/{name}: runAsNonRoot is not set"
                );
                assert_eq!(
                    own["readOnlyRootFilesystem"], true,
                    "{overlay}/{name}: root filesystem writable"
                );
                assert_eq!(
                    own["allowPrivilegeEscalation"], false,
                    "{overlay}/{name}: privilege escalation"
                );
                assert!(
                    items(&own["capabilities"]["drop"])
                        .iter()
                        .any(|cap| cap == "ALL"),
                    "{overlay}/{name}: capabilities not dropped"
                );
                let resources = &container["resources"];
                for (field, value) in [
                    ("requests.cpu", &resources["requests"]["cpu"]),
                    ("requests.memory", &resources["requests"]["memory"]),
                    ("limits.memory", &resources["limits"]["memory"]),
                ] {
                    assert!(value.is_string(), "{overlay}/{name}: no resources.{field}");
                }
            }
        }
    }
}

#[test]
fn production_has_every_piece_and_the_sandbox_its_own_redis() {
    if !kubectl_present("production_has_every_piece_and_the_sandbox_its_own_redis") {
        return;
    }
    let production = rendered("production");
    for kind in [
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ] {
        assert!(
            named(production, kind, APP).is_some(),
            "production: no {kind} {APP}"
        );
    }
    let hpa = named(production, "HorizontalPodAutoscaler", APP).expect("the HPA");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], APP);
    let pod_labels = &app_deployment(production)["spec"]["template"]["metadata"]["labels"];
    let pdb = named(production, "PodDisruptionBudget", APP).expect("the PDB");
    let selector = pdb["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("the PDB selects by labels");
    assert!(
        !selector.is_empty() && selector.iter().all(|(k, v)| &pod_labels[k] == v),
        "production: the PodDisruptionBudget selects other pods"
    );
    assert_eq!(
        setting_value("production", "NT_SANDBOX").as_deref(),
        Some("off")
    );
    assert!(
        setting_value("production", "NT_PUBLIC_URL").is_some_and(|url| url.starts_with("https://")),
        "production: NT_PUBLIC_URL must be https"
    );
    assert!(
        of_kind(production, "Deployment").len() == 1,
        "production runs no Redis of its own"
    );

    let sandbox = rendered("sandbox");
    assert_eq!(
        setting_value("sandbox", "NT_SANDBOX").as_deref(),
        Some("on")
    );
    assert!(
        of_kind(sandbox, "Ingress").is_empty(),
        "sandbox: the emulator must not be public"
    );
    let redis_url = container_settings("sandbox")
        .into_iter()
        .find_map(|(name, source)| match source {
            Source::Secret(secret) if name == "NT_REDIS_URL" => Some(secret),
            _ => None,
        })
        .and_then(|secret| named(sandbox, "Secret", &secret))
        .and_then(|secret| secret["data"]["NT_REDIS_URL"].as_str().map(decode_base64))
        .expect("sandbox: NT_REDIS_URL in its Secret");
    let authority = redis_url
        .strip_prefix("redis://")
        .expect("sandbox: a redis:// URL")
        .trim_end_matches('/');
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "6379"));
    let port: u64 = port
        .parse()
        .expect("sandbox: NT_REDIS_URL's port is a number");
    let service = named(sandbox, "Service", host).unwrap_or_else(|| {
        panic!("sandbox: NT_REDIS_URL names {host}, which is no Service of the overlay")
    });
    assert!(
        items(&service["spec"]["ports"])
            .iter()
            .any(|entry| entry["port"] == port),
        "sandbox: the {host} Service has no port {port}"
    );
    assert!(
        named(sandbox, "Deployment", host).is_some(),
        "sandbox: no Redis Deployment {host}"
    );
}

/// A Secret's `data` value (standard base64) as text.
fn decode_base64(text: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("Secret data is base64");
    String::from_utf8(bytes).expect("UTF-8")
}
