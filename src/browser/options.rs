//! `connect(options)`: the JS options object, read by serde-wasm-bindgen into one derived
//! struct. Unknown keys are refused with the nearest known name ("did you mean"), since a
//! misspelled option (respoke.js's `baseURL`) would otherwise be ignored silently.

use std::collections::BTreeMap;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::input::Hooks;
use super::js::as_function;
use crate::core::{BackoffConfig, Config, Credentials, TokenSource};

/// Why the options cannot work (code `INVALID_OPTIONS`).
pub struct OptionsError(pub String);

/// The options object, field for field as `ConnectOptions` in `api.d.ts`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    base_url: Option<String>,
    token_url: Option<String>,
    endpoint_id: Option<String>,
    #[serde(default = "undefined", with = "serde_wasm_bindgen::preserve")]
    get_token: JsValue,
    credentials: Option<CredentialsOption>,
    token_headers: Option<BTreeMap<String, String>>,
    backoff: Option<BackoffOptions>,
    stable_after_ms: Option<Millis>,
    token_timeout_ms: Option<Millis>,
    attempt_timeout_ms: Option<Millis>,
    max_retry_after_ms: Option<Millis>,
    sdk: Option<String>,
    #[serde(default = "undefined", with = "serde_wasm_bindgen::preserve")]
    signal: JsValue,
    pause_when_hidden: Option<bool>,
    verify_timeout_ms: Option<Millis>,
    request_timeout_ms: Option<Millis>,
    queue_size: Option<Millis>,
    queue_max_age_ms: Option<Millis>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackoffOptions {
    initial_delay_ms: Option<Millis>,
    max_delay_ms: Option<Millis>,
    multiplier: Option<f64>,
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
    let deserializer = serde_wasm_bindgen::Deserializer::from(options);
    let options: Options = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        OptionsError(format!("option \"{path}\": {message}"))
    })?;
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
                headers: self.token_headers.unwrap_or_default().into_iter().collect(),
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
