"""Run a real Rasa 3.6 NLU server for the optional Rasa backend: environment, model, process.

Rasa needs Python 3.10 and TensorFlow, which the project's own install must never pull in, so
everything here drives Rasa through its command line inside the separate environment that
`scripts/rasa-env` builds. The model is trained from the same `nlu/data/nlu.yml` as the embedded
parser (never the held-out split) and cached under a hash of the training data, the Rasa config
and domain, so an unchanged project never trains twice.

Used by the tests, by `flourish nlu evaluate --backend rasa` / `bench --rasa`, and by
`scripts/rasa-serve` (`python -m nlu.rasa_server`), which runs the server in the foreground for a
bot started with NLU_BACKEND=rasa.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RASA_PROJECT = ROOT / "nlu" / "rasa"
RASA_CONFIG = RASA_PROJECT / "config.yml"
RASA_DOMAIN = RASA_PROJECT / "domain.yml"
TRAINING_DATA = ROOT / "nlu" / "data" / "nlu.yml"
RASA_ENV_SCRIPT = ROOT / "scripts" / "rasa-env"
RASA_VERSION = "3.6.21"
DEFAULT_PORT = 5005
STARTUP_TIMEOUT_S = 600.0
"""Loading a model takes 1-3 minutes on two cores (TensorFlow builds its graphs; 3 min 10 s seen
on a machine with a load average of 6), so allow for a busy CI."""


class RasaServerError(RuntimeError):
    """The Rasa environment, training or server could not be brought up; the message says why."""


def cache_dir() -> Path:
    """Where the Rasa environment, trained models and logs live: outside the clone, reused."""
    root = os.environ.get("FLOURISH_CACHE_DIR") or str(Path.home() / ".cache" / "flourish")
    return Path(root)


def rasa_subprocess_env() -> dict[str, str]:
    """The environment for Rasa commands: no telemetry, no proxy for loopback, quiet logs."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        RASA_MAX_CACHE_SIZE="0",  # whole models are cached here, by hash; skip Rasa's own cache
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        LOG_LEVEL="INFO",  # Rasa logs each message's text at DEBUG: never in our logs
        LOG_LEVEL_LIBRARIES="ERROR",
    )
    return env


def _tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def ensure_rasa_env() -> Path:
    """The Rasa virtual environment, built by `scripts/rasa-env` if it is not there yet."""
    proc = subprocess.run(
        ["bash", str(RASA_ENV_SCRIPT)],
        capture_output=True,
        text=True,
        env=rasa_subprocess_env(),
        check=False,
    )
    if proc.returncode != 0:
        raise RasaServerError(
            "could not build the Rasa environment (scripts/rasa-env):\n" + proc.stderr[-3000:]
        )
    venv = Path(proc.stdout.strip().splitlines()[-1])
    if not (venv / "bin" / "rasa").exists():
        raise RasaServerError(f"scripts/rasa-env printed {venv}, which has no bin/rasa")
    return venv


