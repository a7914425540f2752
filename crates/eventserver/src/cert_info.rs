//! What a certificate says of itself, read from its DER for messages only: the
//! Common Name, the subjectAltNames of every kind, the validity period. rustls and
//! webpki verify certificates but give back only the DNS and URI names; a refusal
//! that says what a certificate holds instead (a name only in the Common Name, an IP
//! address), or a warning that the server's own certificate has expired, needs the
//! rest. A reader of the few DER structures of RFC 5280 §4.1 involved, nothing more:
//! anything it does not expect gives `None`, never an error.

use chrono::{DateTime, NaiveDate, Utc};

/// What [`read`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CertInfo {
    /// The subject's Common Name(s).
    pub(crate) common_names: Vec<String>,
    /// Every subjectAltName, as `DNS:x`, `URI:x`, `IP:x`, `email:x` or `other`.
    pub(crate) alt_names: Vec<String>,
    /// `notBefore`.
    pub(crate) not_before: Option<DateTime<Utc>>,
    /// `notAfter`.
    pub(crate) not_after: Option<DateTime<Utc>>,
}

impl CertInfo {
    /// `the Common Name "x"; subjectAltNames IP:10.0.0.7` (or `no Common Name and no
    /// subjectAltName`): what a certificate holds, for a message.
    pub(crate) fn describe_names(&self) -> String {
        let cn = match self.common_names.as_slice() {
            [] => "no Common Name".to_owned(),
            names => format!(
                "the Common Name {}",
                names
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let sans = if self.alt_names.is_empty() {
            "no subjectAltName".to_owned()
        } else {
            format!("the subjectAltNames {}", self.alt_names.join(", "))
        };
        format!("{cn} and {sans}")
    }
}

/// One DER element: its tag and content; the rest after it.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The elements of a constructed content, in order.
fn children(mut der: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let (tag, content, rest) = element(der)?;
        out.push((tag, content));
        der = rest;
    }
    Some(out)
}

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
/// id-at-commonName, 2.5.4.3.
const CN_OID: &[u8] = &[0x55, 0x04, 0x03];
/// id-ce-subjectAltName, 2.5.29.17.
const SAN_OID: &[u8] = &[0x55, 0x1d, 0x11];

/// Reads a DER certificate; `None` when it is not one this reader follows.
pub(crate) fn read(der: &[u8]) -> Option<CertInfo> {
    let (tag, cert, _) = element(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = element(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut fields = children(tbs)?.into_iter().peekable();
    // [0] version, when present.
    if fields.peek().is_some_and(|(t, _)| *t == 0xa0) {
        fields.next();
    }
    let _serial = fields.next()?;
    let _signature = fields.next()?;
    let _issuer = fields.next()?;
    let (_, validity) = fields.next()?;
    let (_, subject) = fields.next()?;
    let _spki = fields.next()?;
    let mut info = CertInfo::default();
    let times = children(validity)?;
    info.not_before = times.first().and_then(|(t, v)| time(*t, v));
    info.not_after = times.get(1).and_then(|(t, v)| time(*t, v));
    for (_, rdn) in children(subject)? {
        for (tag, attr) in children(rdn)? {
            if tag != SEQUENCE {
                continue;
            }
            let parts = children(attr)?;
            if let [(OID, oid), (_, value)] = parts.as_slice() {
                if *oid == CN_OID {
                    info.common_names
                        .push(String::from_utf8_lossy(value).into_owned());
                }
            }
        }
    }
    for (tag, content) in fields {
        // [3] extensions: SEQUENCE OF Extension.
        if tag != 0xa3 {
            continue;
        }
        let (_, exts, _) = element(content)?;
        for (_, ext) in children(exts)? {
            let parts = children(ext)?;
            let (Some((OID, oid)), Some((0x04, value))) = (parts.first(), parts.last()) else {
                continue;
            };
            if *oid != SAN_OID {
                continue;
            }
            let (_, names, _) = element(value)?;
            for (tag, name) in children(names)? {
                let text = || String::from_utf8_lossy(name).into_owned();
                info.alt_names.push(match tag {
                    0x81 => format!("email:{}", text()),
                    0x82 => format!("DNS:{}", text()),
                    0x86 => format!("URI:{}", text()),
                    0x87 => match name.len() {
                        4 => format!(
                            "IP:{}",
                            std::net::Ipv4Addr::new(name[0], name[1], name[2], name[3])
                        ),
                        16 => {
                            let mut b = [0u8; 16];
                            b.copy_from_slice(name);
                            format!("IP:{}", std::net::Ipv6Addr::from(b))
                        }
                        _ => "IP:?".to_owned(),
                    },
                    0xa4 => "a directory name".to_owned(),
                    0xa0 => "an otherName".to_owned(),
                    _ => "a name of another kind".to_owned(),
                });
            }
        }
    }
    Some(info)
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950 to 2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, value: &[u8]) -> Option<DateTime<Utc>> {
    let text = std::str::from_utf8(value).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 if text.len() == 12 => {
            let yy: i32 = text[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        0x18 if text.len() == 14 => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let n = |i: usize| rest.get(i..i + 2)?.parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(year, n(0)?, n(2)?)?;
    Some(date.and_hms_opt(n(4)?, n(6)?, n(8)?)?.and_utc())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_and_validity_are_read_from_an_rcgen_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["a.example".into()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("10.0.0.7".parse().unwrap()));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "node-a.example.org");
        params.not_before = rcgen::date_time_ymd(2020, 1, 2);
        params.not_after = rcgen::date_time_ymd(2061, 3, 4);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let info = read(cert.der()).unwrap();
        assert_eq!(info.common_names, ["node-a.example.org"]);
        assert_eq!(info.alt_names, ["DNS:a.example", "IP:10.0.0.7"]);
        assert_eq!(
            info.not_before.unwrap().to_rfc3339(),
            "2020-01-02T00:00:00+00:00"
        );
        assert_eq!(
            info.not_after.unwrap().to_rfc3339(),
            "2061-03-04T00:00:00+00:00"
        );
        assert!(read(b"not a certificate").is_none());
    }
}
