//! Texts to one neighbor in their own language, from Project Fluent catalogs: one file per
//! language under `locales/`, embedded in the binary. Adding a language is its file and one line
//! in [`SHIPPED`]; a test fails when a message of the English catalog is missing from another,
//! or uses other variables. Plurals and numbers are the catalog's (Fluent's select expressions
//! and `NUMBER()`), not ours.
//!
//! The captains' admin app has its own catalogs, `locales/app/<code>.ftl` (English complete;
//! another language may ship one later, and falls back to English message by message until it
//! does). Its messages are plain text and variables, like the public pages' (`page-…`), so the
//! browser fills them without Fluent; tests hold every admin file to the English one's messages
//! and the app's scripts to the English file's ids.
//!
//! Texts to the whole group (announcements, the neighbors' own messages) are never translated.

use std::collections::BTreeMap;
use std::sync::LazyLock;

pub use fluent_bundle::FluentValue;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unic_langid::LanguageIdentifier;

/// A shipped language: its BCP 47 code, its own name for itself, its catalog, and the admin
/// app's catalog if it has one.
struct Shipped {
    code: &'static str,
    name: &'static str,
    catalog: &'static str,
    app: Option<&'static str>,
}

/// The shipped languages; English first, the fallback for a message missing elsewhere.
const SHIPPED: [Shipped; 2] = [
    Shipped {
        code: "en",
        name: "English",
        catalog: include_str!("../locales/en.ftl"),
        app: Some(include_str!("../locales/app/en.ftl")),
    },
    Shipped {
        code: "es",
        name: "Español",
        catalog: include_str!("../locales/es.ftl"),
        app: None,
    },
];

/// One of the shipped languages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Language(usize);

impl Language {
    pub const ENGLISH: Self = Self(0);
    pub const SPANISH: Self = Self(1);

    /// Every shipped language, English first.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..SHIPPED.len()).map(Self)
    }

    /// The shipped language of a BCP 47 tag (`es`, `es-MX`, `EN_us`), by its primary subtag.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        SHIPPED
            .iter()
            .position(|shipped| shipped.code == primary)
            .map(Self)
    }

    /// The first shipped language of an `Accept-Language` header, by preference (`q`).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(f32, Self)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let language = Self::parse(parts.next()?)?;
                let weight = parts
                    .find_map(|part| part.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (weight > 0.0).then_some((weight, language))
            })
            .collect();
        // Stable: of equal weights, the first listed wins.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, language)| *language)
    }

    /// Its code (`en`, `es`).
    pub fn code(self) -> &'static str {
        SHIPPED[self.0].code
    }

    /// Its name in itself (`Español`).
    pub fn name(self) -> &'static str {
        SHIPPED[self.0].name
    }

    /// Every shipped code, for the API's descriptions and errors.
    pub fn codes() -> Vec<&'static str> {
        SHIPPED.iter().map(|shipped| shipped.code).collect()
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// A stored record names a language by its code; one no longer shipped reads as English, so
/// dropping a catalog never makes a record unreadable.
impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(Self::parse(&code).unwrap_or(Self::ENGLISH))
    }
}

static BUNDLES: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SHIPPED
        .iter()
        .map(|shipped| {
            let id: LanguageIdentifier = shipped.code.parse().expect("a shipped language code");
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Unicode isolation marks around each variable would make every SMS UCS-2.
            bundle.set_use_isolating(false);
            let resource = FluentResource::try_new(shipped.catalog.to_owned())
                .unwrap_or_else(|(resource, _)| resource);
            bundle.add_resource(resource).unwrap_or_else(|_| {
                tracing::error!(language = shipped.code, "a duplicate message in a catalog")
            });
            bundle
        })
        .collect()
});

