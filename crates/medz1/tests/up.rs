//! `medz1 up` on a fresh data directory produces the demo CDW, and a second
//! run reuses it instead of regenerating.

#[tokio::test]
async fn up_generates_the_demo_cdw_once() {
    let dir = tempfile::tempdir().unwrap();
    let opts = medz1::UpOptions {
        data: dir.path().join("data"),
        patients: 60,
        seed: 3,
        regenerate: false,
        progress: false,
    };
    medz1::up(&opts).await.unwrap();
    let cdw = dir.path().join("data/mock/cdw");
    assert!(cdw.join("CDWWork.sqlite").is_file());
    assert!(cdw.join("CDWWork2.sqlite").is_file());
    assert!(
        dir.path()
            .join("data/mock/vista/patient_registry.json")
            .is_file()
    );
    let before = std::fs::metadata(cdw.join("CDWWork.sqlite"))
        .unwrap()
        .modified()
        .unwrap();
    medz1::up(&opts).await.unwrap();
    let after = std::fs::metadata(cdw.join("CDWWork.sqlite"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "an existing CDW is reused");
    // Each `up` ran the ETL into the embedded serving DB.
    let store = store::Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/serving.db").display()
    ))
    .await
    .unwrap();
    use store::ServingStore;
    let runs = store.runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|r| r.status == store::RunStatus::Succeeded),
        "{runs:?}"
    );
    assert!(
        store
            .count(&store::catalog::PATIENT_DEMOGRAPHICS)
            .await
            .unwrap()
            >= 60
    );
}

#[tokio::test]
async fn up_rejects_a_patient_count_below_the_personas() {
    let dir = tempfile::tempdir().unwrap();
    let opts = medz1::UpOptions {
        data: dir.path().to_path_buf(),
        patients: 5,
        seed: 3,
        regenerate: false,
        progress: false,
    };
    let err = medz1::up(&opts).await.unwrap_err();
    assert!(format!("{err:#}").contains("at least"), "{err:#}");
}

#[tokio::test]
async fn start_runs_web_vault_and_simulator_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    medz1::up(&medz1::UpOptions {
        data: data.clone(),
        patients: 60,
        seed: 3,
        regenerate: false,
        progress: false,
    })
    .await
    .unwrap();
    let running = medz1::start(
        &data,
        medz1::Ports {
            web: 0,
            ccow: 0,
            vista: 0,
            xwb: 0,
        },
        &medz1::WebOptions {
            demo_password: "stack-test".into(),
            bcrypt_cost: 4,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let get = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        assert!(r.status().is_success());
        r.json::<serde_json::Value>().await.unwrap()
    };
    let ready = get(format!("http://{}/ready", running.ccow)).await;
    assert_eq!(
        ready["checks"]["storage"]["backend"],
        serde_json::json!("sqlite")
    );
    let health = get(format!("http://{}/health", running.vista)).await;
    assert_eq!(health["sites"], serde_json::json!(["200", "500", "630"]));
    assert_eq!(running.xwb.len(), 3);
    let web_health = get(format!("http://{}/health", running.web)).await;
    assert_eq!(web_health["database"], "ok");
    let (web, ccow, vista) = (running.web, running.ccow, running.vista);
    running.stop().await.unwrap();
    assert!(
        reqwest::get(format!("http://{web}/health")).await.is_err(),
        "web stopped"
    );
    assert!(
        reqwest::get(format!("http://{ccow}/health")).await.is_err(),
        "ccow stopped"
    );
    assert!(
        reqwest::get(format!("http://{vista}/health"))
            .await
            .is_err(),
        "vista stopped"
    );
    assert!(data.join("ccow.db").is_file());
}
