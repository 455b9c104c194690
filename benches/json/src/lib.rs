//! Issue 11's JSON question, measured: the client decodes a socket frame's JSON either with
//! serde_json straight from the text (what the core does, natively testable) or with the
//! browser's `JSON.parse` and serde-wasm-bindgen over the parsed object. Both decode into the
//! same `respoke-protocol` types with the same derives; only the deserializer differs.
//!
//! `scripts/bench/json-decode.mjs` builds this crate three times (each decoder alone, for the
//! size of what it adds, and both, for the timing) and times both on real frames in headless
//! Chromium. The frames reach each decoder as the WebSocket hands them over: a JS string.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use respoke_protocol::push::PushEvent;
use respoke_protocol::sails::Response;

/// What one decoded frame yields, reduced to a number so that nothing is optimized away.
fn weigh_push(event: Option<PushEvent>) -> u32 {
    match event {
        Some(PushEvent::Message(m)) => (m.body.len() + m.header.from.len()) as u32,
        Some(PushEvent::Presence(p)) => {
            p.header.from.len() as u32 + u32::from(p.presence.is_string())
        }
        Some(PushEvent::Join(j) | PushEvent::Leave(j)) => j.endpoint_id.len() as u32,
        Some(PushEvent::PubSub(p)) => p.message.len() as u32,
        Some(PushEvent::Signal(s)) => s.body.len() as u32,
        None => 0,
    }
}

fn weigh_response(response: Response) -> u32 {
    u32::from(response.status_code) + response.body.as_object().map_or(0, |o| o.len() as u32)
}

/// serde_json, from the frame's text: the client's own path (`respoke-protocol`'s decoders).
#[cfg(feature = "serde-json")]
pub mod text {
    use respoke_protocol::packet::Packet;
    use respoke_protocol::push::PushEvent;
    use respoke_protocol::sails::Response;

    /// Decodes one frame; 0 for a frame that does not decode.
    pub fn decode(frame: &str) -> u32 {
        match Packet::decode(frame) {
            Ok(Packet::Ack { args, .. }) => {
                Response::parse_ack_args(&args).map_or(0, super::weigh_response)
            }
            Ok(packet @ Packet::Event { .. }) => {
                PushEvent::from_packet(&packet).map_or(0, super::weigh_push)
            }
            _ => 0,
        }
    }
}

/// `JSON.parse` on the frame's JSON part (still a JS string), then serde-wasm-bindgen into the
/// same types.
#[cfg(all(feature = "js-parse", target_arch = "wasm32"))]
pub mod parsed {
    use js_sys::{Array, JsString, Reflect, JSON};
    use respoke_protocol::push::{
        MembershipEvent, MessageEvent, PresenceEvent, PubSubEvent, PushEvent, SignalEvent,
        EVENT_JOIN, EVENT_LEAVE, EVENT_MESSAGE, EVENT_PRESENCE, EVENT_PUBSUB, EVENT_SIGNAL,
    };
    use respoke_protocol::sails::Response;
    use serde::de::DeserializeOwned;
    use wasm_bindgen::JsValue;

    fn first_arg(args: &JsValue) -> JsValue {
        args.dyn_ref_array().map_or(JsValue::NULL, |a| a.get(0))
    }

    trait DynArray {
        fn dyn_ref_array(&self) -> Option<&Array>;
    }
    impl DynArray for JsValue {
        fn dyn_ref_array(&self) -> Option<&Array> {
            wasm_bindgen::JsCast::dyn_ref::<Array>(self)
        }
    }

    fn typed<T: DeserializeOwned>(value: JsValue) -> Option<T> {
        serde_wasm_bindgen::from_value(value).ok()
    }

    /// Decodes one frame (a JS string); 0 for a frame that does not decode. The socket.io
    /// header (`5:::`, `6:::1+`) is skipped on the JS string, as a shell using `JSON.parse`
    /// would, so the JSON text is never copied into wasm memory.
    pub fn decode(frame: &JsString) -> u32 {
        let Some(kind) = frame
            .char_code_at(0)
            .is_finite()
            .then(|| frame.char_code_at(0) as u8)
        else {
            return 0;
        };
        match kind {
            b'5' => {
                let Ok(event) = JSON::parse(&String::from(frame.slice(4, frame.length()))) else {
                    return 0;
                };
                decode_event(&event)
            }
            b'6' => {
                // `6:::<id>+[...]`: the args start after the `+`.
                let Some(plus) =
                    (4..frame.length()).find(|&i| frame.char_code_at(i) == f64::from(b'+'))
                else {
                    return 0;
                };
                let Ok(args) = JSON::parse(&String::from(frame.slice(plus + 1, frame.length())))
                else {
                    return 0;
                };
                let Some(first) = typed::<serde_json::Value>(first_arg(&args)) else {
                    return 0;
                };
                Response::from_ack_values(std::slice::from_ref(&first))
                    .map_or(0, super::weigh_response)
            }
            _ => 0,
        }
    }

    fn decode_event(event: &JsValue) -> u32 {
        let name = Reflect::get(event, &"name".into())
            .ok()
            .and_then(|n| n.as_string());
        let payload = first_arg(&Reflect::get(event, &"args".into()).unwrap_or(JsValue::NULL));
        let event = match name.as_deref() {
            Some(EVENT_MESSAGE) => typed::<MessageEvent>(payload).map(PushEvent::Message),
            Some(EVENT_PRESENCE) => typed::<PresenceEvent>(payload).map(PushEvent::Presence),
            Some(EVENT_JOIN) => typed::<MembershipEvent>(payload).map(PushEvent::Join),
            Some(EVENT_LEAVE) => typed::<MembershipEvent>(payload).map(PushEvent::Leave),
            Some(EVENT_PUBSUB) => typed::<PubSubEvent>(payload).map(PushEvent::PubSub),
            Some(EVENT_SIGNAL) => typed::<SignalEvent>(payload).map(PushEvent::Signal),
            _ => None,
        };
        super::weigh_push(event)
    }
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::*;

    /// One frame through serde_json (the string is copied into wasm memory by the call, as the
    /// client's socket handler copies it).
    #[cfg(feature = "serde-json")]
    #[wasm_bindgen(js_name = decodeOneText)]
    pub fn decode_one_text(frame: &str) -> u32 {
        super::text::decode(frame)
    }

    /// One frame through `JSON.parse` and serde-wasm-bindgen.
    #[cfg(feature = "js-parse")]
    #[wasm_bindgen(js_name = decodeOneParsed)]
    pub fn decode_one_parsed(frame: &js_sys::JsString) -> u32 {
        super::parsed::decode(frame)
    }
}
