//! Page lifecycle and network listeners, registered once per client and removed when it ends:
//! `online`/`offline` on the global scope (a Window or a Worker's); in a page only,
//! `pagehide`/`pageshow` on `window` and `visibilitychange`, `freeze`, `resume` on `document`. Each only pushes a [`Environment`] into the driver's channel.

use futures_channel::mpsc::UnboundedSender;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, EventTarget, PageTransitionEvent};

use super::counters;
use super::input::Mail;
use super::scope;
use crate::connection::{Environment, Input};

type Listener = (
    EventTarget,
    &'static str,
    Closure<dyn FnMut(web_sys::Event)>,
);

/// The registered listeners; dropping this removes them all.
pub struct Lifecycle {
    listeners: Vec<Listener>,
}

impl Lifecycle {
    /// The wakes that describe the page right now (offline, hidden), for the core to know
    /// before it starts.
    pub fn initial() -> Vec<Environment> {
        let mut initial = Vec::new();
        if !scope::on_line() {
            initial.push(Environment::Offline);
        }
        if scope::window()
            .and_then(|window| window.document())
            .is_some_and(|document| document.hidden())
        {
            initial.push(Environment::Hidden);
        }
        initial
    }

    /// Registers the listeners. No change can be missed between [`Lifecycle::initial`] and
    /// this as long as both run in the same task (events are dispatched in tasks of their own).
    pub fn register(inputs: &UnboundedSender<Mail>) -> Lifecycle {
        let mut lifecycle = Lifecycle {
            listeners: Vec::new(),
        };
        // A Worker has `online`/`offline` on its global scope, and no page lifecycle.
        if let Some(global) = scope::event_target() {
            lifecycle.add(&global, "online", inputs, |_| Some(Environment::Online));
            lifecycle.add(&global, "offline", inputs, |_| Some(Environment::Offline));
        }
        let Some(window) = scope::window() else {
            return lifecycle;
        };
        let window_target: EventTarget = window.clone().into();
        lifecycle.add(&window_target, "pagehide", inputs, |event| {
            Some(Environment::PageHide {
                persisted: persisted(&event),
            })
        });
        lifecycle.add(&window_target, "pageshow", inputs, |event| {
            Some(Environment::PageShow {
                persisted: persisted(&event),
            })
        });
        if let Some(document) = window.document() {
            let document_target: EventTarget = document.clone().into();
            lifecycle.add(&document_target, "visibilitychange", inputs, move |_| {
                Some(if document_hidden(&document) {
                    Environment::Hidden
                } else {
                    Environment::Visible
                })
            });
            lifecycle.add(&document_target, "freeze", inputs, |_| {
                Some(Environment::Freeze)
            });
            lifecycle.add(&document_target, "resume", inputs, |_| {
                Some(Environment::Resume)
            });
        }
        lifecycle
    }

    fn add(
        &mut self,
        target: &EventTarget,
        name: &'static str,
        inputs: &UnboundedSender<Mail>,
        to_wake: impl Fn(web_sys::Event) -> Option<Environment> + 'static,
    ) {
        let tx = inputs.clone();
        let closure: Closure<dyn FnMut(web_sys::Event)> = Closure::new(move |event| {
            if let Some(wake) = to_wake(event) {
                let _ = tx.unbounded_send(Mail::Input(Input::Environment(wake)));
            }
        });
        if target
            .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
            .is_ok()
        {
            counters::DOM_LISTENERS.inc();
            self.listeners.push((target.clone(), name, closure));
        }
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        for (target, name, closure) in self.listeners.drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
            counters::DOM_LISTENERS.dec();
        }
    }
}

fn persisted(event: &web_sys::Event) -> bool {
    event
        .dyn_ref::<PageTransitionEvent>()
        .is_some_and(PageTransitionEvent::persisted)
}

fn document_hidden(document: &Document) -> bool {
    document.hidden()
}
