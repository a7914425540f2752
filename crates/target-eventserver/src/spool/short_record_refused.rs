//! A hand-built record whose payload is shorter than any event's wire form
//! ([`record::MIN_PAYLOAD`]) is refused by the append, with nothing written: the reader
//! takes such a record for damaged bytes, so spooled it would be acknowledged to the
//! caller and then skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use super::{record, segment_ids, segment_path, Spool, SpoolError, SpoolFsync, SpoolOptions};
use crate::metrics::Metrics;

#[test]
fn a_record_shorter_than_an_event_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    std::fs::create_dir(&dir).unwrap();
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.clone(),
            max_bytes: 1 << 20,
            segment_bytes: 1 << 20,
            fsync: SpoolFsync::Always,
        },
        Arc::new(Metrics::default()),
    )
    .unwrap();

    // Zero and one payload bytes, alone: nothing is written, not even a segment file.
    for short in [&b""[..], b"{"] {
        let mut rec = Vec::new();
        record::encode_payload(short, &mut rec);
        let e = spool.append(&rec, 1).unwrap_err();
        assert!(
            matches!(e, SpoolError::RecordTooShort { bytes, min: 2 } if bytes == short.len() as u64),
            "{e:?}"
        );
        assert_eq!((spool.pending_events(), spool.bytes()), (0, 0));
        assert!(segment_ids(&dir).unwrap().is_empty());
    }

    // The smallest event's record goes in.
    let mut good = Vec::new();
    record::encode_payload(b"{}", &mut good);
    spool.append(&good, 1).unwrap();
    let ids = segment_ids(&dir).unwrap();
    assert_eq!(ids.len(), 1);
    let head = segment_path(&dir, ids[0]);
    assert_eq!(std::fs::read(&head).unwrap(), good);

    // A short record after a good one in the same append: the whole append is refused,
    // the good one too (on error nothing of the records is kept).
    let mut batch = Vec::new();
    record::encode_payload(br#"{"a":1}"#, &mut batch);
    record::encode_payload(b"}", &mut batch);
    let e = spool.append(&batch, 2).unwrap_err();
    assert!(
        matches!(e, SpoolError::RecordTooShort { bytes: 1, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("not spooled"), "{e}");
    assert_eq!(
        (spool.pending_events(), spool.bytes()),
        (1, good.len() as u64)
    );
    assert_eq!(segment_ids(&dir).unwrap(), ids);
    assert_eq!(std::fs::read(&head).unwrap(), good);
}
