//! Target types registered by name through [`inventory`].
//!
//! A target crate registers itself with [`register_target!`](crate::register_target).
//! **Linker pitfall:** a crate that nothing references is not linked, and its
//! registration vanishes with it. The `auditrail` facade therefore passes every
//! first-party target it enables to [`Registry::with_linked`] explicitly; a
//! third-party target crate should be referenced the same way (or through any of its
//! items) by the program that uses it.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::target::{BuildContext, BuildError, Target};

/// One target type: how it is named, described, configured and built.
#[derive(Debug)]
pub struct TargetRegistration {
    /// The `type` in config files.
    pub name: &'static str,
    /// One line for `auditrail targets`.
    pub description: &'static str,
    /// A complete example config (TOML, one `[[targets]]` entry).
    pub example_config: &'static str,
    /// The crate that registered it (to tell a real duplicate from a double link).
    pub origin: &'static str,
    /// Pure validation of the target's own config fields.
    pub validate: fn(&serde_json::Value) -> Result<(), String>,
    /// Builds a target from its own config fields.
    pub build: BuildFn,
}

/// The build function of a [`TargetRegistration`].
pub type BuildFn = fn(serde_json::Value, &BuildContext) -> Result<Box<dyn Target>, BuildError>;

inventory::collect!(TargetRegistration);

/// Registers a target type. Expands to a `pub static REGISTRATION` (for explicit
/// references, see the module docs) and its `inventory` submission.
///
/// ```ignore
/// auditrail_core::register_target! {
///     name: "file",
///     description: "local audit files (JSON lines) through tracing-appender",
///     example: include_str!("../example.toml"),
///     config: FileTargetConfig,
/// }
/// ```
#[macro_export]
macro_rules! register_target {
    (name: $name:expr, description: $desc:expr, example: $example:expr, config: $config:ty $(,)?) => {
        /// This crate's target registration; reference it to make sure the crate is linked.
        pub static REGISTRATION: $crate::TargetRegistration = $crate::TargetRegistration {
            name: $name,
            description: $desc,
            example_config: $example,
            origin: env!("CARGO_PKG_NAME"),
            validate: $crate::validate_config::<$config>,
            build: $crate::build_config::<$config>,
        };
        $crate::inventory::submit! {
            $crate::TargetRegistration {
                name: $name,
                description: $desc,
                example_config: $example,
                origin: env!("CARGO_PKG_NAME"),
                validate: $crate::validate_config::<$config>,
                build: $crate::build_config::<$config>,
            }
        }
    };
}

/// First-party target types and the facade feature that links each.
pub const FIRST_PARTY: [(&str, &str); 3] = [
    ("file", "file"),
    ("eventserver", "eventserver"),
    ("kafka", "kafka"),
];

/// Errors looking up or assembling target types.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// No target type of that name is linked.
    #[error("unknown target type `{name}`; registered types: {}", known.join(", "))]
    Unknown {
        /// The requested name.
        name: String,
        /// Registered names, sorted.
        known: Vec<String>,
    },
    /// A first-party target whose cargo feature is off in this build.
    #[error(
        "target type `{name}` is not in this build: enable the cargo feature `{feature}` of the \
         `auditrail` crate (e.g. `cargo install auditrail-cli --features {feature}`)"
    )]
    FeatureDisabled {
        /// The requested name.
        name: String,
        /// The feature that links it.
        feature: String,
    },
    /// Two different crates registered the same name.
    #[error("target type `{name}` is registered twice, by `{first}` and by `{second}`")]
    Duplicate {
        /// The name.
        name: String,
        /// The crate of the first registration.
        first: String,
        /// The crate of the second registration.
        second: String,
    },
    /// Nothing is registered at all.
    #[error(
        "no target type is linked into this program: enable a feature of the `auditrail` crate \
         (`file`, `eventserver`, `kafka`), or reference your own target crate's REGISTRATION \
         so the linker keeps it"
    )]
    Empty,
}

/// The set of target types available to this program, by name.
#[derive(Debug, Clone)]
pub struct Registry {
    by_name: BTreeMap<&'static str, &'static TargetRegistration>,
}

impl Registry {
    /// Everything registered through `inventory` in the linked crates.
    pub fn from_inventory() -> Result<Registry, RegistryError> {
        Registry::with_linked(&[])
    }

    /// `explicit` (registrations the caller references to keep them linked) plus
    /// everything `inventory` found. The same registration seen twice (explicitly and
    /// through inventory) counts once.
    pub fn with_linked(
        explicit: &[&'static TargetRegistration],
    ) -> Result<Registry, RegistryError> {
        Registry::from_registrations(
            explicit
                .iter()
                .copied()
                .chain(inventory::iter::<TargetRegistration>),
        )
    }

    /// Exactly these registrations (tests, embedding).
    pub fn from_registrations(
        regs: impl IntoIterator<Item = &'static TargetRegistration>,
    ) -> Result<Registry, RegistryError> {
        let mut by_name: BTreeMap<&'static str, &'static TargetRegistration> = BTreeMap::new();
        for reg in regs {
            if let Some(existing) = by_name.get(reg.name) {
                if existing.origin == reg.origin {
                    continue;
                }
                return Err(RegistryError::Duplicate {
                    name: reg.name.to_owned(),
                    first: existing.origin.to_owned(),
                    second: reg.origin.to_owned(),
                });
            }
            by_name.insert(reg.name, reg);
        }
        if by_name.is_empty() {
            return Err(RegistryError::Empty);
        }
        Ok(Registry { by_name })
    }

    /// The registration for `name`.
    pub fn get(&self, name: &str) -> Result<&'static TargetRegistration, RegistryError> {
        if let Some(reg) = self.by_name.get(name) {
            return Ok(reg);
        }
        if let Some((_, feature)) = FIRST_PARTY.iter().find(|(n, _)| *n == name) {
            return Err(RegistryError::FeatureDisabled {
                name: name.to_owned(),
                feature: (*feature).to_owned(),
            });
        }
        Err(RegistryError::Unknown {
            name: name.to_owned(),
            known: self.names().map(str::to_owned).collect(),
        })
    }

    /// Registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }

    /// Registrations, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &'static TargetRegistration> + '_ {
        self.by_name.values().copied()
    }
}
