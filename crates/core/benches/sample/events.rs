//! The wire events the core benches read: one request of the load generator.

/// Events per batch.
pub(crate) const BATCH: usize = 1000;

/// A batch of events like the load generator's: distinct ids and sequence numbers,
/// a message of ~200 bytes with a nested object.
pub(crate) fn batch() -> Vec<Vec<u8>> {
    (0..BATCH)
        .map(|i| {
            format!(
                r#"{{"id":"01936f6e-1b2c-7d3e-8f40-{i:012x}","timestamp":"2026-11-25T16:55:49.123Z","topic":"apinode-query","routingKey":"svc-a","node":"node-1","seq":{seq},"message":{{"msgType":"prediction-query","authUser":"user{u}","clientIP":"10.0.{a}.{b}","service":{{"name":"svc-a","version":"1.4.2"}},"elapsedMs":{ms},"status":"OK"}}}}"#,
                seq = i + 1,
                u = i % 97,
                a = i % 256,
                b = (i * 7) % 256,
                ms = (i * 13) % 5000,
            )
            .into_bytes()
        })
        .collect()
}
