//! Issue 22: every neighbor in their own language. The texts a simulated phone receives are
//! compared whole: these are the exact words a Spanish-reading neighbor gets.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, poll_until, spawn_sandbox_app, wait_until_synced};

const OWNER: &str = "+15550022000";
const WAIT: Duration = Duration::from_secs(30);

/// A neighborhood named Calle Olmo; returns (id, slug, number).
async fn neighborhood(app: &TestApp) -> (String, String, String) {
    let created = app
        .create_neighborhood(&json!({
            "name": "Calle Olmo", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olga"
        }))
        .await;
    let field = |name: &str| created[name].as_str().expect(name).to_owned();
    (field("id"), field("slug"), field("phone_number"))
}

/// Waits until `phone` has received `count` texts from `from`, and returns them all, oldest first.
async fn texts_from(app: &TestApp, phone: &str, from: &str, count: usize) -> Vec<String> {
    poll_until(WAIT, &format!("{count} texts to {phone}"), || async {
        let texts: Vec<String> = app
            .inbox(phone)
            .await
            .into_iter()
            .filter(|(sender, _, _)| sender == from)
            .map(|(_, body, _)| body)
            .collect();
        (texts.len() >= count).then_some(texts)
    })
    .await
}

async fn only_request(app: &TestApp, id: &str) -> Value {
    poll_until(WAIT, "the join request", || async {
        let listed = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/join-requests"),
                200,
            )
            .await;
        listed["items"].get(0).cloned()
    })
    .await
}

async fn approve(app: &TestApp, id: &str, request: &Value) {
    app.post(
        &Who::Admin,
        &format!(
            "/api/v1/neighborhoods/{id}/join-requests/{}/approve",
            request["id"].as_str().expect("request id")
        ),
        &json!({}),
        202,
    )
    .await;
}

const WELCOME_ES: &str = "¡Te damos la bienvenida a Calle Olmo! Todo lo que escribas a este grupo llega a tus vecinos, firmado con tu nombre. Responde SALIR para salir del grupo, STOP para dejar de recibir textos, AYUDA para ayuda.";

#[tokio::test]
async fn a_neighbor_joins_is_welcomed_asks_for_help_and_leaves_in_spanish_by_text() {
    let app = spawn_sandbox_app().await;
    let (id, _, number) = neighborhood(&app).await;
    let ana = "+15550022001";

    app.text(ana, &number, "UNIRME Ana Ruiz").await;
    let request = only_request(&app, &id).await;
    approve(&app, &id, &request).await;
    wait_until_synced(&app, &id, 2, WAIT).await;
    app.text(ana, &number, "AYUDA").await;
    texts_from(&app, ana, &number, 3).await;
    app.text(ana, &number, "salir").await;

    let texts = texts_from(&app, ana, &number, 4).await;
    assert_eq!(
        texts,
        [
            "¡Gracias, Ana Ruiz! Tu solicitud para unirte a Calle Olmo ya la tienen los capitanes; te escribiremos cuando estés dentro.",
            WELCOME_ES,
            "Calle Olmo: todo lo que escribas a este grupo llega a tus vecinos, firmado con tu nombre. Responde SALIR para salir, STOP para dejar de recibir textos.",
            "Saliste de Calle Olmo. Para volver, responde UNIRME y tu nombre.",
        ]
    );
    let ana_now = app.listed_member(&id, "display_name", "Ana Ruiz").await;
    assert_eq!(ana_now["status"], "left", "{ana_now}");
    assert_eq!(ana_now["language"], "es", "{ana_now}");
}

#[tokio::test]
async fn a_neighbor_asks_in_spanish_on_the_web_and_every_text_to_them_is_in_spanish() {
    let app = spawn_sandbox_app().await;
    let (id, slug, number) = neighborhood(&app).await;
    let beto = "+15550022002";

    let refused = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}"),
            &json!({"name": "Beto", "phone": beto, "consent": true, "language": "fr"}),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "language", "{refused}");
    let asked = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}"),
            &json!({"name": "Beto", "phone": beto, "consent": true, "language": "es"}),
            202,
        )
        .await;
    let code_text = texts_from(&app, beto, &number, 1).await.remove(0);
    let code: String = code_text.chars().take(6).collect();
    assert_eq!(
        code_text,
        format!("{code} es tu clave para unirte a Calle Olmo. Vence en 10 minutos.")
    );
    app.post(
        &Who::Anonymous,
        &format!("/api/v1/join/{slug}/verify"),
        &json!({"request_id": asked["request_id"], "code": code}),
        200,
    )
    .await;
    let request = only_request(&app, &id).await;
    approve(&app, &id, &request).await;
    let texts = texts_from(&app, beto, &number, 2).await;
    assert_eq!(texts[1], WELCOME_ES);
}

