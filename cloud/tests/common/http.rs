//! A running `jachai-cloud` with its HTTP listener on port 0, on a real Mosquitto and a test database, and
//! a small client for its API (the session cookie and CSRF token are carried by hand, as a browser would).
#![allow(dead_code)]

use std::time::Duration;

use jachai_cloud::{Command, Config, Service};
use jachai_testkit::Broker;
use tokio::sync::{mpsc, oneshot};

use super::TestDb;

/// The password of the console users `users` adds.
pub const PASSWORD: &str = "a long enough password";

/// Console users: `ana` (admin), `rafi` (reviewer), `vera` (viewer), all with [`PASSWORD`].
pub async fn users(db: &TestDb) {
    let users = jachai_cloud::users::Users::new(db.open().await);
    for (name, role) in [
        ("ana", jachai_cloud::users::Role::Admin),
        ("rafi", jachai_cloud::users::Role::Reviewer),
        ("vera", jachai_cloud::users::Role::Viewer),
    ] {
        users.add(name, PASSWORD, role).await.expect("add user");
    }
}

pub struct Server {
    pub base: String,
    pub broker: Broker,
    pub commands: mpsc::Sender<Command>,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// `[http]` lines beyond `listen`, e.g. `api_per_minute = 3`.
pub async fn start(db: &TestDb, http_extra: &str) -> Server {
    start_on(db, Broker::start().expect("broker"), http_extra).await
}

/// [`start`] on a given broker; `http_extra` may end with further sections (`[enroll]` …).
pub async fn start_on(db: &TestDb, broker: Broker, http_extra: &str) -> Server {
    let id = broker.identity("cloud").expect("cloud cert");
    let text = format!(
        "database_url = {:?}\nblob_dir = {:?}\nsigning_key = {:?}\n[mqtt]\nhost = \"localhost\"\nport = {}\nca = {:?}\ncert = {:?}\nkey = {:?}\nclient_id = \"cloud-http\"\nkeep_alive_s = 5\n[http]\nlisten = \"127.0.0.1:0\"\nsecure_cookies = false\n{http_extra}\n",
        db.url,
        db.blob_dir(),
        db.dir.path().join("signing.key"),
        broker.port(),
        broker.pki().ca_path(),
        id.cert,
        id.key,
    );
    let path = db.dir.path().join("cloud.toml");
    std::fs::write(&path, text).expect("write config");
    let cfg = Config::load(&path).expect("config");
    let service = Service::open(cfg).await.expect("open");
    let addr = service.http_addr().expect("an HTTP listener");
    let (stop, stopped) = oneshot::channel::<()>();
    let (commands, rx) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        service
            .run(
                async {
                    let _ = stopped.await;
                },
                rx,
            )
            .await
            .expect("service ran");
    });
    // The cloud subscribes to the kiosks' uplinks when it connects and then publishes the
    // retained stolen-index head on the same connection, so once the head is at the broker a
    // case a test publishes can no longer be lost to a subscription not made yet (a race that
    // failed a browser test on a loaded machine).
    let probe = broker.identity("head-probe").expect("probe cert");
    let sub = broker
        .subscribe(Some(&probe), &["jachai/v1/stolen/head"])
        .expect("subscribe to the head");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sub.messages().expect("messages").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the cloud published no stolen-index head within 30 s of starting"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(sub);
    Server {
        base: format!("http://{addr}"),
        broker,
        commands,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client"),
        stop: Some(stop),
        task: Some(task),
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), t)
                .await
                .expect("stops within 15 s")
                .expect("joined");
        }
    }
}

/// Status and JSON body of a response.
pub async fn json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, v)
}

/// `POST /api/checks/upload` with `form`: status and JSON body.
pub async fn upload_check(s: &Server, form: reqwest::multipart::Form) -> (u16, serde_json::Value) {
    json(
        s.http
            .post(s.url("/api/checks/upload"))
            .multipart(form)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

/// A logged-in console user.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn login(
    s: &Server,
    user: &str,
    password: &str,
) -> Result<Session, (u16, serde_json::Value)> {
    let resp = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_string());
    let (status, body) = json(resp).await;
    match (status, cookie) {
        (200, Some(cookie)) => Ok(Session {
            cookie,
            csrf: body["csrf_token"].as_str().expect("csrf").to_string(),
        }),
        _ => Err((status, body)),
    }
}

/// A PNG of `w`×`h` with some structure (text-like bars) for the pipeline to look at.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let bar = (y / 12) % 3 == 0 && (x / 7) % 5 != 0;
        let v = if bar { 40 } else { 230 - ((x + y) % 17) as u8 };
        image::Rgb([v, v, v.saturating_add(10)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

pub fn file_part(bytes: Vec<u8>, name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("image/png")
        .expect("mime")
}

/// Reads the SSE stream to its end; returns the progress events.
pub async fn read_progress(s: &Server, id: &str) -> Vec<serde_json::Value> {
    let mut resp = s.get(&format!("/api/checks/{id}/progress")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(120), resp.chunk())
        .await
        .expect("progress within 2 min")
        .expect("chunk")
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).expect("progress JSON"))
        .collect()
}
