# tokzoo: every target creates/uses .venv and installs what it needs itself.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export OMP_NUM_THREADS ?= 2

.PHONY: demo test test-slow test-all bench lint clean extras

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tokzoo demo --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP) extras
	$(PY) -m pytest -q -m slow

test-all: $(STAMP) extras
	$(PY) -m pytest -q

# Slow tests and benchmarks also use Tesseract (Debian tesseract-ocr, installed when running as root) and
# face_recognition, whose models need pkg_resources (setuptools<81) and which is installed with --no-deps
# beside the prebuilt dlib-bin (its dependency "dlib" would compile dlib from source). See docs/faces.md.
FACE_PKGS := face_recognition==1.3.0 face_recognition_models==0.3.0 dlib-bin==20.0.1.post1 setuptools==80.9.0
extras: $(STAMP)
	command -v tesseract >/dev/null || [ "$$(id -u)" != 0 ] || apt-get install -y -q tesseract-ocr \
		|| { apt-get update -q && apt-get install -y -q tesseract-ocr; }
	$(PY) -m pip install -q --no-deps $(FACE_PKGS)

# The peer library is installed for the benchmarks only; it is not a tokzoo dependency.
bench: $(STAMP) extras
	$(PY) -m pip install -q vector-quantize-pytorch==1.32.0 -e '.[mesh-bench,svg-bench]'
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

clean:
	rm -rf runs results .pytest_cache