/// The messages of the public pages (`page-…`) as patterns the page fills itself: their text
/// with each variable written `{$name}`. A page message is plain text and variables (a test
/// checks), so the browser needs no Fluent of its own. English fills what a language lacks. The
/// admin catalog's `app-shared-…` messages come along: the pages use the admin app's modules
/// that build forms and call the API (`dom.js`, `api.js`), and those speak through them.
pub fn page_messages(language: Language) -> BTreeMap<String, String> {
    static PAGES: LazyLock<Vec<BTreeMap<String, String>>> = LazyLock::new(|| {
        SHIPPED
            .iter()
            .map(|shipped| patterns(shipped.catalog, "page-"))
            .collect()
    });
    let mut messages = PAGES[Language::ENGLISH.0].clone();
    messages.extend(PAGES[language.0].clone());
    messages.extend(
        app_messages(language)
            .1
            .into_iter()
            .filter(|(id, _)| id.starts_with("app-shared-")),
    );
    messages
}

/// The admin app's messages (`locales/app/<code>.ftl`) as patterns, like [`page_messages`], and
/// the language they are in: `language` when it ships an admin catalog (English filling in any
/// message it lacks), English when it ships none.
pub fn app_messages(language: Language) -> (Language, BTreeMap<String, String>) {
    static APP: LazyLock<Vec<BTreeMap<String, String>>> = LazyLock::new(|| {
        SHIPPED
            .iter()
            .map(|shipped| {
                shipped
                    .app
                    .map(|catalog| patterns(catalog, "app-"))
                    .unwrap_or_default()
            })
            .collect()
    });
    let mut messages = APP[Language::ENGLISH.0].clone();
    if SHIPPED[language.0].app.is_none() {
        return (Language::ENGLISH, messages);
    }
    messages.extend(APP[language.0].clone());
    (language, messages)
}

/// The messages of `catalog` whose id starts with `prefix`, as plain patterns; one that is not
/// plain (a select, a function) is left out, and a test fails on it first.
fn patterns(catalog: &str, prefix: &str) -> BTreeMap<String, String> {
    let Ok(resource) = fluent_syntax::parser::parse(catalog) else {
        return BTreeMap::new();
    };
    resource
        .body
        .iter()
        .filter_map(|entry| match entry {
            ast::Entry::Message(message) if message.id.name.starts_with(prefix) => {
                let pattern = message.value.as_ref()?;
                Some((message.id.name.to_owned(), plain_pattern(pattern)?))
            }
            _ => None,
        })
        .collect()
}

/// A pattern of text and variables written out, `{$name}` for each variable; None for anything
/// else (a select, a function), which a page cannot fill.
fn plain_pattern(pattern: &ast::Pattern<&str>) -> Option<String> {
    let mut out = String::new();
    for element in &pattern.elements {
        match element {
            ast::PatternElement::TextElement { value } => out.push_str(value),
            ast::PatternElement::Placeable {
                expression: ast::Expression::Inline(ast::InlineExpression::VariableReference { id }),
            } => {
                out.push_str("{$");
                out.push_str(id.name);
                out.push('}');
            }
            ast::PatternElement::Placeable {
                expression: ast::Expression::Inline(ast::InlineExpression::StringLiteral { value }),
            } => out.push_str(value),
            ast::PatternElement::Placeable { .. } => return None,
        }
    }
    Some(out)
}

/// A message's variables: `("neighborhood", "Elm Street".into())`, `("max", 40.into())`.
pub type Args<'a> = [(&'a str, FluentValue<'a>)];

