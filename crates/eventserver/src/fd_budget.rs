//! The server's file-descriptor budget, computed once at start from the open-file limit
//! (`RLIMIT_NOFILE`): a fixed reserve for the server's own files, a share for each
//! store's fsyncs, and the rest split between connections and the stores' open segment
//! files (`max_open_files`), so that they add up to no more than the limit whatever the
//! number of stores.
//!
//! Before, each was computed alone: connections took half the limit and EACH store a
//! quarter (+ 32 while it fsyncs), so with two stores under `ulimit -n` 1024 a client
//! with no key holding 600 idle connections made store writes and accepts fail with
//! `Too many open files` (tryout62/04).

use auditrail_store::{DEFAULT_MAX_OPEN_FILES, MAX_SYNC_OPEN_FILES};
use thiserror::Error;

use crate::config::DEFAULT_MAX_CONNECTIONS_CAP;

/// Kept for everything the split does not count: the listener, the data dir's lock,
/// log files, the signing key, witnesses' and Kafka's sockets, dead letters, the
/// runtime's own descriptors (epoll, eventfd), query workers' pipes.
pub(crate) const RESERVE: u64 = 64;

/// Kept per store beyond its `max_open_files`: the files its fsyncs open again, its
/// checkpoint log, lock, folders being synced.
pub(crate) const PER_STORE: u64 = MAX_SYNC_OPEN_FILES as u64 + 8;

/// What the config asks of the budget: each store's own `max_open_files` and
/// `max_connections`, each with where it was set, so that the start's log and a
/// refusal name the value and its origin (a file, an environment variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asked {
    /// Each `store` destination: its name and its own `max_open_files`, if set.
    pub(crate) stores: Vec<(String, Option<usize>)>,
    /// Where a store's own `max_open_files` was set (the config file: `[[destinations]]`
    /// cannot be set from the environment).
    pub(crate) stores_from: String,
    /// `max_connections`, if set.
    pub(crate) connections: Option<usize>,
    /// Where it was set (the file, or `environment AUDITRAIL_MAX_CONNECTIONS`).
    pub(crate) connections_from: String,
    /// Whether Kafka sources open partition stores (their number is known only while
    /// running: they share a part of the limit, see [`Budget::partition_stores`]).
    pub(crate) partition_stores: bool,
}

/// Where a value of the budget came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Set in the config: where (a file, `environment AUDITRAIL_...`).
    Set(String),
    /// Not set: its share of the open-file limit.
    Shared,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Set(from) => write!(f, "set in {from}"),
            Origin::Shared => f.write_str("unset: its share of the open-file limit"),
        }
    }
}

/// One value of the budget, with its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Value {
    /// What it is for: `max_connections`, or `max_open_files of store "NAME"`.
    pub(crate) what: String,
    /// The number.
    pub(crate) value: usize,
    /// Where it came from.
    pub(crate) origin: Origin,
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.what, self.value, self.origin)
    }
}

/// `values` one after the other, `, `-separated.
fn listed(values: &[Value]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `max_open_files` of each Kafka partition store when the limit is known: a partition
/// store holds one partition's events (a topic's routing keys and hours), and many of
/// them share the budget.
pub(crate) const PARTITION_STORE_FILES: usize = 32;

/// Descriptors one open partition store takes: its files and what [`PER_STORE`] keeps.
pub(crate) const PER_PARTITION_STORE: u64 = PARTITION_STORE_FILES as u64 + PER_STORE;

/// How the open-file limit is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Budget {
    /// The soft open-file limit it was made for (`None`: unlimited or unknown).
    pub(crate) limit: Option<u64>,
    /// Connections open at once (`max_connections`).
    pub(crate) max_connections: usize,
    /// `max_open_files` of each store that does not set its own.
    pub(crate) store_files: usize,
    /// `max_connections` and each store's `max_open_files`, in the order asked, with
    /// where each came from: what the start's log says.
    pub(crate) values: Vec<Value>,
    /// Kafka partition stores open at once (each [`PARTITION_STORE_FILES`] files and
    /// [`PER_STORE`] kept), over every source: a quarter of what the reserve and the
    /// set values leave, at least one. `None`: no Kafka source, or no known limit (each
    /// then keeps the store's own default).
    pub(crate) partition_stores: Option<usize>,
}

