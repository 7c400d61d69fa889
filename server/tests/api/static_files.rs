//! The browser assets: hashed names in the page, precompressed variants, cache lifetimes.

use std::path::Path;

use crate::helpers::spawn_app_with;

const HASH: &str = "GdTX1FmWfI6YbR5Sx8ZrQw";
const SCRIPT: &str = "export function hydrate() {}\n";

/// Writes a built site as `cargo leptos build --release --precompress` lays it out, with
/// marked contents so that each response shows which file it came from.
fn write_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        root.join("hash.txt"),
        format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n"),
    )
    .unwrap();
    for name in [
        format!("relais.{HASH}.js"),
        format!("relais.{HASH}.css"),
        format!("relais.{HASH}.wasm"),
    ] {
        std::fs::write(pkg.join(&name), SCRIPT).unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), b"brotli bytes").unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), b"gzip bytes").unwrap();
    }
    std::fs::write(pkg.join("plain.js"), SCRIPT).unwrap();
}

#[tokio::test]
async fn pages_link_the_hashed_assets() {
    let site = tempfile::tempdir().unwrap();
    write_site(site.path());
    let app = spawn_app_with(&[("RELAIS_SITE_ROOT", site.path().display().to_string())]).await;

    let page = app.get("/sign-in").await.text().await.unwrap();

    for asset in [
        format!("/pkg/relais.{HASH}.js"),
        format!("/pkg/relais.{HASH}.wasm"),
        format!("/pkg/relais.{HASH}.css"),
    ] {
        assert!(page.contains(&asset), "the page does not link {asset}");
    }
}

#[tokio::test]
async fn precompressed_variant_matches_accept_encoding() {
    let site = tempfile::tempdir().unwrap();
    write_site(site.path());
    let app = spawn_app_with(&[("RELAIS_SITE_ROOT", site.path().display().to_string())]).await;
    let url = app.url(&format!("/pkg/relais.{HASH}.js"));

    for (accepted, encoding, body) in [
        ("br, gzip", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("identity", None, SCRIPT),
    ] {
        let response = app
            .client
            .get(url.clone())
            .header("Accept-Encoding", accepted)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap().to_string())
        };
        assert_eq!(
            header("content-encoding").as_deref(),
            encoding,
            "Accept-Encoding: {accepted}"
        );
        assert_eq!(header("content-type").as_deref(), Some("text/javascript"));
        assert_eq!(
            header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(response.text().await.unwrap(), body, "Accept-Encoding: {accepted}");
    }
}

#[tokio::test]
async fn unhashed_and_missing_assets_are_not_immutable() {
    let site = tempfile::tempdir().unwrap();
    write_site(site.path());
    let app = spawn_app_with(&[("RELAIS_SITE_ROOT", site.path().display().to_string())]).await;

    let plain = app.get("/pkg/plain.js").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["cache-control"], "no-cache");

    let missing = app.get(&format!("/pkg/gone.{HASH}.js")).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none());
}
