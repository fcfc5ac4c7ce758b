//! The running service: one task polls the MQTT event loop and forwards publishes; the main loop takes them
//! in batches, has [`Ingest`] store each batch in one transaction, publishes the acks and answers, and only
//! then PUBACKs the batch to the broker. The systemd watchdog is pinged from inside that main loop, so a
//! stuck loop gets the service restarted. Shutdown (SIGTERM/SIGINT in the binary, a future in tests)
//! finishes the batch in hand, then disconnects.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jachai_protocol::envelope::DecisionOutcome;
use jachai_protocol::stolen::StolenEntry;
use jachai_protocol::topic::{ALL_STATUS, ALL_UPLINK};
use jachai_protocol::KioskId;
use rumqttc::{AsyncClient, Event, Packet, Publish, QoS};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{redact_url, Config};
use crate::ingest::{BatchStats, Incoming, Ingest, IngestError, Outgoing};
use crate::objects::{ObjectError, Objects};
use crate::signing::{self, KeyError};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Objects(#[from] ObjectError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Ca(#[from] crate::enroll::CaError),
    #[error("MQTT client setup: {0}")]
    Tls(#[from] crate::mqtt::TlsError),
    #[error("MQTT client: {0}")]
    Client(#[from] rumqttc::ClientError),
    #[error("HTTP listener on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Work handed to a running service from inside the process (admin actions; tests).
#[derive(Debug)]
pub enum Command {
    /// Record and publish a decision on (kiosk, case_seq).
    Decide {
        kiosk: KioskId,
        case_seq: u64,
        outcome: DecisionOutcome,
        note: Option<String>,
        done: oneshot::Sender<Result<(), String>>,
    },
    /// Add / remove stolen-index entries as a new version and publish the head.
    Stolen {
        added: Vec<StolenEntry>,
        removed: Vec<String>,
        done: oneshot::Sender<Result<u64, String>>,
    },
}

/// A configured service, its database migrated and its signing key loaded.
#[derive(Debug)]
pub struct Service {
    cfg: Config,
    ingest: Ingest,
    enroller: Arc<crate::enroll::Enroller>,
    http: Option<tokio::net::TcpListener>,
}

impl Service {
    pub async fn open(cfg: Config) -> Result<Service, ServiceError> {
        let store = Store::open(&cfg.database_url).await?;
        let objects = Objects::open(&cfg).await?;
        let signer = Arc::new(signing::load_or_create(&cfg.signing_key)?);
        let enroller = Arc::new(crate::enroll::Enroller::open(&cfg, store.clone(), &signer)?);
        tracing::info!(database = %redact_url(&cfg.database_url), blobs = objects.describe(), key_id = signer.key_id(), "jachai-cloud opened its stores");
        let http =
            match &cfg.http {
                Some(h) => Some(tokio::net::TcpListener::bind(h.listen).await.map_err(
                    |source| ServiceError::Listen {
                        addr: h.listen,
                        source,
                    },
                )?),
                None => None,
            };
        Ok(Service {
            ingest: Ingest::new(store, objects, signer),
            enroller,
            cfg,
            http,
        })
    }

    /// The address the HTTP listener is bound to (port 0 in the config gives a free one).
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn ingest(&self) -> &Ingest {
        &self.ingest
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()>,
        mut commands: mpsc::Receiver<Command>,
    ) -> Result<(), ServiceError> {
        let Service {
            cfg,
            ingest,
            enroller,
            http,
        } = self;
        // The HTTP side hands decisions to this loop like any other in-process command.
        let (http_tx, mut http_rx) = mpsc::channel::<Command>(64);
        let (http_stop_tx, mut http_stop_rx) = watch::channel(false);
        let http_task = match (http, &cfg.http) {
            (Some(listener), Some(hcfg)) => {
                let addr = listener.local_addr().ok();
                let state = crate::http::AppState::new(
                    ingest.clone(),
                    hcfg.clone(),
                    cfg.notify.clone(),
                    http_tx,
                    enroller,
                );
                tracing::info!(addr = ?addr, "HTTP listening");
                Some(tokio::spawn(async move {
                    let stop = async move {
                        let _ = http_stop_rx.wait_for(|s| *s).await;
                    };
                    if let Err(e) = crate::http::serve(state, listener, stop).await {
                        tracing::error!(error = %e, "the HTTP server stopped");
                    }
                }))
            }
            _ => {
                drop(http_tx);
                None
            }
        };
        let opts = crate::mqtt::options(&cfg)?;
        let (client, mut eventloop) = AsyncClient::new(opts, 4096);
        let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Publish)>();
        let (conn_tx, mut conn_rx) = watch::channel(0u64);
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let share = format!("$share/{}/{}", cfg.mqtt.share_group, ALL_UPLINK);
        let sub_client = client.clone();
        // The poll task never waits on the main loop (unbounded channel; the broker's in-flight window
        // bounds it because nothing is PUBACKed before its commit), so publishing from the main loop
        // cannot deadlock against it.
        let poll = tokio::spawn(async move {
            let mut generation = 0u64;
            let mut backoff = Duration::from_millis(200);
            loop {
                let ev = tokio::select! {
                    ev = eventloop.poll() => ev,
                    _ = stop_rx.changed() => break,
                };
                match ev {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send((generation, p)).is_err() {
                            break;
                        }
                    }
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        // A resumed session keeps the packet ids of what is not yet PUBACKed; a new one
                        // knows none of them.
                        if !ack.session_present {
                            generation += 1;
                        }
                        backoff = Duration::from_millis(200);
                        tracing::info!(code = ?ack.code, session_present = ack.session_present, "connected to the broker; subscribing");
                        let subs = [
                            (share.as_str(), QoS::AtLeastOnce),
                            (ALL_STATUS, QoS::AtLeastOnce),
                        ];
                        for (filter, qos) in subs {
                            if let Err(e) = sub_client.try_subscribe(filter, qos) {
                                tracing::error!(filter, error = %e, "could not queue a subscription");
                            }
                        }
                        conn_tx.send_modify(|g| *g = generation);
                    }
                    Ok(Event::Incoming(Packet::SubAck(s))) => {
                        tracing::debug!(codes = ?s.return_codes, "subscribed");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if *stop_rx.borrow() {
                            break;
                        }
                        tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "broker connection lost");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = stop_rx.changed() => break,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });

        let mut usec = 0u64;
        let watchdog = if sd_notify::watchdog_enabled(false, &mut usec) {
            Duration::from_micros(usec / 2).max(Duration::from_millis(100))
        } else {
            Duration::from_secs(10)
        };
        let mut watchdog_tick = tokio::time::interval(watchdog);
        let mut head_tick = tokio::time::interval(Duration::from_secs(cfg.head_refresh_s.max(1)));
        head_tick.tick().await;
        let mut report_tick = tokio::time::interval(Duration::from_secs(10));
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
        tracing::info!(client_id = %cfg.client_id(), host = %cfg.mqtt.host, port = cfg.mqtt.port, "jachai-cloud ready");

        let mut totals = BatchStats::default();
        let mut reported = BatchStats::default();
        tokio::pin!(shutdown);
        let mut stopping = false;
        let mut conn_alive = true;
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown, if !stopping => {
                    stopping = true;
                    // Take what is already here, then stop.
                    if rx.is_empty() { break; }
                }
                _ = watchdog_tick.tick() => {
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                }
                changed = conn_rx.changed(), if conn_alive => {
                    if changed.is_ok() {
                        publish_all(&client, head_or_log(&ingest).await).await;
                    } else {
                        conn_alive = false;
                    }
                }
                _ = head_tick.tick() => {
                    publish_all(&client, head_or_log(&ingest).await).await;
                }
                _ = report_tick.tick() => {
                    if totals != reported {
                        tracing::info!(cases_new = totals.cases_new, cases_duplicate = totals.cases_duplicate, chunks = totals.chunks, blobs = totals.blobs_stored, rejected = totals.rejected, "ingest totals");
                        reported = totals.clone();
                    }
                }
                Some(cmd) = commands.recv() => {
                    run_command(&ingest, &client, cmd).await;
                }
                Some(cmd) = http_rx.recv() => {
                    run_command(&ingest, &client, cmd).await;
                }
                first = rx.recv() => {
                    let Some(first) = first else { break };
                    let mut batch = vec![first];
                    while batch.len() < cfg.batch_max {
                        match rx.try_recv() {
                            Ok(p) => batch.push(p),
                            Err(_) => break,
                        }
                    }
                    let incoming: Vec<Incoming> = batch
                        .iter()
                        .map(|(_, p)| Incoming { topic: p.topic.clone(), payload: p.payload.clone() })
                        .collect();
                    let mut delay = Duration::from_millis(250);
                    let stats = loop {
                        let started = Instant::now();
                        match ingest.handle_batch(&incoming).await {
                            Ok((out, stats)) => {
                                tracing::debug!(messages = incoming.len(), ms = started.elapsed().as_millis() as u64, "batch stored");
                                publish_all(&client, out).await;
                                break Some(stats);
                            }
                            Err(e) => {
                                // Nothing was acked: the kiosks keep their rows and send them again.
                                tracing::error!(error = %e, messages = incoming.len(), retry_in_ms = delay.as_millis() as u64, "could not store a batch");
                                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                                if stopping { break None; }
                                tokio::time::sleep(delay).await;
                                delay = (delay * 2).min(Duration::from_secs(5));
                            }
                        }
                    };
                    let Some(stats) = stats else { break };
                    add(&mut totals, &stats);
                    // PUBACK only messages of the current connection (a new clean session knows no
                    // older packet ids).
                    let generation = *conn_rx.borrow();
                    for (g, p) in &batch {
                        if *g == generation {
                            if let Err(e) = client.ack(p).await {
                                tracing::warn!(error = %e, "could not queue a PUBACK");
                            }
                        }
                    }
                    if stopping && rx.is_empty() { break; }
                }
            }
        }
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
        tracing::info!(
            cases_new = totals.cases_new,
            cases_duplicate = totals.cases_duplicate,
            blobs = totals.blobs_stored,
            "jachai-cloud stopping"
        );
        let _ = http_stop_tx.send(true);
        if let Some(mut t) = http_task {
            // Requests in flight get a moment; open progress streams are cut.
            if tokio::time::timeout(Duration::from_secs(5), &mut t)
                .await
                .is_err()
            {
                tracing::warn!("HTTP requests still open at shutdown were cut");
                t.abort();
            }
        }
        let _ = client.disconnect().await;
        // Give the event loop a moment to send the DISCONNECT and pending acks.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(2), poll).await;
        ingest.store().close().await;
        Ok(())
    }
}