impl Budget {
    /// Each store's `max_open_files` with its origin, for the start's log:
    /// `max_open_files of store "a" 100 (set in s.toml), ...`.
    pub(crate) fn stores_said(&self) -> String {
        listed(&self.values[1..])
    }

    /// Where `max_connections` came from, for the start's log.
    pub(crate) fn connections_origin(&self) -> String {
        self.values[0].origin.to_string()
    }
}

/// Configured values that need more descriptors than the open-file limit allows.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "the open-file limit (ulimit -n, also after raising the soft limit to the hard one) \
     is {limit}, but {needed} are needed: {}, and {kept} kept for the server's own files \
     and the stores' fsyncs ({RESERVE} + {PER_STORE} per store){}: raise the limit \
     (LimitNOFILE= in the systemd unit, ulimit -n) or lower the values set",
    listed(values),
    partition_part(*partition_files)
)]
pub struct OverCommit {
    limit: u64,
    values: Vec<Value>,
    kept: u64,
    /// The Kafka partition stores' part (0: no source).
    partition_files: u64,
    needed: u64,
}

/// `, and N for Kafka partition stores (...)` when there is such a part.
fn partition_part(files: u64) -> String {
    if files == 0 {
        return String::new();
    }
    format!(
        ", and {files} for Kafka partition stores ({} of {PER_PARTITION_STORE} each, at least one)",
        files / PER_PARTITION_STORE
    )
}

/// The budget for `limit` descriptors and what the config `asked`. Unset values share
/// what the set ones and the reserves leave: the stores at most
/// [`DEFAULT_MAX_OPEN_FILES`] each and, when `max_connections` is unset too, half of
/// it at most; connections the rest, at most [`DEFAULT_MAX_CONNECTIONS_CAP`]. Refused
/// when configured values alone do not fit; a limit too low for even the smallest
/// defaults (1 each) is planned anyway, with a warning.
pub(crate) fn plan(limit: Option<u64>, asked: &Asked) -> Result<Budget, OverCommit> {
    let connections = asked.connections;
    let stores: Vec<Option<usize>> = asked.stores.iter().map(|(_, n)| *n).collect();
    let values = |max_connections: usize, store_files: usize| {
        let connection = Value {
            what: "max_connections".into(),
            value: max_connections,
            origin: match connections {
                Some(_) => Origin::Set(asked.connections_from.clone()),
                None => Origin::Shared,
            },
        };
        std::iter::once(connection)
            .chain(asked.stores.iter().map(|(name, set)| Value {
                what: format!("max_open_files of store {name:?}"),
                value: set.unwrap_or(store_files),
                origin: match set {
                    Some(_) => Origin::Set(asked.stores_from.clone()),
                    None => Origin::Shared,
                },
            }))
            .collect::<Vec<_>>()
    };
    let Some(limit) = limit else {
        let max_connections = connections.unwrap_or(DEFAULT_MAX_CONNECTIONS_CAP);
        return Ok(Budget {
            limit: None,
            max_connections,
            store_files: DEFAULT_MAX_OPEN_FILES,
            values: values(max_connections, DEFAULT_MAX_OPEN_FILES),
            partition_stores: None,
        });
    };
    let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let kept = RESERVE.saturating_add(PER_STORE.saturating_mul(as_u64(stores.len())));
    let set_files = stores
        .iter()
        .flatten()
        .fold(0u64, |sum, n| sum.saturating_add(as_u64(*n)));
    let unset = as_u64(stores.iter().filter(|s| s.is_none()).count());
    let left = limit
        .saturating_sub(kept)
        .saturating_sub(set_files)
        .saturating_sub(as_u64(connections.unwrap_or(0)));
    // The partition stores' part first: a quarter of what is left, in whole stores,
    // at least one (so that a source can read at all).
    let partition_stores = asked
        .partition_stores
        .then(|| (left / 4 / PER_PARTITION_STORE).max(1));
    let partition_files = partition_stores.map_or(0, |n| n * PER_PARTITION_STORE);
    let rest = left.saturating_sub(partition_files);
    let store_files = match (unset, connections) {
        (0, _) => as_u64(DEFAULT_MAX_OPEN_FILES),
        (n, Some(_)) => rest / n,
        (n, None) => rest / 2 / n,
    }
    .clamp(1, as_u64(DEFAULT_MAX_OPEN_FILES));
    let max_connections = connections.unwrap_or_else(|| {
        usize::try_from(rest.saturating_sub(unset * store_files))
            .unwrap_or(usize::MAX)
            .clamp(1, DEFAULT_MAX_CONNECTIONS_CAP)
    });
    let store_files = usize::try_from(store_files).unwrap_or(DEFAULT_MAX_OPEN_FILES);
    let all_files = set_files.saturating_add(unset * as_u64(store_files));
    let needed = kept
        .saturating_add(all_files)
        .saturating_add(partition_files)
        .saturating_add(as_u64(max_connections));
    let values = values(max_connections, store_files);
    if needed > limit {
        let over = OverCommit {
            limit,
            values: values.clone(),
            kept,
            partition_files,
            needed,
        };
        if connections.is_some() || set_files > 0 {
            return Err(over);
        }
        // Nothing configured to lower: the server still runs, as it did before.
        tracing::warn!("{over}");
    }
    Ok(Budget {
        limit: Some(limit),
        max_connections,
        store_files,
        values,
        partition_stores: partition_stores.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    })
}

