//! Documentation of large schemas: the overview split into parts a person can read, every table
//! page with a diagram of its neighbours (Mermaid and SVG), and every Mermaid block within
//! GitHub's renderer limits (`maxTextSize` 50,000 characters, `maxEdges` 500).

mod common;
#[path = "../benches/scale/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use std::collections::BTreeMap;

use codegen::GeneratedFile;
use codegen::docs::mermaid::{MAX_EDGES, MAX_NEIGHBOURS, MAX_TEXT};
use codegen::docs::parts::READABLE_TABLES;
use common::markdown::mermaid_blocks;
use model::Catalog;

fn load(text: &str) -> Catalog {
    model::load_schema("schema.yaml", text).unwrap_or_else(|errors| panic!("{errors}"))
}

fn by_path(files: &[GeneratedFile]) -> BTreeMap<String, &str> {
    files
        .iter()
        .map(|f| (f.path.display().to_string(), f.contents.as_str()))
        .collect()
}

/// Entity names and the number of relationship lines of an `erDiagram`.
fn entities_and_edges(block: &str) -> (Vec<String>, usize) {
    let mut entities = Vec::new();
    let mut edges = 0;
    for line in block.lines().skip(1) {
        let line = line.trim();
        if let Some(name) = line.strip_suffix(" {") {
            entities.push(name.to_string());
        } else if line.contains(" : ") {
            edges += 1;
        }
    }
    (entities, edges)
}

fn assert_within_limits(path: &str, block: &str) {
    let (_, edges) = entities_and_edges(block);
    assert!(
        block.chars().count() <= MAX_TEXT,
        "{path}: {} characters",
        block.chars().count()
    );
    assert!(edges <= MAX_EDGES, "{path}: {edges} edges");
}

/// The `data-table` of every box of an SVG, which must parse.
fn svg_tables(path: &str, svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{path}: {e}"));
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("table"))
        .filter_map(|n| n.attribute("data-table").map(str::to_string))
        .collect()
}

#[test]
fn a_thousand_tables_are_split_into_readable_parts_within_mermaid_limits() {
    let n = 1000;
    let catalog = load(&synthetic::schema_yaml(n, false));
    let files = codegen::docs::generate(&catalog);
    let files = by_path(&files);

    // ERD.md is an index: no diagram, a link to every part.
    let erd = files["docs/ERD.md"];
    assert!(mermaid_blocks(erd).is_empty());
    assert!(!files.contains_key("docs/erd.svg"));
    let readme = files["docs/README.md"];
    assert!(
        !readme.contains("erd.svg"),
        "the index embeds no giant image"
    );

    let part_pages: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("docs/erd/") && p.ends_with(".md"))
        .collect();
    assert!(
        part_pages.len() >= n / READABLE_TABLES,
        "{}",
        part_pages.len()
    );
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut inner_edges = 0;
    for path in &part_pages {
        let stem = path.trim_start_matches("docs/erd/").trim_end_matches(".md");
        assert!(
            erd.contains(&format!("(erd/{stem}.md)")),
            "{stem} not linked"
        );
        let page = files[path.as_str()];
        let blocks = mermaid_blocks(page);
        assert_eq!(blocks.len(), 1, "{path}");
        assert_within_limits(path, &blocks[0]);
        let (entities, edges) = entities_and_edges(&blocks[0]);
        assert!(
            entities.len() <= READABLE_TABLES,
            "{path}: {}",
            entities.len()
        );
        inner_edges += edges;
        for e in &entities {
            *seen.entry(e.clone()).or_default() += 1;
        }
        let svg = files[&format!("docs/erd/{stem}.svg")];
        let mut drawn = svg_tables(path, svg);
        let mut listed = entities.clone();
        drawn.sort();
        listed.sort();
        assert_eq!(drawn, listed, "{path}: the SVG draws the part's tables");
    }
    assert_eq!(seen.len(), n, "every table in a part");
    assert!(seen.values().all(|&k| k == 1), "each table in one part");
    // Groups of 40 chained tables are cut in at most two: most keys stay inside a part.
    let fks: usize = catalog.tables.iter().map(|t| t.foreign_keys.len()).sum();
    assert!(
        inner_edges * 10 >= fks * 8,
        "{inner_edges} of {fks} inside parts"
    );
}

