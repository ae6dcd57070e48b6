"""The layout rules that import-linter cannot check: where SQL may live, how long a module may be.

- SQL lives in the store and in the stages' own modules (``ingest/``, ``nlp/``, ``themes/``,
  ``loop/``: their loaders, writers and query modules). The faces (``cli/``, ``web/``), the
  :class:`Engine`, the demo, the contracts, the lazy models and every stage's ``service.py`` hold
  none: they call the services and the query functions.
- No module is much over 600 lines (three more stages must fit without a 3k-line file).
The import direction (store <- ingest <- nlp <- themes <- loop <- engine <- web <- cli) is the
import-linter contract in pyproject.toml, which ``scripts/check`` runs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "feedback_engine"
MAX_LINES = 650

_SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|VIEW|INDEX)"
    r"|PRAGMA\s)",
    re.S,
)
_DB_CALLS = {"execute", "executemany", "executescript", "scalar", "query"}


def no_sql_modules() -> list[Path]:
    faces = [*PACKAGE.joinpath("cli").rglob("*.py"), *PACKAGE.joinpath("web").rglob("*.py")]
    top = [PACKAGE / name for name in ("engine.py", "demo.py", "contracts.py", "__init__.py")]
    services = sorted(PACKAGE.glob("*/service.py"))
    return [*faces, *top, *services, PACKAGE / "nlp" / "models.py"]


def sql_in(path: Path) -> list[str]:
    """Where ``path`` holds SQL text, a database call (``.execute`` ...), or reaches ``.conn``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"{path.name}:{node.lineno} SQL text {node.value[:40]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _DB_CALLS:
            found.append(f"{path.name}:{node.lineno} .{node.func.attr}(...)")
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"{path.name}:{node.lineno} .conn")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if "sqlite3" in names or "sqlite_utils" in names:
                found.append(f"{path.name}:{node.lineno} imports sqlite")
    return found


def test_no_sql_in_the_faces_the_engine_or_the_services() -> None:
    modules = no_sql_modules()
    assert len(modules) >= 15 and all(m.is_file() for m in modules)
    offences = [hit for m in modules for hit in sql_in(m)]
    assert not offences, "SQL belongs in the store or a stage's query module:\n" + "\n".join(offences)


def test_the_check_finds_sql(tmp_path: Path) -> None:
    sample = tmp_path / "face.py"
    sample.write_text(
        'def f(store):\n    return store.scalar("SELECT count(*) FROM feedback")\n'
        "def g(engine):\n    engine.store.conn.commit()\n",
        encoding="utf-8",
    )
    hits = sql_in(sample)
    assert any("SQL text" in h for h in hits) and any(".scalar" in h for h in hits) and any(".conn" in h for h in hits)
    clean = tmp_path / "clean.py"
    clean.write_text('METHODS = {"GET", "DELETE"}\n"""PUT, DELETE, PATCH are refused."""\n', encoding="utf-8")
    assert sql_in(clean) == []


def test_modules_stay_small() -> None:
    sizes = {
        p.relative_to(PACKAGE).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these modules (over {MAX_LINES} lines): {too_long}"
