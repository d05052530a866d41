"""The ``edgekit run`` driver on tiny stages of its own (no TensorFlow): order from declared needs,
fingerprints that follow upstream settings only, cycles and unknown needs rejected, reuse, ``only=``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgekit.errors import EdgekitError
from edgekit.pipeline import (DataSettings, RunSettings, Stage, StageContext, TeacherSettings, fingerprints, ordered,
                              run_pipeline)


class Recorder:
    """Tiny stages that record each run and what it was given; each result names the stage and its inputs."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.given: dict[str, StageContext] = {}

    def stage(self, name: str, needs: tuple[str, ...] = (), settings: str | None = None) -> Stage:
        def run(ctx: StageContext) -> dict:
            self.runs.append(name)
            self.given[name] = ctx
            return {"made_by": name, "from": sorted(ctx.inputs)}

        return Stage(name, f"the {name} stage", run, needs=needs, settings=settings)

    def chain(self) -> list[Stage]:
        """a (data settings) → b (teacher settings) → c; d (bench settings) stands alone. Listed out of order."""
        return [self.stage("c", needs=("b",)), self.stage("d", settings="bench"),
                self.stage("b", needs=("a",), settings="teacher"), self.stage("a", settings="data")]


def test_declared_needs_order_the_stages():
    stages = Recorder().chain()
    names = [st.name for st in ordered(stages)]
    assert names.index("a") < names.index("b") < names.index("c")
    assert names == ["d", "a", "b", "c"]  # ties keep the order given


def test_a_fingerprint_follows_upstream_settings_and_nothing_else(tmp_path):
    stages = Recorder().chain()
    base = RunSettings(out=tmp_path)
    fp = fingerprints(base, stages)
    upstream = fingerprints(replace(base, data=DataSettings(seed=7)), stages)
    assert all(upstream[n] != fp[n] for n in "abc") and upstream["d"] == fp["d"]
    middle = fingerprints(replace(base, teacher=replace(base.teacher, epochs=9)), stages)
    assert middle["a"] == fp["a"] and middle["b"] != fp["b"] and middle["c"] != fp["c"] and middle["d"] == fp["d"]
    unrelated = fingerprints(replace(base, bench=replace(base.bench, arm=True)), stages)
    assert [unrelated[n] == fp[n] for n in "abcd"] == [True, True, True, False]
    # settings a stage does not read (students, convert) change nothing here
    assert fingerprints(replace(base, students=replace(base.students, alpha=0.9)), stages) == fp


def test_a_changed_input_file_changes_the_fingerprint_of_its_stage_and_those_after_it(tmp_path):
    from edgekit.pipeline import STAGES, registered_stages

    registered_stages()  # imports the rooms' stage modules
    data = tmp_path / "data.csv"
    data.write_text("text,label\nup,positive\n")
    settings = RunSettings(out=tmp_path, data=DataSettings(path=str(data)))
    stages = [STAGES["data"], STAGES["teacher"]]
    before = fingerprints(settings, stages)
    data.write_text("text,label\ndown,negative\n")
    after = fingerprints(settings, stages)
    assert after["data"] != before["data"] and after["teacher"] != before["teacher"]
    # the embedded default is hashed too (an upgraded package re-splits an old run folder)
    assert STAGES["data"].inputs(DataSettings())["sha256"]


def test_a_cycle_and_an_unknown_need_are_rejected():
    rec = Recorder()
    with pytest.raises(EdgekitError, match="'b' needs 'nope', which is not a stage"):
        ordered([rec.stage("a"), rec.stage("b", needs=("a", "nope"))])
    cyclic = [rec.stage("a"), rec.stage("x", needs=("a", "z")), rec.stage("y", needs=("x",)),
              rec.stage("z", needs=("y",)), rec.stage("after", needs=("z",))]
    with pytest.raises(EdgekitError, match=r"the stages x, y, z need each other in a cycle$"):
        ordered(cyclic)
    with pytest.raises(EdgekitError, match="reads settings 'nope'"):
        fingerprints(RunSettings(), [rec.stage("a", settings="nope")])


def test_finished_stages_are_reused_until_their_inputs_change(tmp_path):
    rec = Recorder()
    stages = rec.chain()
    settings = RunSettings(out=tmp_path / "run")
    first = run_pipeline(settings, stages=stages)
    assert rec.runs == ["d", "a", "b", "c"]
    assert not any(s["reused"] for s in first["stages"].values())
    # a stage gets its own settings and the results of the stages it declared, nothing else
    assert rec.given["b"].settings == settings.teacher and set(rec.given["b"].inputs) == {"a"}
    assert rec.given["c"].inputs == {"b": {"made_by": "b", "from": ["a"]}} and rec.given["c"].settings is None

    rec.runs.clear()
    second = run_pipeline(settings, stages=stages)
    assert rec.runs == [] and all(s["reused"] for s in second["stages"].values())
    assert second["stages"]["c"]["from"] == ["b"]

    changed = replace(settings, teacher=TeacherSettings(epochs=9))
    third = run_pipeline(changed, stages=stages)
    assert rec.runs == ["b", "c"]
    assert third["stages"]["a"]["reused"] and third["stages"]["d"]["reused"]

    rec.runs.clear()
    run_pipeline(replace(changed, fresh=True), stages=stages)
    assert rec.runs == ["d", "a", "b", "c"]
    assert (tmp_path / "run" / "run.json").is_file() and (tmp_path / "run" / ".stages" / "c.json").is_file()


def test_only_reads_the_stages_it_leaves_out_from_their_finished_runs(tmp_path):
    rec = Recorder()
    stages = rec.chain()
    settings = RunSettings(out=tmp_path / "run")
    with pytest.raises(EdgekitError, match="stage b needs 'a', which has not finished with these settings"):
        run_pipeline(settings, only=["b"], stages=stages)
    run_pipeline(settings, only=["a"], stages=stages)
    rec.runs.clear()
    summary = run_pipeline(settings, only=["b"], stages=stages)
    assert rec.runs == ["b"] and list(summary["stages"]) == ["b"]
    assert rec.given["b"].inputs == {"a": {"made_by": "a", "from": []}}
    # a left-out stage finished with other settings is not used
    with pytest.raises(EdgekitError, match="has not finished with these settings"):
        run_pipeline(replace(settings, data=DataSettings(seed=1)), only=["b"], stages=stages)
    with pytest.raises(EdgekitError, match="unknown stage"):
        run_pipeline(settings, only=["nope"], stages=stages)


def test_the_registered_stages_declare_their_needs():
    from edgekit.pipeline import registered_stages

    stages = {st.name: st for st in registered_stages()}
    assert [st.name for st in ordered(stages.values())] == ["data", "teacher", "students", "convert", "bench",
                                                             "report"]
    assert stages["students"].needs == ("data", "teacher")
    assert stages["convert"].needs == ("data", "teacher", "students")
    assert stages["report"].needs == ("bench",)
    base = RunSettings()
    fp = fingerprints(base, stages.values())
    changed = fingerprints(replace(base, convert=replace(base.convert, calibration_samples=50)), stages.values())
    assert [n for n in fp if fp[n] != changed[n]] == ["convert", "bench", "report"]