#[tokio::test]
async fn each_member_gets_system_texts_in_their_own_language_and_can_change_it() {
    let app = spawn_sandbox_app().await;
    let (id, _, number) = neighborhood(&app).await;
    let (ana, bo) = ("+15550022003", "+15550022004");
    app.text(ana, &number, "UNIRME Ana").await;
    approve(&app, &id, &only_request(&app, &id).await).await;
    app.text(bo, &number, "JOIN Bo").await;
    let bo_request = poll_until(WAIT, "Bo's request", || async {
        let listed = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
                200,
            )
            .await;
        listed["items"].get(0).cloned()
    })
    .await;
    approve(&app, &id, &bo_request).await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    assert_eq!(texts_from(&app, ana, &number, 2).await[1], WELCOME_ES);
    assert_eq!(
        texts_from(&app, bo, &number, 2).await[1],
        "Welcome to Calle Olmo! Texts to this number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all texts, HELP for help."
    );

    // Bo prefers Spanish from now on; his next system text is in it, and nobody else hears.
    app.text(bo, &number, "Español").await;
    let bo_texts = texts_from(&app, bo, &number, 3).await;
    assert_eq!(
        bo_texts[2],
        "Listo: Calle Olmo te escribe en español desde ahora."
    );
    app.text(bo, &number, "LEAVE").await;
    let bo_texts = texts_from(&app, bo, &number, 4).await;
    assert_eq!(
        bo_texts[3],
        "You left Calle Olmo. Text JOIN and your name to this number to ask to rejoin.",
        "LEAVE is answered in the language of the word"
    );
    assert!(
        texts_from(&app, ana, &number, 2)
            .await
            .iter()
            .all(|text| !text.contains("Español") && !text.contains("LEAVE")),
        "keywords reach nobody else"
    );
}

/// Strangers whose language we do not know yet get the neighborhood's default; a captain sets it.
#[tokio::test]
async fn strangers_get_the_neighborhoods_default_language_which_captains_set() {
    let app = spawn_sandbox_app().await;
    let (id, _, number) = neighborhood(&app).await;
    let refused = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"default_language": "klingon"}),
            400,
        )
        .await;
    assert_eq!(
        refused["details"][0]["field"], "default_language",
        "{refused}"
    );
    let updated = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"default_language": "es"}),
            200,
        )
        .await;
    assert_eq!(updated["default_language"], "es");
    let stranger = "+15550022005";
    app.text(stranger, &number, "hola?").await;
    let texts = texts_from(&app, stranger, &number, 1).await;
    assert!(
        texts[0].starts_with(
            "Este es el grupo de texto del vecindario Calle Olmo. Para unirte, visita "
        ) && texts[0].ends_with(" o responde UNIRME y tu nombre."),
        "{}",
        texts[0]
    );
    // Their JOIN in English is answered in English: the word says which.
    app.text(stranger, &number, "JOIN Cy").await;
    let texts = texts_from(&app, stranger, &number, 2).await;
    assert!(
        texts[1].starts_with("Thanks, Cy! Your request"),
        "{}",
        texts[1]
    );
    let request = only_request(&app, &id).await;
    assert_eq!(request["language"], "en", "{request}");
}

/// The catch-up a new member gets is in their language too; its plural is the catalog's.
#[tokio::test]
async fn a_spanish_member_catches_up_in_spanish() {
    let app = spawn_sandbox_app().await;
    let (id, _, number) = neighborhood(&app).await;
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"catch_up": {"mode": "text", "messages": 5}}),
        200,
    )
    .await;
    wait_until_synced(&app, &id, 1, WAIT).await;
    app.text(OWNER, &number, "Hola vecinos").await;
    poll_until(WAIT, "the owner's message in the history", || async {
        let history = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/messages"),
                200,
            )
            .await;
        history["items"]
            .as_array()
            .filter(|items| !items.is_empty())
            .map(|_| ())
    })
    .await;
    let eva = "+15550022006";
    app.text(eva, &number, "UNIRME Eva").await;
    approve(&app, &id, &only_request(&app, &id).await).await;
    let texts = texts_from(&app, eva, &number, 3).await;
    assert_eq!(texts[1], WELCOME_ES);
    assert_eq!(
        texts[2],
        "Resumen de Calle Olmo, el mensaje reciente:\nOlga: Hola vecinos"
    );
}

