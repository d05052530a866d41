"""Reports: benchmark results as Markdown and self-contained HTML."""