/// The message `id` in `language` with `args`; English when the language lacks it (never shipped
/// that way: the catalog test fails first), the id itself when English does too.
pub fn text(language: Language, id: &str, args: &Args<'_>) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    for candidate in [language, Language::ENGLISH] {
        let bundle = &BUNDLES[candidate.0];
        let Some(pattern) = bundle.get_message(id).and_then(|message| message.value()) else {
            continue;
        };
        let mut errors = Vec::new();
        let formatted = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(
                id,
                language = candidate.code(),
                ?errors,
                "a message did not format cleanly"
            );
        }
        return formatted.into_owned();
    }
    tracing::error!(id, "no catalog has this message");
    id.to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Each message of a catalog with the variables it uses.
    fn messages(catalog: &str) -> BTreeMap<String, BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(catalog).expect("a catalog that parses");
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                ast::Entry::Message(message) => {
                    let mut variables = BTreeSet::new();
                    if let Some(pattern) = &message.value {
                        variables_of(pattern, &mut variables);
                    }
                    Some((message.id.name.to_owned(), variables))
                }
                _ => None,
            })
            .collect()
    }

    fn variables_of(pattern: &ast::Pattern<&str>, found: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, found);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, found: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Inline(inline) => inline_variables(inline, found),
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, found);
                for variant in variants {
                    variables_of(&variant.value, found);
                }
            }
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, found: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                found.insert(id.name.to_owned());
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for argument in &arguments.positional {
                    inline_variables(argument, found);
                }
            }
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, found);
            }
            _ => {}
        }
    }

    #[test]
    fn every_language_has_every_english_message_with_the_same_variables() {
        let english = messages(SHIPPED[0].catalog);
        assert!(english.len() > 10, "the English catalog reads: {english:?}");
        for shipped in &SHIPPED[1..] {
            let other = messages(shipped.catalog);
            for (id, variables) in &english {
                assert_eq!(
                    other.get(id),
                    Some(variables),
                    "{}: message `{id}` missing or with other variables",
                    shipped.code
                );
            }
            let extra: Vec<&String> = other
                .keys()
                .filter(|id| !english.contains_key(*id))
                .collect();
            assert!(
                extra.is_empty(),
                "{}: messages English lacks: {extra:?}",
                shipped.code
            );
        }
    }

    #[test]
    fn catalogs_parse_without_errors_and_format_without_isolation_marks() {
        for shipped in &SHIPPED {
            assert!(
                FluentResource::try_new(shipped.catalog.to_owned()).is_ok(),
                "{} does not parse",
                shipped.code
            );
        }
        let text = text(
            Language::SPANISH,
            "left",
            &[("neighborhood", "Elm Street".into())],
        );
        assert_eq!(
            text,
            "Saliste de Elm Street. Para volver, responde UNIRME y tu nombre."
        );
    }

    #[test]
    fn every_page_message_is_plain_text_and_variables() {
        for shipped in &SHIPPED {
            let all: Vec<String> = messages(shipped.catalog)
                .into_keys()
                .filter(|id| id.starts_with("page-"))
                .collect();
            let plain = patterns(shipped.catalog, "page-");
            for id in &all {
                assert!(
                    plain.contains_key(id),
                    "{}: `{id}` is not plain",
                    shipped.code
                );
            }
        }
        let spanish = page_messages(Language::SPANISH);
        assert_eq!(
            spanish.get("page-join-title").map(String::as_str),
            Some("Unirte a {$neighborhood}")
        );
    }

    #[test]
    fn every_admin_message_is_plain_text_and_variables() {
        for (code, catalog) in SHIPPED
            .iter()
            .filter_map(|shipped| Some((shipped.code, shipped.app?)))
        {
            assert!(
                FluentResource::try_new(catalog.to_owned()).is_ok(),
                "{code}: locales/app does not parse"
            );
            let all = messages(catalog);
            let resource = fluent_syntax::parser::parse(catalog).expect("it parses");
            let defined = resource
                .body
                .iter()
                .filter(|entry| matches!(entry, ast::Entry::Message(_)))
                .count();
            assert_eq!(defined, all.len(), "{code}: a message defined twice");
            let plain = patterns(catalog, "app-");
            for id in all.keys() {
                assert!(id.starts_with("app-"), "{code}: `{id}` lacks app-");
                assert!(
                    plain.contains_key(id),
                    "{code}: `{id}` is not plain text and variables"
                );
            }
        }
        let (served, english) = app_messages(Language::ENGLISH);
        assert_eq!(served, Language::ENGLISH);
        assert!(
            english.len() > 100,
            "the English admin catalog: {english:?}"
        );
        assert_eq!(
            english.get("app-members-count-other").map(String::as_str),
            Some("{$count} members")
        );
        assert_eq!(
            english
                .get("app-invite-phones-placeholder")
                .map(String::as_str),
            Some("+1 415 555 0123\n(415) 555-0199"),
            "a pattern of several lines keeps its line breaks"
        );
        // A language without an admin catalog gets English, and says so.
        for language in Language::all().filter(|language| SHIPPED[language.0].app.is_none()) {
            assert_eq!(app_messages(language), (Language::ENGLISH, english.clone()));
        }
    }

    #[test]
    fn every_shipped_admin_catalog_has_exactly_the_english_messages_and_variables() {
        let english = messages(SHIPPED[0].app.expect("the English admin catalog"));
        for shipped in &SHIPPED[1..] {
            if let Some(catalog) = shipped.app {
                assert_eq!(
                    messages(catalog),
                    english,
                    "{}: locales/app differs from English in its messages or variables",
                    shipped.code
                );
            }
        }
    }

    #[test]
    fn the_public_pages_get_the_shared_admin_messages_and_no_other() {
        let pages = page_messages(Language::SPANISH);
        assert!(pages.contains_key("app-shared-network"));
        assert!(
            pages
                .keys()
                .all(|id| id.starts_with("page-") || id.starts_with("app-shared-"))
        );
    }

    /// Every quoted `'app-…'` in `source` (single, double or back quotes, closed by the same):
    /// the message ids the admin app's scripts name. Ids are always written whole, never
    /// assembled, so this finds every one (one assembled from pieces shows up as an unknown id).
    fn quoted_ids(source: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let bytes = source.as_bytes();
        for (at, _) in source.match_indices("app-") {
            let Some(quote) = at.checked_sub(1).map(|before| bytes[before]) else {
                continue;
            };
            if !matches!(quote, b'\'' | b'"' | b'`') {
                continue;
            }
            let rest = &source[at..];
            let length = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                .unwrap_or(rest.len());
            if rest.as_bytes().get(length) == Some(&quote) {
                ids.push(rest[..length].to_owned());
            }
        }
        ids
    }

    fn scripts(folder: &std::path::Path, found: &mut Vec<(String, String)>) {
        let entries = std::fs::read_dir(folder).expect("ui/app is readable");
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                scripts(&path, found);
            } else if path.extension().is_some_and(|extension| extension == "js") {
                let source = std::fs::read_to_string(&path).expect("a script");
                found.push((path.display().to_string(), source));
            }
        }
    }

    #[test]
    fn the_admin_app_names_only_messages_of_its_catalog_and_uses_them_all() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/app");
        let mut files = Vec::new();
        scripts(&folder, &mut files);
        assert!(files.len() > 10, "the admin app's scripts: {files:?}");
        let english = messages(SHIPPED[0].app.expect("the English admin catalog"));
        let mut used = BTreeSet::new();
        for (path, source) in &files {
            for id in quoted_ids(source) {
                assert!(
                    english.contains_key(&id),
                    "{path} names `{id}`, which locales/app/en.ftl lacks"
                );
                used.insert(id);
            }
        }
        let unused: Vec<&String> = english.keys().filter(|id| !used.contains(*id)).collect();
        assert!(
            unused.is_empty(),
            "messages of locales/app/en.ftl no script uses: {unused:?}"
        );
        assert_eq!(
            quoted_ids("t('app-a-b', x); \"app-c\" `app-d` 'app-e\" 'app-f-' + n"),
            ["app-a-b", "app-c", "app-d", "app-f-"]
        );
    }

    #[test]
    fn languages_are_read_from_tags_and_accept_language() {
        assert_eq!(Language::parse("es-MX"), Some(Language::SPANISH));
        assert_eq!(Language::parse("EN_us"), Some(Language::ENGLISH));
        assert_eq!(Language::parse("fr"), None);
        assert_eq!(
            Language::from_accept_language("fr-FR, es-419;q=0.8, en;q=0.5"),
            Some(Language::SPANISH)
        );
        assert_eq!(
            Language::from_accept_language("en;q=0.4, es;q=0.9"),
            Some(Language::SPANISH)
        );
        assert_eq!(Language::from_accept_language("es;q=0, de"), None);
        let stored: Language = serde_json::from_str("\"xx\"").expect("lenient");
        assert_eq!(stored, Language::ENGLISH);
        assert_eq!(
            serde_json::to_string(&Language::SPANISH).expect("json"),
            "\"es\""
        );
    }
}

