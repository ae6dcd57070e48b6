"""The built wheel carries the sentiment model: build it, install it apart from the checkout, analyze with it.

``pip wheel`` builds from a copy of the package sources (the checkout's ``build/`` and egg-info stay
untouched), ``pip install --no-deps --target`` puts the wheel in a folder of its own, and the installed
``feedback-engine`` runs with that folder on ``PYTHONPATH``, from a directory outside the repository,
on this venv's interpreter (its site-packages hold the dependencies). The sentiment model it loads can
only be the wheel's: ``FEEDBACK_ENGINE_SENTIMENT_MODEL`` is unset and the default folder sits next to
the installed module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from feedback_engine.nlp.sentiment import DEFAULT_MODEL_DIR, LABELS, MODEL_ENV_VAR

pytestmark = [pytest.mark.models, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
MODEL_IN_WHEEL = "feedback_engine/nlp/models/sentiment-minilm"
MODEL_FILES = (
    "MODEL_CARD.md",
    "calibration.json",
    "config.json",
    "metrics.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
)
PROBE = """
import json, sys
import feedback_engine
from feedback_engine.nlp import sentiment
print(json.dumps({"file": feedback_engine.__file__, "model_dir": str(sentiment.DEFAULT_MODEL_DIR), "path": sys.path}))
"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{argv[:4]} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_ships_the_sentiment_model_and_analyze_uses_it(tmp_path: Path) -> None:
    src, dist, site, work = (tmp_path / name for name in ("src", "dist", "site", "work"))
    src.mkdir()
    work.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "feedback_engine", src / "feedback_engine", ignore=shutil.ignore_patterns("__pycache__"))
    pip_env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(dist)], cwd=tmp_path, env=pip_env
    )

    [wheel] = dist.glob("feedback_engine-*.whl")
    assert 30e6 < wheel.stat().st_size < 80e6, f"wheel is {wheel.stat().st_size / 1e6:.1f} MB"
    with zipfile.ZipFile(wheel) as zf:
        sizes = {info.filename: info.file_size for info in zf.infolist()}
    for name in MODEL_FILES:
        assert sizes.get(f"{MODEL_IN_WHEEL}/{name}") == (DEFAULT_MODEL_DIR / name).stat().st_size, name

    _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target", str(site), str(wheel)],
        cwd=tmp_path,
        env=pip_env,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", MODEL_ENV_VAR, "FEEDBACK_ENGINE_DB")}
    env.update(PYTHONPATH=str(site), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")

    probe = json.loads(_run([sys.executable, "-c", PROBE], cwd=work, env=env).stdout)
    assert Path(probe["file"]).resolve().is_relative_to(site.resolve()), probe["file"]
    installed_model = Path(probe["model_dir"])
    assert installed_model.resolve() == (site / MODEL_IN_WHEEL).resolve()
    assert not any(Path(p or work).resolve() in (ROOT, ROOT / "feedback_engine") for p in probe["path"]), probe["path"]
    assert _sha256(installed_model / "model.safetensors") == _sha256(DEFAULT_MODEL_DIR / "model.safetensors")

    cli = site / "bin" / "feedback-engine"
    db = work / "feedback.db"
    fixture = ROOT / "fixtures" / "surveys" / "plain_id_text.csv"
    _run([str(cli), "--db", str(db), "ingest", "surveys", str(fixture)], cwd=work, env=env)
    report = json.loads(
        _run([str(cli), "--db", str(db), "analyze", "--limit", "6", "--json"], cwd=work, env=env).stdout
    )
    assert report["analysed"] == 6 and report["english"] >= 4, report

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT sentiment, model_version FROM analysis WHERE is_english = 1").fetchall()
    assert len(rows) == report["english"]
    assert {label for label, _ in rows} <= set(LABELS)
    assert all(version.startswith("TransformerSentiment:sentiment-minilm:") for _, version in rows), rows
