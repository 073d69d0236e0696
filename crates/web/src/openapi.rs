//! The OpenAPI document (`/openapi.json`) and Swagger UI (`/docs`, served
//! from the vendored bundle).

use crate::AppState;
use crate::api;
use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "med-z1 web API", description = "Patient data behind the clinician UI. Every endpoint except introspection requires a signed-in session (cookie `session_id`). Errors are `{\"detail\": …}`: 404 for an unknown patient, 400 for a malformed query, 422 for a query value out of range. The full SSN is never returned."),
    paths(
        crate::auth::introspect,
        api::demographics,
        api::vitals,
        api::vitals_recent,
        api::allergies,
        api::medications,
        api::medications_recent,
        api::encounters,
        api::labs,
        api::labs_recent_panels,
        api::notes,
        api::notes_recent,
        api::immunizations,
        api::immunizations_recent,
        api::problems,
        api::problems_summary,
        api::history,
        api::history_recent,
        api::tasks,
        api::flags,
    ),
    components(schemas(
        crate::auth::IntrospectRequest,
        crate::auth::IntrospectResponse,
        api::DemographicsResponse,
        api::VitalsResponse,
        api::VitalsRecentResponse,
        api::AllergiesResponse,
        api::MedicationsResponse,
        api::RecentMedicationsResponse,
        api::EncountersResponse,
        api::LabsResponse,
        api::RecentPanelsResponse,
        api::NotesResponse,
        api::NotesRecentResponse,
        api::Pagination,
        api::ImmunizationsResponse,
        api::ImmunizationsRecentResponse,
        api::ProblemsResponse,
        api::ProblemsSummaryResponse,
        api::HistoryResponse,
        api::HistoryRecentResponse,
        api::TasksResponse,
        api::FlagsResponse,
        domain::record::Demographics,
        domain::record::Vital,
        domain::record::VitalQualifier,
        domain::record::Allergy,
        domain::record::Encounter,
        domain::record::Lab,
        domain::record::Note,
        domain::record::Immunization,
        domain::record::Problem,
        domain::record::FamilyHistory,
        domain::record::Task,
        domain::record::TaskPriority,
        domain::record::TaskStatus,
        domain::record::Flag,
        domain::summary::VitalsSummary,
        domain::summary::VitalReading,
        domain::summary::AllergyCounts,
        domain::summary::MedicationItem,
        domain::summary::MedicationCounts,
        domain::summary::RecentMedications,
        domain::summary::EncounterCounts,
        domain::summary::LabPanel,
        domain::summary::LabTrend,
        domain::summary::LabCounts,
        domain::summary::NotesSummary,
        domain::summary::ImmunizationCounts,
        domain::summary::ProblemsSummary,
        domain::summary::FamilyHistoryCounts,
        domain::summary::TaskCounts,
        domain::summary::FlagCounts,
    )),
    tags((name = "auth", description = "Sessions"), (name = "patient", description = "Patient data"))
)]
pub struct ApiDoc;

/// The whole document: the routes above plus every domain page's JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::domains::openapi());
    doc.merge(<crate::realtime::Doc as utoipa::OpenApi>::openapi());
    doc
}

pub fn routes() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document()))
}