/// Texts to captains are in each captain's language: the owner switched to Spanish hears of a
/// join request in Spanish.
#[tokio::test]
async fn a_spanish_captain_hears_of_join_requests_in_spanish() {
    let app = spawn_sandbox_app().await;
    let (id, _, number) = neighborhood(&app).await;
    wait_until_synced(&app, &id, 1, WAIT).await;
    app.text(OWNER, &number, "ESPAÑOL").await;
    texts_from(&app, OWNER, &number, 1).await;
    app.text("+15550022007", &number, "JOIN Pia").await;
    let texts = texts_from(&app, OWNER, &number, 2).await;
    assert_eq!(
        texts[1],
        "Nueva solicitud #1: Pia. Responde #approve 1 o #deny 1"
    );

    // Her #commands are answered in Spanish too.
    app.text(OWNER, &number, "#pending").await;
    app.text(OWNER, &number, "#approve").await;
    let texts = texts_from(&app, OWNER, &number, 4).await;
    assert_eq!(
        texts[2..],
        [
            "Esperando: #1 Pia. Responde #approve N o #deny N.",
            "Escribe el # de la solicitud, por ejemplo: #approve 12",
        ]
    );
}

/// `POST path` as an anonymous browser that reads Spanish first; the status and JSON body.
async fn post_in_spanish(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client(&Who::Anonymous)
        .post(app.url(path))
        .header("accept-language", "es-MX,es;q=0.9,en;q=0.5")
        .json(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn the_join_endpoints_answer_in_the_neighbors_language() {
    let app = spawn_sandbox_app().await;
    let (_, slug, number) = neighborhood(&app).await;
    let join = format!("/api/v1/join/{slug}");
    let careless = json!({"name": " ", "phone": "12", "consent": false});

    // The language the request names...
    let mut named = careless.clone();
    named["language"] = json!("es");
    let refused = app.post(&Who::Anonymous, &join, &named, 400).await;
    assert_eq!(
        refused["message"],
        "Hay 3 campos que no son válidos; mira los detalles."
    );
    let said: Vec<(&str, &str)> = refused["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| (d["field"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said,
        [
            ("name", "Escribe un nombre que verán tus vecinos."),
            (
                "phone",
                "`12` no es un número de teléfono al que podamos escribir."
            ),
            (
                "consent",
                "Acepta recibir los textos del grupo para unirte."
            ),
        ]
    );
    // ...else the browser's; English for neither (the neighborhood's default).
    let (status, refused) = post_in_spanish(
        &app,
        &join,
        &json!({"name": "Beto", "phone": "+15550022010", "consent": false}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        refused["message"],
        "`consent` no es válido: Acepta recibir los textos del grupo para unirte."
    );
    let refused = app.post(&Who::Anonymous, &join, &careless, 400).await;
    assert_eq!(refused["message"], "3 fields are invalid; see details.");
    assert_eq!(
        refused["details"][0]["message"],
        "Give a name neighbors will see."
    );

    // A phone outside the countries we text, named in Spanish.
    let (status, refused) = post_in_spanish(
        &app,
        &join,
        &json!({"name": "Beto", "phone": "+44 20 7946 0958", "consent": true}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        refused["details"][0]["message"],
        "Solo podemos escribir a números de EE. UU. o Canadá. Usa un número de allí."
    );

    // The request's state, and a wrong code: in the language of the request even when the
    // browser asks for none.
    let (status, asked) = post_in_spanish(
        &app,
        &join,
        &json!({"name": "Beto", "phone": "+15550022010", "consent": true}),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        asked["message"],
        "Te enviamos por texto una clave de 6 dígitos: escríbela para confirmar tu teléfono."
    );
    texts_from(&app, "+15550022010", &number, 1).await;
    let wrong = app
        .post(
            &Who::Anonymous,
            &format!("{join}/verify"),
            &json!({"request_id": asked["request_id"], "code": "000000x"}),
            400,
        )
        .await;
    assert_eq!(wrong["code"], "invalid_code");
    assert_eq!(
        wrong["message"],
        "Esa clave es incorrecta, venció o ya se usó. Pide unirte de nuevo para recibir otra."
    );
}
