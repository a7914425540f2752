//! The benchmark event, shared by the load generators (`auditrail-loadgen` sends it as a
//! JSON line, `syslog-loadgen` as the MSG part of a syslog message), so that every system
//! compared stores the same content.

/// Appends one event's JSON of about `size` bytes (exactly `size` once `size` exceeds the
/// fixed fields) to `out`, without a line end. Ids are UUID-shaped, made from counters.
pub(crate) fn write_event_json(out: &mut Vec<u8>, node: &str, conn: u64, seq: u64, size: usize) {
    use std::io::Write;
    let start = out.len();
    let _ = write!(
        out,
        "{{\"id\":\"{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}\",\"timestamp\":\"2026-11-25T16:55:49.123Z\",\
         \"topic\":\"generic\",\"routingKey\":\"svc-a\",\"node\":\"{node}\",\"seq\":{seq},\
         \"message\":{{\"msgType\":\"dataset-read-data\",\"authUser\":\"user-{}\",\"clientIP\":\"10.0.0.7\",\"pad\":\"",
        std::process::id(),
        conn & 0xffff,
        (seq >> 48) & 0xfff,
        (seq >> 36) & 0xfff,
        seq & 0xffff_ffff_ffff,
        seq % 1000,
    );
    let written = out.len() - start;
    let pad = size.saturating_sub(written + 3);
    out.resize(out.len() + pad, b'x');
    out.extend_from_slice(b"\"}}");
}
