//! `connect(options)`: the JS options object, read by serde-wasm-bindgen into one derived
//! struct. Unknown keys are refused with the nearest known name ("did you mean"), since a
//! misspelled option (respoke.js's `baseURL`) would otherwise be ignored silently.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::input::Hooks;
use super::js::as_function;
use crate::connection::{BackoffConfig, Config, Credentials, TokenSource};
use respoke_protocol::Headers;

/// Why the options cannot work (code `INVALID_OPTIONS`).
pub struct OptionsError(pub String);

/// The options object, field for field as `ConnectOptions` in `api.d.ts`. Each field is read
/// through a function named after it that puts the option's name into a type error
/// (`option "tokenTimeoutMs": must be a non-negative number`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    #[serde(default, deserialize_with = "base_url")]
    base_url: Option<String>,
    #[serde(default, deserialize_with = "token_url")]
    token_url: Option<String>,
    #[serde(default, deserialize_with = "endpoint_id")]
    endpoint_id: Option<String>,
    #[serde(default = "undefined", with = "serde_wasm_bindgen::preserve")]
    get_token: JsValue,
    #[serde(default, deserialize_with = "credentials")]
    credentials: Option<CredentialsOption>,
    #[serde(default, deserialize_with = "token_headers")]
    token_headers: Option<Headers>,
    #[serde(default, deserialize_with = "backoff")]
    backoff: Option<BackoffOptions>,
    #[serde(default, deserialize_with = "stable_after_ms")]
    stable_after_ms: Option<Millis>,
    #[serde(default, deserialize_with = "token_timeout_ms")]
    token_timeout_ms: Option<Millis>,
    #[serde(default, deserialize_with = "attempt_timeout_ms")]
    attempt_timeout_ms: Option<Millis>,
    #[serde(default, deserialize_with = "max_retry_after_ms")]
    max_retry_after_ms: Option<Millis>,
    #[serde(default, deserialize_with = "sdk")]
    sdk: Option<String>,
    #[serde(default = "undefined", with = "serde_wasm_bindgen::preserve")]
    signal: JsValue,
    #[serde(default, deserialize_with = "pause_when_hidden")]
    pause_when_hidden: Option<bool>,
    #[serde(default, deserialize_with = "verify_timeout_ms")]
    verify_timeout_ms: Option<Millis>,
    #[serde(default, deserialize_with = "request_timeout_ms")]
    request_timeout_ms: Option<Millis>,
    #[serde(default, deserialize_with = "queue_size")]
    queue_size: Option<Millis>,
    #[serde(default, deserialize_with = "queue_max_age_ms")]
    queue_max_age_ms: Option<Millis>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackoffOptions {
    #[serde(default, deserialize_with = "initial_delay_ms")]
    initial_delay_ms: Option<Millis>,
    #[serde(default, deserialize_with = "max_delay_ms")]
    max_delay_ms: Option<Millis>,
    #[serde(default, deserialize_with = "multiplier")]
    multiplier: Option<f64>,
}

/// One `deserialize_with` function per option: `T::deserialize`, with the option's JS name put
/// in front of a type error. (serde_path_to_error did this for the whole struct, at the cost of
/// a second, path-tracking instantiation of every visitor.)
macro_rules! named_options {
    ($($function:ident => $name:literal,)*) => {$(
        fn $function<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
            T::deserialize(d).map_err(|error| named($name, error))
        }
    )*};
}

named_options! {
    base_url => "baseUrl",
    token_url => "tokenUrl",
    endpoint_id => "endpointId",
    credentials => "credentials",
    token_headers => "tokenHeaders",
    backoff => "backoff",
    stable_after_ms => "stableAfterMs",
    token_timeout_ms => "tokenTimeoutMs",
    attempt_timeout_ms => "attemptTimeoutMs",
    max_retry_after_ms => "maxRetryAfterMs",
    sdk => "sdk",
    pause_when_hidden => "pauseWhenHidden",
    verify_timeout_ms => "verifyTimeoutMs",
    request_timeout_ms => "requestTimeoutMs",
    queue_size => "queueSize",
    queue_max_age_ms => "queueMaxAgeMs",
    initial_delay_ms => "backoff.initialDelayMs",
    max_delay_ms => "backoff.maxDelayMs",
    multiplier => "backoff.multiplier",
}

/// `option "<name>": <error>`; an error already named by a nested option (`backoff.*`) is kept.
fn named<E: de::Error>(name: &str, error: E) -> E {
    let message = error_message(&error);
    if message.starts_with(OPTION_PREFIX) {
        return error;
    }
    E::custom(format_args!("{OPTION_PREFIX}{name}\": {message}"))
}

const OPTION_PREFIX: &str = "option \"";

