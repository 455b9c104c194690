//! One live socket.io 0.9 WebSocket: the IO around its [`Session`] (which holds the rules:
//! `1::` first, heartbeats, timeouts, the dev controls' stall and ack delay, the slow-consumer
//! bound) and the writer task that owns the sink. Its Sails requests are answered by
//! [`crate::respoke::requests`].
//!
//! Order on one socket: the acks of the requests in a frame are written before any event that
//! handling them caused for the same socket (a `join` to the joining connection, the `presence`
//! events after `post /v1/presenceobservers`), because those travel through the socket's
//! command queue. Under `/dev/ack-delay` the acks are held back (in order) and events overtake
//! them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};

use crate::respoke::outbox::{Budget, Outgoing, SocketReceiver};
use crate::respoke::requests::{handle_frame, SocketContext};
use crate::respoke::session::{Action, Controls, Ending, ReadEnd, Session, Timing};
use crate::respoke::state::{PendingSocket, RespokeState};
use crate::untrusted::Untrusted;

/// Answers a WebSocket whose sid is unknown: `7:::1+0` (client not handshaken), then close.
pub async fn refuse_socket(mut socket: WebSocket) {
    let _ = socket.send(Message::Text("7:::1+0".into())).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// How long a closing socket's writer may take to write what is left (`0::`, the close
/// frame, and on a graceful close the packets still queued) before it is abandoned.
const FINISH_GRACE: Duration = Duration::from_secs(1);

/// How the writer ends.
#[derive(Debug)]
struct Finish {
    /// Write the packets still queued first (not for a slow consumer: it does not read).
    drain: bool,
    /// The last packet (`0::`), unless the client closed first.
    last: Option<String>,
}

/// Runs one socket until it closes, for whatever reason.
///
/// Two tasks: this loop reads frames, feeds them, the timer and the server's packets and close
/// requests to the [`Session`], and hands what it asks to write to a writer task that owns the
/// sink; it never waits on a write. Everything to write is bounded by the socket's [`Budget`]
/// (packets and bytes, shared with the inbox the hub fills): a client that does not read fills
/// it and is disconnected as a slow consumer, and its heartbeat timeout, `/dev/drop` and
/// session end act on time however stuck its writes are.
pub async fn run_socket(state: Arc<RespokeState>, socket: WebSocket, pending: PendingSocket) {
    let endpoint_id = pending.session.endpoint_id.clone();
    let registered = state.register_socket(&pending.session, &pending.app_token);
    let socket_id = registered.id;
    let SocketReceiver {
        queue: mut inbox,
        close: mut close_requests,
        budget,
    } = registered.inbox;
    tracing::info!(endpoint = %Untrusted(&endpoint_id), socket_id, "socket opened");
    let mut context = SocketContext {
        state: state.clone(),
        socket_id,
        endpoint_id: endpoint_id.clone(),
        connection_id: registered.connection_id,
        role_id: pending.session.role_id.clone(),
        legacy: pending.legacy,
    };
    let (sink, mut stream) = socket.split();
    let (writer_tx, writer_rx) = mpsc::unbounded_channel();
    let (finish_tx, finish_rx) = oneshot::channel();
    let mut writer = tokio::spawn(write_loop(
        sink,
        writer_rx,
        finish_rx,
        budget.clone(),
        state.clone(),
        endpoint_id.clone(),
    ));
    let controls = || Controls {
        stalled: state.is_stalled(&endpoint_id),
        ack_delay: state.ack_delay(&endpoint_id),
    };
    let timing = Timing {
        heartbeat_interval: state.settings.heartbeat_interval,
        heartbeat_timeout: Duration::from_secs(u64::from(state.settings.heartbeat_timeout_secs)),
        expires_at: pending.session.expires_at,
    };
    let mut session = Session::open(now(), timing, budget.clone(), controls());

    let ending = loop {
        // The writer's queue is bounded by the budget the session reserved against.
        if let Some(ending) = drain(&mut session, &writer_tx, &budget) {
            break ending;
        }
        let deadline = session
            .poll_timeout()
            .map_or_else(Instant::now, Instant::from_std);
        let paused = session.reading_paused();
        tokio::select! {
            _ = budget.released(), if paused => {}
            incoming = stream.next(), if !paused => match incoming {
                Some(Ok(Message::Text(text))) => {
                    session.handle_frame(now(), controls(), text.as_str(), |frame| {
                        handle_frame(&mut context, frame)
                    });
                }
                Some(Ok(Message::Close(_))) | None => session.handle_read_end(ReadEnd::Closed),
                Some(Ok(_)) => {}
                Some(Err(error)) if is_too_big(&error) => {
                    session.handle_read_end(ReadEnd::TooBig);
                }
                Some(Err(_)) => session.handle_read_end(ReadEnd::Failed),
            },
            packet = inbox.recv() => match packet {
                Some(packet) => session.handle_pushed(controls(), packet),
                None => session.handle_close_request(None),
            },
            changed = close_requests.changed() => match changed {
                Ok(()) => {
                    if let Some(reason) = *close_requests.borrow() {
                        session.handle_close_request(Some(reason));
                    }
                }
                Err(_) => session.handle_close_request(None),
            },
            _ = sleep_until(deadline) => session.handle_timeout(now(), controls()),
        }
    };
    // Gone from routing, counters and `/dev/drop` at once, however long the writer takes.
    state.unregister_socket(socket_id);
    let reason = ending.as_str();
    match ending {
        Ending::SlowConsumer => state.stats.count(|s| &mut s.slow_consumers_dropped),
        Ending::MessageTooBig => state.stats.count(|s| &mut s.oversized_messages),
        _ => {}
    }
    // Logged now: the writer may take up to its grace period to give up.
    if matches!(ending, Ending::SlowConsumer | Ending::MessageTooBig) {
        tracing::warn!(
            endpoint = %Untrusted(&endpoint_id),
            socket_id,
            reason,
            queued_bytes = budget.bytes(),
            "socket disconnected"
        );
    } else {
        tracing::info!(
            endpoint = %Untrusted(&endpoint_id),
            socket_id,
            reason,
            acks_dropped = session.held_acks(),
            "socket closed"
        );
    }
    let _ = finish_tx.send(Finish {
        drain: ending.drains(),
        last: ending.farewell(),
    });
    if tokio::time::timeout(FINISH_GRACE * 3, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// The session's clock: tokio's, so that a test that pauses tokio's time pauses it too.
fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// Hands what the session asks to write to the writer (room already reserved: given back if
/// the writer is gone); its ending, once it asks to close.
fn drain(
    session: &mut Session,
    writer: &mpsc::UnboundedSender<Outgoing>,
    budget: &Budget,
) -> Option<Ending> {
    while let Some(action) = session.poll_action() {
        match action {
            Action::Write(packet) => {
                let size = packet.text().len();
                if writer.send(packet).is_err() {
                    budget.release(size);
                }
            }
            Action::Close(ending) => return Some(ending),
        }
    }
    None
}

/// Whether a receive error is tungstenite's `Capacity` error (a frame or message over the
/// configured size), found by its message: tungstenite is not a direct dependency.
fn is_too_big(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.to_string().contains("Space limit exceeded") {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The writer: owns the sink, writes what the loop queues, releases each packet's room once
/// written, counts delivered messages, and ends as [`Finish`] says, within [`FINISH_GRACE`].
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    mut finish: oneshot::Receiver<Finish>,
    budget: Arc<Budget>,
    state: Arc<RespokeState>,
    endpoint_id: String,
) {
    let mut finishing: Option<Finish> = None;
    while finishing.is_none() {
        tokio::select! {
            biased;
            done = &mut finish => finishing = Some(done.unwrap_or(Finish { drain: false, last: None })),
            packet = queue.recv() => {
                let Some(packet) = packet else { return };
                let size = packet.text().len();
                let delivered = matches!(packet, Outgoing::Deliver(_));
                let write = sink.send(Message::Text(packet.text().to_owned().into()));
                tokio::pin!(write);
                let written = tokio::select! {
                    biased;
                    result = &mut write => result.is_ok(),
                    done = &mut finish => {
                        // Closing while a write is stuck: give it the grace period, no more.
                        finishing = Some(done.unwrap_or(Finish { drain: false, last: None }));
                        matches!(tokio::time::timeout(FINISH_GRACE, &mut write).await, Ok(Ok(())))
                    }
                };
                budget.release(size);
                if !written {
                    // The peer is gone (or never read): the reading side notices; nothing
                    // more can be written.
                    return;
                }
                if delivered {
                    state.stats.message_delivered(&endpoint_id);
                }
            }
        }
    }
    let Some(Finish { drain, last }) = finishing else {
        return;
    };
    let _ = tokio::time::timeout(FINISH_GRACE, async {
        if drain {
            while let Ok(packet) = queue.try_recv() {
                budget.release(packet.text().len());
                if sink
                    .send(Message::Text(packet.text().to_owned().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if let Some(last) = last {
            let _ = sink.send(Message::Text(last.into())).await;
        }
        let _ = sink.send(Message::Close(None)).await;
    })
    .await;
}
