//! A spool segment cut and written again past the read position while a tool reads it
//! (`auditrail spool resend` given a segment of a running node's spool, and the node
//! restarts: its repair cuts the file and appends new records there). The reader read
//! on from its offset in the new bytes: the new records were taken as if they followed
//! the old ones, the records between were gone, and nothing said so. Now the spool's
//! reader checks each read as `send --stdin` does: it stops with `Rewritten`, naming the
//! file, and no record of the new bytes is given back.

use std::io::Write;

use auditrail_target_eventserver::spool::file_records::{FileRecords, Item};
use auditrail_target_eventserver::spool::record;
use auditrail_target_eventserver::spool::SpoolError;

/// Records of about 1 KiB, `n` of them, each naming `tag` and its number.
fn records(tag: &str, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let payload = format!(
            "{{\"tag\":\"{tag}\",\"i\":{i},\"pad\":\"{}\"}}",
            "x".repeat(1000)
        );
        record::encode_payload(payload.as_bytes(), &mut out);
    }
    out
}

#[test]
fn a_spool_file_rewritten_while_read_is_refused_and_nothing_of_the_new_bytes_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00000000000000000007.seg");
    // Several reads long.
    let old = records("old", 4000);
    std::fs::write(&path, &old).unwrap();
    let mut reader = FileRecords::open(&path).unwrap();
    let first = reader.next().unwrap().unwrap();
    assert!(matches!(&first, Item::Record(p) if p.starts_with(b"{\"tag\":\"old\",\"i\":0,")));

    // Cut and written again, as long as before, with other records.
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(0).unwrap();
    file.write_all(&records("new", 4000)).unwrap();
    drop(file);

    let mut taken = 1;
    let error = loop {
        match reader.next() {
            Some(Ok(Item::Record(p))) => {
                let text = String::from_utf8(p).unwrap();
                assert!(
                    text.starts_with(&format!("{{\"tag\":\"old\",\"i\":{taken},")),
                    "record {taken} is {}",
                    &text[..30]
                );
                taken += 1;
            }
            Some(Ok(Item::Damaged(d))) => panic!("damage reported instead: {d:?}"),
            Some(Err(e)) => break e,
            None => panic!("read to the end: {taken} records, the rewrite unseen"),
        }
    };
    assert!(taken < 4000, "{taken}");
    match &error {
        SpoolError::Rewritten { path: named, .. } => assert_eq!(named, &path),
        other => panic!("{other}"),
    }
    let said = error.to_string();
    assert!(
        said.starts_with(&format!(
            "spool file {}: was rewritten in place while read",
            path.display()
        )) && said.contains("its first 256 bytes no longer held what they held"),
        "{said}"
    );
    assert!(reader.next().is_none(), "nothing after the error");
}
