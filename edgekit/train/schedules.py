"""Learning-rate schedules by name (``TrainConfig.schedule``).

- ``exponential``: ``lr · decay_rate^(step / decay_steps)`` — the teacher recipe of the reference
  study (with the defaults 0.9 / 10,000 steps it is nearly constant on Financial PhraseBank).
- ``linear``: linear warm-up over ``warmup_ratio`` of the planned steps, then linear decay to 0 at
  the last planned step (``epochs × steps per epoch``) — the usual BERT fine-tuning schedule; it lets
  a student train several epochs at a high rate early without overshooting late.
- ``constant``: ``lr`` throughout.
"""

from __future__ import annotations

from typing import Callable

from ..errors import EdgekitError


def _exponential(config, total_steps: int):
    import keras

    return keras.optimizers.schedules.ExponentialDecay(
        config.learning_rate, decay_steps=config.decay_steps, decay_rate=config.decay_rate)


def _linear(config, total_steps: int):
    import keras

    peak, total = float(config.learning_rate), max(int(total_steps), 1)
    warmup = max(int(round(config.warmup_ratio * total)), 0)

    class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            from keras import ops

            step = ops.cast(step, "float32")
            up = peak * (step + 1.0) / float(max(warmup, 1))
            down = peak * ops.maximum(float(total) - step, 0.0) / float(max(total - warmup, 1))
            return ops.where(step < float(warmup), up, down)

        def get_config(self):
            return {"peak": peak, "total": total, "warmup": warmup}

    return WarmupLinearDecay()


def _constant(config, total_steps: int):
    return float(config.learning_rate)


SCHEDULES: dict[str, Callable] = {"exponential": _exponential, "linear": _linear, "constant": _constant}


def make_schedule(config, total_steps: int):
    """The schedule ``config.schedule`` names, planned for ``total_steps`` optimizer steps."""
    try:
        build = SCHEDULES[config.schedule]
    except KeyError:
        raise EdgekitError(f"unknown learning-rate schedule {config.schedule!r}; choose from "
                           f"{', '.join(SCHEDULES)}") from None
    if not 0.0 <= config.warmup_ratio < 1.0:
        raise EdgekitError(f"warmup_ratio must be in [0, 1), got {config.warmup_ratio}")
    return build(config, total_steps)