/// The table of every shipped system text with sample values: language, message, encoding and
/// SMS segments, as `docs/system-texts.md` shows it (a test keeps that file current).
#[cfg(test)]
mod system_texts {
    use super::*;
    use crate::domain::segments::{self, Encoding};

    /// Values as long as typical ones: a neighborhood name of 11 characters, a join link.
    fn samples() -> Vec<(&'static str, FluentValue<'static>)> {
        vec![
            ("neighborhood", "Maple Court".into()),
            ("name", "Ana Ruiz".into()),
            ("code", "123456".into()),
            ("link", "https://text.example.org/join/maple-court".into()),
            ("length", 46.into()),
            ("max", 40.into()),
            ("count", 3.into()),
            ("host", "crm.example.org".into()),
        ]
    }

    fn ids() -> Vec<String> {
        let resource = fluent_syntax::parser::parse(SHIPPED[0].catalog).expect("English parses");
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
                _ => None,
            })
            // Texts, not the pages' words, the consent shown on them or the API's answers.
            .filter(|id| {
                !["page-", "consent-", "input-", "api-"]
                    .iter()
                    .any(|prefix| id.starts_with(prefix))
            })
            .collect()
    }

    fn table() -> String {
        let mut out = String::from(
            "# System texts: encoding and SMS segments\n\n\
             Generated by `cargo test --lib system_texts` from `locales/`, with a neighborhood \
             named \"Maple Court\", a member named \"Ana Ruiz\" and a join link of 41 characters. \
             GSM-7 carries 160 characters in one segment (153 each when split); UCS-2, which one \
             character outside GSM-7 (such as á, í, ó, ú) forces on the whole text, 70 (67).\n\n\
             | language | message | characters | encoding | segments | first non-GSM character |\n\
             |---|---|--:|---|--:|---|\n",
        );
        for language in Language::all() {
            for id in ids() {
                let body = text(language, &id, &samples());
                let (encoding, segments) = segments::count(&body);
                let encoding = match encoding {
                    Encoding::Gsm7 => "GSM-7",
                    Encoding::Ucs2 => "UCS-2",
                };
                let first = segments::first_non_gsm(&body)
                    .map(|c| format!("`{c}`"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "| {} | `{id}` | {} | {encoding} | {segments} | {first} |\n",
                    language.code(),
                    body.chars().count()
                ));
            }
        }
        out
    }

    const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/system-texts.md");

    #[test]
    fn the_committed_table_of_system_texts_is_current() {
        let table = table();
        if std::env::var_os("NT_WRITE_SYSTEM_TEXTS").is_some() {
            std::fs::write(FILE, &table).expect("docs/system-texts.md written");
        }
        let committed = std::fs::read_to_string(FILE).unwrap_or_default();
        assert!(
            committed == table,
            "docs/system-texts.md is stale: run `NT_WRITE_SYSTEM_TEXTS=1 cargo test --lib system_texts` and commit it"
        );
    }

    /// Every catalog is written to cost no more segments than the English one.
    #[test]
    fn no_text_costs_more_segments_than_its_english_one() {
        for language in Language::all() {
            for id in ids() {
                let english = segments::count(&text(Language::ENGLISH, &id, &samples())).1;
                let other = segments::count(&text(language, &id, &samples())).1;
                assert!(
                    other <= english,
                    "{id}: {other} segments in {}, {english} in English",
                    language.code()
                );
            }
        }
    }
}
