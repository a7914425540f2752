//! A float that is NaN or infinite has no JSON form. However it is given (`audit!`,
//! `EventDraft::field`, `Message::insert`, inside an array), the emit is refused with an
//! error naming the field, and the audit trail gets nothing in its place: it used to
//! record `null` for the number, silently.

use crate::common;

use std::time::Duration;

use auditrail_core::{audit, topics, EventDraft, Message};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nan_and_infinity_are_refused_at_emit_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher("node-nan", json!({ "dir": dir.path() }));

    let refused = |r: Result<_, auditrail_core::AckError>| match r {
        Ok(ack) => panic!("a number without JSON form was accepted: {ack:?}"),
        Err(e) => e.to_string(),
    };
    let err = refused(
        d.emit_acked(audit!(topics::GENERIC, "payment", "amount" => f64::NAN, "fee" => 1.5))
            .await,
    );
    assert!(
        err.contains("message.amount: NaN is not a finite number"),
        "{err}"
    );
    let err = refused(
        d.emit_acked(EventDraft::new(topics::GENERIC, "payment").field("fee", f64::INFINITY))
            .await,
    );
    assert!(
        err.contains("message.fee: inf is not a finite number"),
        "{err}"
    );
    let err = refused(
        d.emit_acked(
            EventDraft::new(topics::GENERIC, "payment").field("rates", vec![0.5f32, f32::NAN]),
        )
        .await,
    );
    assert!(err.contains("message.rates[1]: NaN"), "{err}");
    // The fire-and-forget emit refuses it the same way.
    let err = d
        .emit(audit!(topics::GENERIC, "payment", "amount" => f64::NEG_INFINITY))
        .unwrap_err()
        .to_string();
    assert!(err.contains("message.amount: -inf"), "{err}");

    // A message built by hand refuses the value when it is set, and stays as it was.
    let mut message = Message::new("payment").unwrap();
    let err = message.insert("amount", f64::NAN).unwrap_err().to_string();
    assert!(err.contains("message.amount"), "{err}");
    message.insert("amount", 12.5).unwrap();
    d.emit_acked(EventDraft::from_message(topics::GENERIC, message))
        .await
        .unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    let messages: Vec<String> = read
        .events
        .iter()
        .map(|e| e.message.json().into_owned())
        .collect();
    assert_eq!(messages, [r#"{"msgType":"payment","amount":12.5}"#]);
}