def model_fingerprint(*, data: Path = TRAINING_DATA) -> str:
    """A short hash of everything that shapes the model: training data, config, domain, version."""
    digest = hashlib.sha256(RASA_VERSION.encode())
    for path in (data, RASA_CONFIG, RASA_DOMAIN):
        digest.update(b"\0" + path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train_model(*, venv: Path | None = None, data: Path = TRAINING_DATA) -> Path:
    """The trained model for `data`, from the cache if the data and config are unchanged."""
    if not data.exists():
        raise RasaServerError(f"no training data at {data}")
    models = cache_dir() / "rasa-models"
    models.mkdir(parents=True, exist_ok=True)
    name = f"flourish-nlu-{model_fingerprint(data=data)}"
    model = models / f"{name}.tar.gz"
    if model.exists():
        return model
    venv = venv or ensure_rasa_env()
    with (models / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be training the same model
        if model.exists():
            return model
        log = models / f"{name}.train.log"
        with tempfile.TemporaryDirectory(dir=models, prefix=".training-") as work:
            command = [
                str(venv / "bin" / "rasa"), "train", "nlu",
                "--config", str(RASA_CONFIG),
                "--domain", str(RASA_DOMAIN),
                "--nlu", str(data),
                "--out", work,
                "--fixed-model-name", name,
            ]  # fmt: skip
            with log.open("w") as out:
                proc = subprocess.run(
                    command, cwd=work, env=rasa_subprocess_env(), stdout=out,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False,
                )  # fmt: skip
            trained = Path(work) / f"{name}.tar.gz"
            if proc.returncode != 0 or not trained.exists():
                raise RasaServerError(f"rasa train nlu failed (log: {log}):\n{_tail(log)}")
            trained.replace(model)
    return model


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve_command(venv: Path, model: Path, port: int) -> list[str]:
    """The `rasa run` command line for an NLU-only HTTP API on 127.0.0.1."""
    return [
        str(venv / "bin" / "rasa"), "run", "--enable-api",
        "-i", "127.0.0.1", "-p", str(port),
        "--model", str(model),
    ]  # fmt: skip


def wait_until_ready(
    url: str, *, proc: subprocess.Popen[bytes] | None = None, timeout: float, log: Path | None = None
) -> None:
    """Block until the Rasa server at `url` has loaded its model (`/status` answers 200)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while True:
            if proc is not None and proc.poll() is not None:
                tail = _tail(log) if log else ""
                raise RasaServerError(f"rasa run exited with code {proc.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{url}/status").status_code == 200:
                    return
            if time.monotonic() > deadline:
                tail = _tail(log) if log else ""
                raise RasaServerError(
                    f"the Rasa server at {url} was not ready after {timeout:.0f} s:\n{tail}"
                )
            time.sleep(0.5)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server process (its own process group) politely, then firmly."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_rasa_server(
    *, port: int | None = None, data: Path = TRAINING_DATA, startup_timeout: float = STARTUP_TIMEOUT_S
) -> Iterator[str]:
    """Train (or reuse) the model, run `rasa run` on 127.0.0.1 and yield its base URL."""
    if not data.exists():
        raise RasaServerError(f"no training data at {data}")
    venv = ensure_rasa_env()
    model = train_model(venv=venv, data=data)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    logs = cache_dir() / "rasa-logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"server-{port}.log"
    with log.open("wb") as out, tempfile.TemporaryDirectory(prefix="flourish-rasa-") as work:
        proc = subprocess.Popen(
            _serve_command(venv, model, port), cwd=work, env=rasa_subprocess_env(),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_until_ready(url, proc=proc, timeout=startup_timeout, log=log)
            yield url
        finally:
            _stop(proc)
    log.unlink()  # kept only when something went wrong


def main(argv: list[str] | None = None) -> int:
    """`scripts/rasa-serve`: build the environment, train, then run the server in the foreground."""
    parser = argparse.ArgumentParser(
        prog="rasa-serve",
        description="Build the Rasa environment, train the model (cached by hash) and run the "
        "Rasa NLU server on 127.0.0.1 in the foreground, for a bot with NLU_BACKEND=rasa.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--train-only", action="store_true", help="train (or reuse) and exit")
    args = parser.parse_args(argv)
    try:
        venv = ensure_rasa_env()
        started = time.monotonic()
        model = train_model(venv=venv)
    except RasaServerError as err:
        print(f"rasa-serve: {err}", file=sys.stderr)
        return 1
    print(f"rasa-serve: model {model} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    if args.train_only:
        print(model)
        return 0
    command = _serve_command(venv, model, args.port)
    print(f"rasa-serve: set RASA_URL=http://127.0.0.1:{args.port} NLU_BACKEND=rasa", file=sys.stderr)
    env = rasa_subprocess_env()
    os.chdir(tempfile.mkdtemp(prefix="flourish-rasa-"))
    rasa = shutil.which("rasa", path=str(venv / "bin")) or command[0]
    os.execve(rasa, command, env)  # noqa: S606 (foreground: signals go straight to Rasa)


if __name__ == "__main__":
    sys.exit(main())
