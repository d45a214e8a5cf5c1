#!/usr/bin/env python3
"""Same-run comparison: Alembic autogenerate vs codegen, on equivalent schemas of 7 and 1,000 tables.

Each table: a UUID primary key with a server default, a text column, an enum column with an index,
a JSONB column with a GIN index, a numeric column, created_at/updated_at, and a foreign key (with its
index) to the previous table. Alembic needs a live database to autogenerate against; this script
starts a throwaway PostgreSQL 15 cluster of its own and removes it afterwards.

    pip install alembic sqlalchemy psycopg2-binary
    cargo build --release -p codegen
    python3 bench/alembic_vs_codegen.py

Timings are the median of several runs, each a fresh process (Alembic's cost includes importing
the models, as a user pays it; codegen's includes reading YAML and replaying its own output).
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODEGEN = os.path.join(ROOT, "target", "release", "codegen")
PG_BIN = os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin")


def as_postgres(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def start_cluster(base):
    data, sock = os.path.join(base, "data"), os.path.join(base, "sock")
    os.makedirs(sock)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres"); shutil.chown(sock, "postgres")
    subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]), check=True, capture_output=True)
    subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-w", "-l", os.path.join(base, "log"), "-o", f"-k {sock} -c listen_addresses='' -p 5999 -c fsync=off", "start"]), check=True, capture_output=True)
    return data, sock


def yaml_schema(n):
    out = ["enums:\n  state: [new, active, done]\ntables:\n"]
    for i in range(n):
        out.append(f"  t{i:04}:\n    timestamps: true\n    columns:\n")
        out.append("      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n")
        out.append("      name: text\n")
        out.append("      state: { type: state, default: new, index: true }\n")
        out.append("      doc: { type: jsonb, default: \"'{}'::jsonb\" }\n")
        out.append("      amount: { type: \"numeric(12,2)\", nullable: true }\n")
        if i:
            out.append(f"      parent_id: {{ type: uuid, nullable: true, references: t{i-1:04} }}\n")
    return "".join(out)


def sqlalchemy_models(n):
    out = ["import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql as pg\n",
           "metadata = sa.MetaData()\nstate = pg.ENUM('new', 'active', 'done', name='state')\n"]
    for i in range(n):
        parent = f"    sa.Column('parent_id', pg.UUID, sa.ForeignKey('t{i-1:04}.id'), nullable=True, index=True),\n" if i else ""
        out.append(
            f"t{i:04} = sa.Table('t{i:04}', metadata,\n"
            "    sa.Column('id', pg.UUID, primary_key=True, server_default=sa.text('gen_random_uuid()')),\n"
            "    sa.Column('name', sa.Text, nullable=False),\n"
            "    sa.Column('state', state, nullable=False, server_default='new', index=True),\n"
            "    sa.Column('doc', pg.JSONB, nullable=False, server_default=sa.text(\"'{}'::jsonb\")),\n"
            "    sa.Column('amount', sa.Numeric(12, 2), nullable=True),\n"
            "    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),\n"
            "    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.text('now()')),\n"
            f"{parent}"
            f"    sa.Index('t{i:04}_doc_gin_idx', 'doc', postgresql_using='gin'),\n"
            ")\n")
    return "".join(out)


ALEMBIC_RUN = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, {work!r})
from alembic.config import Config
from alembic import command
import models
cfg = Config()
cfg.set_main_option('script_location', {scripts!r})
cfg.set_main_option('sqlalchemy.url', {url!r})
cfg.attributes['target_metadata'] = models.metadata
command.revision(cfg, message='bench', autogenerate=True)
print(time.perf_counter() - start)
"""

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool
config = context.config
target_metadata = config.attributes['target_metadata']
connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix='sqlalchemy.', poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
"""


def time_alembic(work, n, url, runs):
    scripts = os.path.join(work, "alembic")
    os.makedirs(os.path.join(scripts, "versions"), exist_ok=True)
    with open(os.path.join(scripts, "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(scripts, "script.py.mako"), "w") as f:
        f.write('"""${message}"""\nrevision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\nfrom alembic import op\nimport sqlalchemy as sa\n${imports if imports else ""}\ndef upgrade():\n    ${upgrades if upgrades else "pass"}\ndef downgrade():\n    ${downgrades if downgrades else "pass"}\n')
    with open(os.path.join(work, "models.py"), "w") as f:
        f.write(sqlalchemy_models(n))
    times = []
    for _ in range(runs):
        shutil.rmtree(os.path.join(scripts, "versions")); os.makedirs(os.path.join(scripts, "versions"))
        wall = time.perf_counter()
        subprocess.run([sys.executable, "-c", ALEMBIC_RUN.format(work=work, scripts=scripts, url=url)], check=True, capture_output=True)
        times.append(time.perf_counter() - wall)
    return statistics.median(times)


def time_codegen(work, n, runs):
    schema = os.path.join(work, "schema.yaml")
    with open(schema, "w") as f:
        f.write(yaml_schema(n))
    times = []
    for _ in range(runs):
        out = os.path.join(work, "generated")
        shutil.rmtree(out, ignore_errors=True)
        wall = time.perf_counter()
        subprocess.run([CODEGEN, "--schema", schema, "--out", out], check=True, capture_output=True)
        times.append(time.perf_counter() - wall)
    return statistics.median(times)


def main():
    if not os.path.exists(CODEGEN):
        sys.exit(f"{CODEGEN} is missing: run `cargo build --release -p codegen` first")
    base = tempfile.mkdtemp(prefix="bench-alembic-")
    os.chmod(base, 0o755)
    data, sock = start_cluster(base)
    try:
        url = f"postgresql+psycopg2://postgres@/postgres?host={sock}&port=5999"
        for n, runs in ((7, 5), (1000, 3)):
            work = tempfile.mkdtemp(prefix=f"bench-{n}-")
            a = time_alembic(work, n, url, runs)
            c = time_codegen(work, n, runs)
            print(f"{n:>5} tables: alembic autogenerate {a*1e3:9.1f} ms | codegen {c*1e3:8.1f} ms | codegen is {a/c:5.1f}x faster")
            shutil.rmtree(work)
    finally:
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