/// Raises the soft open-file limit to the hard one (as nginx's `worker_rlimit_nofile`
/// and Vector do: the soft limit is often left at 1024 while the hard one allows far
/// more), and returns the soft limit then in force (`None`: unlimited or unknown).
pub(crate) fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let now = getrlimit(Resource::Nofile);
        if let (Some(soft), Some(hard)) = (now.current, now.maximum) {
            if soft < hard {
                let raised = Rlimit {
                    current: Some(hard),
                    maximum: Some(hard),
                };
                match setrlimit(Resource::Nofile, raised) {
                    Ok(()) => tracing::info!(
                        from = soft,
                        to = hard,
                        "open-file limit raised to the hard limit"
                    ),
                    Err(e) => tracing::warn!(
                        "cannot raise the open-file limit from {soft} to its hard limit {hard}: {e}"
                    ),
                }
            }
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stores` stores named `s0`, `s1`... with their own values, nothing from the
    /// environment.
    fn asked(stores: &[Option<usize>], connections: Option<usize>) -> Asked {
        Asked {
            stores: stores
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("s{i}"), *n))
                .collect(),
            stores_from: "s.toml".into(),
            connections,
            connections_from: "s.toml".into(),
            partition_stores: false,
        }
    }

    fn spent(b: &Budget, stores: usize) -> u64 {
        RESERVE + PER_STORE * stores as u64 + (b.store_files * stores + b.max_connections) as u64
    }

    #[test]
    fn the_defaults_add_up_to_no_more_than_the_limit_whatever_the_number_of_stores() {
        for limit in [1024, 65536] {
            for stores in [0, 1, 2, 8] {
                let b = plan(Some(limit), &asked(&vec![None; stores], None)).unwrap();
                assert!(spent(&b, stores) <= limit, "{limit} {stores}: {b:?}");
                assert!(b.max_connections >= 256, "{limit} {stores}: {b:?}");
                assert!(b.store_files >= 32, "{limit} {stores}: {b:?}");
            }
        }
    }

    #[test]
    fn the_numbers_the_docs_give() {
        let at = |limit, stores| {
            let b = plan(Some(limit), &asked(&vec![None; stores], None)).unwrap();
            (b.max_connections, b.store_files)
        };
        assert_eq!(at(1024, 1), (664, 256));
        assert_eq!(at(1024, 2), (440, 220));
        assert_eq!(at(1024, 8), (320, 40));
        assert_eq!(at(65536, 1), (10_000, 256));
        assert_eq!(at(65536, 8), (10_000, 256));
    }

    #[test]
    fn unset_values_share_what_the_set_ones_leave() {
        let b = plan(Some(1024), &asked(&[None, None], Some(600))).unwrap();
        assert_eq!(b.max_connections, 600);
        assert_eq!(b.store_files, (1024 - 64 - 2 * 40 - 600) / 2);
        let b = plan(Some(1024), &asked(&[Some(100), None], None)).unwrap();
        let spent = RESERVE + 2 * PER_STORE + 100 + (b.store_files + b.max_connections) as u64;
        assert!(spent <= 1024, "{b:?}");
    }

    #[test]
    fn configured_values_that_do_not_fit_are_refused_naming_the_numbers() {
        let e = plan(Some(1024), &asked(&[None, None], Some(1000))).unwrap_err();
        let said = e.to_string();
        assert!(said.contains("is 1024"), "{said}");
        assert!(
            said.contains("max_connections 1000 (set in s.toml)"),
            "{said}"
        );
        assert!(plan(Some(1024), &asked(&[Some(500), Some(500)], None)).is_err());
        // Nothing set: planned anyway.
        assert!(plan(Some(100), &asked(&[None; 8], None)).is_ok());
    }

    /// Before, the start's log said one `store_max_open_files` (the unset stores'
    /// share, 256 even when every store set its own), and a refusal showed a value
    /// the config did not set as `(1)` and blamed the config file for all of them.
    #[test]
    fn each_value_is_said_with_where_it_came_from() {
        let b = plan(Some(1024), &asked(&[Some(100), None], None)).unwrap();
        let said = b.stores_said();
        assert!(
            said.contains(r#"max_open_files of store "s0" 100 (set in s.toml)"#),
            "{said}"
        );
        assert!(
            said.contains(&format!(
                r#"max_open_files of store "s1" {} (unset: its share"#,
                b.store_files
            )),
            "{said}"
        );
        assert_eq!(b.connections_origin(), Origin::Shared.to_string());
        let both_set = plan(Some(65536), &asked(&[Some(7), Some(9)], None)).unwrap();
        assert_eq!(
            both_set.stores_said(),
            r#"max_open_files of store "s0" 7 (set in s.toml), max_open_files of store "s1" 9 (set in s.toml)"#
        );

        let mut from_env = asked(&[None, None], Some(1000));
        from_env.connections_from = "environment AUDITRAIL_MAX_CONNECTIONS".into();
        let said = plan(Some(1024), &from_env).unwrap_err().to_string();
        assert!(
            said.contains("max_connections 1000 (set in environment AUDITRAIL_MAX_CONNECTIONS)"),
            "{said}"
        );
        assert!(!said.contains("s.toml"), "{said}");
        assert!(!said.contains("partition stores"), "{said}");
        let mut with_source = from_env.clone();
        with_source.partition_stores = true;
        let said = plan(Some(1024), &with_source).unwrap_err().to_string();
        assert!(
            said.contains("and 72 for Kafka partition stores (1 of 72 each, at least one)"),
            "{said}"
        );
        assert!(
            said.contains(r#"max_open_files of store "s0" 1 (unset: its share"#),
            "{said}"
        );

        let said = plan(Some(1024), &asked(&[Some(500), Some(500)], None))
            .unwrap_err()
            .to_string();
        assert!(
            said.contains("max_connections 1 (unset: its share"),
            "{said}"
        );
    }

    /// Kafka partition stores used to be left out of the split, each keeping a quarter
    /// of the limit (at most 256): a few partitions assigned over-committed it.
    #[test]
    fn kafka_partition_stores_take_a_quarter_of_what_is_left_in_whole_stores() {
        let mut with_source = asked(&[None], None);
        with_source.partition_stores = true;
        let b = plan(Some(1024), &with_source).unwrap();
        // 1024 - 64 - 40 = 920; a quarter, 230, is 3 stores of 72.
        assert_eq!(b.partition_stores, Some(3), "{b:?}");
        let spent = spent(&b, 1) + 3 * PER_PARTITION_STORE;
        assert!(spent <= 1024, "{spent} {b:?}");
        // At least one, even when the set values leave nothing.
        let mut tight = asked(&[], None);
        tight.partition_stores = true;
        assert_eq!(plan(Some(100), &tight).unwrap().partition_stores, Some(1));
        let mut big = asked(&[], None);
        big.partition_stores = true;
        assert_eq!(
            plan(Some(65536), &big).unwrap().partition_stores,
            Some(((65536 - 64) / 4 / PER_PARTITION_STORE) as usize)
        );
        assert_eq!(
            plan(Some(1024), &asked(&[None], None))
                .unwrap()
                .partition_stores,
            None
        );
        assert_eq!(plan(None, &with_source).unwrap().partition_stores, None);
    }

    #[test]
    fn without_a_limit_the_caps_apply() {
        let b = plan(None, &asked(&[None], None)).unwrap();
        assert_eq!(b.max_connections, DEFAULT_MAX_CONNECTIONS_CAP);
        assert_eq!(b.store_files, DEFAULT_MAX_OPEN_FILES);
    }
}
