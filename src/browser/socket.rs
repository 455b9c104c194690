//! A WebSocket that cleans up after itself: its four handlers capture only `(ConnId, sender)`
//! and are removed, and the socket closed, when the wrapper is dropped.

use futures_channel::mpsc::UnboundedSender;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::counters;
use super::input::Mail;
use crate::connection::{ConnId, Input};

type Handler<E> = Closure<dyn FnMut(E)>;

/// The live socket of a client (at most one).
pub struct Socket {
    id: ConnId,
    ws: WebSocket,
    _on_open: Handler<web_sys::Event>,
    _on_message: Handler<MessageEvent>,
    _on_close: Handler<CloseEvent>,
    _on_error: Handler<web_sys::Event>,
}

impl Socket {
    /// Opens `url`; every callback is reported to `inputs` tagged with `id`.
    pub fn open(id: ConnId, url: &str, inputs: &UnboundedSender<Mail>) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);

        let tx = inputs.clone();
        let on_open: Handler<web_sys::Event> = Closure::new(move |_: web_sys::Event| {
            let _ = tx.unbounded_send(Mail::Input(Input::SocketOpen { id }));
        });
        let tx = inputs.clone();
        let on_message: Handler<MessageEvent> = Closure::new(move |event: MessageEvent| {
            // socket.io 0.9 is text only; a binary frame is reported as a malformed packet.
            let text = event
                .data()
                .as_string()
                .unwrap_or_else(|| "\u{0}binary".into());
            let _ = tx.unbounded_send(Mail::Input(Input::SocketMessage { id, text }));
        });
        let tx = inputs.clone();
        let on_close: Handler<CloseEvent> = Closure::new(move |event: CloseEvent| {
            let _ = tx.unbounded_send(Mail::Input(Input::SocketClose {
                id,
                code: event.code(),
            }));
        });
        // Browsers always follow `error` with `close`; the close carries the code.
        let on_error: Handler<web_sys::Event> = Closure::new(move |_: web_sys::Event| {});

        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        counters::SOCKETS.inc();
        Ok(Socket {
            id,
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// Which socket this is.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// Sends one text frame; a socket that is not open drops it (its close follows).
    pub fn send(&self, text: &str) {
        if self.ws.ready_state() == WebSocket::OPEN {
            let _ = self.ws.send_with_str(text);
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        if self.ws.ready_state() < WebSocket::CLOSING {
            let _ = self.ws.close();
        }
        counters::SOCKETS.dec();
    }
}
