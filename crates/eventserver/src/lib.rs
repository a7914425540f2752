//! auditrail-eventserver (work in progress).

pub mod integrity;
