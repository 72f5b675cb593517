"""`flourish nlu ...`: train, parse, evaluate and benchmark the NLU from a terminal.

The lead mounts `app` under the main CLI (`app.add_typer(nlu_app, name="nlu")`); it also runs on its
own as `python -m nlu`.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from nlu.lexicon import STAFF_WRITTEN_FILE, TEST_FILE, TRAIN_FILE, load_training_data
from nlu.result import Interpreter

app = typer.Typer(
    help="The NLU: train the embedded parser, parse text, evaluate and benchmark backends.",
    no_args_is_help=True,
)


class Backend(StrEnum):
    spacy = "spacy"
    rasa = "rasa"


@contextlib.contextmanager
def _interpreter(backend: str, rasa_url: str | None) -> Iterator[Interpreter]:
    """The chosen backend; for Rasa without a URL, a real server started for this command.

    Rasa is used strictly here (no fallback to the embedded parser), so figures are Rasa's own.
    """
    from nlu.backends import get_interpreter

    if backend != "rasa":
        yield get_interpreter(backend)
        return
    from nlu.rasa_backend import RasaInterpreter

    url = rasa_url or os.environ.get("RASA_URL")
    if url:
        yield RasaInterpreter(url)
        return
    from nlu.rasa_server import running_rasa_server

    with running_rasa_server() as started:
        yield RasaInterpreter(started)


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Rasa-format training data.")] = TRAIN_FILE,
    out: Annotated[Path | None, typer.Option(help="Model directory (default nlu/models/).")] = None,
) -> None:
    """Train the embedded parser's intent classifier from nlu.yml and save it."""
    from nlu.embedded import train as train_model

    started = time.perf_counter()
    where = train_model(path=data, directory=out)
    typer.echo(f"trained the embedded NLU in {time.perf_counter() - started:.1f} s -> {where}")


@app.command()
def parse(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts; none: one per stdin line.")] = None,
    backend: Annotated[Backend, typer.Option(envvar="NLU_BACKEND")] = Backend.spacy,
    rasa_url: Annotated[str | None, typer.Option(envvar="RASA_URL")] = None,
) -> None:
    """Print one JSON object per text: intent, entities, facts and flags."""
    with _interpreter(backend.value, rasa_url) as interpreter:
        lines: Any = texts if texts else (line.rstrip("\r\n") for line in sys.stdin)
        for text in lines:
            result = interpreter.parse(text)
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))


def _table(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"{title:<24} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}"]
    for name, s in rows.items():
        lines.append(f"  {name:<22} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f}"
                     f" {s['support']:>5}")
    return lines


def _report_lines(title: str, summary: dict[str, Any]) -> list[str]:
    out = [title,
           f"intent accuracy {summary['intent_accuracy']:.3f}   macro F1 "
           f"{summary['intent_macro_f1']:.3f}   ({summary['intent_examples']} examples)"]
    out += _table("intent", summary["intents"])
    if summary["entities"]:
        out += _table("entity", summary["entities"] | {"(all, micro)": summary["entity_micro"]})
    out += _table("flag", summary["flags"] | {"(all, micro)": summary["flag_micro"]})
    out.append(f"fact accuracy on {summary['fact_examples']} descriptions: "
               f"{summary['fact_accuracy_all']:.3f} (all keys), "
               f"{summary['fact_records_exact']:.3f} wholly right; "
               + ", ".join(f"{k} {v:.3f}" for k, v in summary["fact_accuracy"].items()))
    out.append(f"safety inversions: {summary['inversions']}")
    out.append("confusions (expected -> predicted: count): "
               + (", ".join(f"{c['expected']}->{c['predicted']}: {c['count']}"
                            for c in summary["confusion"]) or "none"))
    return out


