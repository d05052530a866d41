"""Training: a generic fit loop (shared with distillation) and the teacher fine-tuning job."""
