"""CLI commands of the nlp stage: ``analyze`` and ``train-sentiment``.

Each parses its options, calls one library function and prints a summary table or ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from feedback_engine.cli.common import emit, json_option, pass_state, progress_for


def register(main: click.Group) -> None:
    """Add this module's commands to the root group."""
    main.add_command(analyze)
    main.add_command(train_sentiment)


def _print_analyze(data: dict[str, Any]) -> None:
    rows = [
        ("analysed now", data["analysed"]),
        ("  English", data["english"]),
        ("  other language", data["other_language"]),
        ("sentences", data["sentences"]),
        ("still pending", data["remaining"]),
        ("analysed in total", data["total_analysed"]),
    ]
    for name, value in rows:
        click.echo(f"{name:<20}{value:>10}")
    click.echo(f"{'speed':<20}{data['items_per_s']:>10.1f} items/s ({data['elapsed_s']:.1f} s)")
    themes = data.get("themes")
    if themes:
        if "skipped" in themes:
            click.echo(f"themes: skipped ({themes['skipped']})")
        else:
            notes = ("hint", "auto_refit")
            shown = {
                k: v
                for k, v in themes.items()
                if isinstance(v, int | float | str) and not isinstance(v, bool) and k not in notes
            }
            click.echo("themes: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
            for key in notes:
                if themes.get(key):
                    click.echo(("Themes rediscovered: " if key == "auto_refit" else "") + str(themes[key]))
    if data["remaining"]:
        click.echo("Run `feedback-engine analyze` again to continue with the pending items.")


@click.command()
@click.option("--refit", is_flag=True, help="Rediscover themes; ids, names and links to actions are kept.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=256, show_default=True, help="Items per committed batch."
)
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Analyse at most this many items now.")
@click.option(
    "--backend",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help='Where batches are computed: this process, or a Ray actor pool (pip install "feedback_engine[ray]").',
)
@click.option(
    "--address",
    default=None,
    help="Ray cluster to join with --backend ray: auto, ray://HOST:PORT or HOST:PORT (default: start a local Ray).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Ray actors, each loading the models once (a local Ray gets this many CPUs).",
)
@json_option
@pass_state
def analyze(
    state: Any,
    refit: bool,
    batch_size: int,
    limit: int | None,
    backend: str,
    address: str | None,
    workers: int,
    as_json: bool,
) -> None:
    """Analyse new and edited feedback: language, sentences, aspects, PII redaction, sentiment, embeddings, themes.

    Work is committed batch by batch: interrupted, a rerun continues where it stopped. With --backend ray the
    same batches are computed on Ray and written here; without the ray extra it exits with status 2.
    """
    if address and backend != "ray":
        raise click.UsageError("--address needs --backend ray.")
    report = state.engine().analysis.run(
        refit=refit,
        batch_size=batch_size,
        limit=limit,
        progress=progress_for(as_json, unit="items"),
        backend=backend,
        workers=workers,
        address=address,
    )
    emit(report.to_dict(), as_json, _print_analyze)


@click.command("train-sentiment")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("feedback_engine/nlp/models/sentiment-minilm"),
    show_default=True,
    help="Folder to write the model to (the packaged default model lives here in a checkout).",
)
@click.option("--seed", type=int, default=13, show_default=True, help="Random seed (split and training).")
@click.option("--epochs", type=click.IntRange(min=1), default=2, show_default=True, help="Training epochs.")
@click.option("--lr", "learning_rate", type=float, default=None, help="Peak learning rate.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Training batch size.")
@click.option("--max-length", type=click.IntRange(min=8), default=None, help="Tokens per text.")
@click.option("--base-model", default=None, help="Base encoder folder or id (default: the packaged MiniLM).")
@click.option("--device", default=None, help="cpu or cuda (default: cuda when available).")
@click.option(
    "--adapt-epochs",
    type=click.IntRange(min=0),
    default=None,
    help="Stage-2 epochs on the patient reviews with replay of the rest (0 turns stage 2 off; default 4).",
)
@click.option(
    "--init-from",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Skip stage 1 and continue from this stage-1 model folder (same data and --seed).",
)
@click.option("--imdb-reviews", type=click.IntRange(min=0), default=None, help="IMDB reviews used (default 2500).")
@click.option(
    "--evaluate-only", is_flag=True, help="Recalibrate and re-score the model already in --out (no training)."
)
@json_option
def train_sentiment(
    data_dir: Path,
    out: Path,
    seed: int,
    epochs: int,
    learning_rate: float | None,
    batch_size: int | None,
    max_length: int | None,
    base_model: str | None,
    device: str | None,
    adapt_epochs: int | None,
    init_from: Path | None,
    imdb_reviews: int | None,
    evaluate_only: bool,
    as_json: bool,
) -> None:
    """Fine-tune the sentiment model on DATA_DIR (e.g. ../shared/data/sentiment) and write it to --out."""
    from feedback_engine.nlp.sentiment.train import format_table, reevaluate, train

    if evaluate_only:
        metrics = reevaluate(out, data_dir, device)
        emit(metrics, as_json, lambda m: click.echo(format_table(m)))
        return
    settings: dict[str, Any] = {
        k: v
        for k, v in (
            ("learning_rate", learning_rate),
            ("batch_size", batch_size),
            ("max_length", max_length),
            ("imdb_reviews", imdb_reviews),
        )
        if v is not None
    }
    if adapt_epochs is not None:
        settings["adapt_epochs"] = adapt_epochs
    metrics = train(
        data_dir,
        out,
        seed=seed,
        epochs=epochs,
        base_model=base_model,
        device=device,
        progress=not as_json,
        init_from=init_from,
        **settings,
    )
    emit(metrics, as_json, lambda m: click.echo(format_table(m)))
