//! The browser assets under `/pkg/`: precompressed variants and cache lifetimes.
//!
//! `cargo leptos build --release --precompress` writes a `.br` and a `.gz` file beside each
//! asset, and its file hashing renames `relais.js` to `relais.<hash>.js`. The server sends the
//! smallest variant the browser accepts without compressing anything per request. A hashed
//! name never changes content, so browsers may keep it for a year.

use std::path::Path;

use http::HeaderValue;
use tower_http::services::ServeDir;

/// The file, beside the site's `pkg/` directory, that lists the asset hashes.
pub const HASH_FILE: &str = "hash.txt";

/// Length of the hash cargo-leptos puts in a file name: MD5 in unpadded base64url.
const HASH_LENGTH: usize = 22;

const ONE_YEAR_IMMUTABLE: &str = "public, max-age=31536000, immutable";
const ONE_DAY: &str = "public, max-age=86400";
const REVALIDATE: &str = "no-cache";

/// Serves `site_root/pkg`, preferring the brotli, then the gzip file when the browser accepts it.
pub fn service(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip()
}

/// Returns the `Cache-Control` value for a successful response to a static file request.
///
/// Hashed assets are immutable, unhashed ones (a debug build) are revalidated on each use, and
/// the favicon is kept for a day.
pub fn cache_control(path: &str) -> HeaderValue {
    let value = match path.strip_prefix("/pkg/") {
        Some(name) if has_content_hash(name) => ONE_YEAR_IMMUTABLE,
        Some(_) => REVALIDATE,
        None => ONE_DAY,
    };
    HeaderValue::from_static(value)
}

/// Tells whether a file name has the form `stem.<hash>.ext`.
fn has_content_hash(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == HASH_LENGTH
        && hash
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_immutable() {
        for path in [
            "/pkg/relais.GdTX1FmWfI6YbR5Sx8ZrQw.wasm",
            "/pkg/relais.a-b_c0123456789ABCDEFG.js",
        ] {
            assert_eq!(cache_control(path), ONE_YEAR_IMMUTABLE, "{path}");
        }
    }

    #[test]
    fn unhashed_assets_are_revalidated() {
        for path in [
            "/pkg/relais.wasm",
            "/pkg/relais.css",
            "/pkg/relais.short.js",
            "/pkg/.GdTX1FmWfI6YbR5Sx8ZrQw.js",
        ] {
            assert_eq!(cache_control(path), REVALIDATE, "{path}");
        }
    }

    #[test]
    fn favicon_is_kept_a_day() {
        assert_eq!(cache_control("/favicon.svg"), ONE_DAY);
    }
}
