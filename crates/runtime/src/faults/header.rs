//! The `x-sandbox06-fault` request header: faults a call asks for itself, per component.

use std::time::Duration;

use http::HeaderValue;
use tonic::Code;

use super::FaultRegistry;
use super::action::{Delay, Ending, ReasonError, code_named, default_message};
use super::registry::MAX_DELAY;
use crate::error::{ApiError, Reason, quote};

/// What the header asks of one component.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct HeaderPlan {
    pub(crate) delay: Option<Delay>,
    pub(crate) ending: Option<Ending>,
}

/// One fault of a target, as written.
#[derive(Debug, PartialEq)]
enum Word {
    Code(Code),
    Reason(String),
    Delay(Delay),
    Drop,
    Down,
}

/// The refusal of a malformed header.
fn malformed(description: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        Reason::InvalidArgument,
        format!(
            "{} is malformed: {description}; e.g. \"population-db: unavailable, citizen: latency=300ms\"",
            super::FAULT_HEADER
        ),
    )
    .with_metadata("header", super::FAULT_HEADER)
}

/// A duration as the header writes it, no longer than a delay may be.
fn duration(text: &str) -> Option<Duration> {
    parse_duration(text).filter(|duration| *duration <= MAX_DELAY)
}

/// A duration written as a number and a unit: `250us`, `300ms`, `1.5s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" | "µs" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

fn word(text: &str) -> Result<Word, ApiError> {
    let lower = text.to_ascii_lowercase();
    if let Some(delay) = lower.strip_prefix("latency=") {
        let bad = || {
            malformed(format!(
                "{} is not a delay: a duration up to 300s (300ms, 1.5s) or min..max",
                quote(delay)
            ))
        };
        return Ok(Word::Delay(match delay.split_once("..") {
            Some((min, max)) => {
                let (min, max) = (
                    duration(min).ok_or_else(bad)?,
                    duration(max).ok_or_else(bad)?,
                );
                if max < min {
                    return Err(bad());
                }
                Delay::Uniform(min, max)
            }
            None => Delay::Fixed(duration(delay).ok_or_else(bad)?),
        }));
    }
    if let Some((key, reason)) = text.split_once('=')
        && key.eq_ignore_ascii_case("reason")
    {
        if reason.is_empty() {
            return Err(malformed("reason= names no reason"));
        }
        return Ok(Word::Reason(reason.to_owned()));
    }
    match lower.as_str() {
        "drop" => Ok(Word::Drop),
        "down" => Ok(Word::Down),
        name => code_named(name).map(Word::Code).ok_or_else(|| {
            malformed(format!(
                "{} is not a fault: an error code (unavailable, not_found...), reason=<REASON>, latency=<duration>, drop or down",
                quote(text)
            ))
        }),
    }
}

/// The header's faults for `registry`'s component (none when no target names it); the whole
/// header must be well formed, and the reasons of this component's targets its own.
pub(crate) fn plan_for(
    value: &HeaderValue,
    registry: &FaultRegistry,
) -> Result<HeaderPlan, ApiError> {
    let text = value.to_str().map_err(|_| malformed("not visible ASCII"))?;
    let component = registry.component();
    let mut plan = HeaderPlan::default();
    let mut code = None;
    let mut reason = None;
    for target in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (name, faults) = target.split_once(':').ok_or_else(|| {
            malformed(format!(
                "{} names no component: <component>: <fault> [<fault>...]",
                quote(target)
            ))
        })?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(malformed(format!(
                "{} is not a component name",
                quote(name)
            )));
        }
        let words = faults
            .split_whitespace()
            .map(word)
            .collect::<Result<Vec<_>, _>>()?;
        if words.is_empty() {
            return Err(malformed(format!("{name}: asks for no fault")));
        }
        let endings = words
            .iter()
            .filter(|w| matches!(w, Word::Code(_) | Word::Drop | Word::Down))
            .count();
        if endings > 1 {
            return Err(malformed(format!(
                "{name}: asks for more than one of an error code, drop and down"
            )));
        }
        if name != component {
            continue;
        }
        for word in words {
            match word {
                Word::Delay(delay) => {
                    let total = delay_sum(plan.delay, delay);
                    plan.delay = Some(total);
                }
                Word::Code(found) => code = Some(found),
                Word::Reason(found) => reason = Some(found),
                Word::Drop => plan.ending = Some(Ending::Drop),
                Word::Down => plan.ending = Some(Ending::Down),
            }
        }
    }
    if code.is_some() || reason.is_some() {
        if plan.ending.is_some() {
            return Err(malformed(format!(
                "{component}: asks for more than one of an error code, drop and down"
            )));
        }
        let reason = registry
            .resolve(code, reason.as_deref())
            .map_err(|error| match error {
                ReasonError::Code(text) | ReasonError::Reason(text) => {
                    malformed(format!("{component}: {text}"))
                }
            })?;
        plan.ending = Some(Ending::Status(ApiError::new(
            reason,
            default_message(reason),
        )));
    }
    Ok(plan)
}

