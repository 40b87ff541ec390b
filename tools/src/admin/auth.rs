//! The bearer token: loaded once at start-up from an environment variable or a private file,
//! compared in constant time.

use std::os::unix::fs::PermissionsExt;

use anyhow::{bail, Context};
use subtle::ConstantTimeEq;

use super::config::TokenSource;

/// Shortest token accepted: anything shorter is guessable.
pub const MIN_TOKEN_LEN: usize = 16;

/// The operator's bearer token. Its `Debug` never prints it.
pub struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What an `Authorization` header proved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthResult {
    /// The right token.
    Ok,
    /// No `Authorization` header, or not a `Bearer` one.
    Missing,
    /// A bearer token that is not ours.
    Invalid,
}

impl Token {
    /// Loads the token from `source`; `None` when no source is configured.
    pub fn load(source: &TokenSource) -> anyhow::Result<Option<Token>> {
        let raw = match source {
            TokenSource::None => return Ok(None),
            TokenSource::Env(var) => match std::env::var(var) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => bail!(
                    "config key `admin.token_env`: environment variable {var} is not set; export the admin token in it or remove admin.token_env"
                ),
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("config key `admin.token_env`: environment variable {var} is not UTF-8")
                }
            },
            TokenSource::File(path) => {
                let meta = std::fs::metadata(path)
                    .with_context(|| format!("config key `admin.token_file`: {path}"))?;
                let mode = meta.permissions().mode();
                if mode & 0o077 != 0 {
                    bail!(
                        "config key `admin.token_file`: {path} has mode {:o}; the token file must not be readable by group or others (chmod 600 {path})",
                        mode & 0o777
                    );
                }
                std::fs::read_to_string(path)
                    .with_context(|| format!("config key `admin.token_file`: reading {path}"))?
            }
        };
        let token = raw.trim();
        let key = match source {
            TokenSource::Env(_) => "admin.token_env",
            _ => "admin.token_file",
        };
        if token.len() < MIN_TOKEN_LEN {
            bail!("config key `{key}`: the token is shorter than {MIN_TOKEN_LEN} characters");
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("config key `{key}`: the token must be printable ASCII without spaces");
        }
        Ok(Some(Token(token.as_bytes().to_vec())))
    }

    /// A token from bytes (tests).
    pub fn from_bytes(bytes: &[u8]) -> Token {
        Token(bytes.to_vec())
    }

    /// Checks an `Authorization` header value. The comparison takes the same time wherever
    /// the first differing byte is; only the length of our token could leak, never its bytes.
    pub fn check(&self, authorization: Option<&[u8]>) -> AuthResult {
        let Some(value) = authorization else { return AuthResult::Missing };
        let value = value.trim_ascii();
        if value.len() < 7 || !value[..7].eq_ignore_ascii_case(b"bearer ") {
            return AuthResult::Missing;
        }
        let presented = value[7..].trim_ascii();
        if bool::from(presented.ct_eq(&self.0)) {
            AuthResult::Ok
        } else {
            AuthResult::Invalid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let t = Token::from_bytes(b"0123456789abcdef");
        assert_eq!(t.check(None), AuthResult::Missing);
        assert_eq!(t.check(Some(b"Basic abc")), AuthResult::Missing);
        assert_eq!(t.check(Some(b"Bearer 0123456789abcdef")), AuthResult::Ok);
        assert_eq!(t.check(Some(b"bearer  0123456789abcdef ")), AuthResult::Ok);
        assert_eq!(t.check(Some(b"Bearer 0123456789abcdeF")), AuthResult::Invalid);
        assert_eq!(t.check(Some(b"Bearer 0123456789abcde")), AuthResult::Invalid);
        assert_eq!(t.check(Some(b"Bearer ")), AuthResult::Missing, "no token after the scheme");
        assert!(!format!("{t:?}").contains("0123"));
    }

    #[test]
    fn token_file_must_be_private() {
        let dir = std::env::temp_dir().join(format!("tickline-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "s3cret-token-0123456789\n").unwrap();
        let src = TokenSource::File(path.display().to_string());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Token::load(&src).unwrap_err().to_string();
        assert!(e.contains("644") && e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let t = Token::load(&src).unwrap().unwrap();
        assert_eq!(t.check(Some(b"Bearer s3cret-token-0123456789")), AuthResult::Ok);
        std::fs::write(&path, "short").unwrap();
        assert!(Token::load(&src).unwrap_err().to_string().contains("shorter"));
        let _ = std::fs::remove_dir_all(&dir);
        let e = Token::load(&TokenSource::Env("TICKLINE_TEST_NO_SUCH_VAR_7".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("TICKLINE_TEST_NO_SUCH_VAR_7"), "{e}");
    }
}
