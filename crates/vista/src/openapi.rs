//! `/openapi.json` and an offline Swagger UI at `/docs`.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "VistA RPC Broker simulator",
        description = "Today's (T-0) data of several VistA sites. RPC answers are `^`-delimited lines joined by `\\n`; \
            a first parameter of digits is a DFN (real CPRS layouts), anything else an ICN (the med-z1 layouts). \
            Free-text values are escaped: `^` as `%5E`, CR `%0D`, LF `%0A` (and `%` as `%25` where it would read as one of these). The same RPCs are served over the XWB broker protocol (see `/sites` for the ports)."
    ),
    paths(
        crate::http::root,
        crate::http::health,
        crate::http::sites,
        crate::http::metrics,
        crate::http::execute,
    ),
    components(schemas(crate::http::RpcRequest, crate::http::RpcResponse)),
    tags((name = "rpc", description = "RPC execution"), (name = "service", description = "Service endpoints"))
)]
pub struct ApiDoc;

pub fn router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    utoipa_swagger_ui::SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .into()
}
