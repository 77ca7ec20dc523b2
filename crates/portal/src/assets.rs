//! The portal's static files, embedded in the binary so that no request leaves the server: its stylesheet, and
//! htmx 2.0.11 with its SSE extension 2.2.4, vendored from npm (`htmx.org`, `htmx-ext-sse`) and pinned by their
//! SHA-384 ([`PINNED`], checked by a test; `assets/README.md` says how to update them). Each is served with its
//! SHA-256 as a strong `ETag` and `Cache-Control: no-cache`, so that a browser revalidates and gets `304`.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::PortalError;

/// An embedded file.
pub struct Asset {
    /// Its name under `/assets/`.
    pub name: &'static str,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// Every embedded file.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "portal.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/portal.css"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/htmx.min.js"),
    },
    Asset {
        name: "htmx-ext-sse.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/htmx-ext-sse.js"),
    },
];

/// The vendored files and the SHA-384 (base64, as in Subresource Integrity) of the version pinned.
pub const PINNED: &[(&str, &str)] = &[
    ("htmx.min.js", "2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"),
    ("htmx-ext-sse.js", "QA9wXqexhwzXTuTvuF5QP82pddm3R2hy81UzXi7ioNTqNF2b75hlkkSGjafohhL3"),
];

fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS.iter().map(|asset| format!("\"{}\"", hex::encode(Sha256::digest(asset.bytes)))).collect()
    })
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|asset| asset.name == file) else {
        return PortalError::not_found(format!("There is no asset {file}.")).into_response();
    };
    let (asset, etag) = (&ASSETS[index], &etags()[index]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|candidate| candidate.trim() == etag));
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { asset.bytes.into_response() };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_files_are_the_versions_pinned() {
        use base64::Engine as _;
        for (name, pinned) in PINNED {
            let asset = ASSETS.iter().find(|asset| asset.name == *name).expect("a pinned file is embedded");
            let digest = sha2::Sha384::digest(asset.bytes);
            assert_eq!(base64::engine::general_purpose::STANDARD.encode(digest), *pinned, "{name}");
        }
    }
}
