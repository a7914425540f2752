//! Helpers of the tests that run storing servers as a Kafka consumer group (the tansu
//! broker `cargo xtask test` starts, or `AUDITRAIL_KAFKA_BROKERS`): topics, the shared
//! signing key, the servers' configs, reading the partition stores back.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;

use crate::serve_support::{request, ServerProc};

/// The sum of a `/metrics` family's series (0 when the server does not answer).
pub(crate) fn metric(server: &ServerProc, family: &str) -> u64 {
    let Ok((200, text)) = request(&server.addr, "GET", "/metrics", &[], b"") else {
        return 0;
    };
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Writes `records` (key, value; `None`: an empty value) straight into `topic`, one
/// record per batch (see [`ingest_config`]), and waits until the broker has them all.
pub(crate) fn produce(brokers: &str, topic: &str, records: &[(&str, Option<&[u8]>)]) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("batch.num.messages", "1")
        .create()
        .unwrap();
    for (key, value) in records {
        let mut record = BaseRecord::<str, [u8]>::to(topic).key(*key);
        if let Some(v) = value {
            record = record.payload(*v);
        }
        producer.send(record).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// A record's headers: (name, value).
pub(crate) type RecordHeaders<'a> = Vec<(&'a str, Vec<u8>)>;

/// Writes `records` (key, value, headers) into `topic` as [`produce`] does.
pub(crate) fn produce_with_headers(
    brokers: &str,
    topic: &str,
    records: &[(&str, &[u8], RecordHeaders<'_>)],
) {
    use rdkafka::message::{Header, OwnedHeaders};
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("batch.num.messages", "1")
        .create()
        .unwrap();
    for (key, value, headers) in records {
        let mut h = OwnedHeaders::new();
        for (name, v) in headers {
            h = h.insert(Header {
                key: name,
                value: Some(v.as_slice()),
            });
        }
        let record = BaseRecord::<str, [u8]>::to(topic)
            .key(*key)
            .payload(*value)
            .headers(h);
        producer.send(record).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// The brokers; never passes silently without one.
pub(crate) fn brokers() -> String {
    match std::env::var("AUDITRAIL_KAFKA_BROKERS") {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!("AUDITRAIL_KAFKA_BROKERS is not set: run the tests with `cargo xtask test`"),
    }
}

/// A name no other test run uses.
pub(crate) fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Creates `topic` with `partitions` partitions.
pub(crate) fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(admin.create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        ))
        .unwrap();
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => panic!("cannot create topic {name}: {code:?}"),
        }
    }
}

/// Deletes `topic` (its records and offsets go; creating it again starts at offset 0).
pub(crate) fn delete_topic(brokers: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(admin.delete_topics(
            &[topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        ))
        .unwrap();
    for r in results {
        if let Err((name, code)) = r {
            panic!("cannot delete topic {name}: {code:?}");
        }
    }
}

/// Writes a signing key every storing server of the group shares; returns its path
/// and the public key (`auditrail keys export --key`).
pub(crate) fn shared_key(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("group-signing.key");
    let seed: String = (0..32)
        .map(|i| format!("{:02x}", (i * 37 + std::process::id() as usize) % 256))
        .collect();
    std::fs::write(&path, format!("ed25519-secret:{seed}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["keys", "export", "--key"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        path,
        String::from_utf8(out.stdout).unwrap().trim().to_owned(),
    )
}

/// The config of a storing server: no destinations of its own, one Kafka source that
/// stores unsigned records (`accept_unsigned = true`: the tests' producers do not sign,
/// but those of kafka_source_refuses_records_no_trusted_key_vouches_for.rs).
pub(crate) fn storing_config(
    data_dir: &str,
    key: &Path,
    brokers: &str,
    topic: &str,
    group: &str,
    store_root: &Path,
) -> String {
    format!(
        "data_dir = \"{data_dir}\"\nsigning_key = \"{}\"\n\
         [[sources]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopics = [\"{topic}\"]\n\
         group_id = \"{group}\"\nstore_root = \"{}\"\naccept_unsigned = true\n\
         [sources.librdkafka]\n\"session.timeout.ms\" = 6000\n\"heartbeat.interval.ms\" = 500\n\
         \"statistics.interval.ms\" = 500\n\"max.poll.interval.ms\" = 10000\n",
        key.display(),
        store_root.display()
    )
}

/// The config of a stateless ingest server: one `kafka` destination keyed by node.
///
/// One record per producer batch: tansu 0.6.0, the tests' broker, answers a fetch at an
/// offset inside a record batch with the *next* batch (Kafka returns the batch that
/// holds the offset), so a consumer that resumes mid-batch would never see the rest of
/// that batch. With one record per batch every offset starts a batch. See
/// docs/scale-out.md ("Numbers").
pub(crate) fn ingest_config(data_dir: &str, brokers: &str, topic: &str) -> String {
    format!(
        "data_dir = \"{data_dir}\"\n\
         [[destinations]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopic = \"{topic}\"\nkey = \"node\"\n\
         [destinations.properties]\n\"batch.num.messages\" = 1\n"
    )
}

/// The partition stores under `store_root` (`<store_root>/<topic>/<partition>/store`).
pub(crate) fn partition_stores(store_root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(topics) = std::fs::read_dir(store_root) else {
        return out;
    };
    for t in topics.filter_map(Result::ok) {
        if !t.path().is_dir() {
            continue;
        }
        for p in std::fs::read_dir(t.path()).unwrap().filter_map(Result::ok) {
            // `<store_root>/<topic>/<partition>/store`
            if p.path().join("store").is_dir() {
                out.push(p.path().join("store"));
            }
        }
    }
    out.sort();
    out
}

/// Every stored record of every partition store: (store, record JSON). Skips an
/// incomplete last line (a store being written).
pub(crate) fn all_records(store_root: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    let mut out = Vec::new();
    for store in partition_stores(store_root) {
        for r in auditrail_testkit::store::records(&store) {
            out.push((store.clone(), r));
        }
    }
    out
}

/// How many times each event id is stored across the partition stores. The tests poll
/// this while the servers write: a last line without its newline (a write in progress)
/// is not counted yet, where a strict read would fail the test on a healthy store. A
/// torn line is never counted, so a store that lost a write still fails the tests'
/// counts (and `verify`, where a test runs it).
pub(crate) fn id_counts(store_root: &Path) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for store in partition_stores(store_root) {
        for (_, event) in auditrail_testkit::store::stored_in(&store) {
            *ids.entry(event.id.to_string()).or_default() += 1;
        }
    }
    ids
}

/// `auditrail verify DIR --public-key KEY --json`: exit code and report.
pub(crate) fn verify(dir: &Path, public_key: &str) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(dir)
        .args(["--public-key", public_key, "--json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// One storing server's folder for a fresh topic of one partition (see [`one_source`]).
pub(crate) struct OneSource {
    /// The folder; the server runs with `--config s.toml` in it.
    pub(crate) dir: tempfile::TempDir,
    pub(crate) brokers: String,
    pub(crate) topic: String,
    /// The partition stores' root (`<dir>/partitions`, or `<dir>/s-data/parts` for
    /// [`one_source_in_data_dir`]).
    pub(crate) root: PathBuf,
    /// The group key's public half (`ed25519:...`), for `verify --public-key`.
    pub(crate) public: String,
    /// The group key's file (see [`shared_key`]).
    pub(crate) key: PathBuf,
}

/// A fresh one-partition topic named after `prefix`, and a folder whose `s.toml` is a
/// storing server of it ([`storing_config`], data in `s-data`), with `settings` (top-level
/// keys, before the `[[sources]]` table) first.
pub(crate) fn one_source(prefix: &str, settings: &str) -> OneSource {
    one_source_at(prefix, settings, "partitions", 1)
}

/// [`one_source`] of a fresh topic of `partitions` partitions, with no settings.
pub(crate) fn partitioned_source(prefix: &str, partitions: i32) -> OneSource {
    one_source_at(prefix, "", "partitions", partitions)
}

/// [`one_source`] whose partition stores are inside the data dir (`s-data/parts`), as
/// scale-out.md's example places them.
pub(crate) fn one_source_in_data_dir(prefix: &str) -> OneSource {
    one_source_at(prefix, "", "s-data/parts", 1)
}

fn one_source_at(prefix: &str, settings: &str, root: &str, partitions: i32) -> OneSource {
    let brokers = brokers();
    let topic = unique(prefix);
    create_topic(&brokers, &topic, partitions);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = shared_key(d);
    let root = d.join(root);
    let config = storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root);
    std::fs::write(d.join("s.toml"), format!("{settings}{config}")).unwrap();
    OneSource {
        dir,
        brokers,
        topic,
        root,
        public,
        key,
    }
}

/// Two storing servers of a group for [`write_group`]: `a.toml` (data in `a-data`) and
/// `b.toml` (data in `b-data`).
pub(crate) const TWO_SERVERS: &[(&str, &str)] = &[("a.toml", "a-data"), ("b.toml", "b-data")];

/// Writes the configs of storing servers of one fresh group, each `(file, data_dir)` of
/// `servers` ([`storing_config`]) in `dir`, sharing `key` and the partition stores under
/// `root`.
pub(crate) fn write_group(
    dir: &Path,
    servers: &[(&str, &str)],
    key: &Path,
    brokers: &str,
    topic: &str,
    root: &Path,
) {
    let group = unique("g");
    for (file, data_dir) in servers {
        std::fs::write(
            dir.join(file),
            storing_config(data_dir, key, brokers, topic, &group, root),
        )
        .unwrap();
    }
}

/// `cp -a from to`: a store folder copied with its files' times and modes (an older
/// copy of a store, put back later to roll it back).
pub(crate) fn copy_folder(from: &Path, to: &Path) {
    let done = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(done.success());
}

/// A loopback TCP port that stands for the brokers: closed (every connection dropped
/// as soon as it is made, so a client sees its broker down) until [`Gate::open`], then
/// forwarding each connection to the first of the test run's brokers. The port is
/// bound once and kept, so no other process can take it between the test's steps.
pub(crate) struct Gate {
    /// `127.0.0.1:PORT`, to give as the brokers.
    pub(crate) addr: String,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Gate {
    pub(crate) fn closed() -> Gate {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let to = brokers().split(',').next().unwrap().trim().to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let open = Arc::new(AtomicBool::new(false));
        let is_open = open.clone();
        // Left running to the end of the test process: it holds no file of the test.
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !is_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&to) else {
                    continue;
                };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut c, mut s) = (client, server);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c, &mut s);
                    let _ = s.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Gate { addr, open }
    }

    pub(crate) fn open(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs a storing server with `--config config` in `dir` until its partition stores
/// under `root` hold `n` events, then stops it (gracefully: final checkpoints).
pub(crate) fn serve_until_stored(dir: &Path, config: &str, root: &Path, n: usize) {
    let server = crate::serve_support::start(dir, &["--config", config]);
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while id_counts(root).len() < n {
        assert!(
            std::time::Instant::now() < until,
            "not stored: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.terminate(), 0);
}

/// Writes events `from..=to` of node `node-1` (keyed by it) into `topic`.
pub(crate) fn produce_events(brokers: &str, topic: &str, from: u64, to: u64, salt: u64) {
    let values: Vec<Vec<u8>> = (from..=to)
        .map(|n| {
            crate::serve_support::event_line(&crate::serve_support::new_id(n, salt), "node-1", n)
                .into_bytes()
        })
        .collect();
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(brokers, topic, &records);
}

/// `auditrail verify ARGS --json` run in `dir`: exit code and report.
pub(crate) fn verify_in(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .current_dir(dir)
        .arg("verify")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// Every record value of the topic, read from the beginning to the end of each
/// partition (end-of-partition events, bounded).
pub(crate) fn read_values(brokers: &str, topic: &str) -> Vec<String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::error::KafkaError;
    use rdkafka::message::Message;
    use rdkafka::{Offset, TopicPartitionList};
    use std::collections::HashSet;
    use std::time::Instant;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("{topic}-reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let partitions: HashSet<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut tpl = TopicPartitionList::new();
    for &p in &partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut at_end = HashSet::new();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while at_end != partitions {
        assert!(
            Instant::now() < deadline,
            "reading {topic}: {} records",
            out.len()
        );
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Ok(m)) => {
                out.push(String::from_utf8_lossy(m.payload().unwrap_or(&[])).into_owned())
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
        }
    }
    out
}

/// Writes events `from..=to` of node `node-1` (keyed by it) into `topic`, dated
/// `timestamp` (RFC 3339): events old enough for a prune.
pub(crate) fn produce_dated(
    brokers: &str,
    topic: &str,
    seqs: std::ops::RangeInclusive<u64>,
    salt: u64,
    timestamp: &str,
) {
    let values: Vec<Vec<u8>> = seqs
        .map(|n| {
            serde_json::json!({
                "id": crate::serve_support::new_id(n, salt), "timestamp": timestamp,
                "topic": "generic", "node": "node-1", "seq": n,
                "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
            .into_bytes()
        })
        .collect();
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(brokers, topic, &records);
}

/// `auditrail ARGS` run in `dir`: exit code, stdout and stderr together.
pub(crate) fn run_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A storing server ([`one_source`]) whose one partition store was rolled back, while
/// it was stopped, to a copy taken after events 1 to 3 (events 4 to 6 were stored
/// since): the server refuses it at its next start and the partition is held. Returns
/// the server's folder and the partition store.
pub(crate) fn rolled_back_partition(prefix: &str, salt: u64) -> (OneSource, PathBuf) {
    let source = one_source(prefix, "");
    let d = source.dir.path();
    produce_events(&source.brokers, &source.topic, 1, 3, salt);
    serve_until_stored(d, "s.toml", &source.root, 3);
    let store = partition_stores(&source.root).pop().unwrap();
    copy_folder(&store, &d.join("old-store"));
    produce_events(&source.brokers, &source.topic, 4, 6, salt);
    serve_until_stored(d, "s.toml", &source.root, 6);
    std::fs::remove_dir_all(&store).unwrap();
    copy_folder(&d.join("old-store"), &store);
    (source, store)
}

/// Writes events `seqs` of `node` into `partition` of `topic`.
pub(crate) fn produce_to_partition(
    brokers: &str,
    topic: &str,
    partition: i32,
    node: &str,
    seqs: std::ops::RangeInclusive<u64>,
) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("batch.num.messages", "1")
        .create()
        .unwrap();
    let salt = 90 + u64::try_from(partition).unwrap();
    for seq in seqs {
        let value =
            crate::serve_support::event_line(&crate::serve_support::new_id(seq, salt), node, seq);
        producer
            .send(
                BaseRecord::<str, str>::to(topic)
                    .partition(partition)
                    .key(node)
                    .payload(&value),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// Writes events `seqs` of `node-a` into partition 0 of `topic` and of `node-b` into
/// partition 1.
pub(crate) fn produce_to_both_partitions(
    brokers: &str,
    topic: &str,
    seqs: std::ops::RangeInclusive<u64>,
) {
    produce_to_partition(brokers, topic, 0, "node-a", seqs.clone());
    produce_to_partition(brokers, topic, 1, "node-b", seqs);
}

/// Every file under `folder`: its bytes and modification time.
pub(crate) fn files_in(
    folder: &Path,
) -> std::collections::BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(f) = stack.pop() {
        for entry in std::fs::read_dir(&f).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                out.insert(path.clone(), (std::fs::read(&path).unwrap(), modified));
            }
        }
    }
    out
}

/// The owner epoch in a partition folder's `owner` file.
pub(crate) fn owner_epoch(partition: &Path) -> u64 {
    let text = std::fs::read(partition.join("owner")).unwrap();
    serde_json::from_slice::<serde_json::Value>(&text).unwrap()["epoch"]
        .as_u64()
        .unwrap()
}

/// Removes the last record of the store's newest segment file, whole (a cut at a line
/// end: no torn tail for recovery to cut, so the store's files stay as left here).
pub(crate) fn remove_last_record(store: &Path) {
    let segment = files_in(store)
        .into_keys()
        .filter(|p| {
            p.parent() != Some(store)
                && p.extension().is_some_and(|e| e == "jsonl")
                && !p.file_name().unwrap().to_str().unwrap().starts_with('.')
        })
        .max()
        .unwrap();
    let bytes = std::fs::read(&segment).unwrap();
    let body = &bytes[..bytes.len() - 1];
    let cut = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    std::fs::write(&segment, &bytes[..cut]).unwrap();
}

/// `server`'s `GET /v1/checkpoints` `partitionStores` (a server with no store
/// destination).
pub(crate) fn listed_partition_stores(server: &ServerProc) -> Vec<serde_json::Value> {
    let (status, body) = request(&server.addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(answer["stores"].as_array().unwrap().is_empty(), "{answer}");
    answer["partitionStores"]
        .as_array()
        .unwrap_or_else(|| panic!("no partitionStores: {answer}"))
        .clone()
}

/// Polls `server`'s `partitionStores` until `done` takes them (60 s at most: a bound
/// for a broken group, far above a rebalance's seconds).
pub(crate) fn listed_partition_stores_until(
    server: &ServerProc,
    what: &str,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let list = listed_partition_stores(server);
        if done(&list) {
            return list;
        }
        assert!(
            std::time::Instant::now() < until,
            "timed out waiting for {what}: {list:#?}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
