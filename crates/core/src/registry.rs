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
use crate::target_config::{
    build_config, config_clash, config_durability, config_folders, parse_config, InvalidConfig,
    TargetConfig, ValidatedConfig,
};

/// One target type: how it is named, described, configured and built.
///
/// Made by [`TargetRegistration::new`] (through [`register_target!`](crate::register_target)),
/// never field by field: the struct is `#[non_exhaustive]`, so that a field added for
/// a new [`TargetConfig`] method (as `durability` was) breaks no target crate. Its
/// fields stay public to read.
///
/// ```compile_fail,E0639
/// # use auditrail_core::TargetRegistration;
/// # fn any<T>() -> T { unimplemented!() }
/// // A third-party crate cannot build it literally (it would break at each new field).
/// let _ = TargetRegistration {
///     name: "mine", description: "", example_config: "", origin: "mine", site: "mine",
///     parse: any(), build: any(), path_keys: &[], file_properties: None,
///     batch_max_events: 1, folders: any(), clash: any(), durability: any(),
/// };
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetRegistration {
    /// The `type` in config files.
    pub name: &'static str,
    /// One line for `auditrail targets`.
    pub description: &'static str,
    /// A complete example config (TOML, one `[[targets]]` entry).
    pub example_config: &'static str,
    /// The crate that registered it.
    pub origin: &'static str,
    /// Where it was registered: the module and crate version of its
    /// [`register_target!`](crate::register_target) (the crate name for
    /// [`TargetRegistration::new`]). One registration seen twice (its `REGISTRATION` and
    /// its `inventory` copy) has one site; two registrations of one name from two
    /// versions of a crate, or from two modules of one, have two and are refused.
    pub site: &'static str,
    /// Parses and validates the target's own config fields (the entry without `type`,
    /// `name` and the dispatch keys) into its typed config, once.
    pub parse: ParseFn,
    /// Builds a target from a config that `parse` made.
    pub build: BuildFn,
    /// The keys of the target's table that are paths
    /// ([`crate::TargetConfig::PATH_KEYS`]), taken relative to
    /// the config file's folder.
    pub path_keys: &'static [&'static str],
    /// The table of library properties whose file paths are taken relative to the
    /// config file's folder ([`crate::TargetConfig::FILE_PROPERTIES`]).
    pub file_properties: Option<crate::target_config::FileProperties>,
    /// The `batch_max_events` of an entry that does not set it
    /// ([`crate::TargetConfig::BATCH_MAX_EVENTS`]).
    pub batch_max_events: usize,
    /// The folders a config that `parse` made writes in
    /// ([`crate::TargetConfig::folders`]).
    pub folders: FoldersFn,
    /// Why two configs that `parse` made, of two targets of one node, clash
    /// ([`crate::TargetConfig::clash`]).
    pub clash: ClashFn,
    /// What `Ok` means for the target of a config that `parse` made
    /// ([`crate::TargetConfig::durability`]).
    pub durability: DurabilityFn,
}

/// The durability function of a [`TargetRegistration`].
pub type DurabilityFn = fn(&ValidatedConfig) -> crate::target::Durability;

/// The clash function of a [`TargetRegistration`]: a config and its target's name, the
/// other's, the run folder.
pub type ClashFn =
    fn(&ValidatedConfig, &str, &ValidatedConfig, &str, &std::path::Path) -> Option<String>;

