"""Retrieval benchmark: search and pack latency as one spirit grows, against the bare SQL.

Called by bench/run.py (`--case retrieval`, or all cases). In its throwaway database it makes
`others` spirits of `other_size` memories each plus one measured spirit that grows in `steps`
(default 10,000 -> 30,000 -> 100,000 memories; with the 9 others of 10,000: 100,000 -> 120,000
-> 190,000 rows in the table). Rows are written with binary COPY (psycopg `cursor.copy`) into
memories_memory; PostgreSQL computes the stored `search_vector` (a generated column) itself.
Before a large load the HNSW and GIN indexes are dropped and rebuilt after it (their own
definitions, read from pg_indexes), with maintenance_work_mem raised; a small load goes
through the live indexes. Then VACUUM ANALYZE and a CHECKPOINT (so the load's dirty pages are
not written while the step is measured).

The data: memory texts built from templates and word lists (people, projects, tools,
places, problems, decisions, preferences...) with filler sentences, 100-400 characters, so the
real-text queries match at a realistic selectivity (some match nothing with every word, as real
questions do). Vectors are unit vectors made of the real embeddings (offline model) of the
memory's template and slot words, plus Gaussian noise (seeded numpy): random enough for the
bulk, yet the queries' real embeddings have true neighbours. importance ~ Beta(2, 3), created_at
over two years (more recent ones), status mostly active (85%), tiers hot/warm/cold.

Measured per step, after a warm-up pass, `rounds` passes over `queries` real questions
(embedded per call with the offline embedder, as the service does):

  embed   the query embedding alone;
  search  `search(spirit, SearchQuery(text=q, k=10, kinds=("memories",)))`, embedding included;
  pack    `compile_pack(spirit, PackRequest(query=q, max_tokens=2000), persist=False)`;
  bare    the exact SQL the search ran for that query (captured during the warm-up pass):
          the vector query (in a transaction with the same hnsw settings) and the text query
          (BM25 over the same words), each timed alone on the raw psycopg cursor, with
          no embedding; `bare` = vector + text per query;
  pack_bare  the same for the pack's own vector and text statements (its three kinds, each
          list as deep as the preset's limits ask, with the columns its items are made of):
          the pack's ratio is against these.

It prints the p50/p95 table, the ratios service/bare and pack/bare, the table and index sizes,
the slowest text query (with its number of matches), and per step the first lines of EXPLAIN
ANALYZE of the vector query and of the slowest text query (a note when the plan does not use
the HNSW index). Without `memories.packs` the pack rows read "pack compiler not available".
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

STEPS = (10_000, 30_000, 100_000)
OTHER_SPIRITS = 9
OTHER_SIZE = 10_000
ROUNDS = 2
SEED = 20260
TARGET_PACK_P50_MS = 20.0
TARGET_PACK_P95_MS = 50.0
TARGET_RATIO = 3.0
# The scale issue's targets (`make bench-scale`): at SCALE_SIZE memories, pack and search p50 /
# p95 at most these, and their p95 at most SCALE_GROWTH x the first step's (100,000).
SCALE_SIZE = 1_000_000
SCALE_P50_MS = 15.0
SCALE_P95_MS = 40.0
SCALE_GROWTH = 1.5
INDEXES = ("memory_embedding_hnsw", "memory_search_gin")
REBUILD_FRACTION = 0.05  # drop and rebuild the indexes when a load adds more than this share
# (through the live HNSW index a COPY ran at ~210 rows/s here: 20,000 rows in 94 s; rebuilding
# 120,000 rows is faster)
MAINTENANCE_WORK_MEM = "2GB"  # the 190k-row HNSW graph (~400 MB) must fit for a fast build
PARALLEL_MAINTENANCE_WORKERS = 2
NOISE = 1.0  # norm of the Gaussian noise added to a memory's concept vector (norm 1)

# --- Word lists ----------------------------------------------------------------------------------

PEOPLE = [
    "Dana", "Marco", "Priya", "Lena", "Omar", "Kenji", "Sofia", "Ben", "Aisha", "Tomas",
    "Grace", "Ravi", "Elena", "Jonas", "Mei", "Carlos",
]  # fmt: skip
PROJECTS = [
    "billing migration", "Lisbon offsite", "Q3 report", "mobile app launch", "data warehouse",
    "onboarding flow", "pricing page", "search relevance", "nightly import", "customer portal",
    "security audit", "hiring plan", "design system", "support chatbot", "quarterly roadmap",
    "invoice export",
]  # fmt: skip
TOOLS = [
    "Postgres", "Redis", "Kubernetes", "Terraform", "Neovim", "VS Code", "Slack", "Jira",
    "Figma", "Python", "TypeScript", "Rust", "S3", "Airflow", "Grafana", "Notion", "Excel",
    "Docker",
]  # fmt: skip
PLACES = ["Lisbon", "Berlin", "Tokyo", "Austin", "Toronto", "Nairobi", "Madrid", "Seoul", "Dublin"]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
PROBLEMS = [
    "timeout", "memory leak", "deadlock", "permission error", "schema mismatch", "rate limit",
    "full disk", "expired certificate", "race condition", "missing index",
]  # fmt: skip
FIXES = [
    "adding an index", "raising the timeout", "retrying with backoff", "rotating the certificate",
    "growing the disk", "pinning the library version", "splitting the batch",
]  # fmt: skip
DECISIONS = [
    "postpone the launch by two weeks", "switch to weekly releases", "hire two more engineers",
    "move the standup to 10am", "cut the scope of the first version", "adopt feature flags",
    "freeze the API until the audit ends", "run a customer survey",
]  # fmt: skip
PREFERENCES = [
    "short answers", "bullet points", "detailed explanations", "dark mode", "morning meetings",
    "async updates over calls", "email over Slack", "metric units", "examples in Python",
    "a formal tone",
]  # fmt: skip
DIETS = [
    "vegetarian", "vegan", "allergic to peanuts", "lactose intolerant", "avoiding gluten",
    "fond of spicy food", "drinking only decaf coffee",
]  # fmt: skip
HOBBIES = [
    "climbing", "running marathons", "playing chess", "baking sourdough", "learning Japanese",
    "cycling to work", "painting watercolours", "birdwatching",
]  # fmt: skip
TEAMS = ["billing", "platform", "design", "sales", "support", "data", "security", "mobile"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
FILLERS = [
    "It came up during a long conversation about several unrelated topics.",
    "The agent noted it for future conversations.",
    "No follow-up was needed at the time.",
    "This was mentioned twice in the same week.",
    "The user said it was not urgent but worth remembering.",
    "Several tool calls were made to confirm the details.",
    "The information was later confirmed by email.",
    "It may change after the next quarterly review.",
    "The user sounded relieved once it was written down.",
    "A colleague was copied on the thread for context.",
]
# (memory_type, subject slot, template): slots are the word-list names in braces.
TEMPLATES = [
    ("user_profile", "person", "{person} prefers {preference} and asked to keep that in mind."),
    ("semantic", "project", "The deadline for the {project} is {month} {day}; {person} owns it."),
    ("episodic", "project", "{person} reported that the {project} failed: a {problem} in {tool}."),
    ("episodic", "project", "At the planning meeting we decided to {decision} for the {project}."),
    ("episodic", "place", "The user is travelling to {place} in {month} for the {project}."),
    ("user_profile", "person", "{person} is {diet}; remember it when booking team dinners."),
    ("semantic", "tool", "{person} uses {tool} every day, over {tool2}, for the {project}."),
    (
        "user_profile",
        "person",
        "{person} enjoys {hobby} on weekends (said at the {project} kickoff).",
    ),
    ("procedural", "problem", "The agent fixed the {problem} in {tool} by {fix}; {person} agreed."),
    ("semantic", "person", "{person} joined the {team} team in {year} and reports to {person2}."),
    (
        "semantic",
        "project",
        "The budget for the {project} is {amount} dollars, approved by {person}.",
    ),
    ("procedural", "project", "{person} wants a summary of the {project} every {weekday} morning."),
]
SLOTS: dict[str, list[str]] = {
    "person": PEOPLE,
    "person2": PEOPLE,
    "project": PROJECTS,
    "tool": TOOLS,
    "tool2": TOOLS,
    "place": PLACES,
    "month": MONTHS,
    "problem": PROBLEMS,
    "fix": FIXES,
    "decision": DECISIONS,
    "preference": PREFERENCES,
    "diet": DIETS,
    "hobby": HOBBIES,
    "team": TEAMS,
    "weekday": WEEKDAYS,
}
# Questions a user would ask an agent. The default text list (BM25) ranks the memories holding
# any of their words: common words match thousands of rows, as with real questions.
QUERIES = [
    "When is the deadline for the billing migration?",
    "Why did the nightly import fail?",
    "What does Dana prefer?",
    "Is Priya vegetarian?",
    "Where is the user travelling in October?",
    "Which code editor does Marco like to use?",
    "What did the team decide about the pricing page?",
    "Who owns the Q3 report?",
    "How did we fix the timeout in Postgres?",
    "What is the budget for the security audit?",
    "Which team did Omar join and who does he report to?",
    "Does anyone have a peanut allergy?",
    "What does Kenji do on weekends?",
    "Remind me what went wrong with Redis last time",
    "When do I need to send the summary of the customer portal?",
    "What tools does Sofia use every day?",
    "Who approved the budget for the mobile app launch?",
    "Did we decide to adopt feature flags?",
    "Is the Lisbon offsite still planned for May?",
    "What caused the deadlock in the data warehouse?",
    "How does Ben like his answers formatted?",
    "What is Aisha's preferred communication style?",
    "Has the expired certificate problem been fixed?",
    "Which projects is Grace working on?",
    "Tell me about the design system",
    "What happened with the support chatbot rollout?",
    "Who reports to Elena?",
    "When did Jonas join the platform team?",
    "Why was the launch postponed?",
    "Does Mei prefer email over Slack?",
    "What do I know about Carlos?",
    "Any dietary restrictions for the team dinner in Berlin?",
    "Which problems did we have with Kubernetes?",
    "What is the status of the hiring plan?",
    "How much money was approved for the onboarding flow?",
    "Who is learning Japanese?",
    "What were the action items from the quarterly roadmap meeting?",
    "How was the memory leak in Python resolved?",
    "Is Ravi lactose intolerant?",
    "Which month is the trip to Tokyo?",
    "What did Lena report about the invoice export?",
    "Why does Tomas prefer Terraform to Docker?",
    "Summarise everything about the search relevance project",
    "What rate limit issues did we hit with S3?",
    "Who asked for a status summary every Monday morning?",
    "What are the user's preferences for meetings?",
    "Has anyone mentioned running marathons?",
    "What should I remember when booking team dinners?",
    "Which engineer owns the nightly import deadline?",
    "What did we learn from the race condition in Airflow?",
]
STATUSES = (["active"] * 85) + (["decaying"] * 7) + (["archived"] * 4) + ["superseded"] * 2
STATUSES += ["disputed"] * 2
TIERS = ["hot"] * 30 + ["warm"] * 45 + ["cold"] * 25
SOURCES = ["extraction"] * 80 + ["explicit"] * 10 + ["consolidation"] * 10


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _ms(values: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "n": len(values),
    }


# --- Data ----------------------------------------------------------------------------------------


class Corpus:
    """Generates memory texts and their concept vectors (seeded, reproducible)."""

    def __init__(self, embedder, seed: int = SEED):
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        # one row per concept: every template skeleton, then every word-list value
        self.concepts: dict[tuple[str, str], int] = {}
        texts = []
        for i, (_, _, template) in enumerate(TEMPLATES):
            self.concepts[("template", str(i))] = len(texts)
            texts.append(template.replace("{", "").replace("}", ""))
        for name, values in SLOTS.items():
            if name in ("person2", "tool2"):
                continue
            for value in values:
                self.concepts[(name, value)] = len(texts)
                texts.append(value)
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        self.vectors = np.vstack([vectors, np.zeros((1, vectors.shape[1]), np.float32)])
        self.none = len(texts)  # the zero row: padding
        self.dimensions = vectors.shape[1]

    def memory(self) -> tuple[str, str, str, str, list[int]]:
        """(memory_type, subject, content, summary, concept rows) of one memory."""
        rng = self.rng
        index = rng.randrange(len(TEMPLATES))
        memory_type, subject_slot, template = TEMPLATES[index]
        values = {name: rng.choice(words) for name, words in SLOTS.items()}
        values["day"] = str(rng.randint(1, 28))
        values["year"] = str(rng.randint(2015, 2025))
        values["amount"] = f"{rng.randint(2, 90) * 1000:,}"
        core = template.format(**values)
        used = [n for n in SLOTS if "{" + n + "}" in template and n not in ("person2", "tool2")]
        concepts = [self.concepts[("template", str(index))]]
        concepts += [self.concepts[(n, values[n])] for n in used]
        fillers = rng.sample(FILLERS, rng.choice((0, 1, 1, 2, 2, 3, 4)))
        content = " ".join([core, *fillers])
        summary = core.split(";")[0].rstrip(".") if rng.random() < 0.6 else ""
        subject = values.get(subject_slot, "") if rng.random() < 0.7 else ""
        return memory_type, subject, content, summary, concepts

    def embeddings(self, concept_rows: list[list[int]]) -> np.ndarray:
        """Unit vectors: the sum of each memory's concept vectors (template weighted 2x, so
        memories of one kind cluster) plus noise of norm ~NOISE, normalised; float32."""
        width = max(len(r) for r in concept_rows)
        index = np.full((len(concept_rows), width), self.none, dtype=np.int64)
        for i, rows in enumerate(concept_rows):
            index[i, : len(rows)] = rows
        summed = self.vectors[index].sum(axis=1) + self.vectors[index[:, 0]]
        summed /= np.linalg.norm(summed, axis=1, keepdims=True)
        noise = self.np_rng.standard_normal(summed.shape, dtype=np.float32)
        summed += noise * (NOISE / np.sqrt(self.dimensions))
        summed /= np.linalg.norm(summed, axis=1, keepdims=True)
        return summed.astype(np.float32)


def _columns() -> list[tuple[str, str]]:
    """memories_memory's columns (name, copy type) but the generated ones."""
    from django.db import connection

    from memories.models import Memory

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' ORDER BY attnum",
            [Memory._meta.db_table],
        )
        rows = cursor.fetchall()
    names = {
        "character varying": "varchar",
        "timestamp with time zone": "timestamptz",
        "double precision": "float8",
        "integer": "int4",
        "bigint": "int8",
        "smallint": "int2",
        "boolean": "bool",
    }
    result = []
    for name, type_ in rows:
        base = type_.split("(")[0]
        # the vector in pgvector's binary format, sent as raw bytes (bytea's binary dump)
        result.append((name, "bytea" if base == "vector" else names.get(base, base)))
    return result


