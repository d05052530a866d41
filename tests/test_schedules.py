"""Learning-rate schedules: the values the optimizer will see at given steps."""

import numpy as np
import pytest

from edgekit.errors import EdgekitError
from edgekit.train.loop import TrainConfig
from edgekit.train.schedules import make_schedule


def _values(schedule, steps):
    return np.array([float(schedule(s)) for s in steps])


def test_linear_warms_up_then_decays_to_zero_at_the_last_planned_step():
    cfg = TrainConfig(learning_rate=1e-3, schedule="linear", warmup_ratio=0.1)
    sched = make_schedule(cfg, total_steps=100)  # 10 warm-up steps
    v = _values(sched, [0, 4, 9, 10, 55, 99, 100, 150])
    np.testing.assert_allclose(v, [1e-4, 5e-4, 1e-3, 1e-3, 5e-4, 1e-3 / 90, 0.0, 0.0], rtol=1e-5, atol=1e-12)
    assert np.all(np.diff(_values(sched, range(10, 101))) < 0)


def test_linear_without_warmup_starts_at_the_peak():
    sched = make_schedule(TrainConfig(learning_rate=2e-3, schedule="linear", warmup_ratio=0.0), total_steps=4)
    np.testing.assert_allclose(_values(sched, [0, 1, 2, 3, 4]), [2e-3, 1.5e-3, 1e-3, 5e-4, 0.0], rtol=1e-6)


def test_exponential_is_the_teacher_recipe_and_constant_is_constant():
    cfg = TrainConfig(learning_rate=1e-3, decay_rate=0.5, decay_steps=10)
    np.testing.assert_allclose(_values(make_schedule(cfg, 100), [0, 10, 20]), [1e-3, 5e-4, 2.5e-4], rtol=1e-6)
    assert make_schedule(TrainConfig(learning_rate=3e-4, schedule="constant"), 100) == pytest.approx(3e-4)


@pytest.mark.parametrize("field,value,match", [("schedule", "cosine", "unknown learning-rate schedule 'cosine'"),
                                               ("warmup_ratio", 1.0, "warmup_ratio")])
def test_bad_settings_are_one_clear_error(field, value, match):
    with pytest.raises(EdgekitError, match=match):
        make_schedule(TrainConfig(**{field: value}), 10)