/// The folders function of a [`TargetRegistration`]: the config, the run folder, the
/// instance name.
pub type FoldersFn =
    fn(&ValidatedConfig, &std::path::Path, &str) -> Vec<(&'static str, std::path::PathBuf)>;

/// The parse function of a [`TargetRegistration`].
pub type ParseFn = fn(serde_json::Value) -> Result<ValidatedConfig, InvalidConfig>;

/// The build function of a [`TargetRegistration`].
pub type BuildFn = fn(&ValidatedConfig, &BuildContext) -> Result<Box<dyn Target>, BuildError>;

impl TargetRegistration {
    /// The registration of config type `C`: `parse` reads a `C` (unknown keys refused)
    /// and validates it, `build` calls [`TargetConfig::build`] on it.
    pub const fn new<C: TargetConfig>(
        name: &'static str,
        description: &'static str,
        example_config: &'static str,
        origin: &'static str,
    ) -> TargetRegistration {
        TargetRegistration {
            name,
            description,
            example_config,
            origin,
            site: origin,
            parse: parse_config::<C>,
            build: build_config::<C>,
            path_keys: C::PATH_KEYS,
            file_properties: C::FILE_PROPERTIES,
            batch_max_events: C::BATCH_MAX_EVENTS,
            folders: config_folders::<C>,
            clash: config_clash::<C>,
            durability: config_durability::<C>,
        }
    }

    /// This registration, made at `site` (see [`TargetRegistration::site`]).
    pub const fn at(self, site: &'static str) -> TargetRegistration {
        TargetRegistration { site, ..self }
    }
}

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
        pub static REGISTRATION: $crate::TargetRegistration =
            $crate::TargetRegistration::new::<$config>($name, $desc, $example, env!("CARGO_PKG_NAME"))
                .at(concat!(module_path!(), " ", env!("CARGO_PKG_VERSION")));
        $crate::inventory::submit! {
            $crate::TargetRegistration::new::<$config>($name, $desc, $example, env!("CARGO_PKG_NAME"))
                .at(concat!(module_path!(), " ", env!("CARGO_PKG_VERSION")))
        }
    };
}

/// Errors looking up or assembling target types. Its `Debug` is its message
/// ([`crate::ErrorReport`]), not a dump.
#[derive(Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// No target type of that name is linked.
    #[error(
        "unknown target type `{name}`; registered types: {} (a target crate of your own is \
         in the program only if the program refers to it: pass its `REGISTRATION` to \
         `Registry::with_linked`, or to `auditrail::registry_with`)",
        known.join(", ")
    )]
    Unknown {
        /// The requested name.
        name: String,
        /// Registered names, sorted.
        known: Vec<String>,
    },
    /// A target type this program knows of but does not link; the program said what
    /// would link it ([`Registry::absent`]; the `auditrail` facade names the cargo
    /// feature of each first-party target).
    #[error("target type `{name}` is not in this build: {how}")]
    NotLinked {
        /// The requested name.
        name: String,
        /// What would link it.
        how: String,
    },
    /// Two different crates registered the same name.
    #[error("target type `{name}` is registered twice, by `{first}` and by `{second}`")]
    Duplicate {
        /// The name.
        name: String,
        /// The crate of the first registration (its module and version when both
        /// come from crates of one name).
        first: String,
        /// The crate of the second registration (likewise).
        second: String,
    },
    /// Nothing is registered at all.
    #[error(
        "no target type is linked into this program: enable a target feature of the \
         `auditrail` crate, or reference your own target crate's REGISTRATION so the linker \
         keeps it"
    )]
    Empty,
}

/// The set of target types available to this program, by name.
#[derive(Debug, Clone)]
pub struct Registry {
    by_name: BTreeMap<&'static str, &'static TargetRegistration>,
    /// Types known to be absent from this build, and what would link each.
    absent: BTreeMap<String, String>,
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
                // The same registration, seen explicitly and through inventory.
                if existing.origin == reg.origin && existing.site == reg.site {
                    continue;
                }
                // Two versions of one crate (or two modules of it) share its name: say
                // where each registration is.
                let (first, second) = if existing.origin == reg.origin {
                    (existing.site, reg.site)
                } else {
                    (existing.origin, reg.origin)
                };
                return Err(RegistryError::Duplicate {
                    name: reg.name.to_owned(),
                    first: first.to_owned(),
                    second: second.to_owned(),
                });
            }
            by_name.insert(reg.name, reg);
        }
        if by_name.is_empty() {
            return Err(RegistryError::Empty);
        }
        Ok(Registry {
            by_name,
            absent: BTreeMap::new(),
        })
    }

    /// Says what would link target type `name` when a lookup asks for it and it is not
    /// registered (for example the cargo feature that links it). Has no effect on a
    /// registered type.
    pub fn absent(mut self, name: impl Into<String>, how: impl Into<String>) -> Registry {
        self.absent.insert(name.into(), how.into());
        self
    }

    /// The registration for `name`.
    pub fn get(&self, name: &str) -> Result<&'static TargetRegistration, RegistryError> {
        if let Some(reg) = self.by_name.get(name) {
            return Ok(reg);
        }
        if let Some(how) = self.absent.get(name) {
            return Err(RegistryError::NotLinked {
                name: name.to_owned(),
                how: how.clone(),
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
