//! A string that must never reach a log line or a `Debug` dump: auth tokens, API secrets,
//! session keys, Redis passwords.

use std::fmt;

use url::Url;

/// Holds a secret value; `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it (an auth header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self(value.to_owned()))
    }
}

/// A Redis URL whose password never reaches a log line.
#[derive(Clone)]
pub struct RedisUrl(Url);

impl RedisUrl {
    /// `url` is a redis:// or rediss:// URL, checked by the caller (the `NT_REDIS_URL` parser).
    pub fn new(url: Url) -> Self {
        Self(url)
    }

    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The same URL (scheme, credentials, database) at another host and port: another node of
    /// the same cluster.
    pub fn at(&self, host: &str, port: u16) -> Result<Self, String> {
        let mut url = self.0.clone();
        url.set_host(Some(host))
            .map_err(|error| format!("{host:?} is not a host name: {error}."))?;
        // Only fails for URLs without a host, which the parser rejected.
        let _ = url.set_port(Some(port));
        Ok(Self(url))
    }

    /// The URL with any password replaced, for log lines.
    pub fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            // Only fails for URLs that cannot carry credentials, which we rejected at parse time.
            let _ = shown.set_password(Some("redacted"));
        }
        shown.to_string()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(secret.expose(), "hunter2");
    }
}
