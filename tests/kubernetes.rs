//! The Kubernetes manifests in `conf/kubernetes/` agree with each other, with the configuration
//! they carry and with the image: ports, probe paths, mounted files, labels, the security context.
//! A manifest edited on its own (a renamed port, a key file the Secret lacks) fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;

/// Every document of every file, by kind.
fn manifests() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/kubernetes");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            docs.push(Value::deserialize(doc).unwrap());
        }
    }
    docs
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let mut found = docs.iter().filter(|d| d["kind"].as_str() == Some(kind));
    let doc = found.next().unwrap_or_else(|| panic!("no {kind}"));
    assert!(found.next().is_none(), "one {kind}");
    doc
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

/// The container's port number for a port name.
fn port(container: &Value, name: &str) -> u16 {
    let ports = container["ports"].as_sequence().unwrap();
    let p = ports.iter().find(|p| p["name"].as_str() == Some(name));
    p.unwrap_or_else(|| panic!("no port {name}"))["containerPort"]
        .as_u64()
        .unwrap() as u16
}

/// The configuration the ConfigMap carries, parsed by the gateway's own loader.
fn config(docs: &[Value]) -> (String, sessiongate::config::Config) {
    let text = s(&kind(docs, "ConfigMap")["data"]["gateway.yaml"]).to_string();
    let config = sessiongate::config::from_yaml(&text, "configmap.yaml").unwrap();
    (text, config)
}

fn labels_match(selector: &Value, labels: &Value) {
    let selector = selector.as_mapping().unwrap();
    assert!(!selector.is_empty());
    for (k, v) in selector {
        assert_eq!(
            &labels[k], v,
            "selector {k:?} does not match the pod's labels"
        );
    }
}

