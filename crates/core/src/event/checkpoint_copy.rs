//! Recognising a copy of another server's checkpoint line: what an event server's
//! `[[witnesses]]` send (topic [`CHECKPOINT_COPY_TOPIC`], `msgType` `checkpoint`, from a
//! node `<node>.witness.<16 hex>`).
//!
//! A store that keeps such copies does not count them towards its own checkpoint policy
//! (`every_records`, `every_seconds`): otherwise two servers that witness each other
//! would answer every published line of the other with one of their own, for ever,
//! with no ingest at all.

use super::Event;

/// The topic of the checkpoint lines an event server sends to its witnesses.
pub const CHECKPOINT_COPY_TOPIC: &str = "checkpoint";

/// The part of a witness node id between the server's node and its random suffix (the
/// event server builds its witness node id with it; this module recognises it).
pub const WITNESS_NODE_INFIX: &str = ".witness.";

impl Event {
    /// Whether this is a copy of a checkpoint line sent by another server to its
    /// witnesses (see the module docs).
    pub fn is_checkpoint_copy(&self) -> bool {
        self.topic.as_str() == CHECKPOINT_COPY_TOPIC
            && self.msg_type() == "checkpoint"
            && self.node.as_str().contains(WITNESS_NODE_INFIX)
    }
}
