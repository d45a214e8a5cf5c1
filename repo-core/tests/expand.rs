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
        pub struct Case {
            #[repo(primary_key, default)]
            pub id: uuid::Uuid,
            /// Human-facing case reference.
            pub case_number: String,
            #[repo(phi)]
            pub patient_id: String,
            #[repo(phi)]
            pub notes: Option<String>,
            #[repo(default)]
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