def _default(field):
    """What an INSERT through the ORM would write for a field the bench does not set."""
    from django.db import models

    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    return None


def copy_memories(spirit_id, count: int, corpus: Corpus, model_name: str, now: datetime) -> None:
    """`count` memories of the spirit, one binary COPY (vectors in pgvector's binary format)."""
    from django.db import connection
    from psycopg.types.json import Jsonb

    from memories.models import Memory

    columns = _columns()
    rng = corpus.rng
    np_rng = corpus.np_rng
    texts = [corpus.memory() for _ in range(count)]
    vectors = corpus.embeddings([t[4] for t in texts]).astype(">f4")
    header = np.array([corpus.dimensions, 0], dtype=">u2").tobytes()
    ages = np.minimum(np_rng.exponential(180.0, count), 730.0)  # days; more recent ones
    importance = np_rng.beta(2.0, 3.0, count)
    confidence = np.clip(np_rng.normal(0.8, 0.1, count), 0.0, 1.0)
    defaults = {f.column: _default(f) for f in Memory._meta.concrete_fields}
    table = Memory._meta.db_table
    column_list = ", ".join(f'"{name}"' for name, _ in columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f'COPY "{table}" ({column_list}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types([type_ for _, type_ in columns])
            for i, (memory_type, subject, content, summary, _) in enumerate(texts):
                created = now - timedelta(days=float(ages[i]))
                age = float(ages[i]) / 730.0
                has_span = rng.random() < 0.5
                values = {
                    **defaults,
                    "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "created_at": created,
                    "updated_at": created,
                    "deleted_at": None,
                    "embedding": header + vectors[i].tobytes(),
                    "embedding_model": model_name,
                    "embedding_stale": False,
                    "spirit_id": spirit_id,
                    "memory_type": memory_type,
                    "content": content,
                    "summary": summary,
                    "subject": subject,
                    "importance": float(importance[i]),
                    "confidence": float(confidence[i]),
                    "tier": rng.choice(TIERS),
                    "status": rng.choice(STATUSES),
                    "pinned": rng.random() < 0.01,
                    "source_type": rng.choice(SOURCES),
                    "time_start": created - timedelta(hours=rng.randint(1, 72))
                    if has_span
                    else None,
                    "time_end": created if has_span else None,
                    "decay": round(min(1.0, age * rng.uniform(0.5, 1.5)), 4),
                    "access_count": rng.randint(0, 20),
                    "last_accessed_at": created + timedelta(days=rng.uniform(0, 30)),
                    "extracted_at": created,
                    "metadata": {"bench": True},
                }
                values["metadata"] = Jsonb(values["metadata"])
                copy.write_row([values.get(name) for name, _ in columns])


def index_definitions() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(INDEXES)]
        )
        return dict(cursor.fetchall())


