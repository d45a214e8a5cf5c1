//! The expansion of `#[derive(Repository)]` for one table, pretty-printed and snapshot-tested,
//! and the validation errors, several at once.

use quote::quote;

fn pretty(tokens: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).unwrap_or_else(|e| panic!("expansion parses: {e}"));
    prettyplease::unparse(&file)
}

#[test]
fn expansion_of_a_soft_deleted_table_with_phi() {
    let input = quote! {
        #[derive(Repository)]
        #[repo(table = "cases")]
        #[repo(cascade = "files(id).case_id -> cases")]
        pub struct Case {
            #[repo(primary_key, random_uuid)]
            pub id: uuid::Uuid,
            /// Human-facing case reference.
            pub case_number: String,
            #[repo(phi)]
            pub patient_id: String,
            #[repo(phi)]
            pub notes: Option<String>,
            #[repo(default, find)]
            pub status: CaseStatus,
            #[repo(default, jsonb)]
            pub tags: serde_json::Value,
            #[repo(read_only, sort_key)]
            pub created_at: chrono::DateTime<chrono::Utc>,
            #[repo(soft_delete)]
            pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
        }
    };
    insta::assert_snapshot!(pretty(repo_core::derive_repository(input)));
}

#[test]
fn table_without_soft_delete_has_no_soft_delete_methods() {
    let input = quote! {
        #[repo(table = "notes", new = "NoteDraft", patch = "NoteEdit")]
        struct Note {
            #[repo(primary_key)]
            id: uuid::Uuid,
            #[repo(column = "type")]
            kind: String,
        }
    };
    let text = pretty(repo_core::derive_repository(input));
    assert!(!text.contains("fn soft_delete"), "{text}");
    assert!(!text.contains("fn restore"), "{text}");
    assert!(text.contains("struct NoteDraft"), "{text}");
    assert!(text.contains("struct NoteEdit"), "{text}");
    assert!(text.contains("values.push(\"type\", &new.kind)"), "{text}");
    // Ordered by the primary key alone.
    assert!(text.contains("type Key = (uuid::Uuid,);"), "{text}");
}

/// Every problem of one struct is reported, each at its place.
#[test]
fn all_errors_at_once() {
    let input = quote! {
        struct Bad {
            #[repo(pii, pii, colour = "red")]
            a: u32,
            #[repo(soft_delete)]
            b: chrono::DateTime<chrono::Utc>,
            #[repo(jsonb)]
            c: String,
        }
    };
    let model = syn::parse2::<syn::DeriveInput>(input).expect("parses");
    let errors: Vec<String> = match repo_core::model::Model::from_input(&model) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    };
    let expected = [
        "duplicate attribute `pii`",
        "unknown attribute `colour`",
        "cannot map this field type",
        "must be nullable",
        "`jsonb` fields must be `serde_json::Value`",
        "missing #[repo(table",
        "no primary key",
    ];
    for e in expected {
        assert!(
            errors.iter().any(|m| m.contains(e)),
            "no `{e}` in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
}

/// An encrypted field is bound through `push_encrypted` (encrypted when the statement runs),
/// decoded through `decrypt_column`, flagged in the table's metadata and named in the docs.
#[test]
fn encrypted_fields_are_sealed_on_write_and_opened_on_read() {
    let input = quote! {
        #[repo(table = "notes")]
        pub struct Note {
            #[repo(primary_key, default)]
            pub id: uuid::Uuid,
            #[repo(encrypted, phi)]
            pub secret: String,
            #[repo(encrypted, column = "remark", default)]
            pub aside: Option<String>,
            pub title: String,
        }
    };
    let text = pretty(repo_core::derive_repository(input));
    // Compared without whitespace and trailing commas: prettyplease wraps long calls.
    let squeezed = text
        .split_whitespace()
        .collect::<String>()
        .replace(",)", ")");
    for expected in [
        "values.push_encrypted(\"secret\", &new.secret);",
        "values.push_encrypted(\"remark\", value);",
        "values.push(\"title\", &new.title);",
        "secret: ::repo_runtime::__private::decrypt_column(row, 1usize, data_key, \"notes\", \"secret\")?",
        "aside: ::repo_runtime::__private::decrypt_column(row, 2usize, data_key, \"notes\", \"remark\")?",
        "title: ::repo_runtime::__private::column(row, 3usize, &types[3usize])?",
        "data_key: ::core::option::Option<&::repo_runtime::DataKey>)",
        "name: \"remark\",\n                pii: false,\n                phi: false,\n                encrypted: true,",
        "The encrypted columns (`secret`, `remark`)",
    ] {
        let expected: String = expected.split_whitespace().collect();
        assert!(squeezed.contains(&expected), "no `{expected}` in\n{text}");
    }
    assert_eq!(
        text.matches("push_encrypted(\"secret\"").count(),
        4,
        "insert and update, blocking and async: {text}"
    );
}

/// `encrypted` only on text fields, not twice, and never where SQL must compare the value;
/// reported together with the struct's other problems.
#[test]
fn encrypted_misuses_are_all_reported() {
    let input = quote! {
        #[repo(table = "notes")]
        struct Bad {
            #[repo(primary_key, encrypted)]
            id: uuid::Uuid,
            #[repo(encrypted)]
            age: i32,
            #[repo(encrypted)]
            blob: Option<Vec<u8>>,
            #[repo(encrypted, encrypted)]
            twice: String,
            #[repo(sort_key, encrypted)]
            rank: String,
            #[repo(colour)]
            other: String,
        }
    };
    let model = syn::parse2::<syn::DeriveInput>(input).expect("parses");
    let errors: Vec<String> = match repo_core::model::Model::from_input(&model) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    };
    let expected = [
        "`encrypted` cannot be combined with `primary_key`",
        "`encrypted` fields must be `String`",
        "`encrypted` fields must be `String`",
        "`encrypted` fields must be `String`",
        "duplicate attribute `encrypted`",
        "`encrypted` cannot be combined with `sort_key`",
        "unknown attribute `colour`",
    ];
    for e in expected {
        assert_eq!(
            errors.iter().filter(|m| m.contains(e)).count(),
            expected.iter().filter(|x| **x == e).count(),
            "`{e}` in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
}
