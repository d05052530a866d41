"""Bad output paths and out-of-range arguments, through the CLI: one ``error:`` line (or click's usage
error naming the option), exit code 2, nothing written, and the check done before any work.
Also ``--debug`` / ``EDGEKIT_DEBUG=1`` and the one-line internal error."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

from conftest import TINY_BACKBONE
from edgekit.cli import cli
from edgekit.errors import EdgekitError
from edgekit.fsutil import atomic_directory, atomic_write_text, check_output, removed_if_failed

NOBODY = 65534

# every output of every verb that writes: name → (kind, what an existing one gets, args with that output).
# Existing outputs: refuse (replaced only with --overwrite), resume (only a folder the command made, known by
# its marker), reuse / append (written into by design). The inputs are never read: the output check comes first.
VERBS = {
    "train teacher": ("directory", "refuse",
                      lambda out: ["train", "teacher", "--backbone", TINY_BACKBONE, "--epochs", "1", "--out", out]),
    "train teacher --result-json": ("file", "refuse",
                                    lambda out: ["train", "teacher", "--out", "m", "--result-json", out]),
    "distill": ("directory", "refuse", lambda out: ["distill", "--teacher", "no-teacher", "--out", out]),
    "distill --result-json": ("file", "refuse",
                              lambda out: ["distill", "--teacher", "t", "--out", "s", "--result-json", out]),
    "distill --cache-dir": ("directory", "reuse",
                            lambda out: ["distill", "--teacher", "t", "--out", "s", "--cache-dir", out]),
    "sweep": ("directory", "resume", lambda out: ["sweep", "--teacher", "no-teacher", "--out", out]),
    "distill-benchmark": ("directory", "resume", lambda out: ["distill-benchmark", "--teacher", "no-teacher",
                                                              "--out", out]),
    "convert": ("directory", "refuse", lambda out: ["convert", "no-model", "--out", out]),
    "bench": ("file", "append", lambda out: ["bench", "no-bundle", "--data", "no.jsonl", "--out", out]),
    "report": ("directory", "refuse", lambda out: ["report", "no-results.jsonl", "--out", out]),
    "export hf": ("directory", "refuse", lambda out: ["export", "hf", "no-model", "--out", out]),
    "import": ("directory", "refuse", lambda out: ["import", "no-checkpoint", "--out", out]),
    "run": ("directory", "resume", lambda out: ["run", "--data", "no.jsonl", "--out", out]),
    "android golden": ("directory", "resume", lambda out: ["android", "golden", "--out", out]),
    "android-assets": ("directory", "reuse",
                       lambda out: ["android-assets", "no-bundle", "--eval", "no.jsonl", "--app", out]),
    "arm64 prepare": ("directory", "reuse", lambda out: ["arm64", "prepare", "--cache", out]),
}


def invoke(args, env: dict | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def assert_one_line_error(result, *needles: str, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    err = result.stderr
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and not result.stdout.strip(), (err, result.stdout)
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def assert_usage_error(result, option: str) -> None:
    """click's usage error as one line: exit 2, the option named, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: Invalid value for "), err
    assert f"Invalid value for '{option}'" in err, err
    assert "Traceback" not in result.stderr


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """The tests' current folder: relative input paths like ``no-model`` resolve (to nothing) here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ----------------------------------------------------------------------------------------- --out paths
@pytest.mark.parametrize("verb", VERBS)
def test_out_under_a_regular_file(workdir, verb):
    kind, _, args = VERBS[verb]
    (workdir / "notes.txt").write_text("a file\n")
    before = tree(workdir)
    out = workdir / "notes.txt" / "sub" / ("x.json" if kind == "file" else "x")
    assert_one_line_error(invoke(args(out)), str(out), "notes.txt is a file, not a folder")
    assert tree(workdir) == before


@pytest.mark.parametrize("verb", VERBS)
def test_out_of_the_wrong_kind(workdir, verb):
    kind, _, args = VERBS[verb]
    (workdir / "notes.txt").write_text("a file\n")
    (workdir / "folder").mkdir()
    (workdir / "folder" / "keep.txt").write_text("kept\n")
    before = tree(workdir)
    if kind == "file":
        assert_one_line_error(invoke(args(workdir / "folder")), "is a folder, not a file")
    else:
        out = workdir / "notes.txt"
        if verb == "android-assets":  # --app is the project; the output is its assets folder
            assert_one_line_error(invoke(args(out)), "notes.txt is a file, not a folder")
        else:
            assert_one_line_error(invoke(args(out)), f"{out} is a file, not a folder")
    assert tree(workdir) == before


@pytest.mark.parametrize("verb", VERBS)
def test_out_name_too_long_for_the_file_system(workdir, verb):
    """Caught before the work, not when the (hidden, longer) temp name is made at its end."""
    _, _, args = VERBS[verb]
    limit = os.pathconf(workdir, "PC_NAME_MAX")
    outs = [workdir / ("d" * (limit + 1)) / "x"]
    if verb != "android-assets":  # its output is --app/app/src/main/assets
        outs.append(workdir / ("n" * (limit - 4)))  # fits, but its hidden temp sibling would not
    for out in outs:
        assert_one_line_error(invoke(args(out)), "is too long")
    assert tree(workdir) == []


@pytest.mark.parametrize("verb", [v for v, (kind, existing, _) in VERBS.items() if existing in ("refuse", "resume")])
def test_out_existing_and_not_empty(workdir, verb):
    """Outputs that are replaced need --overwrite; resumable ones are only written into when they are
    what the command itself made."""
    kind, existing, args = VERBS[verb]
    out = workdir / "existing"
    if kind == "file":
        out.write_text("{}\n")
    else:
        out.mkdir()
        (out / "keep.txt").write_text("kept\n")
    before = tree(workdir)
    result = invoke(args(out))
    if existing == "refuse":
        assert_one_line_error(result, str(out), "(pass --overwrite to replace it)")
    else:
        assert_one_line_error(result, str(out), "is not empty and holds no ")
    assert tree(workdir) == before


def test_resumable_outputs_say_so_in_their_help():
    def help_of(*verb: str) -> str:
        return " ".join(invoke([*verb, "--help"]).stdout.split())

    assert "An existing file is appended to, never replaced" in help_of("bench")
    assert "An existing run folder is resumed" in help_of("run")
    assert "an existing sweep folder is continued, never replaced" in help_of("sweep")
    assert "--limit N Only the first N eval examples (N >= 1; default: all of them)" in help_of("bench")


@pytest.mark.parametrize("verb", ["convert", "export hf", "import", "report"])
def test_overwrite_never_replaces_an_input(workdir, monkeypatch, verb):
    _, _, args = VERBS[verb]
    inputs = workdir / "inputs"
    (inputs / "no-model").mkdir(parents=True)
    (inputs / "no-checkpoint").mkdir()
    (inputs / "no-model" / "weights").write_text("w")
    (inputs / "no-checkpoint" / "weights").write_text("w")
    (inputs / "no-results.jsonl").write_text("{}\n")
    monkeypatch.chdir(inputs)
    before = tree(workdir)
    read = {"report": "no-results.jsonl", "import": "no-checkpoint"}.get(verb, "no-model")
    for out in [inputs, *([] if verb == "report" else [inputs / read])]:  # the input, or a folder holding it
        assert_one_line_error(invoke([*args(out), "--overwrite"]), "would replace the input", read)
    assert tree(workdir) == before


def test_overwrite_never_replaces_the_current_folder(workdir):
    (workdir / "here.txt").write_text("x")
    assert_one_line_error(invoke(["export", "hf", "elsewhere", "--out", ".", "--overwrite"]),
                          "would replace the current folder")
    assert_one_line_error(invoke(["export", "hf", "elsewhere", "--out", "..", "--overwrite"]),
                          "would replace the current folder")


@pytest.fixture
def open_tmp(monkeypatch):
    """The current folder: a temp folder anyone may write (pytest's belongs to its user alone), for the
    unprivileged child."""
    root = Path(tempfile.mkdtemp(prefix="edgekit-ro-"))
    root.chmod(0o777)
    monkeypatch.chdir(root)
    yield root
    for p in [root, *root.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(root)


def invoke_unprivileged(args):
    """``invoke`` as a user file permissions apply to: root ignores them, so as root the command runs in a
    forked child that has dropped to ``nobody`` (everything it needs is imported already: the output check
    comes first)."""
    if os.geteuid() != 0:
        return invoke(args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            r = invoke(args)
            payload = {"exit_code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            payload = {"exit_code": -1, "stdout": "", "stderr": f"child failed: {exc!r}"}
        with os.fdopen(write_end, "w") as fh:
            fh.write(json.dumps(payload))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        payload = json.loads(fh.read())
    os.waitpid(pid, 0)
    return SimpleNamespace(**payload)


@pytest.mark.parametrize("verb", VERBS)
def test_out_in_a_read_only_folder(open_tmp, verb):
    kind, _, args = VERBS[verb]
    read_only = open_tmp / "read-only"
    read_only.mkdir()
    if verb == "android-assets":  # the project exists; its app/src/main is what cannot be written
        (read_only / "app" / "src" / "main").mkdir(parents=True)
        out, blocked = read_only, read_only / "app" / "src" / "main"
    else:
        out, blocked = read_only / ("x.jsonl" if kind == "file" else "x"), read_only
    for p in [blocked, *blocked.parents][: len(blocked.relative_to(open_tmp).parts)]:
        p.chmod(0o555)
    before = tree(open_tmp)
    assert_one_line_error(invoke_unprivileged(args(out)), f"folder {blocked} is not writable")
    assert tree(open_tmp) == before


def test_read_only_existing_results_file_is_refused(open_tmp):
    results = open_tmp / "results.jsonl"
    results.write_text("")
    results.chmod(0o444)
    assert_one_line_error(invoke_unprivileged(VERBS["bench"][2](results)), f"--out {results} is not writable")


# --------------------------------------------------------------------------- check before any work
def test_train_teacher_checks_out_before_loading_data_or_training(workdir):
    (workdir / "teacher").mkdir()
    (workdir / "teacher" / "model.weights.h5").write_text("an earlier run")
    # the data file does not exist: the --out error comes first, so nothing was read
    assert_one_line_error(invoke(["train", "teacher", "--data", "missing.jsonl", "--out", "teacher"]),
                          "--out teacher exists and is not empty")
    # real data and a backbone that trains in seconds: the refusal comes long before any training
    started = time.perf_counter()
    assert_one_line_error(invoke(["train", "teacher", "--backbone", TINY_BACKBONE, "--epochs", "1", "--out",
                                  "teacher", "--result-json", "r.json"]), "--out teacher exists")
    assert time.perf_counter() - started < 5
    (workdir / "r.json").write_text("{}")
    assert_one_line_error(invoke(["train", "teacher", "--backbone", TINY_BACKBONE, "--epochs", "1", "--out", "new",
                                  "--result-json", "r.json"]), "--result-json r.json exists (pass --overwrite")
    assert sorted(p.name for p in workdir.iterdir()) == ["r.json", "teacher"]
    assert (workdir / "teacher" / "model.weights.h5").read_text() == "an earlier run"


def test_failed_report_leaves_no_folder(workdir):
    from test_bench_report import RECORDS

    results = workdir / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    # the recommendation fails only after the tables and figures are drawn
    assert_one_line_error(invoke(["report", results, "--out", "reports/new/rep", "--target", "ssh://pi@board"]))
    assert tree(workdir) == ["results.jsonl"]
    assert invoke(["report", results, "--out", "reports/rep"]).exit_code == 0
    assert_one_line_error(invoke(["report", results, "--out", "reports/rep"]), "pass --overwrite")
    result = invoke(["report", results, "--out", "reports/rep", "--overwrite"])
    assert result.exit_code == 0 and "report → reports/rep/report.md" in result.stdout
    assert sorted(p.name for p in (workdir / "reports").iterdir()) == ["rep"]


def test_failed_run_leaves_no_folder(workdir):
    result = invoke(["run", "--data", "missing.jsonl", "--students", "", "--out", "runs/new"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert tree(workdir) == []


# ------------------------------------------------------------------------------------- check_output
def test_check_output_accepts_what_a_command_may_write(tmp_path):
    assert check_output(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty")
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    check_output(full, overwrite=True)
    (full / ".stages").mkdir()
    check_output(full, reuse=True, marker=".stages")
    (tmp_path / "r.jsonl").write_text("{}\n")
    check_output(tmp_path / "r.jsonl", kind="file", reuse=True)
    check_output(tmp_path / "r.jsonl", kind="file", overwrite=True)
    with pytest.raises(EdgekitError, match="holds no .stages"):
        check_output(tmp_path, reuse=True, marker=".stages")
    assert not (tmp_path / "a").exists()  # checking creates nothing


def test_failed_atomic_writes_remove_the_folders_they_made(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_directory(tmp_path / "a" / "b" / "bundle") as tmp:
            (tmp / "half.tflite").write_text("half")
            raise RuntimeError("conversion failed")
    with pytest.raises(OSError):  # the name is too long: fails after the folders were made
        atomic_write_text(tmp_path / "c" / "d" / ("x" * 300), "{}")
    (tmp_path / "kept").mkdir()
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "kept" / ("x" * 300), "{}")
    assert tree(tmp_path) == ["kept"]  # the folder it did not make stays
    with pytest.raises(KeyboardInterrupt):
        with removed_if_failed(tmp_path / "e" / "f"):
            (tmp_path / "e" / "f").mkdir(parents=True)
            (tmp_path / "e" / "kept.txt").write_text("resumable")
            raise KeyboardInterrupt
    assert (tmp_path / "e" / "kept.txt").is_file() and not (tmp_path / "e" / "f").exists()


# -------------------------------------------------------------------------------- argument ranges
@pytest.mark.parametrize("args, option", [
    (["train", "teacher", "--out", "m", "--lr", "-1"], "--lr"),
    (["train", "teacher", "--out", "m", "--lr", "0"], "--lr"),
    (["train", "teacher", "--out", "m", "--lr", "nan"], "--lr"),
    (["train", "teacher", "--out", "m", "--epochs", "0"], "--epochs"),
    (["train", "teacher", "--out", "m", "--batch-size", "-4"], "--batch-size"),
    (["train", "teacher", "--out", "m", "--patience", "-1"], "--patience"),
    (["train", "teacher", "--out", "m", "--dropout", "1"], "--dropout"),
    (["train", "teacher", "--out", "m", "--decay-rate", "0"], "--decay-rate"),
    (["train", "teacher", "--out", "m", "--max-length", "4"], "--max-length"),
    (["distill", "--teacher", "t", "--out", "s", "--lr", "-1e-3"], "--lr"),
    (["distill", "--teacher", "t", "--out", "s", "--alpha", "1.5"], "--alpha"),
    (["distill", "--teacher", "t", "--out", "s", "-T", "0"], "--temperature"),
    (["distill", "--teacher", "t", "--out", "s", "--epochs", "0"], "--epochs"),
    (["distill", "--teacher", "t", "--out", "s", "--augment-multiplier", "0"], "--augment-multiplier"),
    (["distill", "--teacher", "t", "--out", "s", "--ema", "1"], "--ema"),
    (["distill", "--teacher", "t", "--out", "s", "--ema", "1.5"], "--ema"),
    (["distill", "--teacher", "t", "--out", "s", "--warmup-ratio", "-0.1"], "--warmup-ratio"),
    (["distill-benchmark", "--teacher", "t", "--out", "b", "--bert-epochs", "0"], "--bert-epochs"),
    (["convert", "m", "--out", "b", "--calibration-samples", "0"], "--calibration-samples"),
    (["convert", "m", "--out", "b", "--target-agreement", "1.5"], "--target-agreement"),
    (["bench", "b", "--out", "r.jsonl", "--limit", "0"], "--limit"),
    (["bench", "b", "--out", "r.jsonl", "--emulated-limit", "0"], "--emulated-limit"),
    (["bench", "b", "--out", "r.jsonl", "--iterations", "0"], "--iterations"),
    (["bench", "b", "--out", "r.jsonl", "--warmup", "-1"], "--warmup"),
    (["report", "r.jsonl", "--out", "rep", "--min-f1", "1.5"], "--min-f1"),
    (["report", "r.jsonl", "--out", "rep", "--max-latency-ms", "0"], "--max-latency-ms"),
    (["report", "r.jsonl", "--out", "rep", "--threads", "0"], "--threads"),
    (["import", "src", "--out", "m", "--probes", "0"], "--probes"),
    (["run", "--out", "r", "--teacher-lr", "-1"], "--teacher-lr"),
    (["run", "--out", "r", "--teacher-epochs", "0"], "--teacher-epochs"),
    (["run", "--out", "r", "--calibration-samples", "0"], "--calibration-samples"),
])
def test_out_of_range_arguments_are_usage_errors(workdir, args, option):
    assert_usage_error(invoke(args), option)
    assert tree(workdir) == []


@pytest.mark.parametrize("args, needle", [
    (["bench", "b", "--out", "r.jsonl", "--threads", "0,1"], "--threads takes numbers >= 1"),
    (["bench", "b", "--out", "r.jsonl", "--synthetic", "64,-1"], "--synthetic takes numbers >= 1"),
    (["run", "--out", "r", "--threads", "0"], "--threads takes numbers >= 1"),
    (["sweep", "--teacher", "t", "--out", "s", "--temperatures", "1,0"], "--temperatures takes numbers > 0"),
    (["sweep", "--teacher", "t", "--out", "s", "--alphas", "0.5,1.5"], "--alphas takes numbers >= 0 and <= 1"),
    (["sweep", "--teacher", "t", "--out", "s", "--alphas", "nan"], "--alphas takes numbers"),
    (["convert", "m", "--out", "b", "--threshold", "int8:agreement=1.5"], "agreement must be between 0 and 1"),
    (["convert", "m", "--out", "b", "--threshold", "fp16:f1_drop=-0.1"], "f1_drop must be between 0 and 1"),
    (["convert", "m", "--out", "b", "--threshold", "fp32:logit_error=nan"], "logit_error must be between 0 and inf"),
])
def test_out_of_range_lists_are_one_line_errors(workdir, args, needle):
    assert_one_line_error(invoke(args), needle)
    assert tree(workdir) == []


# --------------------------------------------------------------------------- --debug, internal errors
@pytest.fixture
def failing_command():
    """A command that fails the way a bug does, on the real root group (removed afterwards)."""
    @click.command("fail-for-test")
    @click.argument("what")
    def fail(what: str) -> None:
        raise {"bug": ValueError("bad value\nsecond line of a long library message"),
               "interrupt": KeyboardInterrupt(), "user": EdgekitError("a user mistake")}[what]

    cli.add_command(fail)
    yield "fail-for-test"
    cli.commands.pop("fail-for-test")


def test_debug_prints_the_traceback_behind_the_one_line(workdir):
    (workdir / "f").write_text("x")
    for args, env in ((["--debug", "report", "r.jsonl", "--out", "f/rep"], None),
                      (["report", "r.jsonl", "--out", "f/rep"], {"EDGEKIT_DEBUG": "1"})):
        result = invoke(args, env=env)
        assert result.exit_code == 2
        first, *rest = result.stderr.splitlines()
        assert first == "error: --out f/rep: f is a file, not a folder"
        assert rest[0] == "Traceback (most recent call last):" and "check_output" in result.stderr
    assert_one_line_error(invoke(["report", "r.jsonl", "--out", "f/rep"], env={"EDGEKIT_DEBUG": "0"}))


def test_debug_shows_the_library_error_an_edgekit_error_hides(workdir):
    plain = invoke(["bench", "b", "--out", "r.jsonl", "--threads", "one"])
    assert_one_line_error(plain, "--threads takes comma-separated integers")
    debug = invoke(["--debug", "bench", "b", "--out", "r.jsonl", "--threads", "one"])
    assert debug.exit_code == 2 and "ValueError: invalid literal for int()" in debug.stderr


def test_internal_error_is_one_line_without_debug(failing_command):
    err = assert_one_line_error(invoke([failing_command, "bug"]), code=1)
    assert err == ("error: internal error: ValueError: bad value (run with --debug for the traceback)\n")
    result = invoke(["--debug", failing_command, "bug"])
    assert result.exit_code == 1
    first, *rest = result.stderr.splitlines()
    assert first == "error: internal error: ValueError: bad value"
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "second line of a long library message"


def test_interrupt_and_user_errors_keep_their_exit_codes(failing_command):
    result = invoke([failing_command, "interrupt"])
    assert result.exit_code == 130 and result.stderr == "interrupted\n"
    assert_one_line_error(invoke([failing_command, "user"]), "a user mistake")
    result = invoke(["--debug", failing_command, "user"])
    assert result.exit_code == 2 and "Traceback" in result.stderr