#[test]
fn every_table_page_has_its_neighbourhood_in_mermaid_and_svg() {
    let n = 200;
    let catalog = load(&synthetic::schema_yaml(n, false));
    let files = codegen::docs::generate(&catalog);
    let files = by_path(&files);
    for t in &catalog.tables {
        let path = format!("docs/tables/{}.md", t.name);
        let page = files[path.as_str()];
        let blocks = mermaid_blocks(page);
        assert_eq!(blocks.len(), 1, "{path}");
        assert_within_limits(&path, &blocks[0]);
        let (entities, _) = entities_and_edges(&blocks[0]);
        assert!(page.contains(&format!("]({}.svg)", t.name)), "{path}");
        let svg = files[format!("docs/tables/{}.svg", t.name).as_str()];
        let mut drawn = svg_tables(&path, svg);
        let mut listed = entities.clone();
        drawn.sort();
        listed.sort();
        assert_eq!(
            drawn, listed,
            "{path}: SVG and Mermaid show the same tables"
        );
        assert!(listed.contains(&t.name));
        // The table's part is linked, and the part holds it.
        let part = page
            .split("[ERD](../erd/")
            .nth(1)
            .and_then(|rest| rest.split(".md)").next())
            .unwrap_or_else(|| panic!("{path}: no part link"));
        let part_page = files[format!("docs/erd/{part}.md").as_str()];
        assert!(part_page.contains(&format!("    {} {{", t.name)), "{path}");
    }
    // t00001 references t00000 and is referenced by t00002: three tables.
    let (entities, edges) = entities_and_edges(&mermaid_blocks(files["docs/tables/t00001.md"])[0]);
    assert_eq!(entities, ["t00000", "t00001", "t00002"]);
    assert_eq!(edges, 2);
}

#[test]
fn a_table_referenced_from_everywhere_shows_some_neighbours_and_lists_them_all() {
    let mut yaml = String::from(
        "tables:\n  hub:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
    );
    for i in 0..100 {
        yaml.push_str(&format!(
            "  spoke_{i:03}:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n      hub_id: {{ type: uuid, references: hub }}\n"
        ));
    }
    let catalog = load(&yaml);
    let files = codegen::docs::generate(&catalog);
    let files = by_path(&files);
    let page = files["docs/tables/hub.md"];
    let (entities, edges) = entities_and_edges(&mermaid_blocks(page)[0]);
    assert_eq!(entities.len(), MAX_NEIGHBOURS + 1);
    assert_eq!(edges, MAX_NEIGHBOURS);
    assert!(
        page.contains(&format!(
            "The diagram shows {MAX_NEIGHBOURS} of the 100 related tables"
        )),
        "{page}"
    );
    // ... and the relationships section names every one.
    for i in 0..100 {
        assert!(page.contains(&format!("[`spoke_{i:03}`](spoke_{i:03}.md)")));
    }
    assert_eq!(
        svg_tables("hub.svg", files["docs/tables/hub.svg"]).len(),
        MAX_NEIGHBOURS + 1
    );
    // 101 tables of one group: split, each part within the limits.
    for (path, text) in &files {
        if path.ends_with(".md") {
            for block in mermaid_blocks(text) {
                assert_within_limits(path, &block);
            }
        }
    }
}

#[test]
fn a_table_too_wide_for_mermaid_is_cut_with_a_note() {
    let mut yaml = String::from(
        "tables:\n  wide:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
    );
    for c in 0..1500 {
        yaml.push_str(&format!(
            "      a_rather_long_column_name_{c:04}: {{ type: text, comment: Something about it. }}\n"
        ));
    }
    let catalog = load(&yaml);
    let files = codegen::docs::generate(&catalog);
    let files = by_path(&files);
    for (path, text) in &files {
        if path.ends_with(".md") {
            for block in mermaid_blocks(text) {
                assert_within_limits(path, &block);
            }
        }
    }
    let page = files["docs/tables/wide.md"];
    assert!(
        page.contains("[Columns](#columns) lists them all"),
        "{page}"
    );
    // The columns table still lists every column.
    assert!(page.contains("`a_rather_long_column_name_1499`"));
}

