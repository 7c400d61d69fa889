//! Display names with quotes, commas, other scripts and line-separator look-alikes: stored as
//! typed, RFC 2047 encoded or quoted in the sent message, never an extra header or recipient,
//! and escaped in the settings page.

use app::senders::test_send::TestEvent;

use crate::raw_message::{decode_mailbox, header_fields, occurs_only_as_text, single_field};
use crate::senders::{Form, app_for, last, starttls_server};

/// The header fields lettre writes for a test message without a reply-to address.
const EXPECTED_FIELDS: [&str; 7] = [
    "From",
    "To",
    "Subject",
    "Message-ID",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Date",
];

#[tokio::test]
async fn names_never_add_headers_or_recipients() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let names = [
        "Ana\", victim@example.com, \"Bob",
        "Ana <victim@example.com>, Bob",
        "Ana\u{2028}Bcc: victim@example.com",
        "Ana\u{2029}To: victim@example.com",
        "Ana\u{ff0c} victim\u{ff20}example.com",
        "=?utf-8?q?Ana?= =?utf-8?q?=0D=0ABcc:_victim@example.com?=",
        "Ana; Bcc: victim@example.com",
    ];

    for name in names {
        let events = app
            .test_send(&Form::starttls(harness.port).set("display_name", name))
            .await;

        assert!(
            matches!(last(&events), TestEvent::Succeeded { .. }),
            "{name:?}: {events:?}"
        );
        let message = harness.next_message().await;
        assert_eq!(message["rcptTo"], serde_json::json!(["ana@example.com"]), "{name:?}");
        let raw = message["raw"].as_str().unwrap();
        for (field, _) in header_fields(raw) {
            let known = EXPECTED_FIELDS
                .iter()
                .any(|expected| expected.eq_ignore_ascii_case(&field));
            assert!(known, "{name:?} added the field {field:?}: {raw}");
        }
        assert_eq!(single_field(raw, "To"), "ana@example.com", "{name:?}");
        let (decoded, address) = decode_mailbox(&single_field(raw, "From"));
        assert_eq!(decoded, name);
        assert_eq!(address, "sales@example.com", "{name:?}");
    }
}

#[tokio::test]
async fn names_in_any_script_round_trip() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let names = [
        "\"Zoé, \"Ventes\" 📨",
        "営業部",
        "Отдел продаж",
        "فريق المبيعات",
        "Ventes & <Support>",
    ];

    for (index, name) in names.into_iter().enumerate() {
        let form = Form::starttls(harness.port)
            .set("display_name", name)
            .set("email", format!("sales{index}@example.com"));
        app.test_send(&form).await;
        let saved = app.saved(&form).await;
        let raw = harness.next_message().await["raw"].as_str().unwrap().to_owned();

        assert_eq!(saved.display_name, name);
        let from = single_field(&raw, "From");
        assert!(from.is_ascii(), "{from}");
        if !name.is_ascii() {
            assert!(from.starts_with("=?utf-8?"), "{name}: {from}");
        }
        assert_eq!(decode_mailbox(&from).0, name);
    }

    let listed: Vec<String> = app
        .senders()
        .await
        .senders
        .into_iter()
        .map(|sender| sender.display_name)
        .collect();
    assert_eq!(listed.len(), names.len());
    for name in names {
        assert!(listed.iter().any(|listed| listed == name), "{name} in {listed:?}");
    }

    let page = app.get("/settings").await.text().await.unwrap();
    // The sender island also receives the list as JSON in an escaped attribute.
    let visible = without_island_props(&page);
    for name in names {
        let escaped = name.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(visible.contains(&escaped), "{name} is shown: {page}");
        assert!(occurs_only_as_text(&visible, &escaped), "{name} inside a tag: {page}");
    }
    assert!(!page.contains("<Support>"), "the markup is escaped");
}

/// Returns `page` with the values of its `data-props` attributes removed. Their quotes are
/// escaped, so each value ends at the next `"`.
fn without_island_props(page: &str) -> String {
    const ATTRIBUTE: &str = " data-props=\"";
    let mut rest = page;
    let mut page_text = String::new();
    while let Some(start) = rest.find(ATTRIBUTE) {
        let value = &rest[start + ATTRIBUTE.len()..];
        let end = value.find('"').expect("the props attribute is closed");
        page_text.push_str(&rest[..start]);
        rest = &value[end + 1..];
    }
    page_text.push_str(rest);
    page_text
}
