//! Head segments someone else appended to: still at their path, the same file, but
//! longer than what the spool wrote to them (`printf x >> file`, an editor saving it
//! without a final newline, a copy tool's partial write).
//!
//! The next records appended would land after those bytes, the first glued to their
//! last line: the reader, which reads a segment up to the length the spool wrote, would
//! find damage where it expects them, and skip them. So the head is closed, as a cut
//! one is (`cut.rs`): its records up to the length the spool wrote are kept and sent as
//! before, the foreign bytes are left where they are and logged with the segment's path
//! and their byte range, and the next records go to a new segment. Nothing is lost: no
//! line of `lost.jsonl`, no segment forgotten.
//!
//! Found by the appender, before each append to the head (`Spool::check_head`) and by
//! where the append ended (its handle appends: an end past the length the spool wrote
//! plus the records means bytes came in between; they are kept and the records cut
//! back off and written again, see `Spool::append`).

use super::state::State;
use super::{segment_path, Spool};

impl Spool {
    /// Head segment `id` holds `found` bytes, more than the `written` the spool wrote
    /// to it: it is closed (its records are still sent; the next append starts a new
    /// segment) and the foreign bytes logged with their range.
    pub(super) fn close_longer_head(&self, st: &mut State, id: u64, written: u64, found: u64) {
        // Made durable and its length recorded as the spool wrote it, as when it rolls
        // over: the next start takes bytes past that length for damage, not records.
        self.sync_head(st);
        st.head_file = None;
        self.record_lengths(st);
        tracing::warn!(
            segment = %segment_path(self.dir(), id).display(),
            from = written,
            to = found,
            "bytes the spool did not write were appended to its current segment (at bytes \
             {written}..{found}): nothing is appended after them (its first record would be \
             glued to their last line); the spool's records before them are sent as before, \
             the bytes are left where they are, and the next records go to a new segment"
        );
    }
}
