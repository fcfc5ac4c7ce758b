//! Images in an S3-compatible bucket (`[object_store]`): the same blob operations as the local folder,
//! against a real S3 API (moto's server), a prefix that keeps sites apart, and clear errors at start for
//! a wrong URL or a missing bucket — in the library and through `jachai-cloud --check`.

use bytes::Bytes;
use jachai_cloud::config::ObjectStoreConfig;
use jachai_cloud::objects::{sha256_hex, Objects};
use jachai_testkit::S3Server;

fn credentials() {
    // moto takes any credentials; the cloud reads them from the environment, as in production.
    std::env::set_var("AWS_ACCESS_KEY_ID", "jachai-test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "jachai-test-secret");
}

fn config(server: &S3Server, url: &str) -> ObjectStoreConfig {
    ObjectStoreConfig {
        url: url.into(),
        endpoint: Some(server.endpoint()),
        region: "us-east-1".into(),
        allow_http: true,
    }
}

#[tokio::test]
async fn blobs_round_trip_through_a_bucket_and_a_prefix_keeps_sites_apart() {
    credentials();
    let server = S3Server::start().expect("moto_server");
    server.create_bucket("images").expect("bucket");
    let site_a = Objects::s3(&config(&server, "s3://images/site-a"))
        .await
        .expect("open");
    assert_eq!(site_a.describe(), "s3://images/site-a");

    let image: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let hash = sha256_hex(&image);
    let (first, second) = image.split_at(65_536);
    site_a
        .put_chunk(&hash, 0, Bytes::copy_from_slice(first))
        .await
        .expect("chunk 0");
    site_a
        .put_chunk(&hash, 1, Bytes::copy_from_slice(second))
        .await
        .expect("chunk 1");
    let whole = site_a.assemble(&hash, 2).await.expect("assemble");
    assert_eq!(sha256_hex(&whole), hash);
    site_a.put_blob(&hash, whole).await.expect("put blob");
    site_a.drop_chunks(&hash, 2).await.expect("drop chunks");
    site_a
        .drop_chunks(&hash, 2)
        .await
        .expect("dropping again is fine");
    assert_eq!(
        site_a.get_blob(&hash).await.expect("get").as_ref(),
        &image[..]
    );
    assert!(site_a.assemble(&hash, 2).await.is_err(), "chunks deleted");

    let site_b = Objects::s3(&config(&server, "s3://images/site-b"))
        .await
        .expect("open");
    assert!(site_b.get_blob(&hash).await.is_err(), "another prefix");
    let whole_bucket = Objects::s3(&config(&server, "s3://images"))
        .await
        .expect("open");
    assert!(whole_bucket.get_blob(&hash).await.is_err(), "under site-a/");
}

#[tokio::test]
async fn a_wrong_url_or_a_missing_bucket_is_refused_at_start() {
    credentials();
    let server = S3Server::start().expect("moto_server");
    // (url, words the error must hold)
    let table = [
        ("https://images", "must start with s3://"),
        ("s3://", "no bucket name"),
        ("s3:///prefix", "no bucket name"),
        ("s3://no-such-bucket", "s3://no-such-bucket"),
    ];
    for (url, words) in table {
        let err = Objects::s3(&config(&server, url))
            .await
            .expect_err(url)
            .to_string();
        assert!(err.contains(words), "{url}: {err}");
    }
}

#[test]
fn the_service_checks_its_bucket_when_it_starts() {
    credentials();
    let server = S3Server::start().expect("moto_server");
    server.create_bucket("cloud-images").expect("bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |bucket: &str| {
        let path = dir.path().join(format!("{bucket}.toml"));
        std::fs::write(
            &path,
            format!(
                "database_url = \"sqlite:{db}\"\nsigning_key = \"{key}\"\n[mqtt]\nhost = \"localhost\"\nca = \"c\"\ncert = \"c\"\nkey = \"k\"\n[object_store]\nurl = \"s3://{bucket}/jachai\"\nendpoint = \"{ep}\"\nallow_http = true\n",
                db = dir.path().join("cloud.db").display(),
                key = dir.path().join("signing.key").display(),
                ep = server.endpoint(),
            ),
        )
        .expect("write config");
        path
    };
    let run = |config: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_jachai-cloud"))
            .arg("--config")
            .arg(config)
            .arg("--check")
            .output()
            .expect("jachai-cloud runs")
    };
    let good = run(&write("cloud-images"));
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let missing = run(&write("not-made"));
    assert!(
        !missing.status.success(),
        "a missing bucket fails the check"
    );
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("s3://not-made/jachai"), "{stderr}");
}
