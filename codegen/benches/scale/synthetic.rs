//! Synthetic schemas of any size, as `schema.yaml` and as the equivalent SQLAlchemy models.
//!
//! Every table has eight columns in the style of the real schema: a UUID primary key with a
//! server default, a text column, an enum column with an index, a JSONB column (GIN-indexed), a
//! numeric column, a foreign key, and `created_at`/`updated_at`. Tables come in groups of 40
//! chained by `parent_id` (the first of a group references nothing), and every 50th table has an
//! `owner_id` referencing the first table, which so becomes a hub with many neighbours: the docs
//! see long chains, a table referenced from everywhere, and groups joined through the hub.

/// The name of table `i`.
pub fn table(i: usize) -> String {
    format!("t{i:05}")
}

/// The foreign-key columns of table `i` and the table each references, in column order:
/// `parent_id` the previous table but in the first of a group, `owner_id` table 0 in every 50th.
fn foreign_keys(i: usize) -> Vec<(&'static str, usize)> {
    let parent = (!i.is_multiple_of(40)).then(|| ("parent_id", i - 1));
    let owner = (i > 0 && i.is_multiple_of(50)).then_some(("owner_id", 0));
    parent.into_iter().chain(owner).collect()
}

/// The table the one-column edit changes.
pub fn edited(n: usize) -> usize {
    n / 2
}

/// `schema.yaml` for `n` tables; with `edit`, table [`edited`] has one more column (`note`).
pub fn schema_yaml(n: usize, edit: bool) -> String {
    let mut yaml = String::from("enums:\n  state: [new, active, done]\ntables:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  {}:\n    timestamps: true\n    columns:\n",
            table(i)
        ));
        yaml.push_str("      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n");
        yaml.push_str("      name: text\n");
        yaml.push_str("      state: { type: state, default: new, index: true }\n");
        yaml.push_str("      doc: { type: jsonb, default: \"'{}'::jsonb\" }\n");
        yaml.push_str("      amount: { type: \"numeric(12,2)\", nullable: true }\n");
        for (column, target) in foreign_keys(i) {
            yaml.push_str(&format!(
                "      {column}: {{ type: uuid, nullable: true, references: {} }}\n",
                table(target)
            ));
        }
        if edit && i == edited(n) {
            yaml.push_str("      note: { type: text, nullable: true }\n");
        }
    }
    yaml
}

/// The same schema as SQLAlchemy Core tables (`metadata`), for Alembic's autogenerate.
pub fn sqlalchemy_models(n: usize, edit: bool) -> String {
    let mut py = String::from(
        "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql as pg\n\n\
         metadata = sa.MetaData()\nstate = pg.ENUM('new', 'active', 'done', name='state')\n\n",
    );
    for i in 0..n {
        let name = table(i);
        py.push_str(&format!(
            "{name} = sa.Table('{name}', metadata,\n\
             \x20   sa.Column('id', pg.UUID, primary_key=True, server_default=sa.text('gen_random_uuid()')),\n\
             \x20   sa.Column('name', sa.Text, nullable=False),\n\
             \x20   sa.Column('state', state, nullable=False, server_default='new', index=True),\n\
             \x20   sa.Column('doc', pg.JSONB, nullable=False, server_default=sa.text(\"'{{}}'::jsonb\")),\n\
             \x20   sa.Column('amount', sa.Numeric(12, 2), nullable=True),\n"
        ));
        for (column, target) in foreign_keys(i) {
            py.push_str(&format!(
                "    sa.Column('{column}', pg.UUID, sa.ForeignKey('{}.id'), nullable=True, index=True),\n",
                table(target)
            ));
        }
        py.push_str(
            "    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),\n\
             \x20   sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),\n",
        );
        if edit && i == edited(n) {
            py.push_str("    sa.Column('note', sa.Text, nullable=True),\n");
        }
        py.push_str(&format!(
            "    sa.Index('{name}_doc_idx', 'doc', postgresql_using='gin'),\n)\n"
        ));
    }
    py
}
