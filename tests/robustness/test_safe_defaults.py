"""Safe defaults: no shell command strings, no pickle-executing checkpoint loads, a local-only app.

The source checks read every Python file under src/, scripts/, tools/, preprocess/, eval/ and the
repo root (gradio_app.py, ...) with ``ast``, plus the repo's shell scripts as text, so new code is
held to the same rules.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from latentsync.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("src", "scripts", "tools", "preprocess", "eval")
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}
SHELL_STRING_CALLS = {"getoutput", "getstatusoutput"}
SHELL_PATTERNS = [re.compile(p) for p in (r"shell\s*=\s*True", r"os\.system\s*\(", r"os\.popen\s*\(")]


def python_sources() -> list[Path]:
    files = [p for d in SOURCE_DIRS if (REPO / d).is_dir() for p in (REPO / d).rglob("*.py")]
    return sorted(files + list(REPO.glob("*.py")))


def shell_scripts() -> list[Path]:
    """The repo's own ``*.sh``: the virtualenvs (.venv, test.sh's .venv-enhance), .git and node_modules
    are not walked (installed packages ship shell scripts of their own)."""
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules") and not d.startswith(".venv")]
        found += [Path(folder) / name for name in files if name.endswith(".sh")]
    return sorted(found)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_string_command(node: ast.AST) -> bool:
    """A command given as one string (str literal, f-string, concatenation, .format/.join result)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_string_command(node.left) or _is_string_command(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in {"format", "join"} and _is_string_command(node.func.value)
    return False


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}:{node.lineno}"
        shell = _keyword(node, "shell")
        if shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
            found.append(f"{where}: shell= other than False")
        if name in {"os.system", "os.popen"}:
            found.append(f"{where}: {name}")
        tail = name.rsplit(".", 1)[-1]
        if name.startswith("subprocess.") and tail in SHELL_STRING_CALLS:
            found.append(f"{where}: {name} runs a shell")
        if name.startswith("subprocess.") and tail in SUBPROCESS_CALLS:
            command = node.args[0] if node.args else _keyword(node, "args")
            if command is not None and _is_string_command(command):
                found.append(f"{where}: {name} with a string command")
        if name == "torch.load":
            weights_only = _keyword(node, "weights_only")
            if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                found.append(f"{where}: torch.load without weights_only=True")
    return found


def test_the_scan_sees_the_code_it_is_meant_to_check(tmp_path):
    files = {p.relative_to(REPO).as_posix() for p in python_sources()}
    assert "src/latentsync/models/checkpoint_io.py" in files
    assert "src/latentsync/cli.py" in files
    assert len(files) > 50
    # and it recognises each forbidden form
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import os, subprocess, torch\n"
        "subprocess.run('ls -l', shell=False)\n"
        "subprocess.Popen(['ls'], shell=True)\n"
        "subprocess.check_output(f'ffmpeg -i {x}')\n"
        "os.system('ls')\n"
        "os.popen('ls')\n"
        "torch.load(p)\n"
        "torch.load(p, weights_only=False)\n"
        "subprocess.run(['ls', x])\n"
        "torch.load(p, map_location='cpu', weights_only=True)\n"
    )
    assert len(violations(bad)) == 7, violations(bad)


@pytest.mark.parametrize("path", python_sources(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_python_source_runs_no_shell_and_loads_checkpoints_safely(path):
    assert violations(path) == []


def test_shell_scripts_do_not_build_shell_strings_in_python():
    scripts = shell_scripts()
    assert any(p.name == "inference.sh" for p in scripts)
    found = [
        f"{p.relative_to(REPO)}:{i}: {line.strip()}"
        for p in scripts
        for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if any(rx.search(line) for rx in SHELL_PATTERNS)
    ]
    assert found == []


def test_app_defaults_are_local_and_bounded():
    args = build_parser().parse_args(["app"])
    assert args.host == "127.0.0.1"
    assert args.share is False and args.auth is None
    assert args.max_upload_mb == 2048
    assert args.temp_dir is None


def test_app_launches_local_only_with_upload_limit_and_confined_paths(monkeypatch, tmp_path):
    """What ``latentsync app`` hands to Gradio, with a stand-in page (no browser, no Gradio start-up)."""
    from latentsync.app import server
    from latentsync.commands.app import settings_from_args

    launched: dict = {}

    class FakePage:
        def queue(self, **kw):
            return self

        def launch(self, **kw):
            launched.update(kw)

    monkeypatch.setattr(server, "build_ui", lambda settings, jobs: FakePage())
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    server.serve(settings_from_args(build_parser().parse_args(["app"])))
    assert launched["server_name"] == "127.0.0.1"
    assert launched["share"] is False
    assert launched["max_file_size"] == 2048 * 1024 * 1024
    (allowed,) = launched["allowed_paths"]
    assert Path(allowed).parent == tmp_path.resolve() or Path(allowed).is_relative_to(tmp_path.resolve())
    assert not Path(allowed).exists()  # its own temp folder, removed at exit
