//! Random tokens, their stored hashes, and password hashing (argon2id).
//!
//! Everything here that hashes a password is slow on purpose: call it through the bounded
//! hasher (`hashing.rs`), which runs it on threads of its own.

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use unipos_protocol::normalize_password;

/// 32 random bytes as URL-safe base64 without padding: 43 characters, 256 bits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps instead of a token: its SHA-256. Tokens carry 256 random bits, so a
/// fast hash is enough (nothing to brute-force), and lookups stay a simple index search.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

thread_local! {
    /// This thread's argon2 working memory (19 MiB with the default parameters), allocated once
    /// and reused: a fresh allocation per run ends up parked in the allocator's per-thread arenas,
    /// and a burst of logins would keep hundreds of MiB.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw argon2 output of `password` with `salt`, into `out`, in this thread's memory.
fn argon2_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = argon.params().block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// An argon2id PHC string (`$argon2id$v=19$...`) with a fresh random salt, of the password's
/// normalized form ([`normalize_password`]).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("hashing a password failed: {e}");
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::default();
    let mut salt_buf = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_buf).map_err(|e| fail(&e))?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon2_into(
            &argon,
            normalize_password(password).as_bytes(),
            raw_salt,
            out,
        )
        .map_err(|_| argon2::password_hash::Error::Password)
    })
    .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `candidate` hashes to the PHC string's hash with its own algorithm, version,
/// parameters and salt (compared in constant time).
fn phc_matches(phc: &PasswordHash<'_>, candidate: &[u8]) -> bool {
    let check = || -> Option<bool> {
        let expected = phc.hash?;
        let algorithm = Algorithm::try_from(phc.algorithm).ok()?;
        let version = match phc.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(phc).ok()?;
        let mut salt_buf = [0u8; 64];
        let salt = phc.salt?.decode_b64(&mut salt_buf).ok()?;
        let mut out = vec![0u8; expected.len()];
        argon2_into(
            &Argon2::new(algorithm, version, params),
            candidate,
            salt,
            &mut out,
        )
        .ok()?;
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

/// How a stored hash was made: of the normalized password (every hash this server makes), or of
/// the password as typed (hashes from before normalization; rehashed at the next good check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashForm {
    Nfkc,
    AsTyped,
}

/// The answer of [`verify_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right, against a hash of the password as typed: store a new, normalized one.
    YesRehash,
}

impl Verified {
    pub fn matches(self) -> bool {
        self != Verified::No
    }
}

/// Whether `password` matches the stored PHC string; a damaged hash never matches.
pub fn verify_password(password: &str, phc: &str, form: HashForm) -> Verified {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verified::No;
    };
    let matches = |candidate: &str| phc_matches(&parsed, candidate.as_bytes());
    match form {
        HashForm::Nfkc if matches(&normalize_password(password)) => Verified::Yes,
        HashForm::AsTyped if matches(password) => Verified::YesRehash,
        _ => Verified::No,
    }
}

/// Spends the time of a real verification, for logins to accounts that do not exist, so the
/// answer's timing does not tell whether an account exists.
pub fn dummy_verify(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password(&new_token()).unwrap_or_default());
    let _ = verify_password(password, phc, HashForm::Nfkc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use unipos_protocol::ResetToken;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert!(ResetToken::parse(&a).is_ok());
        assert_ne!(a, new_token());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("Unipos-demo-1").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(!phc.contains("Unipos-demo-1"));
        assert_eq!(
            verify_password("Unipos-demo-1", &phc, HashForm::Nfkc),
            Verified::Yes
        );
        assert_eq!(
            verify_password("Unipos-demo-2", &phc, HashForm::Nfkc),
            Verified::No
        );
        assert_eq!(
            verify_password("Unipos-demo-1", "not a hash", HashForm::Nfkc),
            Verified::No
        );
    }

    #[test]
    fn hashes_are_standard_phc_strings_that_the_argon2_crate_verifies() {
        use argon2::password_hash::PasswordVerifier;
        let phc = hash_password("Unipos-demo-1").unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Unipos-demo-1", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"Unipos-demo-2", &parsed)
            .is_err());
    }

    #[test]
    fn a_full_width_password_verifies_as_its_half_width_form() {
        // "Ｐａｓｓ－１２３４" typed by an IME in full-width mode.
        let full = "\u{FF30}\u{FF41}\u{FF53}\u{FF53}\u{FF0D}\u{FF11}\u{FF12}\u{FF13}\u{FF14}";
        let phc = hash_password(full).unwrap();
        assert_eq!(
            verify_password("Pass-1234", &phc, HashForm::Nfkc),
            Verified::Yes
        );
        assert_eq!(verify_password(full, &phc, HashForm::Nfkc), Verified::Yes);
    }

    #[test]
    fn a_hash_of_the_password_as_typed_still_verifies_and_asks_for_a_rehash() {
        let full = "\u{FF30}\u{FF41}\u{FF53}\u{FF53}\u{FF0D}\u{FF11}\u{FF12}\u{FF13}\u{FF14}";
        let salt = SaltString::generate(&mut OsRng);
        let legacy =
            argon2::PasswordHasher::hash_password(&Argon2::default(), full.as_bytes(), &salt)
                .unwrap()
                .to_string();
        assert_eq!(
            verify_password(full, &legacy, HashForm::AsTyped),
            Verified::YesRehash
        );
        assert_eq!(
            verify_password("Pass-1234", &legacy, HashForm::AsTyped),
            Verified::No
        );
    }

    #[test]
    fn token_hashes_are_sha256() {
        // The test vectors of FIPS 180-2 (appendix B.1) and of the empty message.
        let hex = |bytes: Vec<u8>| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
        assert_eq!(
            hex(token_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(token_hash("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