def _set(cursor, name: str, value: str) -> None:
    cursor.execute("SELECT set_config(%s, %s, false)", [name, value])


def load(loads: list[tuple[object, int]], corpus, model_name, now, definitions, log) -> dict:
    """COPY each (spirit_id, count); the indexes dropped first and rebuilt after when the load
    adds more than REBUILD_FRACTION of the table. Then (VACUUM) ANALYZE. Returns timings."""
    from django.db import connection

    from memories.models import Memory

    table = Memory._meta.db_table
    added = sum(count for _, count in loads)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        (existing,) = cursor.fetchone()
    rebuild = added > REBUILD_FRACTION * existing
    timings: dict = {"rows_added": added, "rows_before": existing, "rebuild": rebuild}
    with connection.cursor() as cursor:
        if rebuild:
            for name in INDEXES:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        started = time.perf_counter()
        for spirit_id, count in loads:
            copy_memories(spirit_id, count, corpus, model_name, now)
        timings["copy_s"] = round(time.perf_counter() - started, 2)
        log(
            f"  COPY {added:,} rows ({'indexes dropped' if rebuild else 'through live indexes'})"
            f": {timings['copy_s']:.1f} s ({added / max(timings['copy_s'], 1e-9):,.0f} rows/s)"
        )
        if connection.in_atomic_block:  # the smoke test: run the deferred FK checks of the
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # COPY, or CREATE INDEX refuses
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        if rebuild:
            _set(cursor, "maintenance_work_mem", MAINTENANCE_WORK_MEM)
            _set(cursor, "max_parallel_maintenance_workers", str(PARALLEL_MAINTENANCE_WORKERS))
            for name in INDEXES:
                started = time.perf_counter()
                cursor.execute(definitions[name])
                seconds = round(time.perf_counter() - started, 2)
                timings[f"build_{name}_s"] = seconds
                log(f"  CREATE INDEX {name} over {existing + added:,} rows: {seconds:.1f} s")
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("RESET max_parallel_maintenance_workers")
        started = time.perf_counter()
        # VACUUM cannot run in a transaction (the smoke test runs in one): ANALYZE alone there
        vacuum = not connection.in_atomic_block
        cursor.execute(f'{"VACUUM (ANALYZE)" if vacuum else "ANALYZE"} "{table}"')
        timings["analyze_s"] = round(time.perf_counter() - started, 2)
        log(f"  {'VACUUM ANALYZE' if vacuum else 'ANALYZE'}: {timings['analyze_s']:.1f} s")
        if vacuum:  # write the load's dirty pages now, not while the next step is measured
            started = time.perf_counter()
            cursor.execute("CHECKPOINT")
            timings["checkpoint_s"] = round(time.perf_counter() - started, 2)
            log(f"  CHECKPOINT: {timings['checkpoint_s']:.1f} s")
    return timings


