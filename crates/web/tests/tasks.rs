//! Clinical tasks (reference §3.12, QUIRK 8 fixed): the page, the JSON
//! writes, the HTMX writes (HTML + `HX-Trigger: taskUpdated`) and the
//! dashboard widget's quick actions, on both serving backends, against the
//! fixture's `ICN100001` tasks (HIGH "Review HbA1c trend" to do, MEDIUM
//! "Schedule cardiology follow-up" in progress, LOW "Update medication
//! list" to do, HIGH "Order chest X-ray" completed 3 days ago, all by
//! "Dr. Fixture") and `ICN100013` (no tasks).

#[macro_use]
mod common;

use common::{ALPHA, BRAVO, Client, TestApp};
use serde_json::{Value, json};

const ADAM: &str = "ICN100001";
const IRVING: &str = "ICN100013";
const ALICE: &str = "Dr. Alice Anderson, MD";
const BOB: &str = "Dr. Bob Brown, DO";

/// A JSON request (CSRF header included unless `csrf` is false).
async fn send(
    c: &Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    csrf: bool,
) -> (u16, Value) {
    let mut rb = c.http.request(method, c.url(path));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    if csrf && let Some(t) = &c.csrf {
        rb = rb.header("X-CSRF-Token", t);
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let ct = header(&r, "content-type");
    let text = r.text().await.expect("body");
    assert!(ct.starts_with("application/json"), "{path}: {ct}: {text}");
    (status, serde_json::from_str(&text).expect("json"))
}

async fn post_json(c: &Client, path: &str, body: Value) -> (u16, Value) {
    send(c, reqwest::Method::POST, path, Some(body), true).await
}

async fn action(c: &Client, id: i64, what: &str) -> (u16, Value) {
    let path = format!("/api/patient/tasks/{id}/{what}");
    send(c, reqwest::Method::POST, &path, None, true).await
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// An HTMX response: status, `HX-Trigger`, body; always HTML.
async fn htmx(r: reqwest::Response) -> (u16, String, String, String) {
    let status = r.status().as_u16();
    let trigger = header(&r, "hx-trigger");
    let retarget = header(&r, "hx-retarget");
    let ct = header(&r, "content-type");
    let body = r.text().await.expect("body");
    assert!(
        ct.starts_with("text/html"),
        "HTMX gets HTML, not {ct}: {body}"
    );
    assert!(!body.trim_start().starts_with('{'), "raw JSON: {body}");
    (status, trigger, retarget, body)
}

async fn page(c: &Client, path: &str) -> (u16, String) {
    let r = c.get(path).await;
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// The value of a summary card.
fn summary(body: &str, key: &str) -> String {
    common::extract(
        body,
        &format!("data-summary=\"{key}\"><span class=\"tasks-summary__value\">"),
        "<",
    )
    .unwrap_or_else(|| panic!("no {key} card: {body}"))
}

// ---------------------------------------------------------------------------

async fn json_lifecycle(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let (s, v) = post_json(
        &c,
        &format!("/api/patient/{ADAM}/tasks"),
        json!({"title": "  Recheck potassium  ", "description": "After dose change", "priority": "high"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["patient_icn"], ADAM);
    let id = v["task_id"].as_i64().expect("task_id");
    let t = &v["task"];
    assert_eq!(t["title"], "Recheck potassium");
    assert_eq!(t["priority"], "HIGH");
    assert_eq!(t["status"], "TODO");
    assert_eq!(t["created_by_display_name"], ALICE);
    let alice_id = t["created_by_user_id"]
        .as_str()
        .expect("creator")
        .to_string();
    assert!(!alice_id.is_empty());
    assert!(t["completed_at"].is_null());

    // Edit (partial).
    let (s, v) = send(
        &c,
        reqwest::Method::PUT,
        &format!("/api/patient/tasks/{id}"),
        Some(json!({"title": "Recheck potassium (BMP)", "priority": "LOW"})),
        true,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["task"]["title"], "Recheck potassium (BMP)");
    assert_eq!(v["task"]["priority"], "LOW");
    assert_eq!(v["task"]["description"], "After dose change");

    let (s, v) = action(&c, id, "start").await;
    assert_eq!(
        (s, v["task"]["status"].as_str()),
        (200, Some("IN_PROGRESS"))
    );
    assert!(v["task"]["completed_by_user_id"].is_null());

    let (s, v) = action(&c, id, "complete").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["task"]["status"], "COMPLETED");
    assert_eq!(v["task"]["completed_by_user_id"], alice_id.as_str());
    assert_eq!(v["task"]["completed_by_display_name"], ALICE);
    assert!(v["task"]["completed_at"].is_string(), "{v}");
    let stored = app.store().task(id).await.unwrap().expect("stored");
    assert!(stored.completed_at.is_some());

    // The page counts it as completed today.
    let (_, body) = page(&c, &format!("/patient/{ADAM}/tasks")).await;
    assert_eq!(summary(&body, "completed-today"), "1");

    let (s, v) = action(&c, id, "revert").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["task"]["status"], "TODO");
    assert!(v["task"]["completed_at"].is_null());
    assert!(v["task"]["completed_by_user_id"].is_null());
    assert!(v["task"]["completed_by_display_name"].is_null());

    // The reference's spelling of revert works too.
    action(&c, id, "complete").await;
    let (s, v) = action(&c, id, "revert-to-todo").await;
    assert_eq!((s, v["task"]["status"].as_str()), (200, Some("TODO")));

    let (s, v) = send(
        &c,
        reqwest::Method::DELETE,
        &format!("/api/patient/tasks/{id}"),
        None,
        true,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"success": true, "task_id": id}));
    assert!(app.store().task(id).await.unwrap().is_none());

    // Gone: every action is a 404.
    for what in ["start", "complete", "revert"] {
        let (s, v) = action(&c, id, what).await;
        assert_eq!(s, 404, "{what}: {v}");
        assert_eq!(v["detail"], "Task not found.");
    }
    let (s, _) = send(
        &c,
        reqwest::Method::DELETE,
        &format!("/api/patient/tasks/{id}"),
        None,
        true,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = send(
        &c,
        reqwest::Method::PUT,
        &format!("/api/patient/tasks/{id}"),
        Some(json!({"title": "x"})),
        true,
    )
    .await;
    assert_eq!(s, 404);
}
on_both!(json_lifecycle, |_| {});

async fn form_create_and_browser_redirect(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // A form post from an API client (no Accept: text/html) gets JSON.
    let r = c
        .post_form(
            &format!("/api/patient/{ADAM}/tasks"),
            &[
                ("title", "Form task"),
                ("description", ""),
                ("priority", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["task"]["priority"], "MEDIUM", "default priority");
    assert!(
        v["task"]["description"].is_null(),
        "blank description is none"
    );

    // A browser's plain form (no JavaScript) is sent back to the page,
    // keeping the filters.
    let token = c.csrf.clone().unwrap();
    let r = c
        .http
        .post(c.url(&format!("/api/patient/{ADAM}/tasks?status=active")))
        .header("Accept", "text/html,application/xhtml+xml")
        .form(&[("title", "Browser task"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        common::location(&r),
        format!("/patient/{ADAM}/tasks?status=active")
    );
    assert_eq!(header(&r, "hx-trigger"), "taskUpdated");
    let id = app
        .store()
        .tasks(ADAM)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.title == "Browser task")
        .expect("created")
        .task_id;
    // Plain-form equivalents of PUT and DELETE.
    let r = c
        .http
        .post(c.url(&format!("/api/patient/tasks/{id}/update")))
        .header("Accept", "text/html")
        .form(&[
            ("title", "Browser task edited"),
            ("description", "Now with notes"),
            ("priority", "HIGH"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let t = app.store().task(id).await.unwrap().unwrap();
    assert_eq!(t.title, "Browser task edited");
    assert_eq!(t.description.as_deref(), Some("Now with notes"));
    let r = c
        .post_form(&format!("/api/patient/tasks/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), 200);
    assert!(app.store().task(id).await.unwrap().is_none());
}
on_both!(form_create_and_browser_redirect, |_| {});

async fn htmx_writes_render_html(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // Create from the page's form, with the page's filter.
    let r = c
        .htmx_post(
            &format!("/api/patient/{ADAM}/tasks?status=active"),
            &[
                ("title", "Draw lipid panel"),
                ("description", "Fasting"),
                ("priority", "HIGH"),
            ],
        )
        .await;
    let (s, trigger, _, body) = htmx(r).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(trigger, "taskUpdated");
    assert!(body.contains("id=\"tasks-region\""), "{body}");
    assert!(body.contains("Draw lipid panel"), "{body}");
    assert!(!body.contains("Order chest X-ray"), "filter kept: {body}");
    assert!(body.contains(ALICE));
    assert_eq!(summary(&body, "todo"), "3");
    assert_eq!(summary(&body, "high"), "2");
    let id = app
        .store()
        .tasks(ADAM)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.title == "Draw lipid panel")
        .unwrap()
        .task_id;
    // The card's action URLs carry the filter.
    assert!(
        body.contains(&format!("/api/patient/tasks/{id}/start?status=active")),
        "{body}"
    );

    // Edit with HTMX (PUT form).
    let r = c
        .http
        .put(c.url(&format!("/api/patient/tasks/{id}?status=active")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", c.csrf.clone().unwrap())
        .form(&[("title", "Draw fasting lipid panel"), ("description", "")])
        .send()
        .await
        .unwrap();
    let (s, trigger, _, body) = htmx(r).await;
    assert_eq!((s, trigger.as_str()), (200, "taskUpdated"));
    assert!(body.contains("Draw fasting lipid panel"));
    assert!(
        app.store()
            .task(id)
            .await
            .unwrap()
            .unwrap()
            .description
            .is_none(),
        "empty description clears it"
    );

    // Start, then complete: the active list drops it.
    let (s, trigger, _, body) = htmx(
        c.htmx_post(&format!("/api/patient/tasks/{id}/start?status=active"), &[])
            .await,
    )
    .await;
    assert_eq!((s, trigger.as_str()), (200, "taskUpdated"));
    assert!(body.contains(&format!("id=\"task-{id}\"")));
    assert_eq!(summary(&body, "in-progress"), "2");
    let (s, _, _, body) = htmx(
        c.htmx_post(
            &format!("/api/patient/tasks/{id}/complete?status=active"),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(!body.contains(&format!("id=\"task-{id}\"")), "{body}");
    assert_eq!(summary(&body, "completed-today"), "1");
    let t = app.store().task(id).await.unwrap().unwrap();
    assert_eq!(t.completed_by_display_name.as_deref(), Some(ALICE));

    // Completed list: revert it.
    let (_, _, _, body) = htmx(
        c.htmx_post(
            &format!("/api/patient/tasks/{id}/revert?status=COMPLETED"),
            &[],
        )
        .await,
    )
    .await;
    assert!(!body.contains(&format!("id=\"task-{id}\"")));
    assert!(body.contains("Order chest X-ray"));
    assert!(
        app.store()
            .task(id)
            .await
            .unwrap()
            .unwrap()
            .completed_at
            .is_none()
    );

    // Delete with HTMX.
    let (s, trigger, _, body) = htmx(
        c.htmx_post(&format!("/api/patient/tasks/{id}/delete"), &[])
            .await,
    )
    .await;
    assert_eq!((s, trigger.as_str()), (200, "taskUpdated"));
    assert!(!body.contains("lipid panel"));
    let r = c
        .http
        .delete(c.url(&format!("/api/patient/tasks/{id}")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", c.csrf.clone().unwrap())
        .send()
        .await
        .unwrap();
    let (s, trigger, retarget, body) = htmx(r).await;
    assert_eq!(s, 404);
    assert_eq!(trigger, "", "no change, no trigger");
    assert_eq!(retarget, "#tasks-action-error");
    assert!(body.contains("Task not found."));

    // Validation errors go to the form's error slot; nothing is created.
    let before = app.store().tasks(ADAM).await.unwrap().len();
    let r = c
        .htmx_post(
            &format!("/api/patient/{ADAM}/tasks"),
            &[("title", "   "), ("priority", "HIGH")],
        )
        .await;
    let (s, trigger, retarget, body) = htmx(r).await;
    assert_eq!((s, trigger.as_str()), (422, ""));
    assert_eq!(retarget, "#task-create-error");
    assert!(body.contains("Title is required."), "{body}");
    let r = c
        .htmx_post(
            &format!("/api/patient/{ADAM}/tasks"),
            &[("title", "Fine"), ("priority", "URGENT")],
        )
        .await;
    let (s, _, _, body) = htmx(r).await;
    assert_eq!(s, 422);
    assert!(
        body.contains("Priority must be HIGH, MEDIUM or LOW"),
        "{body}"
    );
    assert_eq!(app.store().tasks(ADAM).await.unwrap().len(), before);
}
on_both!(htmx_writes_render_html, |_| {});

async fn widget_quick_actions(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let tasks = app.store().tasks(ADAM).await.unwrap();
    let id_of = |title: &str| tasks.iter().find(|t| t.title == title).unwrap().task_id;
    let hba1c = id_of("Review HbA1c trend");
    let cardio = id_of("Schedule cardiology follow-up");

    let r = c
        .htmx_get(&format!("/api/patient/dashboard/widget/tasks/{ADAM}"))
        .await;
    let (s, _, _, body) = htmx(r).await;
    assert_eq!(s, 200);
    assert!(
        body.contains(&format!(
            "hx-post=\"/api/patient/tasks/{hba1c}/start?view=widget\""
        )),
        "{body}"
    );
    assert!(
        !body.contains(&format!("/api/patient/tasks/{cardio}/start")),
        "an in-progress task has no Start"
    );
    assert!(body.contains(&format!("/api/patient/tasks/{cardio}/complete?view=widget")));
    assert!(body.contains(&format!("href=\"/patient/{ADAM}/tasks\"")));
    assert!(body.contains(&format!("href=\"/patient/{ADAM}/tasks?new=1#new-task\"")));

    let (s, trigger, _, body) = htmx(
        c.htmx_post(
            &format!("/api/patient/tasks/{hba1c}/start?view=widget"),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!((s, trigger.as_str()), (200, "taskUpdated"));
    assert!(body.contains("data-widget=\"tasks\""), "{body}");
    assert!(body.contains("2 in progress"), "{body}");

    let (s, _, _, body) = htmx(
        c.htmx_post(
            &format!("/api/patient/tasks/{cardio}/complete?view=widget"),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.contains("data-widget=\"tasks\""));
    assert!(body.contains("2 active"), "{body}");
    assert!(!body.contains("Schedule cardiology follow-up"), "{body}");
    let t = app.store().task(cardio).await.unwrap().unwrap();
    assert_eq!(t.completed_by_display_name.as_deref(), Some(ALICE));

    // A vanished task: the message goes to the widget's error slot.
    let r = c
        .htmx_post("/api/patient/tasks/999999/complete?view=widget", &[])
        .await;
    let (s, _, retarget, _) = htmx(r).await;
    assert_eq!((s, retarget.as_str()), (404, "#tasks-widget-error"));
}
on_both!(widget_quick_actions, |_| {});

async fn csrf_is_required(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let id = app.store().tasks(ADAM).await.unwrap()[0].task_id;
    let (s, v) = send(
        &c,
        reqwest::Method::POST,
        &format!("/api/patient/{ADAM}/tasks"),
        Some(json!({"title": "No token"})),
        false,
    )
    .await;
    assert_eq!(s, 403, "{v}");
    for (method, path) in [
        (
            reqwest::Method::POST,
            format!("/api/patient/tasks/{id}/start"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/patient/tasks/{id}/complete"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/patient/tasks/{id}/revert"),
        ),
        (reqwest::Method::PUT, format!("/api/patient/tasks/{id}")),
        (reqwest::Method::DELETE, format!("/api/patient/tasks/{id}")),
    ] {
        let (s, _) = send(&c, method.clone(), &path, None, false).await;
        assert_eq!(s, 403, "{method} {path}");
    }
    // A wrong token in the form field.
    let r = c
        .http
        .post(c.url(&format!("/api/patient/tasks/{id}/delete")))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.store().task(id).await.unwrap().is_some());
    assert!(
        !app.store()
            .tasks(ADAM)
            .await
            .unwrap()
            .iter()
            .any(|t| t.title == "No token")
    );
}
on_both!(csrf_is_required, |_| {});

async fn validation_errors(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    let create = format!("/api/patient/{ADAM}/tasks");
    for (body, status, detail) in [
        (json!({"title": ""}), 422, "Title is required."),
        (json!({"title": "   "}), 422, "Title is required."),
        (
            json!({"title": "x".repeat(501)}),
            422,
            "Title must be at most 500 characters.",
        ),
        (
            json!({"title": "Ok", "priority": "URGENT"}),
            422,
            "Priority",
        ),
        (json!({"description": "no title"}), 400, "Invalid JSON body"),
    ] {
        let (s, v) = post_json(&c, &create, body.clone()).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(
            v["detail"].as_str().unwrap_or_default().contains(detail),
            "{body}: {v}"
        );
    }
    let (s, v) = post_json(&c, &create, json!({"title": "é".repeat(500)})).await;
    assert_eq!(s, 201, "500 characters are allowed: {v}");
    let (s, _) = post_json(&c, "/api/patient/ICN999999/tasks", json!({"title": "x"})).await;
    assert_eq!(s, 404);

    let id = v["task_id"].as_i64().unwrap();
    let put = format!("/api/patient/tasks/{id}");
    for body in [
        json!({"title": ""}),
        json!({"title": "y".repeat(501)}),
        json!({"priority": "SOON"}),
    ] {
        let (s, v) = send(&c, reqwest::Method::PUT, &put, Some(body.clone()), true).await;
        assert_eq!(s, 422, "{body}: {v}");
    }
    assert_eq!(
        app.store().task(id).await.unwrap().unwrap().title,
        "é".repeat(500)
    );
    let (s, _) = action(&c, 987_654, "start").await;
    assert_eq!(s, 404);
    let (s, v) = action(&c, id, "start?page=abc").await;
    assert_eq!(s, 400, "{v}");

    // Bad page filters.
    for q in [
        "status=DONE",
        "priority=URGENT",
        "created_by=bob%20smith",
        "page_size=15",
    ] {
        let (s, body) = page(&c, &format!("/patient/{ADAM}/tasks?{q}")).await;
        assert_eq!(s, 400, "{q}: {body}");
    }
}
on_both!(validation_errors, |_| {});

async fn other_users_see_creator_names(app: &TestApp) {
    let alice = app.signed_in(ALPHA).await;
    let (s, v) = post_json(
        &alice,
        &format!("/api/patient/{ADAM}/tasks"),
        json!({"title": "Call patient re: results"}),
    )
    .await;
    assert_eq!(s, 201);
    let id = v["task_id"].as_i64().unwrap();

    let bob = app.signed_in(BRAVO).await;
    let (s, body) = page(&bob, &format!("/patient/{ADAM}/tasks")).await;
    assert_eq!(s, 200);
    assert!(body.contains("Call patient re: results"));
    assert!(body.contains(ALICE), "{body}");
    assert!(body.contains("Dr. Fixture"));
    // "Mine" for Bob: none of these are his.
    let (_, body) = page(&bob, &format!("/patient/{ADAM}/tasks?created_by=mine")).await;
    assert!(body.contains("No tasks match these filters"), "{body}");
    assert!(!body.contains("Call patient re: results"));
    // "Mine" for Alice: only hers, marked.
    let (_, body) = page(&alice, &format!("/patient/{ADAM}/tasks?created_by=mine")).await;
    assert!(body.contains("Call patient re: results"));
    assert!(body.contains("(you)"));
    assert!(!body.contains("Review HbA1c trend"));

    // Bob completes Alice's task: he is the completer.
    let (s, v) = action(&bob, id, "complete").await;
    assert_eq!(s, 200);
    assert_eq!(v["task"]["completed_by_display_name"], BOB);
    assert_eq!(v["task"]["created_by_display_name"], ALICE);
    let (_, body) = page(&alice, &format!("/patient/{ADAM}/tasks?status=COMPLETED")).await;
    assert!(body.contains(BOB), "{body}");
}
on_both!(other_users_see_creator_names, |_| {});

async fn page_renders(app: &TestApp) {
    let c = app.signed_in(ALPHA).await;
    // With data.
    let (s, body) = page(&c, &format!("/patient/{ADAM}/tasks")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("<link rel=\"stylesheet\" href=\"/static/tasks.css\">"));
    assert!(!body.contains("style=\""), "no inline styles (CSP)");
    assert!(!body.contains("<script>"), "no inline scripts (CSP)");
    for t in [
        "Review HbA1c trend",
        "Schedule cardiology follow-up",
        "Update medication list",
        "Order chest X-ray",
    ] {
        assert!(body.contains(t), "{t}");
    }
    assert_eq!(summary(&body, "todo"), "2");
    assert_eq!(summary(&body, "in-progress"), "1");
    assert_eq!(
        summary(&body, "completed-today"),
        "0",
        "completed 3 days ago"
    );
    assert_eq!(summary(&body, "high"), "1");
    assert!(body.contains("Page 1 of 1 (4 items)"));
    assert!(
        body.contains("Completed")
            && body.contains("by <span class=\"task-card__completer\">Dr. Fixture")
    );
    assert!(body.contains("hx-confirm=\"Delete the task"));
    assert!(body.contains("name=\"csrf_token\""));
    // HIGH before MEDIUM before LOW.
    let pos = |s: &str| body.find(s).unwrap();
    assert!(pos("Review HbA1c trend") < pos("Schedule cardiology follow-up"));
    assert!(pos("Schedule cardiology follow-up") < pos("Update medication list"));
    // The sidebar highlights Tasks; the topbar shows the patient.
    assert!(body.contains("data-page=\"tasks\""));

    // With filters (and a page size).
    let (s, body) = page(
        &c,
        &format!("/patient/{ADAM}/tasks?status=active&priority=HIGH&page_size=10"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.contains("Review HbA1c trend"));
    assert!(!body.contains("Order chest X-ray"));
    assert!(!body.contains("Update medication list"));
    assert!(body.contains("Page 1 of 1 (1 item)"));
    assert!(body.contains("<option value=\"active\" selected>"));
    assert!(body.contains("<option value=\"HIGH\" selected>"));
    assert_eq!(summary(&body, "todo"), "2", "cards count every task");
    let (_, body) = page(&c, &format!("/patient/{ADAM}/tasks?status=in_progress")).await;
    assert!(body.contains("Schedule cardiology follow-up"));
    assert!(!body.contains("Review HbA1c trend"));
    let (_, body) = page(
        &c,
        &format!("/patient/{ADAM}/tasks?priority=LOW&status=COMPLETED"),
    )
    .await;
    assert!(body.contains("No tasks match these filters"));

    // The HTMX filter request gets just the region.
    let r = c
        .htmx_get(&format!("/patient/{ADAM}/tasks?status=COMPLETED"))
        .await;
    let (s, _, _, body) = htmx(r).await;
    assert_eq!(s, 200);
    assert!(
        body.trim_start()
            .starts_with("<section id=\"tasks-region\"")
    );
    assert!(!body.contains("<html"));
    assert!(body.contains("Order chest X-ray") && !body.contains("Review HbA1c trend"));

    // Without data.
    let (s, body) = page(&c, &format!("/patient/{IRVING}/tasks")).await;
    assert_eq!(s, 200);
    assert!(body.contains("No tasks for this patient"), "{body}");
    assert!(body.contains("Page 1 of 1 (0 items)"));
    assert_eq!(summary(&body, "todo"), "0");
    assert!(body.contains(&format!("action=\"/api/patient/{IRVING}/tasks\"")));

    // The widget's "New task" link opens the form.
    let (_, body) = page(&c, &format!("/patient/{IRVING}/tasks?new=1")).await;
    assert!(body.contains("id=\"new-task\" open>"));

    // Unknown patient; short redirect.
    let (s, _) = page(&c, "/patient/ICN999999/tasks").await;
    assert_eq!(s, 404);
    let r = c.get("/tasks").await;
    assert_eq!(r.status(), 303);
    assert_eq!(common::location(&r), format!("/patient/{IRVING}/tasks"));
}
on_both!(page_renders, |_| {});

/// Who created a task: `created_by=mine|ai|<user id>` on the JSON list and
/// the page, AI-suggested tasks created through the API, and the summary
/// counts (`/tasks/summary` and the page's cards agree).
async fn creator_filters_and_summary(app: &TestApp) {
    let alice = app.signed_in(ALPHA).await;
    let bob = app.signed_in(BRAVO).await;
    let (s, mine) = post_json(
        &alice,
        &format!("/api/patient/{ADAM}/tasks"),
        json!({"title": "Alice's own task", "priority": "LOW"}),
    )
    .await;
    assert_eq!(s, 201, "{mine}");
    let (s, ai) = post_json(
        &bob,
        &format!("/api/patient/{ADAM}/tasks"),
        json!({
            "title": "Consider statin (LDL 190)",
            "priority": "HIGH",
            "is_ai_generated": true,
            "ai_suggestion_source": "CDS: lipid panel above threshold"
        }),
    )
    .await;
    assert_eq!(s, 201, "{ai}");
    assert_eq!(ai["task"]["is_ai_generated"], true);
    assert_eq!(
        ai["task"]["ai_suggestion_source"],
        "CDS: lipid panel above threshold"
    );
    // A source without the AI flag, or too long, is refused.
    let (s, e) = post_json(
        &bob,
        &format!("/api/patient/{ADAM}/tasks"),
        json!({"title": "x", "ai_suggestion_source": "tool"}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = post_json(
        &bob,
        &format!("/api/patient/{ADAM}/tasks"),
        json!({"title": "x", "is_ai_generated": true, "ai_suggestion_source": "y".repeat(501)}),
    )
    .await;
    assert_eq!(s, 422);

    let titles = |v: &Value| -> Vec<String> {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, v) = get_json(
        &alice,
        &format!("/api/patient/{ADAM}/tasks?created_by=mine"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(titles(&v), ["Alice's own task"]);
    let (_, v) = get_json(&bob, &format!("/api/patient/{ADAM}/tasks?created_by=mine")).await;
    assert_eq!(titles(&v), ["Consider statin (LDL 190)"]);
    let (_, v) = get_json(&alice, &format!("/api/patient/{ADAM}/tasks?created_by=ai")).await;
    assert_eq!(titles(&v), ["Consider statin (LDL 190)"]);
    assert_eq!(v["filters"]["created_by"], "ai");
    let alice_id = mine["task"]["created_by_user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, v) = get_json(
        &bob,
        &format!("/api/patient/{ADAM}/tasks?created_by={alice_id}&status=active"),
    )
    .await;
    assert_eq!(titles(&v), ["Alice's own task"]);
    let (s, e) = get_json(
        &alice,
        &format!("/api/patient/{ADAM}/tasks?created_by=no%20body"),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("created_by"));

    // The summary: fixture (2 to do, 1 in progress, 1 completed 3 days
    // ago) plus the two new to-do tasks; one AI-suggested, open.
    let (s, sum) = get_json(&alice, &format!("/api/patient/{ADAM}/tasks/summary")).await;
    assert_eq!(s, 200, "{sum}");
    assert_eq!(sum["todo_count"], 4);
    assert_eq!(sum["in_progress_count"], 1);
    assert_eq!(sum["completed_today_count"], 0);
    assert_eq!(sum["ai_generated_count"], 1);
    assert_eq!(sum["total_count"], 6);
    // Completing the AI task moves it out of the AI count and into today's.
    let id = ai["task_id"].as_i64().unwrap();
    assert_eq!(action(&alice, id, "complete").await.0, 200);
    let (_, sum) = get_json(&alice, &format!("/api/patient/{ADAM}/tasks/summary")).await;
    assert_eq!(sum["ai_generated_count"], 0);
    assert_eq!(sum["completed_today_count"], 1);
    let (s, _) = get_json(&alice, "/api/patient/ICN999999/tasks/summary").await;
    assert_eq!(s, 404);

    // The page: the AI-suggested filter and its summary card.
    let (s, body) = page(&alice, &format!("/patient/{ADAM}/tasks?created_by=ai")).await;
    assert_eq!(s, 200);
    assert!(
        body.contains("<option value=\"ai\" selected>AI-suggested</option>"),
        "{body}"
    );
    assert!(body.contains("Consider statin (LDL 190)"));
    assert!(!body.contains("Alice&#x27;s own task") && !body.contains("Alice's own task"));
    assert!(body.contains("data-summary=\"ai\""));
    let (s, body) = page(
        &alice,
        &format!("/patient/{ADAM}/tasks?created_by={alice_id}"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.contains("One user"));
    assert!(!body.contains("Consider statin (LDL 190)"));
    let (s, _) = page(&alice, &format!("/patient/{ADAM}/tasks?created_by=a%20b")).await;
    assert_eq!(s, 400);
}
on_both!(creator_filters_and_summary, |_| {});

async fn get_json(c: &Client, path: &str) -> (u16, Value) {
    send(c, reqwest::Method::GET, path, None, false).await
}
