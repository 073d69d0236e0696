//! The demo clinicians of the reference (original-webapp §1.2), seeded by
//! the launcher and by `web` in development.

use crate::error::{Result, WebError};
use chrono::Utc;
use store::Store;
use store::auth::NewUser;

/// `(email, display name, first, last, home station)`.
pub const DEMO_CLINICIANS: [(&str, &str, &str, &str, i32); 7] = [
    (
        "clinician.alpha@va.gov",
        "Dr. Alice Anderson, MD",
        "Alice",
        "Anderson",
        508,
    ),
    (
        "clinician.bravo@va.gov",
        "Dr. Bob Brown, DO",
        "Bob",
        "Brown",
        648,
    ),
    (
        "clinician.charlie@va.gov",
        "Nurse Carol Chen, RN",
        "Carol",
        "Chen",
        663,
    ),
    (
        "clinician.delta@va.gov",
        "Dr. David Davis, MD",
        "David",
        "Davis",
        509,
    ),
    (
        "clinician.echo@va.gov",
        "Pharmacist Emma Evans, PharmD",
        "Emma",
        "Evans",
        531,
    ),
    (
        "clinician.foxtrot@va.gov",
        "Dr. Frank Foster, MD",
        "Frank",
        "Foster",
        516,
    ),
    (
        "clinician.golf@va.gov",
        "Dr. Grace Green, MD",
        "Grace",
        "Green",
        552,
    ),
];

/// Creates the demo clinicians, or brings their password in line with
/// `password`. A user whose stored hash already matches keeps it (and its
/// lock state), so restarts do not re-hash. Returns how many were written.
pub async fn demo_users(store: &Store, password: &str, cost: u32) -> Result<usize> {
    let mut work = tokio::task::JoinSet::new();
    for (email, display, first, last, site) in DEMO_CLINICIANS {
        let existing = store.user_by_email(email).await?;
        let password = password.to_string();
        work.spawn_blocking(move || {
            if let Some(u) = &existing
                && bcrypt::verify(&password, &u.password_hash).unwrap_or(false)
            {
                return Ok(None);
            }
            let hash = bcrypt::hash(&password, cost)?;
            let id = existing
                .map(|u| u.user_id)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            Ok::<_, bcrypt::BcryptError>(Some((email, display, first, last, site, id, hash)))
        });
    }
    let mut written = 0;
    let now = Utc::now().naive_utc();
    while let Some(done) = work.join_next().await {
        let outcome = done
            .map_err(|e| WebError::Internal(format!("seeding: {e}")))?
            .map_err(|e| WebError::Internal(format!("bcrypt: {e}")))?;
        if let Some((email, display, first, last, site, id, hash)) = outcome {
            store
                .upsert_user(
                    &NewUser {
                        user_id: &id,
                        email,
                        password_hash: &hash,
                        display_name: display,
                        first_name: Some(first),
                        last_name: Some(last),
                        home_site_sta3n: Some(site),
                        roles: "clinician",
                    },
                    now,
                )
                .await?;
            written += 1;
        }
    }
    Ok(written)
}
