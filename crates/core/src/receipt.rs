//! The text an event server's receipt signature covers.
//!
//! The server signs it (`auditrail-integrity`'s `Receipt`) and a node checks it
//! (`auditrail-target-eventserver`) before it takes a `200` answer as an
//! acknowledgement: both must build the very same bytes, so both build them here
//! (docs/tamper-evidence.md, "Receipts").

/// What the signature covers before the receipt's fields: a signature made for another
/// purpose by the same key is never a receipt's.
pub const DOMAIN: &str = "auditrail-receipt-v1\n";

/// The signed text of a receipt over the records `first_seq..=last_seq` of the store
/// `store_id`, whose record `last_seq` has the chain hash `chain_hash` (64 hex):
/// `"auditrail-receipt-v1\n<storeId>\n<firstSeq>\n<lastSeq>\n<chainHash>\n"`.
pub fn signed_text(store_id: &str, first_seq: u64, last_seq: u64, chain_hash: &str) -> String {
    format!("{DOMAIN}{store_id}\n{first_seq}\n{last_seq}\n{chain_hash}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_text_is_the_documented_one() {
        assert_eq!(
            signed_text("0193-a", 101, 200, "ab"),
            "auditrail-receipt-v1\n0193-a\n101\n200\nab\n"
        );
    }
}