#[test]
fn ports_and_probes_match_the_configuration() {
    let docs = manifests();
    let (_, config) = config(&docs);
    let pod = &kind(&docs, "Deployment")["spec"]["template"];
    let container = &pod["spec"]["containers"][0];
    assert_eq!(config.listen.len(), 1);
    assert_eq!(port(container, "http"), config.listen[0].port());
    assert_eq!(port(container, "admin"), config.admin_listen.port());
    // The kubelet probes the pod's address, not loopback.
    assert!(config.admin_listen.ip().is_unspecified());
    for (probe, path) in [
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/healthz"),
    ] {
        assert_eq!(s(&container[probe]["httpGet"]["path"]), path);
        assert_eq!(s(&container[probe]["httpGet"]["port"]), "admin");
    }
    let service = &kind(&docs, "Service")["spec"];
    labels_match(&service["selector"], &pod["metadata"]["labels"]);
    let targets: Vec<&str> = service["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| s(&p["targetPort"]))
        .collect();
    assert_eq!(targets, ["http"], "the admin port stays off the Service");
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(
        s(&annotations["prometheus.io/port"]),
        config.admin_listen.port().to_string()
    );
}

#[test]
fn every_file_the_configuration_names_is_mounted() {
    let docs = manifests();
    let (text, config) = config(&docs);
    let spec = &kind(&docs, "Deployment")["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    let mounts = container["volumeMounts"].as_sequence().unwrap();
    let mount = |name: &str| mounts.iter().find(|m| s(&m["name"]) == name).unwrap();
    let volume = |name: &str| {
        let volumes = spec["volumes"].as_sequence().unwrap();
        volumes.iter().find(|v| s(&v["name"]) == name).unwrap()
    };
    // The directory, not a subPath: only then does the kubelet update the file for the watch.
    let config_dir = s(&mount("config")["mountPath"]);
    assert_eq!(args, ["-c", &format!("{config_dir}/gateway.yaml")]);
    assert!(mount("config")["subPath"].is_null());
    assert_eq!(
        s(&volume("config")["configMap"]["name"]),
        s(&kind(&docs, "ConfigMap")["metadata"]["name"])
    );

    // Key files: every path under the Secret's mount is a key of the Secret, and back.
    let secret = kind(&docs, "Secret");
    assert_eq!(
        s(&volume("keys")["secret"]["secretName"]),
        s(&secret["metadata"]["name"])
    );
    let keys_dir = s(&mount("keys")["mountPath"]).to_string();
    let named: BTreeSet<String> = text
        .split_whitespace()
        .filter_map(|w| w.strip_prefix(&format!("{keys_dir}/")))
        .map(str::to_string)
        .collect();
    let held: BTreeSet<String> = secret["stringData"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| s(k).to_string())
        .collect();
    assert!(!named.is_empty());
    assert_eq!(
        named, held,
        "files the configuration names vs keys of the Secret"
    );

    // The upgrade socket needs a writable directory; the root filesystem is read-only.
    let run = s(&mount("run")["mountPath"]);
    assert!(
        config.upgrade_socket.starts_with(run),
        "{:?}",
        config.upgrade_socket
    );
    assert!(volume("run")["emptyDir"].is_mapping());
}

#[test]
fn the_configuration_passes_check_with_the_secret_filled() {
    let docs = manifests();
    let (text, _) = config(&docs);
    let dir = std::env::temp_dir().join(format!("sessiongate-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity");
    std::fs::copy(
        fixtures.join("rs256-public.pem"),
        dir.join("idp-public.pem"),
    )
    .unwrap();
    std::fs::copy(fixtures.join("hs256.secret"), dir.join("session-id.key")).unwrap();
    let file = dir.join("gateway.yaml");
    std::fs::write(
        &file,
        text.replace("/etc/sessiongate/keys", &dir.display().to_string()),
    )
    .unwrap();
    let check = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_sessiongate"))
            .arg("-t")
            .arg("-c")
            .arg(file)
            .output()
            .unwrap()
    };
    let out = check(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // As shipped, the Secret is empty: the gateway refuses it, naming the file.
    std::fs::write(dir.join("session-id.key"), "").unwrap();
    let out = check(&file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("session-id.key"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_pod_runs_as_the_image_user_without_privileges() {
    let docs = manifests();
    let spec = &kind(&docs, "Deployment")["spec"]["template"]["spec"];
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    let pod = &spec["securityContext"];
    assert_eq!(pod["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(
        user.trim(),
        format!(
            "{}:{}",
            pod["runAsUser"].as_u64().unwrap(),
            pod["runAsGroup"].as_u64().unwrap()
        )
    );
    let container = &spec["containers"][0]["securityContext"];
    assert_eq!(container["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(container["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(container["capabilities"]["drop"][0].as_str(), Some("ALL"));
}

#[test]
fn shutdown_disruption_and_scaling_fit_together() {
    let docs = manifests();
    let (_, config) = config(&docs);
    let deployment = kind(&docs, "Deployment");
    let spec = &deployment["spec"]["template"]["spec"];
    let pre_stop: u64 = s(&spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
        .parse()
        .unwrap();
    let budget = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    // preStop, then the grace period, then Pingora's runtime stop (5 s), before SIGKILL.
    assert!(pre_stop + config.grace_period_seconds + 5 < budget);

    let pods = &deployment["spec"]["template"]["metadata"]["labels"];
    labels_match(&deployment["spec"]["selector"]["matchLabels"], pods);
    let pdb = &kind(&docs, "PodDisruptionBudget")["spec"];
    labels_match(&pdb["selector"]["matchLabels"], pods);
    let hpa = &kind(&docs, "HorizontalPodAutoscaler")["spec"];
    assert_eq!(s(&hpa["scaleTargetRef"]["kind"]), "Deployment");
    assert_eq!(
        s(&hpa["scaleTargetRef"]["name"]),
        s(&deployment["metadata"]["name"])
    );
    let min = hpa["minReplicas"].as_u64().unwrap();
    // A drain may always take one pod: the budget leaves room under the minimum.
    assert!(pdb["minAvailable"].as_u64().unwrap() < min);
    assert!(min >= 2 && deployment["spec"]["replicas"].as_u64().unwrap() >= min);
}
