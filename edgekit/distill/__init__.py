"""Distillation: students, losses, teacher-output cache, augmentation, sweeps."""
