//! What the machine has to say, in order: commands for the shell and events for the app,
//! drained through [`super::Machine::poll_output`].

use std::collections::VecDeque;

use super::command::{Command, ConnId};
use super::error::Failure;
use super::event::Event;
use super::io::Output;

#[derive(Debug, Default)]
pub(crate) struct Outbox(VecDeque<Output>);

impl Outbox {
    pub fn command(&mut self, command: Command) {
        self.0.push_back(Output::Command(command));
    }

    pub fn event(&mut self, event: Event) {
        self.0.push_back(Output::Event(event));
    }

    /// One text frame on socket `id`.
    pub fn send(&mut self, id: ConnId, text: String) {
        self.command(Command::Send { id, text });
    }

    /// The `error` event of `failure`; `retry` says whether the client goes on.
    pub fn error(&mut self, failure: &Failure, retry: bool) {
        self.event(Event::Error {
            code: failure.code(),
            message: failure.to_string(),
            status: failure.status(),
            retry,
        });
    }

    pub fn pop(&mut self) -> Option<Output> {
        self.0.pop_front()
    }
}