#[test]
fn the_docs_of_a_large_schema_cost_linear_work() {
    // Not a timing: the number of files and their total size grow with the tables, so no page
    // lists the whole schema (the index pages excepted).
    let size = |n: usize| {
        let catalog = load(&synthetic::schema_yaml(n, false));
        let files = codegen::docs::generate(&catalog);
        let pages: usize = files
            .iter()
            .filter(|f| f.path.starts_with("docs/tables") || f.path.starts_with("docs/erd"))
            .map(|f| f.contents.len())
            .sum();
        (files.len(), pages)
    };
    let (files_a, bytes_a) = size(400);
    let (files_b, bytes_b) = size(1600);
    assert!(files_b <= files_a * 4 + 8, "{files_a} -> {files_b} files");
    let ratio = bytes_b as f64 / bytes_a as f64;
    assert!((3.5..4.5).contains(&ratio), "{bytes_a} -> {bytes_b} bytes");
}

/// The pages of `rendered` by path, and each table page's key by the path of its Markdown file.
fn page_keys(rendered: &codegen::docs::Rendered) -> BTreeMap<String, String> {
    rendered
        .pages
        .iter()
        .map(|p| (p.files[0].display().to_string(), p.key.clone()))
        .collect()
}

#[test]
fn a_table_page_keeps_its_key_exactly_while_what_it_is_rendered_from_is_unchanged() {
    let n = 300;
    let base = load(&synthetic::schema_yaml(n, false));
    let edited = load(&synthetic::schema_yaml(n, true));
    let render = |catalog: &Catalog, renderer: &str| {
        codegen::docs::generate_reusing(catalog, renderer, &|_| false)
    };
    let before = render(&base, "build 1");
    let after = render(&edited, "build 1");
    let (before_keys, after_keys) = (page_keys(&before), page_keys(&after));
    let (before_files, after_files) = (by_path(&before.files), by_path(&after.files));
    assert_eq!(before_keys.len(), n);
    assert_eq!(after.pages.len(), n);

    // Same key, same files; the edited table and its neighbours (parent, child, and for a
    // multiple of 50 the owner `t00000`) get new keys, every other table keeps its own.
    let mut changed = Vec::new();
    for page in &after.pages {
        let md = page.files[0].display().to_string();
        if before_keys[&md] == page.key {
            for file in &page.files {
                let path = file.display().to_string();
                assert_eq!(before_files[&path], after_files[&path], "{path}");
            }
        } else {
            changed.push(md);
        }
    }
    let edited_table = synthetic::table(synthetic::edited(n));
    let page_of = |i: usize| format!("docs/tables/{}.md", synthetic::table(i));
    let mut expected = vec![
        page_of(synthetic::edited(n) - 1),
        page_of(synthetic::edited(n)),
        page_of(synthetic::edited(n) + 1),
        page_of(0),
    ];
    expected.sort();
    changed.sort();
    assert_eq!(changed, expected, "{edited_table} was edited");

    // Another renderer, or a change outside the tables (an enum's labels), changes every key.
    let rebuilt = page_keys(&render(&edited, "build 2"));
    let mut relabelled = edited.clone();
    relabelled.enums[0].values.push("archived".to_string());
    let relabelled = page_keys(&render(&relabelled, "build 1"));
    for (md, key) in &after_keys {
        assert_ne!(&rebuilt[md], key, "{md}");
        assert_ne!(&relabelled[md], key, "{md}");
    }

    // Pages the caller keeps are neither rendered nor listed among the files; the rest is the
    // same.
    let kept = codegen::docs::generate_reusing(&edited, "build 1", &|page| {
        page.files[0] != std::path::Path::new(&page_of(0))
    });
    let kept_files = by_path(&kept.files);
    assert!(kept.pages.iter().filter(|p| p.reused).count() == n - 1);
    for (path, contents) in &after_files {
        let is_page = path.starts_with("docs/tables/");
        let is_kept =
            is_page && !path.starts_with(&format!("docs/tables/{}.", synthetic::table(0)));
        assert_eq!(!kept_files.contains_key(path.as_str()), is_kept, "{path}");
        if !is_kept {
            assert_eq!(kept_files[path.as_str()], *contents, "{path}");
        }
    }
}
