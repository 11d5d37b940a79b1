# The README's two commands: `make demo` and `make test`. Both build .venv from nothing when it is
# missing and reinstall only when pyproject.toml changed (the stamp files below).
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# Test data downloaded by `make testdata` (see below).
ADVERTORCH ?= .cache/advertorch
ADVERTORCH_SDIST_SHA256 := ca92a14b0521ae0f9bfa8100d37e47cb741ede1f1411fbaf9182ddebc7062dce

.PHONY: test demo bench benchdata venv testdata clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=python3.x (>= 3.10)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -e ".[test,bench]"
	touch $@

venv: $(VENV)/.installed-test

# Real test data that ships in Debian packages (see scripts/system-packages.txt); a no-op when present.
# The quokka image and annotations (tests/targets) ship in the imgaug 0.4.0 wheel: installed without
# its dependencies, never imported (only its data files are read).
testdata: $(VENV)/.installed-imgaug $(ADVERTORCH)/.extracted
	@bash scripts/install_system_data.sh

# advertorch 0.2.3's pretrained MNIST LeNet5 weights, for tests/advanced/test_adversarial.py and
# scripts/adversarial_demo.py. Only its sdist ships them: downloaded once into .cache/ (git-ignored),
# checked, and only the two .pt files extracted (advertorch is never installed or imported).
$(ADVERTORCH)/.extracted: | $(VENV)/bin/python
	mkdir -p $(ADVERTORCH)
	test -f $(ADVERTORCH)/advertorch-0.2.3.tar.gz || \
	    $(PIP) download --no-deps --no-binary :all: --no-build-isolation advertorch==0.2.3 -d $(ADVERTORCH)
	echo "$(ADVERTORCH_SDIST_SHA256)  $(ADVERTORCH)/advertorch-0.2.3.tar.gz" | sha256sum -c -
	tar --no-same-owner -xzf $(ADVERTORCH)/advertorch-0.2.3.tar.gz -C $(ADVERTORCH) --strip-components=3 \
	    advertorch-0.2.3/advertorch_examples/trained_models/mnist_lenet5_clntrained.pt \
	    advertorch-0.2.3/advertorch_examples/trained_models/mnist_lenet5_advtrained.pt
	touch $@

$(VENV)/.installed-imgaug: | $(VENV)/bin/python
	$(PIP) install -q --no-deps imgaug==0.4.0
	touch $@

# Lint and format check first (ruff, configured in pyproject.toml), then the tests.
test: $(VENV)/.installed-test testdata
	$(VENV)/bin/ruff check augloader tests scripts
	$(VENV)/bin/ruff format --check augloader tests scripts
	$(PY) -m pytest tests

# The demonstration: Fashion-MNIST (Debian dataset-fashion-mnist, installed by testdata), 3 seeds.
demo: $(VENV)/.installed-test testdata
	$(PY) scripts/demo.py --out out/demo

# torchaudio has no release for torch 2.14, so the audio references get their own environment.
AUDIO_REF ?= .venv-audio-ref
$(AUDIO_REF)/bin/python:
	$(PYTHON) -m venv $(AUDIO_REF)
	$(AUDIO_REF)/bin/python -m pip --disable-pip-version-check -q install torch==2.11.0 torchaudio==2.11.0 torch-audiomentations==0.12.0 audiomentations==0.43.1

# The benchmarks' real data: the Debian packages of scripts/system-packages.txt (text: fortunes,
# WordNet; audio: alsa-utils sounds) and of scripts/bench-packages.txt (files: mate-backgrounds
# photographs), each installed only when missing; then the files suite's JPEG folders, cut from the
# photographs once into .cache/photos/ (git-ignored) and rebuilt only when missing or stale.
benchdata: | $(VENV)/bin/python
	@bash scripts/install_system_data.sh
	@bash scripts/install_system_data.sh scripts/bench-packages.txt
	$(PY) scripts/make_photo_folders.py

bench: $(VENV)/.installed-bench $(AUDIO_REF)/bin/python benchdata
	AUGLOADER_AUDIO_REFERENCE_PYTHON=$(AUDIO_REF)/bin/python $(PY) scripts/bench.py --suite images,mix,policies,kernels,launches,text,audio,targets,data,files

clean:
	rm -rf $(VENV) $(AUDIO_REF) build *.egg-info .pytest_cache
