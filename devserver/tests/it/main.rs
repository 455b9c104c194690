//! Native integration tests: a real server on loopback, real HTTP and WebSocket clients.

mod admin;
mod admission;
mod app_server;
mod big_frame;
mod brokered;
mod common;
mod cors;
mod dev_controls;
mod errors;
mod multi_user;
mod session;
mod socket;
mod tokens;