# --- Measures ------------------------------------------------------------------------------------


class Recorder:
    """Django execute wrapper keeping every (sql, params) a call runs."""

    def __init__(self):
        self.queries: list[tuple[str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append((sql, params))
        return execute(sql, params, many, context)


def captured_sql(spirit, text: str, call: Callable | None = None) -> dict:
    """Run one service search of `text` (or `call(spirit, text)`), keeping the SQL of its
    vector and text queries."""
    from django.db import connection

    from memories.retrieval import SearchQuery, search

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        if call is None:
            search(spirit, SearchQuery(text=text, k=10, kinds=("memories",)))
        else:
            call(spirit, text)
    found: dict = {}
    for sql, params in recorder.queries:
        if "set_config('hnsw.iterative_scan'" in sql:
            settings_sql, _, vector_sql = sql.partition("; ")
            # one statement with the vector query (search.vector_lists), or one before it
            found["settings"] = (settings_sql, None)
            if vector_sql:
                found["vector"] = (vector_sql, params)
        elif "<=>" in sql:
            found["vector"] = (sql, params)
        elif "ts_rank_cd" in sql or "frequencies AS" in sql:  # web-search syntax or BM25
            found["text"] = (sql, params)
    return found


def bare_vector(sql: dict) -> tuple[float, int]:
    from django.db import connection, transaction

    settings_sql, settings_params = sql["settings"]
    query, params = sql["vector"]
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(settings_sql, settings_params)
        started = time.perf_counter()
        raw.execute(query, params)
        rows = raw.fetchall()
        return time.perf_counter() - started, len(rows)


def bare_text(sql: dict) -> tuple[float, int]:
    from django.db import connection

    if "text" not in sql:  # the query had only stop words: the service skips the text list
        return 0.0, 0
    query, params = sql["text"]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        started = time.perf_counter()
        raw.execute(query, params)
        rows = raw.fetchall()
        return time.perf_counter() - started, len(rows)


def explain(sql: dict, kind: str, lines: int) -> list[str]:
    from django.db import connection, transaction

    query, params = sql[kind]
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        if kind == "vector":
            raw.execute(*sql["settings"])
        raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
        plan = [_shorten(row[0]) for row in raw.fetchall()]
    return plan[:lines] + ([plan[-1]] if len(plan) > lines else [])


def _shorten(line: str) -> str:
    """A plan line with the query vector's 384 numbers left out."""
    return re.sub(r"'\[[^']*\]'::vector", "'[...]'::vector", line)


def text_matches(spirit, text: str) -> int:
    """How many live memories of the spirit hold a word of `text` (not timed)."""
    from django.db import connection

    from memories.retrieval.search import text_query

    tsquery = text_query(text, "any")
    if not tsquery:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM memories_memory WHERE spirit_id = %s AND deleted_at IS NULL "
            "AND search_vector @@ %s::tsquery",
            [spirit.pk, tsquery],
        )
        return cursor.fetchone()[0]


def relation_sizes() -> dict[str, int]:
    """Bytes of the memories table (heap + TOAST) and of its two search indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_table_size('memories_memory'), "
            "pg_relation_size('memory_embedding_hnsw'), pg_relation_size('memory_search_gin')"
        )
        table, hnsw, gin = cursor.fetchone()
    return {"table": table, "hnsw": hnsw, "gin": gin}


def pack_compiler() -> Callable | None:
    """compile_pack(spirit, query) -> (items, tokens), or None when memories.packs is missing."""
    try:
        from memories.packs import PackRequest, compile_pack
    except ImportError:
        return None

    def run(spirit, text: str) -> tuple[int, int]:
        pack = compile_pack(spirit, PackRequest(query=text, max_tokens=2000), persist=False)
        return len(pack.items), pack.token_count

    return run


def measure(spirit, queries: list[str], rounds: int, log) -> dict:
    """Warm-up + capture, then `rounds` passes of each case over every query."""
    from elephantasm.ai.embeddings import get_embedder
    from memories.retrieval import SearchQuery, search

    embedder = get_embedder()
    pack = pack_compiler()
    captured, captured_pack = {}, {}
    for text in queries:  # warm-up: every path once; the SQL of each query kept
        captured[text] = captured_sql(spirit, text)
        bare_vector(captured[text])
        bare_text(captured[text])
        if pack:
            captured_pack[text] = captured_sql(spirit, text, pack)
    times: dict[str, list[float]] = {"embed": [], "search": [], "vector": [], "text": []}
    times.update({"bare": [], "pack_bare": [], "pack": []})
    counts = {"vector_rows": [], "text_rows": [], "hits": [], "pack_items": [], "pack_tokens": []}
    per_query: dict[str, float] = {}  # the slowest bare text time of each query
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        for text in queries:
            started = time.perf_counter()
            embedder.embed([text])
            times["embed"].append(time.perf_counter() - started)
        for text in queries:
            started = time.perf_counter()
            result = search(spirit, SearchQuery(text=text, k=10, kinds=("memories",)))
            times["search"].append(time.perf_counter() - started)
            counts["hits"].append(len(result.hits))
        for text in queries:
            vector_s, vector_rows = bare_vector(captured[text])
            text_s, text_rows = bare_text(captured[text])
            per_query[text] = max(per_query.get(text, 0.0), text_s)
            times["vector"].append(vector_s)
            times["text"].append(text_s)
            times["bare"].append(vector_s + text_s)
            counts["vector_rows"].append(vector_rows)
            counts["text_rows"].append(text_rows)
        if pack:
            for text in queries:
                times["pack_bare"].append(
                    bare_vector(captured_pack[text])[0] + bare_text(captured_pack[text])[0]
                )
            for text in queries:
                started = time.perf_counter()
                items, tokens = pack(spirit, text)
                times["pack"].append(time.perf_counter() - started)
                counts["pack_items"].append(items)
                counts["pack_tokens"].append(tokens)
    figures = {case: _ms(values) for case, values in times.items() if values}
    figures["counts"] = {
        name: round(statistics.mean(values), 1) for name, values in counts.items() if values
    }
    figures["text_matched_queries"] = sum(1 for n in counts["text_rows"][: len(queries)] if n)
    figures["pack_available"] = pack is not None
    figures["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    slowest = max(per_query, key=per_query.get)
    figures["slowest_text"] = {
        "query": slowest,
        "ms": round(per_query[slowest] * 1000, 2),
        "matching_rows": text_matches(spirit, slowest),
    }
    # one EXPLAIN ANALYZE per step: the vector query of the first query with text matches, and
    # the slowest text query
    chosen = next((t for t, n in zip(queries, counts["text_rows"], strict=False) if n), queries[0])
    figures["explain_query"] = chosen
    figures["explain_vector"] = explain(captured[chosen], "vector", 8)
    figures["explain_text"] = (
        explain(captured[slowest], "text", 8) if "text" in captured[slowest] else []
    )
    figures["hnsw_used"] = any(
        "memory_embedding_hnsw" in line for line in figures["explain_vector"]
    )
    return figures


# --- Run -----------------------------------------------------------------------------------------


def bench_retrieval(
    team,
    *,
    steps: tuple[int, ...] = STEPS,
    others: int = OTHER_SPIRITS,
    other_size: int = OTHER_SIZE,
    queries: int = len(QUERIES),
    rounds: int = ROUNDS,
    log: Callable[[str], None] = print,
) -> dict:
    """Seed, then measure at each step of the measured spirit's size. Returns the figures."""
    from django.db import connection

    from elephantasm.ai.embeddings import get_embedder
    from spirits.services import spirit_create

    started_all = time.perf_counter()
    embedder = get_embedder()
    embedder.embed(["warm up"])
    corpus = Corpus(embedder)
    now = datetime.now(UTC)
    measured = spirit_create(team=team, name="bench-retrieval-measured")
    other_spirits = [
        spirit_create(team=team, name=f"bench-retrieval-other-{i}") for i in range(others)
    ]
    definitions = index_definitions()
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
    texts = [QUERIES[i % len(QUERIES)] for i in range(queries)]
    log(
        f"Retrieval: measured spirit grows {' -> '.join(f'{s:,}' for s in steps)} memories; "
        f"{others} other spirits x {other_size:,}; {len(texts)} queries x {rounds} rounds; "
        f"shared_buffers {shared_buffers}"
    )
    results: dict = {
        "steps": [],
        "others": others,
        "other_size": other_size,
        "queries": len(texts),
        "rounds": rounds,
        "model": embedder.model_name,
        "shared_buffers": shared_buffers,
    }
    size = 0
    for number, target in enumerate(steps):
        loads = [(measured.pk, target - size)]
        if number == 0:
            loads = [(s.pk, other_size) for s in other_spirits] + loads
        log(f"step {number + 1}: measured spirit {size:,} -> {target:,} memories")
        load_times = load(loads, corpus, embedder.model_name, now, definitions, log)
        size = target
        started = time.perf_counter()
        figures = measure(measured, texts, rounds, log)
        figures.update(load_times)
        figures["size"] = size
        figures["table_rows"] = load_times["rows_before"] + load_times["rows_added"]
        figures["measure_s"] = round(time.perf_counter() - started, 1)
        results["steps"].append(figures)
        figures["sizes"] = relation_sizes()
        log(step_line(figures))
        log(f"  EXPLAIN ANALYZE (vector query) of {figures['explain_query']!r}:")
        for line in figures["explain_vector"]:
            log("    " + line)
        if figures["explain_text"]:
            slow = figures["slowest_text"]
            log(
                f"  EXPLAIN ANALYZE (text query) of the slowest one, {slow['query']!r} "
                f"({slow['ms']:.1f} ms, {slow['matching_rows']:,} matching memories):"
            )
            for line in figures["explain_text"]:
                log("    " + line)
        if not figures["hnsw_used"]:
            log("  NOTE: the vector query did not use memory_embedding_hnsw (see the plan)")
    results["total_s"] = round(time.perf_counter() - started_all, 1)
    return results


def step_line(f: dict) -> str:
    pack = f"pack p50 {f['pack']['p50_ms']:.1f} ms" if "pack" in f else "pack n/a"
    mb = {name: size / 2**20 for name, size in f["sizes"].items()}
    return (
        f"  {f['size']:,} memories: search p50 {f['search']['p50_ms']:.1f} ms, {pack}, "
        f"bare p50 {f['bare']['p50_ms']:.1f} ms (measured in {f['measure_s']:.0f} s, load "
        f"average {f['load_average'][0]:.1f} -> {f['load_average'][1]:.1f}); sizes: table "
        f"{mb['table']:.0f} MB, HNSW {mb['hnsw']:.0f} MB, GIN {mb['gin']:.0f} MB"
    )


def _ratio(a: dict, b: dict, key: str) -> float:
    return a[key] / b[key] if b[key] else float("inf")


def report(results: dict) -> str:
    steps = results["steps"]
    lines = [
        f"Retrieval, one spirit among {results['others'] + 1} ({results['others']} others x "
        f"{results['other_size']:,} memories): {results['queries']} real-text queries x "
        f"{results['rounds']} rounds, k=10, kind memories, {results['model']} "
        f"(embedding included in search and pack)",
        f"{'memories (table rows)':<24} {'case':<34} {'p50 ms':>8} {'p95 ms':>8}",
        "-" * 77,
    ]
    cases = [
        ("embed", "query embedding alone"),
        ("vector", "bare vector SQL (HNSW)"),
        ("text", "bare text SQL (BM25)"),
        ("bare", "bare SQL = vector + text"),
        ("search", "search service (with embedding)"),
        ("pack_bare", "bare SQL of the pack's lists"),
        ("pack", "pack compiler (with embedding)"),
    ]
    for f in steps:
        label = f"{f['size']:,} ({f['table_rows']:,})"
        for key, name in cases:
            if key not in f:
                if key == "pack":
                    lines.append(f"{label:<24} {name:<34} {'pack compiler not available':>17}")
                continue
            lines.append(
                f"{label:<24} {name:<34} {f[key]['p50_ms']:>8.2f} {f[key]['p95_ms']:>8.2f}"
            )
            label = ""
        ratios = [
            f"search/bare {_ratio(f['search'], f['bare'], 'p50_ms'):.2f}x p50, "
            f"{_ratio(f['search'], f['bare'], 'p95_ms'):.2f}x p95"
        ]
        if "pack" in f:
            ratios.append(
                f"pack/bare of the pack {_ratio(f['pack'], f['pack_bare'], 'p50_ms'):.2f}x p50, "
                f"{_ratio(f['pack'], f['pack_bare'], 'p95_ms'):.2f}x p95"
            )
        lines.append(f"{'':<24} ratios: {'; '.join(ratios)}")
        c = f["counts"]
        lines.append(
            f"{'':<24} mean rows: vector {c['vector_rows']}, text {c['text_rows']} "
            f"({f['text_matched_queries']}/{results['queries']} queries match a word), "
            f"hits {c['hits']}"
            + (f", pack items {c['pack_items']}, tokens {c['pack_tokens']}" if "pack" in f else "")
        )
        slow = f["slowest_text"]
        lines.append(
            f"{'':<24} slowest text query {slow['ms']:.1f} ms: {slow['query']!r} "
            f"({slow['matching_rows']:,} matches)"
        )
        lines.append(
            f"{'':<24} HNSW used: {'yes' if f['hnsw_used'] else 'NO'}; HNSW index "
            f"{f['sizes']['hnsw'] / 2**20:.0f} MB; load average {f['load_average'][0]:.1f}; COPY "
            f"{f['rows_added']:,} rows {f['copy_s']:.1f} s"
            + (
                f", HNSW build {f['build_memory_embedding_hnsw_s']:.1f} s, GIN build "
                f"{f['build_memory_search_gin_s']:.1f} s"
                if f["rebuild"]
                else " (live indexes)"
            )
            + f", analyze {f['analyze_s']:.1f} s"
        )
    last = steps[-1]
    if "pack" in last:
        met = target_met(results)
        lines.append(
            f"pack target at {last['size']:,} (p50 <= {TARGET_PACK_P50_MS:.0f} ms, p95 <= "
            f"{TARGET_PACK_P95_MS:.0f} ms, <= {TARGET_RATIO:.0f}x its bare SQL p50): "
            f"{'met' if met else 'NOT met'}"
        )
    else:
        lines.append("pack compiler not available: pack target not measured")
    if len(steps) > 1 and last["size"] >= SCALE_SIZE and "pack" in last:
        lines.extend(scale_lines(steps))
    lines.append(f"retrieval bench time {results['total_s']:.1f} s")
    return "\n".join(lines)


def scale_lines(steps: list[dict]) -> list[str]:
    """The scale targets, read at the last step against the first."""
    first, last = steps[0], steps[-1]
    lines, met = [], True
    for case in ("pack", "search"):
        growth = _ratio(last[case], first[case], "p95_ms")
        ok = (
            last[case]["p50_ms"] <= SCALE_P50_MS
            and last[case]["p95_ms"] <= SCALE_P95_MS
            and growth <= SCALE_GROWTH
        )
        met &= ok
        lines.append(
            f"{case} at {last['size']:,}: p50 {last[case]['p50_ms']:.1f} ms (target <= "
            f"{SCALE_P50_MS:.0f}), p95 {last[case]['p95_ms']:.1f} ms (<= {SCALE_P95_MS:.0f}), "
            f"p95 {growth:.2f}x the {first['size']:,} step's (<= {SCALE_GROWTH:.1f}x): "
            f"{'met' if ok else 'NOT met'}"
        )
    lines.append(f"scale targets: {'met' if met else 'NOT met'}")
    return lines


def target_met(results: dict) -> bool:
    last = results["steps"][-1]
    if "pack" not in last:
        return False
    return (
        last["pack"]["p50_ms"] <= TARGET_PACK_P50_MS
        and last["pack"]["p95_ms"] <= TARGET_PACK_P95_MS
        and _ratio(last["pack"], last["pack_bare"], "p50_ms") <= TARGET_RATIO
    )