@app.command()
def evaluate(
    backend: Annotated[Backend, typer.Option(help="Which backend to score.")] = Backend.spacy,
    data: Annotated[Path, typer.Option(help="Held-out nlu.yml (facts.yml beside it).")] = TEST_FILE,
    staff: Annotated[Path, typer.Option(help="The staff-written set.")] = STAFF_WRITTEN_FILE,
    rasa_url: Annotated[str | None, typer.Option(envvar="RASA_URL")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    mistakes: Annotated[bool, typer.Option(help="List every wrong example.")] = False,
) -> None:
    """Score a backend on the generated held-out split and on the staff-written set, side by side."""
    from nlu.evaluation import evaluate as run_evaluation
    from nlu.evaluation import evaluate_staff_written

    with _interpreter(backend.value, rasa_url) as interpreter:
        report = run_evaluation(interpreter, data=data)
        staff_report = evaluate_staff_written(interpreter, path=staff)
    summary = report.as_dict()
    staff_summary = staff_report.as_dict()
    if as_json:
        extra = {"mistakes": report.mistakes} if mistakes else {}
        staff_extra = {"mistakes": staff_report.mistakes} if mistakes else {}
        staff_extra |= {"inversion_cases": staff_report.inversions}
        typer.echo(json.dumps(summary | extra | {"staff_written": staff_summary | staff_extra}))
        return
    out = _report_lines(f"backend {backend.value} on the generated split {data}", summary)
    if mistakes:
        out += [f"  {json.dumps(m, ensure_ascii=False)}" for m in report.mistakes]
    out += ["", *_report_lines(f"backend {backend.value} on the staff-written set {staff}",
                               staff_summary)]
    out += [f"  inversion {json.dumps(m, ensure_ascii=False)}" for m in staff_report.inversions]
    if mistakes:
        out += [f"  {json.dumps(m, ensure_ascii=False)}" for m in staff_report.mistakes]
    typer.echo("\n".join(out))


# ---------------------------------------------------------------- benchmark
def bench_messages() -> list[str]:
    """The benchmark's messages: the held-out split and the staff-written set."""
    from nlu.evaluation import load_staff_written

    data = load_training_data(TEST_FILE)
    generated = [text for texts in data.examples.values() for text in texts]
    return generated + [str(record["text"]) for record in load_staff_written()]


def _latencies(interpreter: Interpreter, messages: list[str], *, rounds: int) -> dict[str, float]:
    for text in messages[:20]:
        interpreter.parse(text)  # warm up
    timings: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for text in messages:
            c0, t0 = time.thread_time(), time.perf_counter()
            interpreter.parse(text)
            timings.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    elapsed = time.perf_counter() - started
    timings.sort()
    cpu.sort()

    def p99(values: list[float]) -> float:
        return round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000, 3)

    return {
        "messages": len(timings),
        "median_ms": round(statistics.median(timings) * 1000, 3),
        "p99_ms": p99(timings),
        "cpu_median_ms": round(statistics.median(cpu) * 1000, 3),
        "cpu_p99_ms": p99(cpu),
        "messages_per_s": round(len(timings) / elapsed, 1),
    }


_COLD_START = """
import json, time, psutil
t0, c0 = time.perf_counter(), time.process_time()
from nlu.embedded import load_interpreter
it = load_interpreter(train_if_missing=False)
it.parse("me n Dave took her to the floor approx 4 mins no injuries no prn")
ready, cpu = time.perf_counter() - t0, time.process_time() - c0
rss = psutil.Process().memory_info().rss / 2**20
print(json.dumps({"load_s": round(ready, 3), "load_cpu_s": round(cpu, 3), "rss_mb": rss}))
"""


def _embedded_cold_start() -> dict[str, float]:
    """Load time and resident memory of a fresh process that loads the trained parser."""
    proc = subprocess.run([sys.executable, "-c", _COLD_START], capture_output=True, text=True,
                          check=True)
    data: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    data["rss_mb"] = round(data["rss_mb"], 1)
    return data


def _tree_rss_mb(pids: set[int]) -> float:
    import psutil

    total = 0
    for proc in psutil.Process().children(recursive=True):
        if proc.pid in pids:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
    return round(total / 2**20, 1)


@app.command()
def bench(
    rasa: Annotated[bool, typer.Option("--rasa", help="Also start and measure a Rasa server.")] = False,
    rounds: Annotated[int, typer.Option(help="Passes over the message set.")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Latency (median, p99), throughput, memory and load time of the embedded parser (and Rasa).

    Wall-clock latency includes time the process waits for a CPU on a busy machine; the cpu_*
    figures are this thread's own CPU time per message, the parser's cost alone. For Rasa the
    cpu_* figures are only the client's side, so compare wall-clock figures across backends.
    """
    import psutil

    from nlu.embedded import load_interpreter

    load_interpreter()  # make sure a trained model exists before the cold start is timed
    messages = bench_messages()
    results: dict[str, dict[str, Any]] = {}
    cold = _embedded_cold_start()
    interpreter = load_interpreter(train_if_missing=False)
    results["spacy"] = cold | _latencies(interpreter, messages, rounds=rounds)
    results["spacy"]["bench_process_rss_mb"] = round(
        psutil.Process().memory_info().rss / 2**20, 1)
    if rasa:
        from nlu.rasa_backend import RasaInterpreter
        from nlu.rasa_server import ensure_rasa_env, running_rasa_server, train_model

        train_model(venv=ensure_rasa_env())  # trained (or cached) first: load_s is start-up only
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        started = time.perf_counter()
        with running_rasa_server() as url:
            load_s = round(time.perf_counter() - started, 3)
            server = {p.pid for p in psutil.Process().children(recursive=True)} - before
            client = RasaInterpreter(url)
            figures = _latencies(client, messages, rounds=max(1, rounds // 5))
            results["rasa"] = {"load_s": load_s, "rss_mb": _tree_rss_mb(server)} | figures
    if as_json:
        typer.echo(json.dumps(results))
        return
    for name, figures in results.items():
        typer.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    if "rasa" in results:
        ratio = results["rasa"]["median_ms"] / max(results["spacy"]["median_ms"], 1e-6)
        typer.echo(f"embedded is {ratio:.0f}x faster per message (median)")


if __name__ == "__main__":
    app()