/// The text of a serde-wasm-bindgen error: its `Display` is `String(error)`, which puts the JS
/// `Error: ` in front of the message.
fn error_message(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    match text.strip_prefix("Error: ") {
        Some(message) => message.to_owned(),
        None => text,
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CredentialsOption {
    Include,
    SameOrigin,
    Omit,
}

fn undefined() -> JsValue {
    JsValue::UNDEFINED
}

/// A non-negative whole number of milliseconds (or a count), from a JS number.
struct Millis(u64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ms = f64::deserialize(deserializer)
            .map_err(|_| de::Error::custom("must be a non-negative number"))?;
        if ms.is_finite() && ms >= 0.0 {
            // Fractions are cut: a timer cannot be armed for less than a millisecond anyway.
            Ok(Millis(ms.min(9_007_199_254_740_991.0) as u64))
        } else {
            Err(de::Error::custom("must be a non-negative number"))
        }
    }
}

/// Reads `connect()`'s options into the core's config and the shell's hooks.
pub fn parse(options: JsValue) -> Result<(Config, Hooks), OptionsError> {
    if !options.is_object() {
        return Err(OptionsError("connect() needs an options object".into()));
    }
    check_keys::<Options>(&options, "")?;
    let backoff = js_sys::Reflect::get(&options, &"backoff".into()).unwrap_or(JsValue::UNDEFINED);
    if backoff.is_object() {
        check_keys::<BackoffOptions>(&backoff, "backoff.")?;
    }
    let options: Options = serde_wasm_bindgen::from_value(options)
        .map_err(|error| OptionsError(error_message(&error)))?;
    options.into_config()
}

impl Options {
    fn into_config(self) -> Result<(Config, Hooks), OptionsError> {
        let invalid = |message: &str| OptionsError(message.to_owned());
        let get_token = if self.get_token.is_undefined() || self.get_token.is_null() {
            None
        } else {
            Some(
                as_function(&self.get_token)
                    .ok_or_else(|| invalid("getToken must be a function"))?,
            )
        };
        let token_source = match (&get_token, self.token_url) {
            (Some(_), _) => TokenSource::Callback,
            (None, Some(url)) => TokenSource::Url {
                url,
                headers: self.token_headers.unwrap_or_default().into_vec(),
                credentials: match self.credentials {
                    None | Some(CredentialsOption::Include) => Credentials::Include,
                    Some(CredentialsOption::SameOrigin) => Credentials::SameOrigin,
                    Some(CredentialsOption::Omit) => Credentials::Omit,
                },
            },
            (None, None) => return Err(invalid("either tokenUrl or getToken is required")),
        };
        let mut config = Config::new(token_source);
        // The hosted Respoke (the core's default) is gone: a page must say where its server is.
        config.base_url = self.base_url.ok_or_else(|| {
            invalid("baseUrl is required: the Respoke server, e.g. \"http://127.0.0.1:3001\"")
        })?;
        config.endpoint_id = self.endpoint_id;
        if let Some(sdk) = self.sdk {
            config.sdk = sdk;
        }
        if let Some(backoff) = self.backoff {
            let defaults = BackoffConfig::default();
            config.backoff = BackoffConfig {
                initial_delay_ms: backoff
                    .initial_delay_ms
                    .map_or(defaults.initial_delay_ms, |ms| ms.0),
                max_delay_ms: backoff
                    .max_delay_ms
                    .map_or(defaults.max_delay_ms, |ms| ms.0),
                multiplier: backoff.multiplier.unwrap_or(defaults.multiplier),
            };
        }
        if let Some(pause) = self.pause_when_hidden {
            config.pause_when_hidden = pause;
        }
        if let Some(size) = self.queue_size {
            config.queue_size = usize::try_from(size.0).unwrap_or(usize::MAX);
        }
        for (value, slot) in [
            (self.request_timeout_ms, &mut config.request_timeout_ms),
            (self.queue_max_age_ms, &mut config.queue_max_age_ms),
            (self.verify_timeout_ms, &mut config.verify_timeout_ms),
            (self.stable_after_ms, &mut config.stable_after_ms),
            (self.token_timeout_ms, &mut config.token_timeout_ms),
            (self.attempt_timeout_ms, &mut config.attempt_timeout_ms),
            (self.max_retry_after_ms, &mut config.max_retry_after_ms),
        ] {
            if let Some(ms) = value {
                *slot = ms.0;
            }
        }
        let config = config
            .validate()
            .map_err(|error| OptionsError(error.to_string()))?;
        let signal = if self.signal.is_undefined() || self.signal.is_null() {
            None
        } else {
            Some(
                self.signal
                    .dyn_into::<web_sys::AbortSignal>()
                    .map_err(|_| invalid("signal must be an AbortSignal"))?,
            )
        };
        Ok((config, Hooks { get_token, signal }))
    }
}

/// Refuses a key of `object` that `T` does not declare (serde-wasm-bindgen reads only the
/// declared ones, so `deny_unknown_fields` would never see it), naming the nearest known one.
fn check_keys<'de, T: Deserialize<'de>>(
    object: &JsValue,
    prefix: &str,
) -> Result<(), OptionsError> {
    let known = field_names::<T>();
    let Some(object) = object.dyn_ref::<js_sys::Object>() else {
        return Ok(());
    };
    for key in js_sys::Object::keys(object).iter() {
        let Some(key) = key.as_string() else { continue };
        if known.contains(&key.as_str()) {
            continue;
        }
        let mut message = format!("unknown option \"{prefix}{key}\"");
        if let Some(nearest) = nearest(&key, known) {
            message.push_str("; did you mean \"");
            message.push_str(prefix);
            message.push_str(nearest);
            message.push_str("\"?");
        }
        return Err(OptionsError(message));
    }
    Ok(())
}

/// The field names serde derived for `T` (one source of truth: the struct itself).
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// The known name closest to `key`: the same ignoring case, or within two edits.
fn nearest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|name| (edit_distance(&key, &name.to_ascii_lowercase()), *name))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance (option names are short: O(n·m) is nothing).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
