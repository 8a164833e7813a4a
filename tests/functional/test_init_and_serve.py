"""A newcomer's first commands as processes: `openblotter init`, then `openblotter serve`.

init writes the agency, its city and a fresh salt into an owner-only
openblotter.toml (asked in a terminal, or given as flags); serve starts
without OPENBLOTTER_SALT, says where only once the port is bound, and says
so plainly (exit code 2) when the port is taken.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from openblotter.config import load_settings

PROVIDENCE_FLAGS = [
    "--agency",
    "Providence Police Department",
    "--city",
    "Providence",
    "--state",
    "Rhode Island",
    "--latitude",
    "41.824",
    "--longitude",
    "-71.4128",
    "--timezone",
    "America/New_York",
    "--contact-email",
    "opendata@providenceri.gov",
    "--license",
    "CC0-1.0",
]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLOTTER_")}
    return {**env, "COLUMNS": "", **extra}


def openblotter(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openblotter.cli", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_with_flags_writes_an_owner_only_settings_file_the_portal_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = openblotter(tmp_path, "init", "--no-input", *PROVIDENCE_FLAGS)
    assert run.returncode == 0, run.stderr
    written = tmp_path / "openblotter.toml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    values = tomllib.loads(written.read_text())
    assert len(values["salt"]) == 64 and values["data_dir"] == str(tmp_path / "data")
    assert "openblotter publish" in run.stdout and "openblotter serve --port" in run.stdout
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("OPENBLOTTER_"):
            monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.agency == "Providence Police Department"
    assert settings.place_name == "Providence, Rhode Island"
    assert (settings.city_latitude, settings.city_longitude) == (41.824, -71.4128)
    assert settings.city_timezone == "America/New_York" and settings.license == "CC0-1.0"
    assert not settings.uses_development_salt
    settings.require_safe()  # publishing is allowed with the generated salt


def test_init_again_refuses_to_overwrite_and_keeps_the_salt_with_force(tmp_path: Path) -> None:
    assert openblotter(tmp_path, "init", "--no-input", *PROVIDENCE_FLAGS).returncode == 0
    first = tomllib.loads((tmp_path / "openblotter.toml").read_text())["salt"]
    again = openblotter(tmp_path, "init", "--no-input", *PROVIDENCE_FLAGS)
    assert again.returncode == 2 and "already exists" in again.stderr
    forced = openblotter(
        tmp_path, "init", "--no-input", "--force", *PROVIDENCE_FLAGS[:-2], "--license", "CC-BY-4.0"
    )
    assert forced.returncode == 0, forced.stderr
    rewritten = tomllib.loads((tmp_path / "openblotter.toml").read_text())
    assert rewritten["salt"] == first and rewritten["license"] == "CC-BY-4.0"
    assert "kept the salt" in forced.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--latitude", "141.8"), "between -90 and 90"),
        (("--timezone", "Eastern"), "is not an IANA time zone"),
        (("--contact-email", "nobody"), "does not look like an e-mail address"),
    ],
)
def test_init_refuses_a_wrong_answer_with_a_message(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    flags = list(PROVIDENCE_FLAGS)
    flags[flags.index(change[0]) + 1] = change[1]
    run = openblotter(tmp_path, "init", "--no-input", *flags)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "openblotter.toml").exists()


def test_init_without_a_terminal_names_the_missing_answer(tmp_path: Path) -> None:
    run = openblotter(tmp_path, "init", "--agency", "Providence Police Department")
    assert run.returncode == 2 and "City is needed" in run.stderr


def test_init_asks_in_a_terminal_and_asks_again_after_a_wrong_answer(tmp_path: Path) -> None:
    answers = [
        "Providence Police Department",
        "Providence",
        "Rhode Island",
        "95",  # not a latitude: asked again
        "41.824",
        "-71.4128",
        "America/New_York",
        "opendata@providenceri.gov",
        "",  # licence: the default
        "",  # data directory: the default
    ]
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "openblotter.cli", "init"],
        cwd=tmp_path,
        env=_env(),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    screen = _answer_prompts(main, answers)
    assert process.wait(timeout=60) == 0, screen
    os.close(main)
    assert "between -90 and 90" in screen  # the wrong answer was explained, then asked again
    values = tomllib.loads((tmp_path / "openblotter.toml").read_text())
    assert values["city_latitude"] == 41.824 and values["license"] == "CC-BY-4.0"
    assert values["contact_email"] == "opendata@providenceri.gov"


def _answer_prompts(main: int, answers: list[str]) -> str:
    """Type each answer when a prompt (a line ending in ': ') appears; returns what was shown."""
    screen, pending, deadline, answered_at = "", list(answers), time.monotonic() + 60, 0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(main, 4096).decode(errors="replace")
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        screen += chunk
        if pending and screen[answered_at:].endswith(": "):  # a new prompt since the last answer
            os.write(main, (pending.pop(0) + "\n").encode())
            answered_at = len(screen)
    return screen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_starts_without_a_salt_and_says_where_after_the_bind(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "openblotter.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(OPENBLOTTER_DATA_DIR=str(tmp_path / "data")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the port is bound
        assert line.strip() == f"Serving OpenBlotter on http://127.0.0.1:{port}"
        with socket.socket() as probe, pytest.raises(OSError):  # already ours
            probe.bind(("127.0.0.1", port))
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        assert health.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get_when_up(url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_taken_port_is_a_message_and_exit_code_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = openblotter(tmp_path, "serve", "--port", str(port))
    assert run.returncode == 2
    assert f"Port {port} on 127.0.0.1 is already in use" in run.stderr
    assert f"--port {port + 1}" in run.stderr and "Serving" not in run.stdout
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_publishing_still_refuses_the_development_salt(tmp_path: Path) -> None:
    export = tmp_path / "stops.csv"
    export.write_text("stop_id,outcome\n1,Warning\n", encoding="utf-8")
    run = openblotter(
        tmp_path, "publish", str(export), "--dataset", "stops", "--release", "2026-Q3"
    )
    assert run.returncode == 2 and "OPENBLOTTER_SALT is not set" in run.stderr
    assert not list((tmp_path / "data").glob("**/*.parquet"))