fn add(t: &mut BatchStats, s: &BatchStats) {
    t.cases_new += s.cases_new;
    t.cases_duplicate += s.cases_duplicate;
    t.cases_conflicting += s.cases_conflicting;
    t.chunks += s.chunks;
    t.blobs_stored += s.blobs_stored;
    t.rejected += s.rejected;
}

async fn head_or_log(ingest: &Ingest) -> Vec<Outgoing> {
    match ingest.stolen().head().await {
        Ok(h) => vec![h],
        Err(e) => {
            tracing::error!(error = %e, "could not sign the stolen-index head");
            Vec::new()
        }
    }
}

async fn publish_all(client: &AsyncClient, out: Vec<Outgoing>) {
    for o in out {
        if let Err(e) = client
            .publish(o.topic.clone(), QoS::AtLeastOnce, o.retain, o.payload)
            .await
        {
            tracing::warn!(topic = %o.topic, error = %e, "could not queue a publish");
        }
    }
}

async fn run_command(ingest: &Ingest, client: &AsyncClient, cmd: Command) {
    match cmd {
        Command::Decide {
            kiosk,
            case_seq,
            outcome,
            note,
            done,
        } => {
            let r = ingest.decide(&kiosk, case_seq, outcome, note).await;
            let reply = match r {
                Ok(out) => {
                    publish_all(client, out).await;
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            };
            let _ = done.send(reply);
        }
        Command::Stolen {
            added,
            removed,
            done,
        } => {
            let r: Result<(u64, Vec<Outgoing>), IngestError> =
                ingest.stolen().apply(&added, &removed).await;
            let reply = match r {
                Ok((version, out)) => {
                    publish_all(client, out).await;
                    Ok(version)
                }
                Err(e) => Err(e.to_string()),
            };
            let _ = done.send(reply);
        }
    }
}