/// Two delays asked of one component, one after the other.
fn delay_sum(before: Option<Delay>, next: Delay) -> Delay {
    match before {
        None => next,
        Some(before) => {
            let (a, b) = (bounds(before), bounds(next));
            Delay::Uniform(a.0 + b.0, a.1 + b.1)
        }
    }
}

fn bounds(delay: Delay) -> (Duration, Duration) {
    match delay {
        Delay::Fixed(d) => (d, d),
        Delay::Uniform(min, max) => (min, max),
        Delay::Normal(mean, _) => (mean, mean),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn plan(component: &'static str, text: &str) -> Result<HeaderPlan, ApiError> {
        plan_for(
            &HeaderValue::from_str(text).unwrap(),
            &FaultRegistry::new(component),
        )
    }

    #[test]
    fn each_component_takes_its_part() {
        let text = "population-db: unavailable, citizen: latency=300ms";
        let db = plan("population-db", text).unwrap();
        assert!(db.delay.is_none());
        let Some(Ending::Status(error)) = db.ending else {
            panic!("no status");
        };
        assert_eq!(error.code(), Code::Unavailable);
        let citizen = plan("citizen", text).unwrap();
        assert_eq!(
            citizen.delay,
            Some(Delay::Fixed(Duration::from_millis(300)))
        );
        assert!(citizen.ending.is_none());
        assert_eq!(plan("sso", text).unwrap(), HeaderPlan::default());
    }

    #[test]
    fn faults_combine_within_a_target() {
        let both = plan("vneid", "vneid: latency=1s..2s DEADLINE_EXCEEDED").unwrap();
        assert_eq!(
            both.delay,
            Some(Delay::Uniform(
                Duration::from_secs(1),
                Duration::from_secs(2)
            ))
        );
        assert!(
            matches!(both.ending, Some(Ending::Status(e)) if e.code() == Code::DeadlineExceeded)
        );
        assert_eq!(
            plan("vneid", "vneid: drop").unwrap().ending,
            Some(Ending::Drop)
        );
        assert_eq!(
            plan("vneid", "vneid: down").unwrap().ending,
            Some(Ending::Down)
        );
        let reason = plan("vneid", "vneid: reason=INTERNAL").unwrap();
        assert!(
            matches!(reason.ending, Some(Ending::Status(e)) if e.reason.as_str() == "INTERNAL")
        );
    }

    #[test]
    fn a_malformed_header_is_refused_naming_it() {
        for bad in [
            "population-db",
            "population-db:",
            ": unavailable",
            "population-db: sometimes",
            "population-db: latency=fast",
            "population-db: latency=2s..1s",
            "population-db: latency=1h",
            "population-db: drop down",
            "population-db: unavailable not_found",
            "other: reason=",
            "population-db: reason=SHOP_CLOSED",
            "population-db: ok",
        ] {
            let error = plan("population-db", bad).unwrap_err();
            assert_eq!(error.code(), Code::InvalidArgument, "{bad}");
            assert_eq!(error.metadata["header"], "x-sandbox06-fault", "{bad}");
            assert!(error.message.starts_with("x-sandbox06-fault"), "{bad}");
        }
    }
}
