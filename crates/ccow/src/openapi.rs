//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs`), served
//! from the binary (no CDN).

use ccow_client::*;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CCOW context vault",
        description = "One active patient per user, shared by every application of that user. \
            REST (v2.1 shapes plus versions), push (SSE, WebSocket) and a FHIRcast STU3 hub over the same context. \
            Errors are `{\"detail\": \"…\"}` (plain text on the FHIRcast hub, as the specification asks)."
    ),
    paths(
        crate::routes::root,
        crate::routes::health,
        crate::routes::ready,
        crate::routes::metrics,
        crate::routes::get_context,
        crate::routes::set_context,
        crate::routes::clear_context,
        crate::routes::history,
        crate::routes::active_contexts,
        crate::routes::cleanup,
        crate::events::sse,
        crate::events::ws,
        crate::fhircast::configuration,
        crate::fhircast::session,
        crate::fhircast::post,
        crate::fhircast::current,
        crate::fhircast::socket,
    ),
    components(schemas(
        PatientContext,
        SetContextRequest,
        ClearContextRequest,
        HistoryEntry,
        HistoryResponse,
        ActiveContextsResponse,
        CleanupResponse,
        ContextEvent,
        ErrorBody,
        Action,
        Scope,
    )),
    modifiers(&Security),
    tags(
        (name = "context", description = "The caller's active patient"),
        (name = "push", description = "Change notifications"),
        (name = "fhircast", description = "FHIRcast STU3 hub; a topic is a user id"),
        (name = "admin", description = "Admin role only"),
        (name = "service", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An RS256/ES256 access token from a configured OIDC issuer",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Session-ID",
                "A med-z1 web session, validated through the web app",
            ))),
        );
        c.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("session_id"))),
        );
        c.add_security_scheme(
            "access_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "access_token",
                "A bearer token in the query, for the event streams only",
            ))),
        );
    }
}

/// `/docs` (Swagger UI) and `/openapi.json`.
pub fn router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    utoipa_swagger_ui::SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .into()
}
