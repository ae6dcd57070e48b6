"""The main job on the shipped fixtures: ingest -> analyze -> triage themes -> close the loop.

``feedback-engine demo`` calls :func:`run_demo`; it is idempotent: a second run imports nothing
new, analyses nothing twice, reuses the demo action, and rewrites the dry-run emails.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedback_engine.errors import FeedbackEngineError, IngestError

if TYPE_CHECKING:
    from feedback_engine.engine import Engine
    from feedback_engine.progress import Progress

#: Folders of fixtures/ the demo imports (fixtures/bad holds unreadable files on purpose).
DEMO_FOLDERS = ("surveys", "reviews", "social")
DEMO_ACTION_TITLE = "Demo: shipped a fix for the top requested theme"


def default_fixtures_dir() -> Path:
    """fixtures/ of the source checkout (editable install), else ./fixtures."""
    checkout = Path(__file__).resolve().parents[1] / "fixtures"
    return checkout if checkout.is_dir() else Path("fixtures")


@dataclass
class DemoReport:
    ingest: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    analysis: dict[str, Any] | None = None
    themes: list[dict[str, Any]] = field(default_factory=list)
    action: dict[str, Any] | None = None
    notify: dict[str, Any] | None = None
    emails_dir: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_demo(
    engine: Engine,
    fixtures_dir: str | Path | None = None,
    emails_dir: str | Path = "demo-emails",
    *,
    analyze: bool = True,
    progress: Progress | None = None,
) -> DemoReport:
    root = Path(fixtures_dir) if fixtures_dir else default_fixtures_dir()
    folders = [root / name for name in DEMO_FOLDERS if (root / name).is_dir()]
    if not folders:
        raise IngestError(
            f"No fixture folders ({', '.join(DEMO_FOLDERS)}) under {root}. "
            "Run the demo from the project checkout or pass --fixtures DIR."
        )
    report = DemoReport()
    for folder in folders:
        for r in engine.ingest.files(folder, progress=progress):
            report.ingest.append(r.to_dict())
    report.status = engine.status()
    if not analyze:
        return report
    analysis = engine.analysis.run(progress=progress)
    report.analysis = analysis.as_dict() if hasattr(analysis, "as_dict") else dict(analysis.__dict__)
    report.themes = [dict(t) for t in engine.themes.list()]
    theme_id = _theme_for_demo(engine)
    if theme_id is None:
        return report
    report.action = _ship_demo_action(engine, theme_id)
    out = Path(emails_dir)
    notify = engine.outbox.notify(dry_run_dir=out, progress=progress)
    report.notify = notify.as_dict()
    report.emails_dir = str(out.resolve())
    return report


def _theme_for_demo(engine: Engine) -> int | None:
    """The active theme whose items come from the most contactable customers."""
    return engine.actions.most_reachable_theme()


def _ship_demo_action(engine: Engine, theme_id: int) -> dict[str, Any]:
    label = engine.themes.label(theme_id)
    existing = engine.actions.find(DEMO_ACTION_TITLE)
    if existing is None:
        action_id = engine.actions.add(
            themes=[theme_id],
            title=DEMO_ACTION_TITLE,
            description=f"We worked through what you told us about {label} and shipped an improvement.",
            owner="demo",
            by="demo",
        )
    else:
        action_id = int(existing)
    with contextlib.suppress(FeedbackEngineError):  # already shipped on an earlier run
        engine.actions.update(action_id, status="shipped", note="shipped by the demo", by="demo")
    return engine.actions.show(action_id)
